//! `vbdash bench --quick` runs the real binary end to end: simulator and dashboard as
//! child processes, seeded history, page loads, a short soak, and a report that holds
//! every figure. Speed is not asserted here; the report is where speed is read.

use std::process::Command;

/// Every figure the report must hold, by the words that start its line.
const FIGURES: [&str; 16] = [
    "| Full poll round, first start to last end |",
    "| Full poll round, from dashboard start |",
    "| Polls that succeeded in the round |",
    "| Logins per appliance (mean / most) |",
    "| Simulator requests per appliance |",
    "| Dashboard CPU per appliance, start to end of round |",
    "| Fleet page p50 / p99 |",
    "| Fleet page rate / static rate of the same bytes |",
    "| Static body p50 / p99 |",
    "| Fleet fragment p50 / p99 |",
    "| Trends page, 365 days (p50 / slowest) |",
    "| Trends page, 30 days (p50 / slowest) |",
    "| Dashboard RSS, peak |",
    "| Dashboard RSS, steady (after the round / after the page load) |",
    "| Bytes per stored job |",
    "| Seeding through the store |",
];

#[test]
fn quick_bench_writes_a_report_with_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("BENCHMARKS.md");
    std::fs::write(
        &report,
        "old figures\n<!-- notes: kept when the report is written again -->\nHand notes.\n",
    )
    .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_vbdash"))
        .args(["bench", "--quick", "--soak", "4s", "--output"])
        .arg(&report)
        .env_remove("VBDASH_LOG")
        .output()
        .expect("the vbdash binary runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{printed}");

    let text = std::fs::read_to_string(&report).unwrap();
    for figure in FIGURES {
        let line = text.lines().find(|line| line.starts_with(figure));
        let line = line.unwrap_or_else(|| panic!("{figure} missing from:\n{text}"));
        let measured = line.split('|').nth(2).unwrap_or_default().trim();
        assert!(!measured.is_empty(), "{figure} has no figure: {line}");
    }
    assert!(text.contains("cargo run --release -- bench --quick --soak 4s"));
    assert!(text.contains("## Soak"), "{text}");
    assert!(text.contains("## Machine"), "{text}");
    assert!(!text.contains("old figures"));
    assert!(
        text.ends_with("Hand notes.\n"),
        "notes were not kept:\n{text}"
    );

    // Everything of the run happened over loopback; the scratch folders are gone.
    assert!(
        text.contains("50 of 50"),
        "every poll of the quick fleet succeeds:\n{text}"
    );
    assert!(printed.contains("report written to"), "{printed}");
}
