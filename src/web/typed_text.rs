//! Text that a person types and other people read later: acknowledgement reasons, bulk
//! run reasons, backup comments, user and token names. One check for all of them, so
//! that no field lets a line pretend to say something else.

use crate::domain::text::reorders_text;

/// Why `text` cannot be kept as one line shown to others, or `None` when it can.
///
/// Refused: control characters (a fake second line, terminal escapes), and the invisible
/// characters that change the direction of text or break lines (U+061C, U+200E, U+200F,
/// U+202A to U+202E, U+2066 to U+2069, U+2028, U+2029), which let a reason such as
/// "\u{202e}evorppa" read as something else on every page that shows it. They are refused
/// rather than stripped, so that what is stored is what the person sees in the field.
pub fn problem(text: &str) -> Option<String> {
    if text.chars().any(char::is_control) {
        return Some("keep it to one line without control characters".to_owned());
    }
    let hidden = text.chars().find(|c| reorders_text(*c))?;
    Some(format!(
        "it holds the invisible character U+{:04X}, which changes the order in which others \
         read the text; type it without",
        u32::from(hidden)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_in_any_script_is_kept() {
        for fine in [
            "patching tonight",
            "Wartung bis 18 Uhr",
            "صيانة",
            "עדכון",
            "补丁 ✓",
        ] {
            assert_eq!(problem(fine), None, "{fine}");
        }
    }

    #[test]
    fn every_direction_control_is_refused_by_its_code() {
        let controls = [
            '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}',
            '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}',
        ];
        for control in controls {
            let why = problem(&format!("ok{control}yaw")).unwrap();
            assert!(
                why.contains(&format!("U+{:04X}", u32::from(control))),
                "{why}"
            );
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for bad in ["a\nb", "a\u{7}b", "a\u{1b}[31mb", "a\tb", "a\u{85}b"] {
            assert!(problem(bad).unwrap().contains("control"), "{bad:?}");
        }
    }
}
