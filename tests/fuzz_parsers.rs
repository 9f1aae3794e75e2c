//! Property tests over every parser that reads what an appliance or a person wrote: the
//! answer parsers of both API generations, the error envelopes, the configuration and the
//! simulator configuration, and text bounding. Inputs are random bytes, random text, and
//! near-valid documents: the real shapes with odd values (huge and negative numbers,
//! unknown words, long strings, control characters, deep nesting). Nothing may panic;
//! configuration errors must always name the file.
//!
//! Case counts keep the whole file to seconds, so it runs on every CI build.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{Map, Value, json};

use vbdash::config::Config;
use vbdash::domain::text::{MAX_MESSAGES, bounded, bounded_messages};
use vbdash::domain::{ApiGeneration, JobId};
use vbdash::simulator::SimConfig;
use vbdash::vcenter::envelope::{parse_error, session_token, unwrap_success, value_result};
use vbdash::vcenter::mapping::{
    job_from_status, job_ids_from_list, jobs_from_details, schedule_from_list, version_from,
};

const GENERATIONS: [ApiGeneration; 2] = [ApiGeneration::Api, ApiGeneration::Rest];

fn cases(count: u32) -> ProptestConfig {
    ProptestConfig {
        cases: count,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs every answer parser of both generations over one body. Errors are fine; the
/// words of an error must stay short enough for a page.
fn parse_everything(body: &[u8]) {
    for generation in GENERATIONS {
        let _ = version_from(generation, body);
        let _ = job_ids_from_list(generation, body);
        let _ = job_from_status(generation, body);
        let _ = schedule_from_list(generation, body);
        if let Err(err) = jobs_from_details(generation, body) {
            assert!(err.to_string().chars().count() < 10_000);
        }
        let _ = session_token(generation, body);
        let _ = unwrap_success(generation, body);
        let _ = value_result(generation, 500, body);
    }
    for status in [400, 401, 403, 404, 500, 503, 599] {
        let fault = parse_error(status, body);
        assert!(fault.messages.len() <= MAX_MESSAGES);
        assert!(fault.joined_messages().chars().count() < 200_000);
    }
}

// ---------------------------------------------------------------------------------------
// Near-valid values.

/// A leaf the API would never send where it is put.
fn odd_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1), Just(-100)].prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        odd_text().prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// Text an appliance might send: unknown enum words, dates of odd shape, long runs,
/// control and direction characters, placeholders.
fn odd_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Z_]{1,20}",
        "\\PC{0,40}",
        "[0-9T:.Z+-]{0,30}",
        Just("9999-12-31T23:59:59Z".to_owned()),
        Just("0000-01-01T00:00:00Z".to_owned()),
        Just("2024-02-30T25:61:61Z".to_owned()),
        Just("{0}{1}{2}{99999999999999999999}{".to_owned()),
        Just("\u{202e}\u{1b}[31m\r\n\u{0}".to_owned()),
        (1usize..5_000).prop_map(|n| "x".repeat(n)),
        (1usize..200).prop_map(|n| "{0}".repeat(n)),
    ]
}

/// Either a value of the right kind or an odd one.
fn field(plausible: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![3 => plausible, 1 => odd_leaf()].boxed()
}

fn job_id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "20[0-9]{6}-[0-9]{6}-[0-9]{8}",
        1 => odd_text(),
    ]
}

fn message() -> impl Strategy<Value = Value> {
    (
        field("[a-z.]{1,30}".prop_map(Value::from)),
        field(odd_text().prop_map(Value::from)),
        field(prop::collection::vec(odd_text(), 0..5).prop_map(|a| json!(a))),
        field(odd_text().prop_map(Value::from)),
    )
        .prop_map(|(id, default_message, args, localized)| {
            json!({
                "id": id,
                "default_message": default_message,
                "args": args,
                "localized": localized,
            })
        })
}

fn messages() -> BoxedStrategy<Value> {
    field(prop::collection::vec(message(), 0..4).prop_map(Value::from))
}

fn number() -> BoxedStrategy<Value> {
    field(prop_oneof![0i64..200_000_000_000, -1_000i64..0].prop_map(Value::from))
}

fn time() -> BoxedStrategy<Value> {
    field(
        prop_oneof![
            Just("2024-01-15T17:10:00.412Z".to_owned()),
            Just("2024-01-15T17:10:00+02:00".to_owned()),
            odd_text(),
        ]
        .prop_map(Value::from),
    )
}

fn state_word() -> BoxedStrategy<Value> {
    let words = prop_oneof![
        Just("SUCCEEDED".to_owned()),
        Just("FAILED".to_owned()),
        Just("INPROGRESS".to_owned()),
        Just("RUNNING".to_owned()),
        Just("CANCELED".to_owned()),
        "[A-Z_]{1,16}",
    ];
    field(words.prop_map(Value::from))
}

