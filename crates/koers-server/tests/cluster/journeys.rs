//! Journeys of a family's phones through nginx, whose requests the instances answer in turn.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use koers_core::permission::action_of;
use koers_core::*;
use serde_json::json;
use uuid::Uuid;

use crate::events::{EventStream, Item};
use crate::harness::{require_postgres, upstream_of, Cluster};
use crate::phone::{assert_error, Phone};

/// The instances' own ids (`/healthz`'s `instance`, random per process) show that consecutive
/// requests through nginx reach them in turn, and that each is the process nginx names.
#[test]
fn requests_through_nginx_reach_both_instances() {
    let cluster = Cluster::start(2);
    let mut direct = HashMap::new();
    for instance in &cluster.instances {
        let (status, health) = instance.health().expect("the instance answers");
        assert_eq!(status, 200, "{health}");
        let id = health["instance"]
            .as_str()
            .unwrap_or_else(|| panic!("/healthz has no \"instance\" field: {health}"))
            .to_owned();
        direct.insert(instance.addr.clone(), id);
    }
    assert_ne!(
        direct[&cluster.instances[0].addr], direct[&cluster.instances[1].addr],
        "each process has its own id"
    );
    let mut conn = cluster.conn();
    let mut answered = Vec::new();
    for _ in 0..6 {
        let reply = conn.call("GET", "/healthz", None, None);
        assert_eq!(reply.status, 200, "{}", reply.json);
        let id = reply.json["instance"].as_str().unwrap().to_owned();
        assert_eq!(
            id,
            direct[upstream_of(&reply)],
            "nginx names the instance that answered"
        );
        answered.push(id);
    }
    for pair in answered.windows(2) {
        assert_ne!(pair[0], pair[1], "round robin: {answered:?}");
    }
}

/// A worker founds a plan, the parent's phone joins, both change the plan (also the same field
/// at once), push and pull, each request answered by another instance: both end with the same
/// operations in the same order, and the same plan.
#[test]
fn two_phones_converge_through_the_cluster() {
    let cluster = Cluster::start(2);
    let mut worker_conn = cluster.conn();
    let mut parent_conn = cluster.conn();
    let mut worker = Phone::found(&mut worker_conn, cluster.session(), "Noa");
    let parent_member = worker.me.parent;
    let mut parent = worker.invite(&mut worker_conn, parent_member);
    worker.pull(&mut worker_conn);
    assert_eq!(
        parent.pulled, worker.pulled,
        "the parent's phone starts with the founding"
    );

    // The worker logs contact moments and adds a person to the network; both phones pull.
    let mut ops = worker.me.moments(3);
    let oma = Entity::NetworkPerson(NetworkPersonId(Uuid::new_v4()));
    ops.push(worker.me.edit(Edit::new(oma, Field::Name, "Oma")));
    worker.push_accepted(&mut worker_conn, &ops);
    worker.pull(&mut worker_conn);
    parent.pull(&mut parent_conn);

    // Both rename the same person before seeing the other's change, and each does more.
    let mut from_worker = vec![worker.me.edit(Edit::new(oma, Field::Name, "Oma Jansen"))];
    from_worker.extend(worker.me.moments(2));
    let moment = Entity::ContactMoment(ContactMomentId(Uuid::new_v4()));
    from_worker.push(
        worker
            .me
            .edit(Edit::new(moment, Field::Status, ContactStatus::Happened)),
    );
    let from_parent = vec![
        parent.me.edit(Edit::new(oma, Field::Name, "Oma Jannie")),
        parent.me.edit(Edit::new(
            Entity::Consent(parent_member),
            Field::GivenAt,
            "2026-01-06T10:00:00",
        )),
    ];
    parent.push_accepted(&mut parent_conn, &from_parent);
    worker.push_accepted(&mut worker_conn, &from_worker);

    // The parent sees the worker's moment and adds a view to it.
    parent.pull(&mut parent_conn);
    let view = parent
        .me
        .edit(Edit::new(moment, Field::ParentView, "Fijn bezoek"));
    parent.push_accepted(&mut parent_conn, &[view]);

    // A few more rounds, each phone pushing and pulling on its own connection.
    for round in 0..3 {
        let ops = worker.me.moments(2);
        worker.push_accepted(&mut worker_conn, &ops);
        let person = Entity::NetworkPerson(NetworkPersonId(Uuid::new_v4()));
        let op = parent
            .me
            .edit(Edit::new(person, Field::Name, format!("Buur {round}")));
        parent.push_accepted(&mut parent_conn, &[op]);
        worker.pull(&mut worker_conn);
        parent.pull(&mut parent_conn);
    }
    worker.pull(&mut worker_conn);
    parent.pull(&mut parent_conn);

    let ids = |phone: &Phone| -> Vec<(i64, OpId)> {
        phone.pulled.iter().map(|(seq, op)| (*seq, op.id)).collect()
    };
    assert_eq!(
        ids(&worker),
        ids(&parent),
        "the same operations in the same order"
    );
    let seqs: Vec<i64> = worker.pulled.iter().map(|(seq, _)| *seq).collect();
    crate::phone::assert_gapless(&seqs);
    assert_eq!(
        worker.me.replica.get(oma, Field::Name),
        parent.me.replica.get(oma, Field::Name),
        "the concurrent renames resolve the same way on both phones"
    );
    assert_eq!(
        Plan::from_replica(&worker.me.replica),
        Plan::from_replica(&parent.me.replica)
    );
    // What the server holds is what both phones hold.
    let everything: Vec<(i64, OpId)> = worker
        .pull_everything(&mut cluster.conn())
        .iter()
        .map(|(seq, op)| (*seq, op.id))
        .collect();
    assert_eq!(everything, ids(&worker));
}

