//! Plain types shared by every layer: appliances, jobs, schedules, polls and the derived
//! status. Nothing here does I/O; the wire formats of the appliance API stay in `vcenter`.

pub mod calendar;
pub mod job;
pub mod poll;
pub mod schedule;
pub mod status;
pub mod text;

pub use job::{Job, JobId, JobState, JobType};
pub use poll::{ApiGeneration, Observation, PollOutcome, PollRecord, PollReport, VersionInfo};
pub use schedule::{Schedule, describe_days};
pub use status::{ApplianceOverview, Status, StatusInput};
