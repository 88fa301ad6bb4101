//! Writes the generated one-year plan (`koers_core::year`) as an export file, for the browser
//! benchmark `bench/year-scale.mjs` (which imports it through the app's "Meer" screen):
//!
//! ```sh
//! cargo run --release -p koers-core --example year_export > year.json
//! cargo run --release -p koers-core --example year_export -- year.json --start 2026-05-07
//! ```
//!
//! Without `--start` the plan starts 200 days before today (UTC), so that it is mid-year: in
//! phase 2, with the perspective decision and phase 3 still ahead. (The generator dates every
//! change of the whole year, so the changes after day 200 carry clocks in the future; the app
//! takes them as they are.) The operations are the same whatever the start date; only their
//! dates move.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Days, NaiveDate, Utc};
use koers_core::{export, year};

/// Days between the plan's start and today.
const DAYS_IN: u64 = 200;

fn main() {
    let mut path = None;
    let mut start = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--start" => {
                let date = args.next().unwrap_or_default();
                start = Some(
                    NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap_or_else(|_| {
                        fail(&format!("--start wants a date as YYYY-MM-DD, not {date:?}"))
                    }),
                );
            }
            "-h" | "--help" => {
                println!("usage: year_export [PATH] [--start YYYY-MM-DD]   (stdout without PATH)");
                return;
            }
            _ if path.is_none() => path = Some(arg),
            _ => fail(&format!("unexpected argument {arg:?}; see --help")),
        }
    }

    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    let now = DateTime::<Utc>::from_timestamp(since_epoch.as_secs() as i64, 0)
        .expect("a representable time");
    let start = start.unwrap_or_else(|| {
        now.date_naive()
            .checked_sub_days(Days::new(DAYS_IN))
            .expect("a representable date")
    });

    let ops = year::year_plan(start);
    let text = export::export(year::PLAN, &ops, now);
    match path {
        Some(path) => {
            std::fs::write(&path, &text)
                .unwrap_or_else(|e| fail(&format!("cannot write {path}: {e}")));
            eprintln!(
                "year plan from {start}: {} operations, {} bytes, written to {path}",
                ops.len(),
                text.len()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .unwrap_or_else(|e| fail(&format!("cannot write to stdout: {e}")));
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("year_export: {message}");
    std::process::exit(2)
}
