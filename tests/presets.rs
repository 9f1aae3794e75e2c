//! `[[preset]]` tables: valid presets load, and every mistake names the line and the key.

use std::path::Path;

use vbdash::config::{Config, ConfigError};
use vbdash::vcenter::location::LocationType;

const BASE: &str = r#"
[[appliance]]
name = "vc-1"
url = "https://vc-1.example.test"
username = "root"
password_env = "VC_PASSWORD"
"#;

fn env() -> Vec<(String, String)> {
    vec![
        ("VC_PASSWORD".into(), "appliance-secret".into()),
        ("SFTP_PASSWORD".into(), "location-secret".into()),
    ]
}

fn load(presets: &str) -> Result<Config, ConfigError> {
    let text = format!("{BASE}{presets}");
    Config::from_toml(&text, Path::new("vbdash.toml"), &env())
}

#[test]
fn presets_load_with_their_type_from_the_scheme() {
    let config = load(
        r#"
[[preset]]
name = "nas"
url = "nfs://nas-01.example.test/export/vcsa"

[[preset]]
name = "offsite"
url = "sftp://backup-01.example.test:22/srv/vcsa"
user = "svc-backup"
password_env = "SFTP_PASSWORD"
"#,
    )
    .unwrap();
    assert_eq!(config.presets.len(), 2);
    assert_eq!(config.presets[0].location_type, LocationType::Nfs);
    assert!(config.presets[0].password.is_none());
    let offsite = &config.presets[1];
    assert_eq!(offsite.location_type, LocationType::Sftp);
    assert_eq!(offsite.user.as_deref(), Some("svc-backup"));
    assert_eq!(
        offsite.password.as_ref().map(|p| p.expose()),
        Some("location-secret")
    );
    assert!(!format!("{config:?}").contains("location-secret"));
}

#[test]
fn a_preset_mistake_names_line_and_key() {
    let cases = [
        (
            "[[preset]]\nname = \"x\"\nurl = \"file:///tmp\"\n",
            "preset[0].url",
            "scheme `file`",
        ),
        (
            "[[preset]]\nname = \"x\"\nurl = \"sftp://h/p\"\npassword_env = \"NOPE\"\n",
            "preset[0].password_env",
            "not set",
        ),
        (
            "[[preset]]\nname = \"x\"\nurl = \"sftp://u:p@h/p\"\n",
            "preset[0].url",
            "user or password",
        ),
        (
            "[[preset]]\nname = \"x\"\nurl = \"ftp://h/\"\n[[preset]]\nname = \"x\"\n\
             url = \"ftp://h/\"\n",
            "preset[1].name",
            "used twice",
        ),
        (
            "[[preset]]\nname = \"x\"\nurl = \"ftp://h/\"\ncolour = 1\n",
            "preset",
            "unknown field",
        ),
    ];
    for (presets, key, words) in cases {
        let err = load(presets).unwrap_err().to_string();
        assert!(err.contains("vbdash.toml, line "), "{err}");
        assert!(err.contains(key), "{key}: {err}");
        assert!(err.contains(words), "{words}: {err}");
    }
}

#[test]
fn the_actions_table_sets_the_cap_per_target() {
    assert_eq!(load("").unwrap().actions.per_target_limit, 2);
    let config = load("[actions]\nper_target_limit = 3\n").unwrap();
    assert_eq!(config.actions.per_target_limit, 3);
    let err = load("[actions]\nper_target_limit = 0\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("actions.per_target_limit") && err.contains("line 8"),
        "{err}"
    );
}
