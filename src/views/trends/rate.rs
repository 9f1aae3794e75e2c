//! The fleet's daily success rate over the grid, as a chart and a sentence.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::store::DailyRate;
use crate::store::history::DaySpan;
use crate::views::charts::{Mark, Point, Series, TimeChart};

fn day_start(day: i64, offset_secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(day * 86_400 - offset_secs, 0)
}

pub(super) fn rate_chart(
    rates: &[DailyRate],
    offset_secs: i64,
    spans: &[DaySpan],
    zone: Tz,
) -> TimeChart {
    let from = spans.first().map_or_else(Utc::now, |s| s.start);
    let to = spans.last().map_or_else(Utc::now, |s| s.end);
    let points = rates
        .iter()
        .filter(|r| r.appliances > 0)
        .filter_map(|r| {
            let at = day_start(r.day, offset_secs)?;
            let percent = r.succeeded as f64 * 100.0 / r.appliances as f64;
            Some(Point {
                at,
                value: percent,
                tip: format!(
                    "{}: {} of {} appliances with a finished run had a good backup ({:.0}%)",
                    at.with_timezone(&zone).format("%a %-d %b %Y"),
                    r.succeeded,
                    r.appliances,
                    percent
                ),
                flagged: false,
            })
        })
        .collect();
    TimeChart {
        title: "Daily success rate of the fleet".into(),
        unit: "%".into(),
        from,
        to,
        max: Some(100.0),
        zone,
        series: vec![Series {
            label: "appliances with a good backup, of those with a finished run".into(),
            class: "series-good",
            mark: Mark::Bar,
            points,
        }],
        flag_label: None,
    }
}

pub(super) fn rate_summary(rates: &[DailyRate]) -> String {
    let total: i64 = rates.iter().map(|r| r.appliances).sum();
    let good: i64 = rates.iter().map(|r| r.succeeded).sum();
    if total == 0 {
        return "No finished run in this range.".to_owned();
    }
    format!(
        "{:.0}% of appliance-days with a finished run ended with a good backup \
         ({good} of {total}).",
        good as f64 * 100.0 / total as f64
    )
}
