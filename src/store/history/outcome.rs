//! The outcomes a day can have, with the words and symbols that show them.

/// How one day went for one appliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DayOutcome {
    /// At least one job that started that day succeeded.
    Succeeded,
    /// A job is still running, none succeeded.
    Running,
    /// Every job of the day failed or was canceled.
    Failed,
    /// A run was due and none started.
    Missed,
    /// Nothing was due and nothing ran.
    NoRunDue,
    /// Before vbdash knew the appliance.
    NotPolled,
}

impl DayOutcome {
    /// Every outcome, in legend order.
    pub const ALL: [DayOutcome; 6] = [
        DayOutcome::Succeeded,
        DayOutcome::Failed,
        DayOutcome::Running,
        DayOutcome::Missed,
        DayOutcome::NoRunDue,
        DayOutcome::NotPolled,
    ];

    /// The word used in CSS classes and the export.
    pub fn as_str(self) -> &'static str {
        match self {
            DayOutcome::Succeeded => "succeeded",
            DayOutcome::Running => "running",
            DayOutcome::Failed => "failed",
            DayOutcome::Missed => "missed",
            DayOutcome::NoRunDue => "idle",
            DayOutcome::NotPolled => "unknown",
        }
    }

    /// The words shown to people.
    pub fn label(self) -> &'static str {
        match self {
            DayOutcome::Succeeded => "succeeded",
            DayOutcome::Running => "running",
            DayOutcome::Failed => "failed only",
            DayOutcome::Missed => "missed",
            DayOutcome::NoRunDue => "no run due",
            DayOutcome::NotPolled => "not polled",
        }
    }

    /// The symbol drawn in the cell, so colour is never alone.
    pub fn symbol(self) -> &'static str {
        match self {
            DayOutcome::Succeeded => "\u{2713}",
            DayOutcome::Running => "\u{25B8}",
            DayOutcome::Failed => "\u{2715}",
            DayOutcome::Missed => "!",
            DayOutcome::NoRunDue => "\u{00B7}",
            DayOutcome::NotPolled => "?",
        }
    }
}
