//! `BENCHMARKS.md`: every figure beside its target, the machine, and how to run it again.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::FleetFigures;
use super::soak::SoakFigures;

/// Text after this line of an existing report is hand-written and kept across runs.
pub const NOTES_MARKER: &str = "<!-- notes: kept when the report is written again -->";

const MIB: f64 = 1024.0 * 1024.0;

/// Facts about the run rather than the product.
pub struct RunContext {
    pub command: String,
    pub started: DateTime<Utc>,
    pub release: bool,
    pub machine: Vec<(String, String)>,
    pub load_after: String,
    pub machine_note: String,
    pub clients: usize,
}

/// One line of the results table.
struct Row {
    figure: &'static str,
    measured: String,
    target: &'static str,
    /// `None` where there is no target.
    met: Option<bool>,
}

fn rows(f: &FleetFigures, clients: usize) -> Vec<Row> {
    let n = f.appliances.max(1) as f64;
    let logins_per = f.logins as f64 / n;
    let ratio = if f.static_page.rate() > 0.0 {
        f.fleet_page.rate() / f.static_page.rate()
    } else {
        0.0
    };
    let bytes_per_job = f.used_bytes as f64 / f.stored_jobs.max(1) as f64;
    let trends_365 = f.trends_365.percentile(100.0);
    vec![
        Row {
            figure: "Full poll round, first start to last end",
            measured: format!("{:.1} s", f.round_seconds),
            target: "<= 30 s",
            met: Some(f.round_seconds <= 30.0),
        },
        Row {
            figure: "Full poll round, from dashboard start",
            measured: format!("{:.1} s", f.round_from_start_seconds),
            target: "",
            met: None,
        },
        Row {
            figure: "Polls that succeeded in the round",
            measured: format!("{} of {}", f.polls_ok, f.appliances),
            target: "all",
            met: Some(f.polls_ok as usize == f.appliances),
        },
        Row {
            figure: "Logins per appliance (mean / most)",
            measured: format!("{logins_per:.2} / {}", f.max_logins),
            target: "1",
            met: Some(f.max_logins <= 1 && f.logins as usize == f.appliances),
        },
        Row {
            figure: "Simulator requests per appliance",
            measured: format!("{:.1}", f.simulator_requests as f64 / n),
            target: "",
            met: None,
        },
        Row {
            figure: "Dashboard CPU per appliance, start to end of round",
            measured: format!("{:.2} ms", f.cpu_seconds_round * 1_000.0 / n),
            target: "",
            met: None,
        },
        Row {
            figure: "Fleet page p50 / p99",
            measured: format!(
                "{:.1} / {:.1} ms ({} KiB, {clients} clients)",
                f.fleet_page.percentile(50.0),
                f.fleet_page.percentile(99.0),
                f.fleet_page.body_bytes / 1024
            ),
            target: "p99 <= 25 ms",
            met: Some(f.fleet_page.percentile(99.0) <= 25.0),
        },
        Row {
            figure: "Fleet page rate / static rate of the same bytes",
            measured: format!(
                "{:.0} / {:.0} per s = {ratio:.2}",
                f.fleet_page.rate(),
                f.static_page.rate()
            ),
            target: ">= 0.5",
            met: Some(ratio >= 0.5),
        },
        Row {
            figure: "Static body p50 / p99",
            measured: format!(
                "{:.2} / {:.2} ms",
                f.static_page.percentile(50.0),
                f.static_page.percentile(99.0)
            ),
            target: "",
            met: None,
        },
        Row {
            figure: "Fleet fragment p50 / p99",
            measured: format!(
                "{:.1} / {:.1} ms ({} KiB)",
                f.fragment.percentile(50.0),
                f.fragment.percentile(99.0),
                f.fragment.body_bytes / 1024
            ),
            target: "p99 <= 10 ms",
            met: Some(f.fragment.percentile(99.0) <= 10.0),
        },
        Row {
            figure: "Trends page, 365 days (p50 / slowest)",
            measured: format!("{:.0} / {trends_365:.0} ms", f.trends_365.percentile(50.0)),
            target: "<= 200 ms",
            met: Some(trends_365 <= 200.0),
        },
        Row {
            figure: "Trends page, 30 days (p50 / slowest)",
            measured: format!(
                "{:.0} / {:.0} ms",
                f.trends_30.percentile(50.0),
                f.trends_30.percentile(100.0)
            ),
            target: "<= 200 ms",
            met: Some(f.trends_30.percentile(100.0) <= 200.0),
        },
        Row {
            figure: "Dashboard RSS, peak",
            measured: format!("{:.1} MiB", f.rss_peak as f64 / MIB),
            target: "<= 80 MiB",
            met: Some(f.rss_peak as f64 <= 80.0 * MIB),
        },
        Row {
            figure: "Dashboard RSS, steady (after the round / after the page load)",
            measured: format!(
                "{:.1} / {:.1} MiB",
                f.rss_after_round as f64 / MIB,
                f.rss_steady as f64 / MIB
            ),
            target: "<= 80 MiB",
            met: Some(f.rss_steady as f64 <= 80.0 * MIB),
        },
        Row {
            figure: "Bytes per stored job",
            measured: format!(
                "{bytes_per_job:.0} ({} jobs, {:.0} MiB of used pages)",
                f.stored_jobs,
                f.used_bytes as f64 / MIB
            ),
            target: "<= 300",
            met: Some(bytes_per_job <= 300.0),
        },
        Row {
            figure: "Seeding through the store",
            measured: format!(
                "{} jobs in {:.0} s ({:.0} jobs/s)",
                f.seeded_jobs,
                f.seed_seconds,
                f.seeded_jobs as f64 / f.seed_seconds.max(0.001)
            ),
            target: "",
            met: None,
        },
    ]
}

