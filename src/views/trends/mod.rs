//! The history pages: the fleet's days as a grid with its daily success rate, one
//! appliance's runs over time, and failures grouped by cause.

mod appliance;
mod as_of;
mod build;
mod causes;
mod filter;
mod grid;
mod rate;
mod report;
mod run_chart;

pub use appliance::{ApplianceTrendsPage, FlaggedRun, RateRow, appliance_page, streak_words};
pub use as_of::{AsOfPage, as_of_page, parse_moment};
pub use build::BuildMatch;
pub use causes::{CauseRow, CausesPage, causes_page};
pub use filter::{Choice, TrendsFilter, range_of};
pub use grid::{
    GridCell, GridFacts, GridGroup, GridPager, GridRow, LegendItem, TrendsPage, day_class,
    grid_page, trends_href,
};
pub use report::{ReportPage, ReportRow, month_days, parse_month, report_page};

/// Day ranges offered on the grid and appliance pages.
pub const RANGES: [u32; 3] = [30, 90, 365];
/// Day ranges offered on the causes page.
pub const CAUSE_RANGES: [u32; 3] = [1, 7, 30];
/// Appliances named per cause; a cause hitting thousands lists the first ones.
pub const CAUSE_NAMES: usize = 40;
