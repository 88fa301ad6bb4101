//! Figures for a plan of one full year (`koers_core::year`), natively:
//!
//! ```sh
//! cargo run --release -p koers-core --example year_bench
//! ```
//!
//! Each time is the median of 20 runs. Prints figures; checks nothing.

use std::io::Write as _;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use koers_core::*;
use uuid::Uuid;

const RUNS: usize = 20;

fn median(mut run: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
    times.sort();
    times[RUNS / 2]
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let out = f();
    (started.elapsed(), out)
}

fn replay(ops: &[Op]) -> Replica {
    Replica::from_ops(year::PLAN, ops)
}

fn main() {
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date");
    let (generate, ops) = timed(|| year::year_plan(start));
    let replica = replay(&ops);
    let plan = Plan::from_replica(&replica);

    let replay_time = median(|| timed(|| replay(&ops)).0);
    let derive_time = median(|| timed(|| Plan::from_replica(&replica)).0);

    // A parent ticks off one of their goals: author the op, apply it, derive the plan again.
    let parent = plan
        .members
        .iter()
        .find(|m| m.role == Role::Parent)
        .expect("a parent");
    let goal = plan
        .goals_of(Role::Parent)
        .find(|g| g.status == GoalStatus::Open)
        .expect("an open goal of the parents");
    let now = replica.latest().millis + 60_000;
    let mut n = 0u128;
    let tick_time = median(|| {
        let mut r = replica.clone();
        let mut author = Author::new(parent.id, NodeId(42));
        n += 1;
        let edit = Edit::new(Entity::Goal(goal.id), Field::Status, GoalStatus::Done);
        timed(|| {
            let op = author
                .change(&r, &plan, OpId(Uuid::from_u128(n)), now, edit)
                .expect("a parent may tick off their own goal");
            r.apply(&op).expect("same plan");
            let ticked = Plan::from_replica(&r);
            assert_eq!(
                ticked.goal(goal.id).map(|g| g.status),
                Some(GoalStatus::Done)
            );
        })
        .0
    });

    let exported_at = Utc.with_ymd_and_hms(2027, 1, 5, 12, 0, 0).unwrap();
    let (export_time, text) = timed(|| export::export(year::PLAN, &ops, exported_at));
    let import_time = median(|| timed(|| export::import(&text).expect("reads back")).0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("in memory");
    let gzipped = gz.finish().expect("in memory").len();
    let history_time = median(|| timed(|| history::plan_history(&replica, 50)).0);

    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
    let kib = |b: usize| format!("{:.0} KiB ({b} bytes)", b as f64 / 1024.0);
    let rows = [
        ("operations".to_owned(), ops.len().to_string()),
        (
            "goals / contact moments / evaluations / members".to_owned(),
            format!(
                "{} / {} / {} / {}",
                plan.goals.len(),
                plan.contact_moments.len(),
                plan.evaluations.len(),
                plan.members.len()
            ),
        ),
        ("generate the year plan (once)".to_owned(), ms(generate)),
        ("replay all ops into a Replica".to_owned(), ms(replay_time)),
        ("Plan::from_replica".to_owned(), ms(derive_time)),
        (
            "tick one goal: Author::change + apply + from_replica".to_owned(),
            ms(tick_time),
        ),
        ("history::plan_history(50)".to_owned(), ms(history_time)),
        ("export (once)".to_owned(), ms(export_time)),
        ("import (checks + replay)".to_owned(), ms(import_time)),
        ("export size".to_owned(), kib(text.len())),
        ("export size, gzip".to_owned(), kib(gzipped)),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!("year plan, median of {RUNS} runs where timed");
    for (what, figure) in rows {
        println!("  {what:<width$}  {figure}");
    }
}