/// The whole report.
pub fn render(
    context: &RunContext,
    fleet: &FleetFigures,
    soak: Option<&SoakFigures>,
    notes: &str,
) -> String {
    let mut text = String::new();
    let build = if context.release { "release" } else { "debug" };
    let _ = writeln!(text, "# Benchmarks\n");
    let _ = writeln!(
        text,
        "Written by `vbdash bench` on {} ({build} build). Every figure below comes from \
         that one run: {} simulated appliances with {} days of history, the simulator and \
         the dashboard each in its own process, pages measured with {} concurrent clients \
         over loopback.\n",
        context.started.format("%Y-%m-%d %H:%M UTC"),
        fleet.appliances,
        fleet.history_days,
        context.clients,
    );
    let _ = writeln!(
        text,
        "Run it again with:\n\n```sh\n{}\n```\n",
        context.command
    );

    let _ = writeln!(text, "## Results\n");
    let _ = writeln!(text, "| Figure | Measured | Target | Met |");
    let _ = writeln!(text, "|---|---|---|---|");
    for row in rows(fleet, context.clients) {
        let met = match row.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "",
        };
        let _ = writeln!(
            text,
            "| {} | {} | {} | {met} |",
            row.figure, row.measured, row.target
        );
    }

    if let Some(soak) = soak {
        render_soak(&mut text, soak);
    }

    let _ = writeln!(text, "\n## Machine\n");
    for (name, value) in &context.machine {
        let _ = writeln!(text, "- {name}: {value}");
    }
    let _ = writeln!(text, "- Load average at the end: {}", context.load_after);
    if !context.machine_note.is_empty() {
        let _ = writeln!(text, "- Also running: {}", context.machine_note);
    }
    let _ = writeln!(
        text,
        "\nAbsolute times move with whatever else the machine runs; the ratio to the static \
         body and the counts (logins, bytes per job) do not."
    );

    let _ = writeln!(text, "\n{NOTES_MARKER}");
    text.push_str(notes.trim_start_matches('\n'));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn render_soak(text: &mut String, soak: &SoakFigures) {
    let _ = writeln!(
        text,
        "\n## Soak\n\n{} appliances ({} days of history), {} viewers each refreshing the fleet \
         fragment every second, for {}. Resident memory of the dashboard, peak {:.1} MiB; \
         from the end of the first period to the end it changed by {:+.1} %.\n",
        soak.appliances,
        soak.history_days,
        soak.viewers,
        humantime::format_duration(soak.length),
        soak.rss_peak as f64 / MIB,
        soak.rss_growth_percent(),
    );
    let _ = writeln!(
        text,
        "| Until | Requests | Errors | p50 | p99 | Slowest | RSS |"
    );
    let _ = writeln!(text, "|---|---|---|---|---|---|---|");
    for period in &soak.periods {
        let _ = writeln!(
            text,
            "| {} s | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MiB |",
            period.until_secs,
            period.requests,
            period.errors,
            period.p50_ms,
            period.p99_ms,
            period.max_ms,
            period.rss as f64 / MIB
        );
    }
}

/// The results table on standard output.
pub fn print_summary(fleet: &FleetFigures, soak: Option<&SoakFigures>, clients: usize) {
    println!();
    for row in rows(fleet, clients) {
        let met = match row.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!(
            "{:<62} {:<44} {:<14} {met}",
            row.figure, row.measured, row.target
        );
    }
    if let Some(soak) = soak {
        println!(
            "soak: {} periods, RSS change {:+.1} %, worst p99 {:.1} ms",
            soak.periods.len(),
            soak.rss_growth_percent(),
            soak.periods.iter().map(|p| p.p99_ms).fold(0.0, f64::max)
        );
    }
}
