//! Configuration: valid files load, and every mistake names the file, the line and the key.

use std::path::Path;
use std::time::Duration;

use vbdash::config::{Config, ConfigError, TlsSetting};

const GOOD: &str = r#"
[server]
listen = "127.0.0.1:9090"

[database]
url = "sqlite://fleet.db"

[poll]
interval = "2m"
timeout = "10s"
concurrency = 8

[[appliance]]
name = "vcsa-ams-01"
url = "https://vcsa-ams-01.example.test"
username = "backup-reader@vsphere.local"
password_env = "VCSA_AMS_01_PASSWORD"
tls = "verify"
time_zone = "Europe/Amsterdam"
tags = ["prod", "amsterdam"]

[[appliance]]
name = "vcsa-lab-01"
url = "https://vcsa-lab-01.example.test"
username = "root"
password_env = "LAB_PASSWORD"
insecure = true
"#;

fn env() -> Vec<(String, String)> {
    vec![
        ("VCSA_AMS_01_PASSWORD".into(), "s3cret-ams".into()),
        ("LAB_PASSWORD".into(), "s3cret-lab".into()),
    ]
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("vbdash.toml"), &env())
}

fn error_text(text: &str) -> String {
    load(text)
        .expect_err("the configuration should be refused")
        .to_string()
}

#[test]
fn a_good_file_loads_with_defaults_filled_in() {
    let config = load(GOOD).unwrap();

    assert_eq!(config.server.listen.to_string(), "127.0.0.1:9090");
    assert_eq!(config.poll.interval, Duration::from_secs(120));
    assert_eq!(config.poll.running_interval, Duration::from_secs(30));
    assert_eq!(config.poll.concurrency, 8);
    assert_eq!(config.appliances.len(), 2);

    let ams = &config.appliances[0];
    assert_eq!(ams.password.expose(), "s3cret-ams");
    assert_eq!(ams.tls, TlsSetting::Verify);
    assert_eq!(ams.time_zone, chrono_tz::Europe::Amsterdam);
    assert_eq!(ams.tags, vec!["prod", "amsterdam"]);
    assert_eq!(config.appliances[1].tls, TlsSetting::Insecure);
    assert_eq!(config.appliances[1].time_zone, chrono_tz::UTC);
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let config = load(GOOD).unwrap();
    let dump = format!("{config:?}");
    assert!(!dump.contains("s3cret"), "{dump}");
}

#[test]
fn a_bad_duration_names_line_and_key() {
    let text = GOOD.replace("interval = \"2m\"", "interval = \"soon\"");
    let msg = error_text(&text);
    assert!(
        msg.starts_with("vbdash.toml, line 9, key `poll.interval`"),
        "{msg}"
    );
    assert!(msg.contains("\"5m\""), "{msg}");
}

#[test]
fn notification_history_is_kept_90_days_unless_configured() {
    let config = load(GOOD).unwrap();
    assert_eq!(
        config.retention.notifications,
        Duration::from_secs(90 * 86_400)
    );

    let text = format!("{GOOD}\n[retention]\nnotifications = \"30d\"\n");
    let config = load(&text).unwrap();
    assert_eq!(
        config.retention.notifications,
        Duration::from_secs(30 * 86_400)
    );
    assert_eq!(config.retention.polls, Duration::from_secs(30 * 86_400));
}

#[test]
fn a_bad_notification_retention_names_file_line_and_key() {
    let lines = GOOD.lines().count();
    for bad in ["\"a while\"", "\"2h\"", "90"] {
        let text = format!("{GOOD}\n[retention]\njobs = \"365d\"\nnotifications = {bad}\n");
        let msg = error_text(&text);
        let line = lines + 4;
        assert!(
            msg.starts_with(&format!(
                "vbdash.toml, line {line}, key `retention.notifications`"
            )),
            "{bad}: {msg}"
        );
    }
}

#[test]
fn an_unknown_key_names_line_and_key() {
    let text = GOOD.replace("username = \"root\"", "user_name = \"root\"");
    let msg = error_text(&text);
    assert!(msg.contains("line 25"), "{msg}");
    assert!(msg.contains("appliance[1]"), "{msg}");
    assert!(msg.contains("user_name"), "{msg}");
}

