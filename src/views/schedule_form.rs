//! The schedule form of one appliance (admins).

use askama::Template;
use askama_web::WebTemplate;

/// `GET /appliances/{name}/schedule`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/schedule.html")]
pub struct ScheduleFormPage {
    /// Appliance name.
    pub appliance: String,
    /// Link to the appliance page.
    pub appliance_href: String,
    /// Id of the schedule there as of the last poll; `None` when there is none.
    pub existing: Option<String>,
    /// Presets this appliance can use.
    pub presets: Vec<String>,
    /// Day names as the appliance spells them.
    pub days: Vec<&'static str>,
}
