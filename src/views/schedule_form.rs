//! The schedule form of one appliance (admins), filled with the schedule the appliance has
//! now, or with what was typed when the form is shown again.

use askama::Template;
use askama_web::WebTemplate;

use super::actions::{FieldErrors, PartChoice};

/// A day checkbox.
#[derive(Debug, Clone)]
pub struct DayChoice {
    /// Day name as the appliance spells it, the form value.
    pub name: &'static str,
    /// Day name as people write it: "Monday".
    pub label: String,
    /// Ticked when the form opens.
    pub checked: bool,
}

impl DayChoice {
    /// The checkbox of day `name` (upper case, as the appliance spells it).
    pub fn new(name: &'static str, checked: bool) -> DayChoice {
        DayChoice {
            name,
            label: day_label(name),
            checked,
        }
    }
}

/// A day as people write it ("Monday") from the appliance's spelling ("MONDAY").
pub fn day_label(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().to_string() + &chars.as_str().to_lowercase())
        .unwrap_or_default()
}

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
    /// Preset chosen: the one writing where the schedule writes now, or the one typed.
    pub chosen_preset: String,
    /// Where the schedule writes now when no preset writes there.
    pub location_note: Option<String>,
    /// Hour, as shown in the field.
    pub hour: String,
    /// Minute, as shown in the field.
    pub minute: String,
    /// The seven days; none ticked means every day.
    pub days: Vec<DayChoice>,
    /// Backups kept, or empty for all.
    pub max_count: String,
    /// The schedule runs.
    pub enabled: bool,
    /// Parts listed by the appliance, ticked as the schedule has them.
    pub parts: Vec<PartChoice>,
    /// Why the parts could not be listed.
    pub parts_problem: Option<String>,
    /// Why the form was refused, per field.
    pub errors: FieldErrors,
}