/// One representative operation of `action` by `phone` (the actions that need no item of the
/// plan to exist first).
fn op_for(phone: &mut Phone, action: Action) -> Op {
    let (entity, field, value) = match action {
        Action::EditPlanDetails => (Entity::Plan, Field::ChildName, json!("Noa")),
        Action::ChangePhase => (
            Entity::PhaseDates(Phase::Goals),
            Field::PlannedStart,
            json!("2026-04-01"),
        ),
        Action::ManageGoals => (
            Entity::Goal(GoalId(Uuid::new_v4())),
            Field::Title,
            json!("Nieuw doel"),
        ),
        Action::LogContactMoment => (
            Entity::ContactMoment(ContactMomentId(Uuid::new_v4())),
            Field::At,
            json!("2026-03-01T14:00:00"),
        ),
        Action::AddParentView => (
            Entity::ContactMoment(ContactMomentId(Uuid::new_v4())),
            Field::ParentView,
            json!("Fijn"),
        ),
        Action::RecordDecision => (Entity::Decision, Field::Outcome, json!("home")),
        Action::EditNetwork => (
            Entity::NetworkPerson(NetworkPersonId(Uuid::new_v4())),
            Field::Name,
            json!("Buurvrouw"),
        ),
        other => panic!("no representative op for {other:?} here"),
    };
    phone.raw_op(entity, field, value)
}

