//! `vbdash user ...` as a script runs it: passwords from standard input, users in the
//! database named by the configuration file.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn vbdash(config: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vbdash"))
        .arg("user")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("VBDASH_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the vbdash binary runs");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn users_are_added_listed_changed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vbdash.toml");
    let database = dir.path().join("users.db");
    let file = format!("[database]\nurl = \"sqlite://{}\"\n", database.display());
    std::fs::write(&config, file).unwrap();
    let run = |args: &[&str], stdin: &str| vbdash(&config, args, stdin);

    let short = run(
        &["add", "ann", "--role", "admin", "--password-stdin"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(text(&short).contains("too short"), "{}", text(&short));

    let added = run(
        &["add", "ann", "--role", "admin", "--password-stdin"],
        "a long enough password\n",
    );
    assert!(added.status.success(), "{}", text(&added));
    let again = run(
        &["add", "ann", "--password-stdin"],
        "a long enough password\n",
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("exists already"));

    let listed = run(&["list"], "");
    assert!(text(&listed).contains("ann") && text(&listed).contains("admin"));
    assert!(!text(&listed).contains("argon2"));

    let changed = run(
        &["passwd", "ann", "--password-stdin"],
        "another long password\n",
    );
    assert!(changed.status.success(), "{}", text(&changed));
    let bad_role = run(&["add", "bob", "--role", "boss", "--password-stdin"], "x\n");
    assert!(!bad_role.status.success());

    let removed = run(&["remove", "ann"], "");
    assert!(removed.status.success());
    assert!(!text(&run(&["list"], "")).contains("ann "));
    assert!(!run(&["remove", "ann"], "").status.success());
}

#[test]
fn a_user_name_with_a_direction_control_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vbdash.toml");
    let database = dir.path().join("users.db");
    let file = format!("[database]\nurl = \"sqlite://{}\"\n", database.display());
    std::fs::write(&config, file).unwrap();

    let name = "ann\u{202e}nimda";
    let refused = vbdash(
        &config,
        &["add", name, "--role", "viewer", "--password-stdin"],
        "a long enough password\n",
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("U+202E"), "{}", text(&refused));
}