#[test]
fn a_wrong_type_names_line_and_key() {
    let text = GOOD.replace("concurrency = 8", "concurrency = \"eight\"");
    let msg = error_text(&text);
    assert!(msg.contains("line 11"), "{msg}");
    assert!(msg.contains("poll.concurrency"), "{msg}");
}

#[test]
fn a_syntax_error_names_its_line() {
    let text = GOOD.replace("[poll]", "[poll");
    let msg = error_text(&text);
    assert!(msg.contains("line 8"), "{msg}");
}

#[test]
fn a_missing_password_variable_is_named() {
    let text = GOOD.replace("LAB_PASSWORD", "NOT_SET_ANYWHERE");
    let msg = error_text(&text);
    assert!(msg.contains("appliance[1].password_env"), "{msg}");
    assert!(msg.contains("NOT_SET_ANYWHERE"), "{msg}");
    assert!(msg.contains("line 26"), "{msg}");
}

#[test]
fn an_inline_password_is_refused() {
    let text = GOOD.replace("password_env = \"LAB_PASSWORD\"", "password = \"x\"");
    let msg = error_text(&text);
    assert!(msg.contains("unknown field `password`"), "{msg}");
}

#[test]
fn duplicate_names_point_at_both_lines() {
    let text = GOOD.replace("vcsa-lab-01\"\nurl", "vcsa-ams-01\"\nurl");
    let msg = error_text(&text);
    assert!(msg.contains("line 23"), "{msg}");
    assert!(msg.contains("first on line 14"), "{msg}");
}

#[test]
fn contradicting_tls_settings_are_refused() {
    let text = GOOD.replace("insecure = true", "insecure = true\nca_file = \"ca.pem\"");
    let msg = error_text(&text);
    assert!(msg.contains("contradict"), "{msg}");
    let text = GOOD.replace("tls = \"verify\"", "tls = \"none\"");
    assert!(error_text(&text).contains("insecure = true"));

    // Verifying and not verifying at once: the line of `insecure` is named.
    let text = GOOD.replace("insecure = true", "insecure = true\ntls = \"verify\"");
    let msg = error_text(&text);
    assert!(
        msg.contains("tls = \"verify\" and insecure = true contradict"),
        "{msg}"
    );
    assert!(msg.contains(".insecure"), "{msg}");
}

#[test]
fn a_bad_url_and_a_bad_zone_are_explained() {
    let text = GOOD.replace("https://vcsa-lab-01.example.test", "vcsa-lab-01");
    assert!(error_text(&text).contains("appliance[1].url"));
    let text = GOOD.replace("Europe/Amsterdam", "Mars/Olympus");
    assert!(error_text(&text).contains("IANA"));
}

#[test]
fn environment_overrides_win_and_bad_ones_name_the_variable() {
    let mut env = env();
    env.push(("VBDASH_POLL_INTERVAL".into(), "45s".into()));
    let config = Config::from_toml(GOOD, Path::new("vbdash.toml"), &env).unwrap();
    assert_eq!(config.poll.interval, Duration::from_secs(45));

    env.push(("VBDASH_SERVER_LISTEN".into(), "everywhere".into()));
    let msg = Config::from_toml(GOOD, Path::new("vbdash.toml"), &env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("VBDASH_SERVER_LISTEN"), "{msg}");
    assert!(msg.contains("server.listen"), "{msg}");
}

#[test]
fn a_password_file_is_read_relative_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lab.pw"), "from-file\n").unwrap();
    let text = GOOD.replace(
        "password_env = \"LAB_PASSWORD\"",
        "password_file = \"lab.pw\"",
    );
    let config = Config::from_toml(&text, &dir.path().join("vbdash.toml"), &env()).unwrap();
    assert_eq!(config.appliances[1].password.expose(), "from-file");
}

#[test]
fn a_password_inside_the_url_is_refused() {
    let text = GOOD.replace(
        "https://vcsa-lab-01.example.test",
        "https://root:hunter2@vcsa-lab-01.example.test",
    );
    let msg = error_text(&text);
    assert!(msg.contains("appliance[1].url"), "{msg}");
    assert!(msg.contains("no user or password in the address"), "{msg}");
}

