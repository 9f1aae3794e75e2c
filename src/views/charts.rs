//! Charts as plain SVG built on the server: no script and no font files are needed, and
//! every colour comes from a CSS class so both themes apply.
//!
//! A chart is a time axis, a value axis with its unit, one or more series and a legend in
//! HTML under the drawing. All text placed in the markup is escaped here.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

const WIDTH: f64 = 1200.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A dot per value.
    Dot,
    /// A small square per value.
    Square,
    /// A cross per value.
    Cross,
    /// A line through the values in order.
    Line,
    /// A bar per day, from the axis up to the value.
    Bar,
}

/// One value at one moment, with the words of its tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// When.
    pub at: DateTime<Utc>,
    /// The value, in the chart's unit.
    pub value: f64,
    /// Tooltip text.
    pub tip: String,
    /// Drawn with a ring around it: the value was flagged.
    pub flagged: bool,
}

/// Values drawn the same way, named in the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend words.
    pub label: String,
    /// CSS class of the colour (`series-good`, `series-bad`, ...), from a fixed list.
    pub class: &'static str,
    /// How it is drawn.
    pub mark: Mark,
    /// The values, oldest first.
    pub points: Vec<Point>,
}

/// A time chart ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeChart {
    /// Accessible name of the drawing.
    pub title: String,
    /// Unit of the value axis, such as "minutes" or "%".
    pub unit: String,
    /// Start of the time axis.
    pub from: DateTime<Utc>,
    /// End of the time axis.
    pub to: DateTime<Utc>,
    /// Fixed top of the value axis; `None` fits the values.
    pub max: Option<f64>,
    /// Zone the dates on the time axis are written in.
    pub zone: Tz,
    /// What is drawn.
    pub series: Vec<Series>,
    /// Extra legend entry for flagged values, when some are.
    pub flag_label: Option<String>,
}

impl TimeChart {
    /// The chart as an HTML `figure` holding the SVG and its legend.
    pub fn render(&self) -> String {
        let top = self.max.unwrap_or_else(|| self.highest()).max(f64::EPSILON);
        let ticks = value_ticks(top);
        let y_max = ticks.last().copied().unwrap_or(top).max(top);
        let plot = Plot {
            from: self.from,
            span_ms: (self.to - self.from).num_milliseconds().max(1) as f64,
            y_max,
        };

        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg class=\"chart-svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
             aria-label=\"{}\">",
            esc(&self.title)
        );
        self.draw_value_axis(&mut svg, &plot, &ticks);
        self.draw_time_axis(&mut svg, &plot);
        for series in &self.series {
            draw_series(&mut svg, &plot, series);
        }
        svg.push_str("</svg>");

        let mut legend = String::from("<ul class=\"legend\">");
        for series in &self.series {
            let _ = write!(
                legend,
                "<li><span class=\"key key-{} {}\"></span>{}</li>",
                mark_word(series.mark),
                series.class,
                esc(&series.label)
            );
        }
        if let Some(flag) = &self.flag_label {
            let _ = write!(
                legend,
                "<li><span class=\"key key-flag\"></span>{}</li>",
                esc(flag)
            );
        }
        let _ = write!(
            legend,
            "<li class=\"legend-unit\">values in {}</li></ul>",
            esc(&self.unit)
        );

        format!("<figure class=\"chart\">{svg}{legend}</figure>")
    }

    fn highest(&self) -> f64 {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.value))
            .fold(0.0, f64::max)
    }

    fn draw_value_axis(&self, svg: &mut String, plot: &Plot, ticks: &[f64]) {
        for tick in ticks {
            let y = plot.y(*tick);
            let _ = write!(
                svg,
                "<line class=\"grid-line\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" \
                 y2=\"{y:.1}\"/><text class=\"axis-text\" x=\"{:.1}\" y=\"{:.1}\" \
                 text-anchor=\"end\">{}</text>",
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                tick_words(*tick)
            );
        }
        let _ = write!(
            svg,
            "<text class=\"axis-text axis-unit\" x=\"12\" y=\"{:.1}\" \
             transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
            TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
            TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
            esc(&self.unit)
        );
    }

    fn draw_time_axis(&self, svg: &mut String, plot: &Plot) {
        let base = HEIGHT - BOTTOM;
        let _ = write!(
            svg,
            "<line class=\"axis-line\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{base}\" y2=\"{base}\"/>",
            WIDTH - RIGHT
        );

        let days = (self.to - self.from).num_days().max(1);
        let step = match days {
            0..=14 => 1,
            15..=45 => 7,
            46..=120 => 14,
            _ => 0,
        };
        for at in date_ticks(self.from, self.to, self.zone, step) {
            let x = plot.x(at);
            let local = at.with_timezone(&self.zone);
            let words = if step == 0 {
                local.format("%b %Y").to_string()
            } else {
                local.format("%-d %b").to_string()
            };
            let _ = write!(
                svg,
                "<line class=\"axis-line\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{base}\" \
                 y2=\"{:.1}\"/><text class=\"axis-text\" x=\"{x:.1}\" y=\"{:.1}\" \
                 text-anchor=\"middle\">{words}</text>",
                base + 4.0,
                base + 18.0
            );
        }
    }
}

/// Maps times and values to drawing coordinates.
struct Plot {
    from: DateTime<Utc>,
    span_ms: f64,
    y_max: f64,
}