/// Drops some keys, so that required fields go missing now and then.
fn thin_out(object: Map<String, Value>, keep_mask: u32) -> Value {
    let kept = object
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep_mask & (1 << (i % 32)) != 0)
        .map(|(_, entry)| entry)
        .collect();
    Value::Object(kept)
}

fn job_details() -> impl Strategy<Value = Value> {
    let progress = (number(), number(), field(message())).prop_map(
        |(total, completed, m)| json!({"total": total, "completed": completed, "message": m}),
    );
    let build = (
        field(odd_text().prop_map(Value::from)),
        field("[0-9]{1,10}".prop_map(Value::from)),
    )
        .prop_map(|(v, b)| json!({"version": v, "build_number": b}));
    (
        (
            state_word(),
            state_word(),
            time(),
            time(),
            number(),
            number(),
        ),
        (
            field(progress),
            field(build),
            messages(),
            field(any::<bool>().prop_map(Value::from)),
        ),
        (
            field(odd_text().prop_map(Value::from)),
            messages(),
            any::<u32>(),
        ),
    )
        .prop_map(
            |(
                (status, kind, start, end, duration, size),
                (progress, build, messages, cancelable),
                (location, error_messages, keep),
            )| {
                let mut object = Map::new();
                object.insert("status".into(), status);
                object.insert("type".into(), kind);
                object.insert("start_time".into(), start);
                object.insert("end_time".into(), end);
                object.insert("duration".into(), duration);
                object.insert("size".into(), size);
                object.insert("progress".into(), progress);
                object.insert("build".into(), build);
                object.insert("messages".into(), messages);
                object.insert("cancelable".into(), cancelable);
                object.insert("location".into(), location.clone());
                object.insert("user".into(), location);
                object.insert("error".into(), json!({"messages": error_messages}));
                // Most cases keep every field; some lose a few.
                let keep = if keep % 4 == 0 { keep } else { u32::MAX };
                thin_out(object, keep)
            },
        )
}

/// A map the way either generation sends one: a JSON object or a key/value list.
fn as_map(entries: Vec<(String, Value)>, as_list: bool) -> Value {
    if as_list {
        let list = entries
            .into_iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect();
        return Value::Array(list);
    }
    Value::Object(entries.into_iter().collect())
}

/// Wraps in `{"value": ..}` as `/rest` does, or not.
fn wrapped(value: Value, wrap: bool) -> Vec<u8> {
    let value = if wrap {
        json!({ "value": value })
    } else {
        value
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

fn schedule() -> impl Strategy<Value = Value> {
    let days = field(
        prop::collection::vec(
            prop_oneof![
                Just("MONDAY".to_owned()),
                Just("SATURDAY".to_owned()),
                odd_text()
            ],
            0..9,
        )
        .prop_map(|d| json!(d)),
    );
    let hour = field(prop_oneof![0i64..24, -5i64..100].prop_map(Value::from));
    let minute = field(prop_oneof![0i64..60, -5i64..1000].prop_map(Value::from));
    (
        (days, hour, minute),
        (number(), field(any::<bool>().prop_map(Value::from))),
        (field(odd_text().prop_map(Value::from)), any::<u32>()),
    )
        .prop_map(
            |((days, hour, minute), (max_count, enable), (location, keep))| {
                let mut object = Map::new();
                object.insert("parts".into(), json!(["seat"]));
                object.insert("location".into(), location.clone());
                object.insert("location_user".into(), location);
                object.insert("enable".into(), enable);
                object.insert(
                    "recurrence_info".into(),
                    json!({"days": days, "hour": hour, "minute": minute}),
                );
                object.insert("retention_info".into(), json!({"max_count": max_count}));
                let keep = if keep % 4 == 0 { keep } else { u32::MAX };
                thin_out(object, keep)
            },
        )
}

fn error_envelope() -> impl Strategy<Value = Value> {
    (
        field("[A-Z_]{1,30}".prop_map(Value::from)),
        messages(),
        field("[a-z.]{1,60}".prop_map(Value::from)),
        any::<bool>(),
    )
        .prop_map(|(error_type, messages, rest_type, rest)| {
            if rest {
                let inner = json!({"messages": messages, "error_type": error_type});
                json!({"type": rest_type, "value": inner})
            } else {
                json!({"error_type": error_type, "messages": messages})
            }
        })
}

// ---------------------------------------------------------------------------------------
// The answer parsers.

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2_000)) {
        parse_everything(&body);
    }

    #[test]
    fn random_json_never_panics(value in odd_leaf(), wrap in any::<bool>()) {
        parse_everything(&wrapped(value, wrap));
    }

}