#[test]
fn intervals_out_of_range_are_refused() {
    let cases = [
        ("interval = \"2m\"", "interval = \"1ns\"", "poll.interval"),
        (
            "interval = \"2m\"",
            "interval = \"18446744073709551615s\"",
            "poll.interval",
        ),
        ("timeout = \"10s\"", "timeout = \"2h\"", "poll.timeout"),
    ];
    for (from, to, key) in cases {
        let msg = error_text(&GOOD.replace(from, to));
        assert!(msg.contains(key), "{to}: {msg}");
        assert!(
            msg.contains("out of range") || msg.contains("not a duration"),
            "{msg}"
        );
    }
}

#[test]
fn empty_and_endless_password_sources_are_refused() {
    let mut env = env();
    env.retain(|(k, _)| k != "LAB_PASSWORD");
    env.push(("LAB_PASSWORD".into(), String::new()));
    let msg = Config::from_toml(GOOD, Path::new("vbdash.toml"), &env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("is empty"), "{msg}");

    let text = GOOD.replace(
        "password_env = \"LAB_PASSWORD\"",
        "password_file = \"/dev/zero\"",
    );
    let msg = error_text(&text);
    assert!(msg.contains("not a regular file"), "{msg}");
}

#[test]
fn a_wrong_type_names_the_key_as_written() {
    let text = GOOD.replace("listen = \"127.0.0.1:9090\"", "listen = 9090");
    let msg = error_text(&text);
    assert!(msg.contains("key `server.listen`"), "{msg}");
}

#[test]
fn a_file_that_is_not_text_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vbdash.toml");
    std::fs::write(&path, b"[server]\nlisten = \"\xff\xfe\"\n").unwrap();
    let msg = Config::load(&path, &env()).unwrap_err().to_string();
    assert!(msg.contains("line 2"), "{msg}");
    assert!(msg.contains("not UTF-8"), "{msg}");
}

/// `GOOD` with an `[auth]` table put before the appliances.
fn with_auth(auth: &str) -> String {
    GOOD.replacen("[[appliance]]", &format!("{auth}\n\n[[appliance]]"), 1)
}

#[test]
fn without_an_auth_table_sign_in_is_off_on_loopback() {
    let config = load(GOOD).unwrap();
    assert_eq!(config.auth.mode, vbdash::config::AuthMode::None);
    assert_eq!(config.auth.session_idle, Duration::from_secs(30 * 60));
}

#[test]
fn no_sign_in_on_a_public_address_is_refused() {
    let text = GOOD.replace("127.0.0.1:9090", "0.0.0.0:9090");
    let msg = error_text(&text);
    assert!(msg.contains("auth.mode"), "{msg}");
    assert!(msg.contains("loopback"), "{msg}");

    let local = with_auth("[auth]\nmode = \"local\"").replace("127.0.0.1:9090", "0.0.0.0:9090");
    assert!(load(&local).is_ok());
}

#[test]
fn proxy_sign_in_loads_with_groups_and_networks() {
    let text = with_auth(
        r#"[auth]
mode = "proxy"
user_header = "X-Forwarded-User"
groups_header = "X-Forwarded-Groups"
trusted_proxies = ["10.0.0.0/8", "127.0.0.1"]
default_role = "viewer"
behind_tls = true
session_idle = "15m"

[auth.group_roles]
backup-admins = "admin"
"#,
    );
    let config = load(&text).unwrap();
    let vbdash::config::AuthMode::Proxy(proxy) = &config.auth.mode else {
        panic!("not proxy: {:?}", config.auth.mode);
    };
    assert_eq!(proxy.user_header, "x-forwarded-user");
    assert!(proxy.trusts("10.2.3.4".parse().unwrap()));
    assert!(!proxy.trusts("192.0.2.1".parse().unwrap()));
    assert_eq!(
        proxy.group_roles.get("backup-admins"),
        Some(&vbdash::store::Role::Admin)
    );
    assert!(config.auth.behind_tls);
    assert_eq!(config.auth.session_idle, Duration::from_secs(15 * 60));
}

