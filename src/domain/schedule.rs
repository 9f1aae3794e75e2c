//! The appliance's backup schedule and how it reads in words.

use chrono::Weekday;

/// An appliance's backup schedule (appliances hold at most one, usually id `default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: String,
    pub enabled: bool,
    /// Days the schedule runs on. Empty means every day: the appliance treats an absent
    /// day list that way, and an empty list is shown the same, never as "never".
    pub days: Vec<Weekday>,
    /// `None` when the appliance sent no recurrence at all (the schedule never fires).
    pub time: Option<(u32, u32)>,
    /// Backups kept at the location; `None` keeps all.
    pub retention: Option<i64>,
    pub location: String,
    pub location_user: Option<String>,
    pub parts: Vec<String>,
}

impl Schedule {
    /// Host of the backup location, such as `nas-01.example.test`, when the URL has one.
    pub fn location_host(&self) -> Option<String> {
        location_host(&self.location)
    }

    /// The schedule in words, for example "Saturday 12:59 UTC, keep 3".
    pub fn describe(&self, zone: &str) -> String {
        let when = match self.time {
            Some((hour, minute)) => {
                format!("{} {hour:02}:{minute:02} {zone}", describe_days(&self.days))
            }
            None => "no recurrence".to_owned(),
        };
        let keep = match self.retention {
            Some(count) if count > 0 => format!("keep {count}"),
            _ => "keep all".to_owned(),
        };
        format!("{when}, {keep}")
    }
}

/// Reads the host out of a backup location such as `nfs://192.0.2.10:/nfs/x/` or
/// `sftp://backup-01.example.test:22/srv`. NFS locations put a colon before the export
/// path, which `url` would read as an empty port, so the authority is cut out by hand.
pub fn location_host(location: &str) -> Option<String> {
    let rest = location.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| crate::domain::text::bounded(host, 255))
}

/// Days in words: "daily", "weekdays", "weekends", one full name, or short names in week
/// order ("Mon, Wed, Fri").
pub fn describe_days(days: &[Weekday]) -> String {
    let mut sorted: Vec<Weekday> = days.to_vec();
    sorted.sort_by_key(|d| d.num_days_from_monday());
    sorted.dedup();

    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    match sorted.as_slice() {
        [] => "daily".to_owned(),
        all if all.len() == 7 => "daily".to_owned(),
        five if five == weekdays => "weekdays".to_owned(),
        [Weekday::Sat, Weekday::Sun] => "weekends".to_owned(),
        [one] => full_day_name(*one).to_owned(),
        many => many
            .iter()
            .map(|d| &full_day_name(*d)[..3])
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Parses an appliance day word (`SATURDAY`); `None` for a word it does not know.
pub fn parse_day(word: &str) -> Option<Weekday> {
    match word.to_ascii_uppercase().as_str() {
        "MONDAY" => Some(Weekday::Mon),
        "TUESDAY" => Some(Weekday::Tue),
        "WEDNESDAY" => Some(Weekday::Wed),
        "THURSDAY" => Some(Weekday::Thu),
        "FRIDAY" => Some(Weekday::Fri),
        "SATURDAY" => Some(Weekday::Sat),
        "SUNDAY" => Some(Weekday::Sun),
        _ => None,
    }
}

/// The appliance's word for a day (`SATURDAY`), as sent in schedule specs.
pub fn day_word(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MONDAY",
        Weekday::Tue => "TUESDAY",
        Weekday::Wed => "WEDNESDAY",
        Weekday::Thu => "THURSDAY",
        Weekday::Fri => "FRIDAY",
        Weekday::Sat => "SATURDAY",
        Weekday::Sun => "SUNDAY",
    }
}

fn full_day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(days: Vec<Weekday>, retention: Option<i64>) -> Schedule {
        Schedule {
            id: "default".into(),
            enabled: true,
            days,
            time: Some((2, 0)),
            retention,
            location: "nfs://192.0.2.10:/nfs/example/vcenterbackup/".into(),
            location_user: None,
            parts: vec!["seat".into()],
        }
    }

    #[test]
    fn daily_with_retention() {
        let s = schedule(vec![], Some(7));
        assert_eq!(s.describe("UTC"), "daily 02:00 UTC, keep 7");
    }

    #[test]
    fn missing_retention_keeps_all() {
        let s = schedule(vec![Weekday::Sat], None);
        assert_eq!(s.describe("UTC"), "Saturday 02:00 UTC, keep all");
    }

    #[test]
    fn day_groups_read_naturally() {
        use Weekday::*;
        assert_eq!(describe_days(&[Fri, Mon, Wed]), "Mon, Wed, Fri");
        assert_eq!(describe_days(&[Mon, Tue, Wed, Thu, Fri]), "weekdays");
        assert_eq!(describe_days(&[Sun, Sat]), "weekends");
        assert_eq!(describe_days(&[Mon, Tue, Wed, Thu, Fri, Sat, Sun]), "daily");
    }

    #[test]
    fn hosts_come_out_of_every_location_shape() {
        let cases = [
            (
                "nfs://192.0.2.10:/nfs/example/vcenterbackup/",
                Some("192.0.2.10"),
            ),
            (
                "sftp://backup-01.example.test:22/srv/vcsa",
                Some("backup-01.example.test"),
            ),
            (
                "smb://user@files.example.test/share",
                Some("files.example.test"),
            ),
            ("ftp://[2001:db8::1]:21/x", Some("2001:db8::1")),
            ("/local/path", None),
        ];
        for (location, host) in cases {
            assert_eq!(location_host(location).as_deref(), host, "{location}");
        }
    }
}
