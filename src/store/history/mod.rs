//! What the stored history means: how a day went, the usual size and length of a run,
//! failure streaks and success rates. Pure functions over rows the store has read.
//!
//! `days` reads how each day went (its rules are written there) and `outcome` names the
//! outcomes; `baselines` holds the usual size and length of a run, `streaks` the failures
//! in a row, `type_rates` the success rate per run type and `summary` a range in numbers.

mod baselines;
mod days;
mod outcome;
mod streaks;
mod summary;
mod type_rates;

#[cfg(test)]
mod tests;

pub use baselines::{BASELINE_RUNS, RunAnalysis, analyse_runs};
pub use days::{DayCell, DaySpan, day_outcomes, day_spans};
pub use outcome::DayOutcome;
pub use streaks::{FailureStreak, failure_streaks};
pub use summary::{RangeSummary, summarise_range};
pub use type_rates::{TypeRate, rates_by_type};