#[test]
fn auth_mistakes_name_line_and_key() {
    let msg = error_text(&with_auth("[auth]\nmode = \"ldap\""));
    assert!(msg.contains("line 14, key `auth.mode`"), "{msg}");

    let msg = error_text(&with_auth(
        "[auth]\nmode = \"proxy\"\nuser_header = \"X-User\"",
    ));
    assert!(msg.contains("auth.trusted_proxies"), "{msg}");

    let text = "[auth]\nmode = \"proxy\"\nuser_header = \"X-User\"\n\
                trusted_proxies = [\"10.0.0.300/8\"]";
    let msg = error_text(&with_auth(text));
    assert!(
        msg.contains("line 16, key `auth.trusted_proxies[0]`"),
        "{msg}"
    );

    let text = "[auth]\nmode = \"proxy\"\nuser_header = \"X-User\"\n\
                trusted_proxies = [\"10.0.0.1\"]\n[auth.group_roles]\nops = \"boss\"";
    let msg = error_text(&with_auth(text));
    assert!(msg.contains("auth.group_roles.ops"), "{msg}");
    assert!(msg.contains("\"operator\""), "{msg}");
}

#[test]
fn a_retry_delay_longer_than_its_cap_names_line_and_key() {
    let text = format!("{GOOD}\n[notify]\nretry_delay = \"10m\"\nmax_retry_delay = \"5m\"\n");
    let line = text
        .lines()
        .position(|l| l.starts_with("retry_delay"))
        .unwrap()
        + 1;
    let msg = error_text(&text);
    assert!(
        msg.starts_with(&format!(
            "vbdash.toml, line {line}, key `notify.retry_delay`"
        )),
        "{msg}"
    );
    assert!(msg.contains("max_retry_delay"), "{msg}");

    // Only the cap written, below the default first delay of 30s: the cap is blamed.
    let text = format!("{GOOD}\n[notify]\nmax_retry_delay = \"10s\"\n");
    let msg = error_text(&text);
    assert!(msg.contains("key `notify.max_retry_delay`"), "{msg}");

    let text = format!("{GOOD}\n[notify]\nretry_delay = \"5m\"\nmax_retry_delay = \"5m\"\n");
    let config = load(&text).unwrap();
    assert_eq!(config.notify.retry_delay, Duration::from_secs(300));
}

/// `vbdash check-config` on broken files: each answer names the file, the line, the column
/// and the table in words, and never a stand-in key.
#[test]
fn check_config_says_where_a_broken_file_is_broken() {
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "unquoted.toml",
            b"[server]\nlisten = \n",
            "unquoted.toml, line 2, column 10, in table [server]: not valid TOML: ",
        ),
        (
            "header.toml",
            b"[server\nlisten = \"127.0.0.1:8080\"\n",
            "header.toml, line 1, column 8, at the top level: not valid TOML: ",
        ),
        (
            "table-twice.toml",
            b"[server]\nlisten = \"127.0.0.1:1\"\n[server]\n",
            "line 3, column 2, in table [server]: not valid TOML: this table is already defined",
        ),
        (
            "key-twice.toml",
            b"[[appliance]]\nname = \"a\"\nname = \"b\"\n",
            "line 3, column 1, in an [[appliance]] entry: not valid TOML: this key is already",
        ),
        (
            "binary.toml",
            b"[poll]\nconcurrency = 4\n\xff\n",
            "binary.toml, line 3, column 1, in table [poll]: the file is not UTF-8 text",
        ),
        (
            "type.toml",
            b"[poll]\nconcurrency = \"x\"\n",
            "line 2, key `poll.concurrency`: invalid type: string \"x\", expected a whole number",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();

    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let answer = std::process::Command::new(env!("CARGO_BIN_EXE_vbdash"))
            .arg("check-config")
            .arg("--config")
            .arg(&path)
            .env_remove("VBDASH_DATABASE_URL")
            .output()
            .expect("the vbdash binary runs");

        let said = String::from_utf8_lossy(&answer.stderr).into_owned();
        assert_eq!(answer.status.code(), Some(1), "{name}: {said}");
        assert!(said.contains(expected), "{name}: {said}");
        assert!(!said.contains("(document)"), "{name}: {said}");
    }
}