/// Who may do what gives the same answers through the cluster as in-process
/// (`authorization_matrix_follows_the_permission_table` in tests/sync/ops.rs, whose world and
/// representative ops live in that test binary): for the worker and the parent, a set of actions
/// each allowed to one and refused to the other, every check made twice in a row (so once by each
/// instance), against `koers_core::allowed`. Then changes made through one instance rule the
/// other at once: a goal the worker gives the parent on one can be ticked by the parent on the
/// other, and a parent taken out of the plan on one is shut out by the other.
#[test]
fn who_may_do_what_is_the_same_on_every_instance() {
    let cluster = Cluster::start(2);
    let mut conn = cluster.conn();
    let mut worker = Phone::found(&mut conn, cluster.session(), "Noa");
    let parent_member = worker.me.parent;
    let mut parent = worker.invite(&mut conn, parent_member);
    worker.pull(&mut conn);
    let plan = Plan::from_replica(&worker.me.replica);

    let actions = [
        Action::ChangePhase,
        Action::EditPlanDetails,
        Action::ManageGoals,
        Action::RecordDecision,
        Action::LogContactMoment,
        Action::AddParentView,
        Action::EditNetwork,
    ];
    let mut answered_by = Vec::new();
    for action in actions {
        for (role, phone) in [
            (Role::FosterCareWorker, &mut worker),
            (Role::Parent, &mut parent),
        ] {
            let mut upstreams = Vec::new();
            for _ in 0..2 {
                let op = op_for(phone, action);
                assert_eq!(
                    action_of(&plan, role, op.author, &op.entity, op.field),
                    action,
                    "{role:?} {action:?}"
                );
                let reply = phone.push(&mut conn, std::slice::from_ref(&op));
                assert_eq!(reply.status, 200, "{}", reply.json);
                let accepted = reply.json["accepted"].as_array().unwrap().len() == 1;
                assert_eq!(
                    accepted,
                    allowed(role, action),
                    "{role:?} {action:?} on {}: {}",
                    upstream_of(&reply),
                    reply.json
                );
                if !accepted {
                    assert_eq!(
                        reply.json["refused"][0]["reason"], "refused",
                        "{}",
                        reply.json
                    );
                    assert_eq!(reply.json["refused"][0]["op"], json!(op.id));
                }
                upstreams.push(upstream_of(&reply).to_owned());
            }
            assert_ne!(
                upstreams[0], upstreams[1],
                "{role:?} {action:?}: both checks went to one instance"
            );
            answered_by.extend(upstreams);
        }
    }
    // The essentials, spelled out: a parent may not change the phase, a worker may.
    assert!(!allowed(Role::Parent, Action::ChangePhase));
    assert!(allowed(Role::FosterCareWorker, Action::ChangePhase));

    // A goal the worker makes the parent's on one instance, ticked by the parent on the other.
    require_postgres(
        "a change made through one instance reaches the other's plan in memory through PostgreSQL's LISTEN/NOTIFY",
    );
    let (a, b) = (&cluster.instances[0], &cluster.instances[1]);
    let (mut on_a, mut on_b) = (a.conn(), b.conn());
    // Both instances have the plan in memory now; each answers the parent once more.
    assert_eq!(parent.pull_page(&mut on_a, 0, 1).status, 200);
    assert_eq!(parent.pull_page(&mut on_b, 0, 1).status, 200);
    let goal = Entity::Goal(GoalId(Uuid::new_v4()));
    let ops = vec![
        worker
            .me
            .edit(Edit::new(goal, Field::Title, "Samen naar de markt")),
        worker.me.edit(Edit::new(goal, Field::Owner, Role::Parent)),
    ];
    worker.push_accepted(&mut on_a, &ops);
    let tick = parent.raw_op(goal, Field::Status, json!("done"));
    let reply = parent.push(&mut on_b, std::slice::from_ref(&tick));
    assert_eq!(
        reply.json["accepted"].as_array().map(Vec::len),
        Some(1),
        "instance b knows at once whose goal it is: {}",
        reply.json
    );

    // The worker takes the parent out on a; b shuts the parent's phone out right after. The
    // removal revokes the member's devices in the same transaction, so the in-process answer
    // is 401 device_revoked (tests/sync/members.rs), and so it is here.
    let out = worker.me.edit(Edit::new(
        Entity::Member(parent_member),
        Field::Deleted,
        true,
    ));
    worker.push_accepted(&mut on_a, &[out]);
    assert_error(&parent.pull_page(&mut on_b, 0, 10), 401, "device_revoked");
    let late = parent.raw_op(
        Entity::NetworkPerson(NetworkPersonId(Uuid::new_v4())),
        Field::Name,
        json!("Te laat"),
    );
    assert_error(
        &parent.push(&mut on_b, std::slice::from_ref(&late)),
        401,
        "device_revoked",
    );
    assert_error(&parent.push(&mut on_a, &[late]), 401, "device_revoked");
    // Through nginx, whichever instance answers.
    for _ in 0..2 {
        assert_error(&parent.pull_page(&mut conn, 0, 10), 401, "device_revoked");
    }
    assert!(answered_by.contains(&a.addr) && answered_by.contains(&b.addr));
}