proptest! {
    // The richest shape, and the slowest to generate.
    #![proptest_config(cases(80))]

    #[test]
    fn near_valid_job_details_never_panic(
        jobs in prop::collection::vec((job_id_text(), job_details()), 0..6),
        as_list in any::<bool>(),
        wrap in any::<bool>(),
    ) {
        let body = wrapped(as_map(jobs, as_list), wrap);
        parse_everything(&body);
        for generation in GENERATIONS {
            if let Ok(parsed) = jobs_from_details(generation, &body) {
                for job in parsed {
                    prop_assert!(job.progress.is_none_or(|p| (0..=100).contains(&p)));
                    prop_assert!(job.messages.len() <= MAX_MESSAGES);
                }
            }
        }
    }

}

proptest! {
    #![proptest_config(cases(200))]

    #[test]
    fn near_valid_job_lists_and_statuses_never_panic(
        ids in prop::collection::vec(field(job_id_text().prop_map(Value::from)), 0..20),
        status in (job_id_text(), state_word(), number(), time(), messages()),
        wrap in any::<bool>(),
    ) {
        parse_everything(&wrapped(Value::Array(ids), wrap));
        let (id, state, progress, start, messages) = status;
        let body = json!({
            "id": id, "state": state, "progress": progress,
            "start_time": start, "messages": messages,
        });
        let body = wrapped(body, wrap);
        parse_everything(&body);
        for generation in GENERATIONS {
            if let Ok(job) = job_from_status(generation, &body) {
                prop_assert!(job.progress.is_none_or(|p| (0..=100).contains(&p)));
            }
        }
    }

    #[test]
    fn near_valid_schedules_never_panic(
        schedules in prop::collection::vec(
            (prop_oneof![Just("default".to_owned()), odd_text()], schedule()),
            0..3,
        ),
        as_list in any::<bool>(),
        wrap in any::<bool>(),
    ) {
        parse_everything(&wrapped(as_map(schedules, as_list), wrap));
    }

    #[test]
    fn near_valid_versions_and_errors_never_panic(
        version in field(odd_text().prop_map(Value::from)),
        build in field("[0-9]{1,12}".prop_map(Value::from)),
        envelope in error_envelope(),
        wrap in any::<bool>(),
    ) {
        parse_everything(&wrapped(json!({"version": version, "build": build}), wrap));
        parse_everything(&wrapped(envelope, false));
    }

    #[test]
    fn odd_number_texts_never_panic(
        digits in "-?[0-9]{15,60}(\\.[0-9]{1,30})?(e-?[0-9]{1,4})?",
        wrap in any::<bool>(),
    ) {
        let job = format!(
            "{{\"20240115-171000-21477706\":{{\"status\":\"SUCCEEDED\",\"duration\":{digits},\
             \"size\":{digits},\"progress\":{{\"total\":{digits},\"completed\":{digits}}}}}}}"
        );
        let body = if wrap { format!("{{\"value\":{job}}}") } else { job };
        parse_everything(body.as_bytes());
    }
}

/// Nesting far past any real answer: the JSON reader's depth limit must hold, whatever
/// parser reads the body.
#[test]
fn deep_nesting_is_refused_without_a_crash() {
    for depth in [200, 5_000, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        parse_everything(arrays.as_bytes());
        let objects = format!("{}1{}", "{\"value\":".repeat(depth), "}".repeat(depth));
        parse_everything(objects.as_bytes());
        let messages = format!(
            "{{\"error_type\":\"ERROR\",\"messages\":[{}{}]}}",
            "{\"args\":[".repeat(depth),
            "]}".repeat(depth)
        );
        parse_everything(messages.as_bytes());
    }
}

// ---------------------------------------------------------------------------------------
// The configuration parsers.

const CONFIG_FILE: &str = "fuzz/vbdash.toml";
const SIM_FILE: &str = "fuzz/sim.toml";

/// A valid configuration, to be spoiled.
const GOOD_CONFIG: &str = r#"
[server]
listen = "127.0.0.1:8080"
refresh = "5s"

[database]
url = "sqlite://vbdash.db"

[poll]
interval = "5m"
timeout = "20s"
concurrency = 32

[[appliance]]
name = "vcsa-ams-01"
url = "https://vcsa-ams-01.example.test"
username = "backup-reader@vsphere.local"
password_env = "FUZZ_PASSWORD"
tls = "verify"
time_zone = "Europe/Amsterdam"
tags = ["prod", "amsterdam"]
"#;

const GOOD_SIM: &str = r#"
[[appliances]]
name = "a"
version = "8.0.3.00400"
fault = { delay = "2s" }
profile = { flaky = { failure_percent = 25 } }
[appliances.schedule]
hour = 3
days = ["SATURDAY", "Sun"]
"#;

