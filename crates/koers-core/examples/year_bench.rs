//! Figures for a plan of one full year (`koers_core::year`), natively, and deriving it after one
//! change whole ([`Plan::from_replica`]) against only the changed entity ([`Plan::refresh`]),
//! side by side:
//!
//! ```sh
//! cargo run --release -p koers-core --example year_bench
//! ```
//!
//! Each time is the median of 51 runs. Prints figures; checks only that both derivations give
//! the same plan.

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use koers_core::*;
use uuid::Uuid;

const RUNS: usize = 51;

fn median(mut run: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
    times.sort();
    times[RUNS / 2]
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let out = black_box(f());
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
    println!();
    one_change(&ops, &replica, &plan);
}

/// One change at a time: the plan derived whole against only what the change touched.
fn one_change(ops: &[Op], replica: &Replica, plan: &Plan) {
    let first = |role: Role| {
        plan.members
            .iter()
            .find(|m| m.role == role)
            .expect("every role takes part")
            .id
    };
    let (parent, worker) = (first(Role::Parent), first(Role::FosterCareWorker));
    let open = plan
        .goals_of(Role::Parent)
        .find(|g| g.status == GoalStatus::Open)
        .expect("an open goal of the parents")
        .id;
    let moment = plan.contact_moments[0].clone();
    let cases = [
        (
            "a parent ticks off a goal",
            parent,
            Edit::new(Entity::Goal(open), Field::Status, GoalStatus::Done),
        ),
        (
            "the worker moves the last goal first",
            worker,
            Edit::new(
                Entity::Goal(plan.goals.last().expect("goals").id),
                Field::Priority,
                -1,
            ),
        ),
        (
            "a note on the first contact moment",
            worker,
            Edit::new(Entity::ContactMoment(moment.id), Field::Note, "Ging goed."),
        ),
        (
            "the first contact moment moved to the end",
            worker,
            Edit::new(
                Entity::ContactMoment(moment.id),
                Field::At,
                moment.at + chrono::Duration::days(400),
            ),
        ),
        (
            "the worker hides a comment",
            worker,
            Edit::new(
                Entity::GoalComment(plan.comments[0].id),
                Field::Hidden,
                true,
            ),
        ),
    ];

    let now = replica.latest().millis + 60_000;
    let mut rows = vec![];
    for (n, (what, who, edit)) in cases.into_iter().enumerate() {
        let op = Author::new(who, NodeId(42))
            .change(
                replica,
                plan,
                OpId(Uuid::from_u128(n as u128 + 1)),
                now,
                edit,
            )
            .expect("allowed");
        let mut after = replica.clone();
        after.apply(&op).expect("same plan");

        let mut refreshed = plan.clone();
        refreshed.refresh(&after, [op.entity]);
        assert_eq!(refreshed, Plan::from_replica(&after), "{what}");

        let whole = median(|| timed(|| Plan::from_replica(&after)).0);
        let only = median(|| {
            let mut p = plan.clone();
            timed(|| p.refresh(&after, [op.entity])).0
        });
        rows.push((what, whole, only));
    }

    // As the app does it: make the change, apply it, bring the plan up to date.
    let tick = |derive: &dyn Fn(&mut Plan, &Replica, Entity)| {
        let mut n = 1_000u128;
        median(|| {
            let mut r = replica.clone();
            let mut p = plan.clone();
            n += 1;
            let mut author = Author::new(parent, NodeId(43));
            let edit = Edit::new(Entity::Goal(open), Field::Status, GoalStatus::Done);
            timed(|| {
                let op = author
                    .change(&r, &p, OpId(Uuid::from_u128(n)), now, edit)
                    .expect("allowed");
                r.apply(&op).expect("same plan");
                derive(&mut p, &r, op.entity);
            })
            .0
        })
    };
    let tick_whole = tick(&|p, r, _| *p = Plan::from_replica(r));
    let tick_only = tick(&|p, r, e| p.refresh(r, [e]));
    rows.push((
        "tick end to end: change + apply + derive",
        tick_whole,
        tick_only,
    ));

    let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    let width = rows.iter().map(|(k, ..)| k.len()).max().unwrap_or(0);
    println!(
        "year plan: {} ops, {} goals, {} contact moments; median of {RUNS} runs",
        ops.len(),
        plan.goals.len(),
        plan.contact_moments.len()
    );
    println!(
        "  {:<width$}  {:>12}  {:>10}  {:>8}",
        "one change", "from_replica", "refresh", "faster"
    );
    for (what, whole, only) in rows {
        let times = whole.as_secs_f64() / only.as_secs_f64().max(1e-9);
        println!(
            "  {what:<width$}  {:>12}  {:>10}  {times:>7.0}×",
            us(whole),
            us(only)
        );
    }
}