impl Plot {
    fn x(&self, at: DateTime<Utc>) -> f64 {
        let share = (at - self.from).num_milliseconds() as f64 / self.span_ms;
        LEFT + share.clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        let share = (value / self.y_max).clamp(0.0, 1.0);
        HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM)
    }

    fn day_width(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) * 86_400_000.0 / self.span_ms
    }
}

fn draw_series(svg: &mut String, plot: &Plot, series: &Series) {
    let class = series.class;
    match series.mark {
        Mark::Line => {
            let path: Vec<String> = series
                .points
                .iter()
                .map(|p| format!("{:.1},{:.1}", plot.x(p.at), plot.y(p.value)))
                .collect();
            if path.len() > 1 {
                let _ = write!(
                    svg,
                    "<polyline class=\"series-line {class}\" points=\"{}\"/>",
                    path.join(" ")
                );
            }
        }
        Mark::Bar => {
            let width = (plot.day_width() * 0.8).max(1.0);
            for p in &series.points {
                let y = plot.y(p.value);
                let _ = write!(
                    svg,
                    "<rect class=\"series-bar {class}\" x=\"{:.1}\" y=\"{y:.1}\" \
                     width=\"{width:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
                    plot.x(p.at) + plot.day_width() * 0.1,
                    (HEIGHT - BOTTOM - y).max(0.5),
                    esc(&p.tip)
                );
            }
        }
        Mark::Dot | Mark::Square | Mark::Cross => {
            for p in &series.points {
                let (x, y) = (plot.x(p.at), plot.y(p.value));
                let shape = match series.mark {
                    Mark::Square => format!(
                        "<rect class=\"series-dot {class}\" x=\"{:.1}\" y=\"{:.1}\" \
                         width=\"6\" height=\"6\"/>",
                        x - 3.0,
                        y - 3.0
                    ),
                    Mark::Cross => format!(
                        "<path class=\"series-cross {class}\" d=\"M{:.1} {:.1}l7 7m0 -7l-7 7\"/>",
                        x - 3.5,
                        y - 3.5
                    ),
                    _ => format!(
                        "<circle class=\"series-dot {class}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\"/>"
                    ),
                };
                let ring = if p.flagged {
                    format!("<circle class=\"flag-ring\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\"/>")
                } else {
                    String::new()
                };
                let _ = write!(
                    svg,
                    "<g class=\"pt\">{ring}{shape}<title>{}</title></g>",
                    esc(&p.tip)
                );
            }
        }
    }
}

fn mark_word(mark: Mark) -> &'static str {
    match mark {
        Mark::Dot => "dot",
        Mark::Square => "square",
        Mark::Cross => "cross",
        Mark::Line => "line",
        Mark::Bar => "bar",
    }
}

/// Round tick values from zero to at least `top`: 4 or 5 steps of 1, 2 or 5 times a power
/// of ten.
pub fn value_ticks(top: f64) -> Vec<f64> {
    if !top.is_finite() || top <= 0.0 {
        return vec![0.0, 1.0];
    }
    let rough = top / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let steps = (top / step).ceil() as usize;
    (0..=steps.max(1)).map(|i| i as f64 * step).collect()
}

fn tick_words(value: f64) -> String {
    if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Midnights between `from` and `to`: every `step` days counted from the first, or the
/// first of each month when `step` is 0.
fn date_ticks(from: DateTime<Utc>, to: DateTime<Utc>, zone: Tz, step: i64) -> Vec<DateTime<Utc>> {
    let mut ticks = Vec::new();
    let first = from.with_timezone(&zone).date_naive();
    let last = to.with_timezone(&zone).date_naive();
    let mut date = first;
    let mut index = 0i64;
    while date <= last {
        let wanted = if step == 0 {
            date.day() == 1
        } else {
            index % step == 0 && index > 0
        };
        if wanted
            && let Some(at) = date
                .and_hms_opt(0, 0, 0)
                .and_then(|wall| wall.and_local_timezone(zone).earliest())
        {
            ticks.push(at.with_timezone(&Utc));
        }
        date += Duration::days(1);
        index += 1;
    }
    ticks
}

/// Escapes text for SVG and HTML.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ticks_are_round_and_cover_the_top() {
        assert_eq!(value_ticks(100.0), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(value_ticks(7.3), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(value_ticks(0.0), vec![0.0, 1.0]);
    }

    #[test]
    fn chart_escapes_tooltips_and_has_axes_and_legend() {
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let chart = TimeChart {
            title: "Duration".into(),
            unit: "minutes".into(),
            from,
            to: from + Duration::days(30),
            max: None,
            zone: Tz::UTC,
            series: vec![Series {
                label: "scheduled".into(),
                class: "series-good",
                mark: Mark::Dot,
                points: vec![Point {
                    at: from + Duration::days(3),
                    value: 12.0,
                    tip: "<script>x</script>".into(),
                    flagged: true,
                }],
            }],
            flag_label: Some("flagged run".into()),
        };
        let html = chart.render();
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("class=\"flag-ring\""));
        assert!(html.contains(">minutes</text>"));
        assert!(html.contains("<li><span class=\"key key-dot series-good\"></span>scheduled</li>"));
        assert!(html.contains(">8 Nov</text>"));
    }
}