fn config_error_names_the_file(text: &str) -> Result<(), TestCaseError> {
    let env = vec![("FUZZ_PASSWORD".to_owned(), "secret".to_owned())];
    if let Err(err) = Config::from_toml(text, Path::new(CONFIG_FILE), &env) {
        let message = err.to_string();
        let named = message.contains(CONFIG_FILE) || message.contains("FUZZ_PASSWORD");
        prop_assert!(named, "{message}");
    }
    Ok(())
}

fn sim_error_names_the_file(text: &str) -> Result<(), TestCaseError> {
    if let Err(err) = SimConfig::from_toml_str(text, Path::new(SIM_FILE)) {
        let message = format!("{err:#}");
        prop_assert!(message.starts_with(SIM_FILE), "{message}");
    }
    Ok(())
}

/// Replaces one value of `text` (the part after `=` on line `line`) with `value`.
fn spoil_value(text: &str, line: usize, value: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].contains(" = "))
        .collect();
    let target = candidates[line % candidates.len()];
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| match (i == target, l.split_once(" = ")) {
            (true, Some((key, _))) => format!("{key} = {value}"),
            _ => (*l).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// TOML values of every type, some odd.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("99999999999999999999999".to_owned()),
        Just("-0".to_owned()),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        "\\PC{0,30}".prop_map(|s| format!("{s:?}")),
        Just("\"0s\"".to_owned()),
        Just("\"18446744073709551615s\"".to_owned()),
        Just("\"999999999999y\"".to_owned()),
        Just("\"::1\"".to_owned()),
        Just("\"sqlite://\"".to_owned()),
        Just("[]".to_owned()),
        Just("[1, \"a\", [true]]".to_owned()),
        Just("{}".to_owned()),
        Just("{ delay = \"-1s\" }".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        (1usize..5_000).prop_map(|n| format!("\"{}\"", "z".repeat(n))),
    ]
}

proptest! {
    #![proptest_config(cases(200))]

    #[test]
    fn arbitrary_config_text_never_panics(text in "\\PC{0,400}") {
        config_error_names_the_file(&text)?;
        sim_error_names_the_file(&text)?;
    }

    #[test]
    fn spoiled_configs_name_the_file(line in any::<usize>(), value in toml_value()) {
        config_error_names_the_file(&spoil_value(GOOD_CONFIG, line, &value))?;
        sim_error_names_the_file(&spoil_value(GOOD_SIM, line, &value))?;
    }

    #[test]
    fn cut_configs_name_the_file(cut in any::<usize>()) {
        let at = |text: &str| {
            let mut end = cut % (text.len() + 1);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            end
        };
        config_error_names_the_file(&GOOD_CONFIG[..at(GOOD_CONFIG)])?;
        sim_error_names_the_file(&GOOD_SIM[..at(GOOD_SIM)])?;
    }
}

proptest! {
    #![proptest_config(cases(48))]

    /// Arbitrary bytes on disk, read the way `vbdash serve` reads its file.
    #[test]
    fn arbitrary_config_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vbdash.toml");
        std::fs::write(&path, &bytes).unwrap();
        let shown = path.display().to_string();

        if let Err(err) = Config::load(&path, &[]) {
            let message = err.to_string();
            prop_assert!(message.contains(&shown), "{message}");
        }
        if let Err(err) = SimConfig::from_toml_file(&path) {
            let message = format!("{err:#}");
            prop_assert!(message.contains(&shown), "{message}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text bounding and ids.

proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn bounded_text_is_short_and_clean(text in "\\PC*|.*", max in 0usize..300) {
        let out = bounded(&text, max);
        prop_assert!(out.chars().count() <= max + 1);
        prop_assert!(out.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
        let overrides_left = out.contains('\u{202e}');
        prop_assert!(!overrides_left);
        if text.chars().count() <= max && text.chars().all(|c| !c.is_control()) {
            let invisible = ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
                '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}'];
            if !text.contains(invisible) {
                prop_assert_eq!(out, text);
            }
        }
    }

    #[test]
    fn bounded_text_handles_any_codepoints(
        chars in prop::collection::vec(any::<char>(), 0..500),
        max in 0usize..600,
    ) {
        let text: String = chars.into_iter().collect();
        let out = bounded(&text, max);
        prop_assert!(out.chars().count() <= max + 1);
        prop_assert!(out.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
    }

    #[test]
    fn bounded_messages_keep_the_bounds(messages in prop::collection::vec("\\PC{0,50}", 0..80)) {
        let out = bounded_messages(&messages);
        prop_assert!(out.len() <= MAX_MESSAGES);
        prop_assert!(out.len() == messages.len().min(MAX_MESSAGES));
    }

    #[test]
    fn job_ids_are_plain_or_refused(raw in "\\PC{0,80}|[0-9a-zA-Z._-]{0,300}") {
        if let Some(id) = JobId::parse(&raw) {
            prop_assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.')));
        }
    }
}
