//! A writer for the Prometheus text exposition format (version 0.0.4): `# HELP` and
//! `# TYPE` once per family, then its samples, label values escaped.

use std::fmt::Write;

/// The media type of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What kind of series a family holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
        }
    }
}

/// The text of one scrape, built family by family.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// Starts family `name`; its samples must follow before the next family starts.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
    }

    /// Adds one sample of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (label, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                self.text.push_str(label);
                self.text.push_str("=\"");
                push_escaped(&mut self.text, value);
                self.text.push('"');
            }
            self.text.push('}');
        }
        self.text.push(' ');
        self.text.push_str(&format_value(value));
        self.text.push('\n');
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// Escapes a label value: backslash, double quote and line feed.
fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
}

/// Whole numbers without a fraction (counts, bytes, timestamps), others as Rust prints
/// them, and the format's own words for the special values.
fn format_value(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    // Below 2^53 every whole f64 is exact, so printing it as an integer loses nothing.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        #[allow(clippy::cast_possible_truncation)]
        return (value as i64).to_string();
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_samples_in_the_text_format() {
        let mut out = Exposition::default();
        out.family(
            "demo_up",
            Kind::Gauge,
            "Whether it is up.\nSecond line \\ here.",
        );
        out.sample("demo_up", &[("appliance", "a")], 1.0);
        out.sample("demo_up", &[], 0.25);
        assert_eq!(
            out.finish(),
            "# HELP demo_up Whether it is up.\\nSecond line \\\\ here.\n\
             # TYPE demo_up gauge\n\
             demo_up{appliance=\"a\"} 1\n\
             demo_up 0.25\n"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::default();
        out.sample("x", &[("a", "q\"b\\s\nn"), ("b", "ok")], 2.0);
        assert_eq!(out.finish(), "x{a=\"q\\\"b\\\\s\\nn\",b=\"ok\"} 2\n");
    }

    #[test]
    fn special_and_large_values() {
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(1_800_000_000.0), "1800000000");
        assert_eq!(format_value(-3.0), "-3");
        assert_eq!(format_value(1e300).parse::<f64>().ok(), Some(1e300));
    }
}
