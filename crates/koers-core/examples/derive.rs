//! Deriving the plan of one full year (`koers_core::year`) after one change: whole
//! ([`Plan::from_replica`]) against only the changed entity ([`Plan::refresh`]), side by side:
//!
//! ```sh
//! cargo run --release -p koers-core --example derive
//! ```
//!
//! Each time is the median of 101 runs. Prints figures; checks only that both give the same plan.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use koers_core::*;
use uuid::Uuid;

const RUNS: usize = 101;

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

fn main() {
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date");
    let ops = year::year_plan(start);
    let replica = Replica::from_ops(year::PLAN, &ops);
    let plan = Plan::from_replica(&replica);
    // Warm up (caches, clock speed) before anything is timed.
    for _ in 0..20 {
        black_box(Plan::from_replica(&replica));
    }

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
                &replica,
                &plan,
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
