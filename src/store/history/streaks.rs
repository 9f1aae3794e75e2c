//! Failures in a row, per run type.

use chrono::{DateTime, Utc};

use crate::domain::{JobState, JobType};
use crate::store::trends::RunPoint;

/// Runs of one type that failed in a row, up to the newest finished one.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureStreak {
    /// The type of run that keeps failing.
    pub job_type: JobType,
    /// How many failed in a row.
    pub count: usize,
    /// When the first of them started.
    pub since: DateTime<Utc>,
    /// The percent every one of them stopped at, when they all stopped at the same one.
    pub same_progress: Option<i64>,
    /// The message every one of them gave, when they all gave the same.
    pub same_message: Option<String>,
}

/// The current failure streak of each run type that has one, longest first. Runs still
/// going do not break or extend a streak.
pub fn failure_streaks(runs: &[RunPoint]) -> Vec<FailureStreak> {
    let mut types: Vec<&JobType> = Vec::new();
    for run in runs {
        if !types.contains(&&run.job_type) {
            types.push(&run.job_type);
        }
    }

    let mut streaks: Vec<FailureStreak> = types
        .into_iter()
        .filter_map(|job_type| {
            let failed: Vec<&RunPoint> = runs
                .iter()
                .rev()
                .filter(|r| &r.job_type == job_type && r.state.is_finished())
                .take_while(|r| r.state != JobState::Succeeded)
                .collect();
            let first = failed.last()?;
            let all_same = |get: &dyn Fn(&RunPoint) -> Option<String>| {
                let value = get(failed[0])?;
                failed
                    .iter()
                    .all(|r| get(r).as_ref() == Some(&value))
                    .then_some(value)
            };
            Some(FailureStreak {
                job_type: job_type.clone(),
                count: failed.len(),
                since: first.start,
                same_progress: all_same(&|r| r.progress.map(|p| p.to_string()))
                    .and_then(|p| p.parse().ok()),
                same_message: all_same(&|r| r.message.clone()),
            })
        })
        .collect();
    streaks.sort_by_key(|s| std::cmp::Reverse(s.count));
    streaks
}
