//! Queries behind the history pages: appliances page by page, their jobs over a time range,
//! the fleet's daily success rate, failure causes, the job export and job retention.
//!
//! Every range query reads jobs by start time through an index, so the cost follows the
//! range and the page asked for, never the whole history.

mod appliances;
mod causes;
mod daily;
mod export;
mod marks;
mod retention;
mod runs;
mod sql;

pub use appliances::TrendAppliance;
pub use causes::{CauseGroup, FailureCauses};
pub use daily::DailyRate;
pub use export::{ExportRow, JobFilter};
pub use marks::{JobMark, ScheduleMark};
pub use runs::RunPoint;
