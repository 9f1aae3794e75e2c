//! How often runs of each type succeed.

use crate::domain::{JobState, JobType};
use crate::store::trends::RunPoint;

/// How often runs of one type succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRate {
    /// The run type.
    pub job_type: JobType,
    /// Finished runs of the type.
    pub finished: usize,
    /// Of those, succeeded ones.
    pub succeeded: usize,
}

impl TypeRate {
    /// Succeeded runs per hundred finished ones.
    pub fn percent(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.succeeded as f64 * 100.0 / self.finished as f64)
    }
}

/// Success rate per run type, scheduled first.
pub fn rates_by_type(runs: &[RunPoint]) -> Vec<TypeRate> {
    let mut rates: Vec<TypeRate> = Vec::new();
    for run in runs.iter().filter(|r| r.state.is_finished()) {
        let at = match rates.iter().position(|r| r.job_type == run.job_type) {
            Some(at) => at,
            None => {
                rates.push(TypeRate {
                    job_type: run.job_type.clone(),
                    finished: 0,
                    succeeded: 0,
                });
                rates.len() - 1
            }
        };
        rates[at].finished += 1;
        if run.state == JobState::Succeeded {
            rates[at].succeeded += 1;
        }
    }
    rates.sort_by_key(|r| match r.job_type {
        JobType::Scheduled => 0,
        JobType::Manual => 1,
        JobType::Unknown(_) => 2,
    });
    rates
}
