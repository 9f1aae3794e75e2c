//! The usual length and size of a run, and the runs that stray far from it.

use crate::domain::{JobState, JobType};
use crate::store::trends::RunPoint;

/// Runs of the same type the baseline takes its median from.
pub const BASELINE_RUNS: usize = 7;

/// Fewer earlier runs than this give no baseline: one odd run is not a norm.
const MIN_BASELINE_RUNS: usize = 3;

/// A run with its baseline and the flags it earned.
#[derive(Debug, Clone, PartialEq)]
pub struct RunAnalysis {
    /// The run itself.
    pub run: RunPoint,
    /// Median duration of the earlier succeeded runs of the same type, in seconds.
    pub baseline_secs: Option<f64>,
    /// Median size of the earlier succeeded runs of the same type, in bytes.
    pub baseline_bytes: Option<f64>,
    /// A succeeded run less than half the usual size.
    pub size_dropped: bool,
    /// A succeeded run that took more than three times as long as usual.
    pub duration_tripled: bool,
}

/// Baselines and flags for every run (oldest first). The baseline of a run is the median
/// of the last [`BASELINE_RUNS`] succeeded runs of the same type before it; failed runs
/// stop early and would drag it down, so they are left out. Only succeeded runs are flagged.
pub fn analyse_runs(runs: &[RunPoint]) -> Vec<RunAnalysis> {
    let mut earlier: Vec<(&JobType, Option<i64>, Option<i64>)> = Vec::new();

    runs.iter()
        .map(|run| {
            let same: Vec<_> = earlier
                .iter()
                .rev()
                .filter(|(t, _, _)| **t == run.job_type)
                .take(BASELINE_RUNS)
                .collect();
            let baseline_secs = median(same.iter().filter_map(|(_, d, _)| *d));
            let baseline_bytes = median(same.iter().filter_map(|(_, _, s)| *s));

            let good = run.state == JobState::Succeeded;
            let size_dropped = good && below(run.size_bytes, baseline_bytes, 0.5);
            let duration_tripled = good && above(run.duration_secs, baseline_secs, 3.0);

            if good {
                earlier.push((&run.job_type, run.duration_secs, run.size_bytes));
            }
            RunAnalysis {
                run: run.clone(),
                baseline_secs,
                baseline_bytes,
                size_dropped,
                duration_tripled,
            }
        })
        .collect()
}

/// True when `value` is under `share` of `baseline`.
fn below(value: Option<i64>, baseline: Option<f64>, share: f64) -> bool {
    matches!((value, baseline), (Some(v), Some(b)) if (v as f64) < b * share)
}

/// True when `value` is over `times` the `baseline`.
fn above(value: Option<i64>, baseline: Option<f64>, times: f64) -> bool {
    matches!((value, baseline), (Some(v), Some(b)) if (v as f64) > b * times)
}

/// The median of the values, `None` when there are too few for a norm.
fn median(values: impl Iterator<Item = i64>) -> Option<f64> {
    let mut sorted: Vec<i64> = values.collect();
    if sorted.len() < MIN_BASELINE_RUNS {
        return None;
    }
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] as f64 + sorted[mid] as f64) / 2.0
    } else {
        sorted[mid] as f64
    })
}
