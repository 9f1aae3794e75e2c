//! Bounds for text that arrives from an appliance. Everything an appliance sends is
//! untrusted: it is cut to a known size here before it is stored or shown.

/// Longest message text kept from an appliance, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// Most messages kept for one job or one error.
pub const MAX_MESSAGES: usize = 50;
/// Longest location, user or version string kept, in characters.
pub const MAX_FIELD_CHARS: usize = 512;

/// Cuts `text` to at most `max` characters, marking the cut with an ellipsis, and drops
/// control characters other than newline and tab so a log line or a page cannot be spoofed.
pub fn bounded(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (count, ch) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        if is_spoofing(ch) {
            out.push('\u{fffd}');
        } else {
            out.push(ch);
        }
    }
    out
}

/// Characters that would let appliance text pretend to be something else: control
/// characters (fake log lines, terminal escapes) and the invisible ones that reorder or
/// break lines on a page (bidirectional overrides, line and paragraph separators).
fn is_spoofing(ch: char) -> bool {
    (ch.is_control() && ch != '\n' && ch != '\t') || reorders_text(ch)
}

/// Invisible characters that change the order or the lines in which text is read:
/// direction marks, embeddings, overrides and isolates, and the line and paragraph
/// separators. Refused in typed text and replaced in appliance text.
pub fn reorders_text(ch: char) -> bool {
    matches!(
        ch,
        '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// A message list cut to [`MAX_MESSAGES`] entries of [`MAX_MESSAGE_CHARS`] each.
pub fn bounded_messages<I, S>(messages: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    messages
        .into_iter()
        .take(MAX_MESSAGES)
        .map(|m| bounded(m.as_ref(), MAX_MESSAGE_CHARS))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_text() {
        assert_eq!(bounded("backup done", 20), "backup done");
    }

    #[test]
    fn cuts_long_text_on_a_char_boundary() {
        assert_eq!(bounded("ééééé", 3), "ééé…");
    }

    #[test]
    fn replaces_direction_overrides_and_separators() {
        assert_eq!(bounded("a\u{202e}b\u{2028}c", 50), "a\u{fffd}b\u{fffd}c");
        assert_eq!(
            bounded("\u{200e}a\u{200f}b\u{061c}", 50),
            "\u{fffd}a\u{fffd}b\u{fffd}"
        );
    }

    #[test]
    fn replaces_control_characters() {
        assert_eq!(bounded("a\u{1b}[31mb\nc", 50), "a\u{fffd}[31mb\nc");
    }
}
