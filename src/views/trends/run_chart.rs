//! The chart of one appliance's run durations or sizes against their baseline.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{JobState, JobType};
use crate::store::history::{self, RunAnalysis};
use crate::views::charts::{Mark, Point, Series, TimeChart};
use crate::views::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Measure {
    Duration,
    Size,
}

pub(super) fn run_chart(
    runs: &[RunAnalysis],
    measure: Measure,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: Tz,
) -> TimeChart {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let value = |a: &RunAnalysis| match measure {
        Measure::Duration => a.run.duration_secs.map(|s| s as f64 / 60.0),
        Measure::Size => a.run.size_bytes.map(|b| b as f64 / GIB),
    };
    let baseline = |a: &RunAnalysis| match measure {
        Measure::Duration => a.baseline_secs.map(|s| s / 60.0),
        Measure::Size => a.baseline_bytes.map(|b| b / GIB),
    };
    let flagged = |a: &RunAnalysis| match measure {
        Measure::Duration => a.duration_tripled,
        Measure::Size => a.size_dropped,
    };
    let tip = |a: &RunAnalysis| {
        let shown = match measure {
            Measure::Duration => a.run.duration_secs.map(format::duration),
            Measure::Size => a.run.size_bytes.map(format::size),
        };
        format!(
            "{} {} run {}, {}: {}",
            a.run.start.with_timezone(&zone).format("%-d %b %Y %H:%M"),
            a.run.job_type.as_str(),
            a.run.job_id,
            a.run.state.as_str(),
            shown.unwrap_or_default()
        )
    };
    let points_where = |keep: &dyn Fn(&RunAnalysis) -> bool| -> Vec<Point> {
        runs.iter()
            .filter(|a| keep(a))
            .filter_map(|a| {
                Some(Point {
                    at: a.run.start,
                    value: value(a)?,
                    tip: tip(a),
                    flagged: flagged(a),
                })
            })
            .collect()
    };

    let good = |t: JobType| {
        move |a: &RunAnalysis| a.run.state == JobState::Succeeded && a.run.job_type == t
    };
    let baseline_points: Vec<Point> = runs
        .iter()
        .filter(|a| a.run.job_type == JobType::Scheduled)
        .filter_map(|a| {
            let v = baseline(a)?;
            Some(Point {
                at: a.run.start,
                value: v,
                tip: String::new(),
                flagged: false,
            })
        })
        .collect();

    let (title, unit) = match measure {
        Measure::Duration => ("Duration of each run", "minutes"),
        Measure::Size => ("Size of each backup", "GiB"),
    };
    let mut series = vec![
        Series {
            label: "scheduled, succeeded".into(),
            class: "series-good",
            mark: Mark::Dot,
            points: points_where(&good(JobType::Scheduled)),
        },
        Series {
            label: "manual, succeeded".into(),
            class: "series-manual",
            mark: Mark::Square,
            points: points_where(&|a| {
                a.run.state == JobState::Succeeded && a.run.job_type != JobType::Scheduled
            }),
        },
        Series {
            label: "failed or canceled (as far as it got)".into(),
            class: "series-bad",
            mark: Mark::Cross,
            points: points_where(&|a| {
                a.run.state.is_finished() && a.run.state != JobState::Succeeded
            }),
        },
        Series {
            label: format!(
                "baseline: median of the last {} good scheduled runs",
                history::BASELINE_RUNS
            ),
            class: "series-baseline",
            mark: Mark::Line,
            points: baseline_points,
        },
    ];
    series.retain(|s| !s.points.is_empty());

    let any_flag = runs.iter().any(flagged);
    TimeChart {
        title: title.into(),
        unit: unit.into(),
        from,
        to: now,
        max: None,
        zone,
        series,
        flag_label: any_flag.then(|| match measure {
            Measure::Duration => "took over 3× its baseline".to_owned(),
            Measure::Size => "under half its baseline size".to_owned(),
        }),
    }
}