/// Event streams held through nginx: an operation pushed through one instance is announced on a
/// stream held by the other within 2 s; a device revoked through the other instance loses its
/// streams within 2 s (the stream of one plan ends; the stream of many says `closed`
/// `device_revoked` for the plan, then ends).
#[test]
fn event_streams_follow_changes_made_on_the_other_instance() {
    require_postgres("events reach the other instance through PostgreSQL's LISTEN/NOTIFY");
    let cluster = Cluster::start(2);
    let mut conn = cluster.conn();
    let mut worker = Phone::found(&mut conn, cluster.session(), "Noa");
    let parent_member = worker.me.parent;
    let parent = worker.invite(&mut conn, parent_member);
    let nginx = &cluster.nginx.addr;

    let plan_path = format!("/api/plans/{}/events", parent.plan());
    let stream = EventStream::open(nginx, &plan_path, Some(parent.token()));
    assert_eq!(stream.status, 200, "{}", stream.error);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.header("content-encoding"), None, "never compressed");
    let holder = stream.upstream().to_owned();
    let other = cluster.other_than(&holder);
    let (name, data) = stream.next_event(Duration::from_secs(2));
    assert_eq!(name, "ops");
    let current = data["last_seq"].as_i64().unwrap();

    // The stream of many plans, held by the same instance (nginx alternates: open again until
    // it is).
    let all_path = format!("/api/events?tokens={}", parent.token());
    let all = (0..4)
        .map(|_| EventStream::open(nginx, &all_path, None))
        .find(|s| s.status == 200 && s.upstream() == holder)
        .expect("nginx sent one of four streams to each instance");
    let (name, data) = all.next_event(Duration::from_secs(2));
    assert_eq!(name, "ops");
    assert_eq!(data["plan"], json!(parent.plan()));

    // New operations pushed straight to the other instance are announced on both streams.
    let ops = worker.me.moments(1);
    let seq = worker.push_accepted(&mut other.conn(), &ops)[0];
    assert!(seq > current);
    let took = stream.wait_ops(seq, Duration::from_secs(2));
    all.wait_ops(seq, Duration::from_secs(2));
    println!(
        "an op pushed on {} was announced on {holder} after {took:?}",
        other.addr
    );
    // And pushes through nginx (which alternates) are announced whichever instance took them.
    for _ in 0..2 {
        let ops = worker.me.moments(1);
        let reply = worker.push(&mut conn, &ops);
        let seq = crate::phone::accepted_seqs(&reply, &ops)[0];
        stream.wait_ops(seq, Duration::from_secs(2));
    }

    // The worker revokes the parent's device straight on the other instance.
    let revoked = Instant::now();
    let reply = other.conn().call(
        "DELETE",
        &format!("/api/plans/{}/devices/{}", worker.plan(), parent.device),
        Some(worker.token()),
        None,
    );
    assert_eq!(reply.status, 204, "{}", reply.json);
    // The stream of one plan ends. (It says nothing before: the per-plan endpoint tells no
    // `closed` event in-process either; if it ever does, it must say why.)
    loop {
        let left = Duration::from_secs(2).saturating_sub(revoked.elapsed());
        match stream.next(left) {
            Some(Item::End) => break,
            Some(Item::Event(name, _)) if name == "ops" => {}
            Some(Item::Event(name, data)) if name == "closed" => {
                assert!(data.contains("device_revoked"), "{data}");
            }
            other => panic!(
                "the revoked device's stream did not end within 2 s: {other:?} after {:?}",
                revoked.elapsed()
            ),
        }
    }
    println!(
        "the stream on {holder} ended {:?} after the revocation on {}",
        revoked.elapsed(),
        other.addr
    );
    // The stream of many plans says which plan closed and why, then ends (no plan left).
    loop {
        let left = Duration::from_secs(2).saturating_sub(revoked.elapsed());
        match all.next(left) {
            Some(Item::Event(name, _)) if name == "ops" => {}
            Some(Item::Event(name, data)) if name == "closed" => {
                let data: serde_json::Value = serde_json::from_str(&data).unwrap();
                assert_eq!(
                    data,
                    json!({ "plan": parent.plan(), "error": "device_revoked" })
                );
                break;
            }
            other => panic!("no closed event within 2 s: {other:?}"),
        }
    }
    let left = Duration::from_secs(2).saturating_sub(revoked.elapsed());
    assert_eq!(
        all.next(left),
        Some(Item::End),
        "the stream of many ends after its last plan"
    );
    // A new stream for the revoked device is refused, whichever instance answers.
    for _ in 0..2 {
        let again = EventStream::open(nginx, &plan_path, Some(parent.token()));
        assert_eq!(again.status, 401);
        assert_eq!(again.error["error"], "device_revoked", "{}", again.error);
    }
}
