//! A generated plan of one full year, for benchmarks and load tests: twelve members, fifty goals,
//! six hundred contact moments, eight evaluations, every phase. Deterministic: the same start
//! date gives the same operations (ids, clocks and all), and every operation passes
//! [`crate::authorize`] when applied in order, the first (the founder's role) as a founding batch.

use std::collections::HashMap;

use chrono::{Days, Duration, NaiveTime};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::hlc::{Hlc, NodeId};
use crate::model::*;
use crate::op::Op;

pub const PLAN: PlanId = PlanId(Uuid::from_u128(0x6b6f_6572_7300_4000_b000_00ff_0000_0000));
pub const GOALS: usize = 50;
pub const CONTACT_MOMENTS: usize = 600;
pub const EVALUATIONS: usize = 8;
/// Contact moments on or after this day of the year are still planned.
pub const PLANNED_FROM_DAY: u64 = 330;

/// Ids by kind of item, so that they never collide and read back as what they are.
fn id(kind: u128, n: usize) -> Uuid {
    Uuid::from_u128(0x6b6f_6572_7300_4000_b000_0000_0000_0000 | kind << 32 | n as u128)
}

const MEMBERS: [(&str, Role, Option<&str>); 12] = [
    (
        "Lotte de Vries",
        Role::FosterCareWorker,
        Some("06 12 34 56 78"),
    ),
    ("Mirjam Jansen", Role::Parent, Some("06 98 76 54 32")),
    ("Karim El Idrissi", Role::Parent, Some("06 55 44 33 22")),
    ("Anouk Bakker", Role::FosterParent, Some("06 11 22 33 44")),
    ("Peter Bakker", Role::FosterParent, None),
    ("Youssef El Amrani", Role::Guardian, Some("088 123 45 67")),
    ("Ingrid Smit", Role::Guardian, Some("088 123 45 99")),
    (
        "Bram Visser",
        Role::FosterCareWorker,
        Some("06 87 65 43 21"),
    ),
    (
        "Sanne Mulder (VIB)",
        Role::CareWorker,
        Some("06 20 30 40 50"),
    ),
    ("Dr. Eva de Boer", Role::CareWorker, None),
    (
        "Joost Hendriks (budgetcoach)",
        Role::CareWorker,
        Some("06 33 22 11 00"),
    ),
    ("Noa", Role::Youth, None),
];

fn member(n: usize) -> MemberId {
    MemberId(id(1, n))
}

const WORKER: usize = 0;
const GUARDIAN: usize = 5;
const YOUTH: usize = 11;

/// The first member with `role`.
fn speaker(role: Role) -> usize {
    MEMBERS
        .iter()
        .position(|m| m.1 == role)
        .expect("every role takes part")
}

const NOTES: [&str; 8] = [
    "Samen naar de speeltuin, daarna pannenkoeken. Afscheid was even moeilijk.",
    "Noa vertelde over school; ze heeft een 8 voor haar spreekbeurt.",
    "Rustig bezoek. Mirjam had een spelletje meegenomen, Noa won twee keer.",
    "Korte video-afspraak, verbinding haperde; toch fijn contact.",
    "Huiswerk samen gemaakt. Karim hielp met rekenen, Noa was trots.",
    "Noa was moe na school; na een half uur ging het beter.\nGoed afgesproken wie haar brengt.",
    "Op de fiets naar het bos. Één keer boos geweest, maar samen opgelost.",
    "Gesprek over de zomervakantie, logeren bij oma is bespreekbaar.",
];

const GOAL_TITLES: [&str; 10] = [
    "Elke weekendochtend samen ontbijten",
    "Elke week naar de video-hometraining",
    "Een vast dagritme opschrijven",
    "Schulden in beeld brengen met de budgetcoach",
    "Wekelijks een foto-update sturen",
    "Bezoeken voorbereiden en nabespreken",
    "Veiligheidsplan voor thuis vaststellen",
    "Netwerkberaad met familie en buren",
    "Samen naar de ouderavond op school",
    "Zeggen wat ik fijn en niet fijn vind",
];

/// Goal owners: most goals are the parents' work.
const OWNERS: [Role; 10] = [
    Role::Parent,
    Role::Parent,
    Role::Parent,
    Role::Parent,
    Role::FosterParent,
    Role::FosterParent,
    Role::Guardian,
    Role::FosterCareWorker,
    Role::CareWorker,
    Role::Youth,
];

/// SplitMix64: a few lines, good enough spread, and the same numbers on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True `percent` times out of a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// One write, dated; ordered by date before it becomes an operation.
struct Event {
    at: LocalDateTime,
    author: usize,
    entity: Entity,
    field: Field,
    value: Value,
}

struct Year {
    start: Date,
    events: Vec<Event>,
    rng: Rng,
}

impl Year {
    fn at(&self, day: u64, hour: u32, minute: u32) -> LocalDateTime {
        (self.start + Days::new(day))
            .and_time(NaiveTime::from_hms_opt(hour, minute, 0).expect("a valid time of day"))
    }

    fn set(
        &mut self,
        at: LocalDateTime,
        author: usize,
        entity: Entity,
        field: Field,
        value: impl Serialize,
    ) {
        self.events.push(Event {
            at,
            author,
            entity,
            field,
            value: serde_json::to_value(value).expect("generated values serialize"),
        });
    }
}

/// The operations of a year-long plan starting on `start`, about 5,000, in the order they were
/// made (which is also their clock order).
pub fn year_plan(start: Date) -> Vec<Op> {
    let mut y = Year {
        start,
        events: Vec::new(),
        rng: Rng(0x006b_6f65_7273),
    };
    founding(&mut y);
    phases(&mut y);
    let interventions = interventions(&mut y);
    goals(&mut y, &interventions);
    contact_moments(&mut y);
    evaluations(&mut y);
    network(&mut y);
    into_ops(y)
}

/// [`year_plan`] under a plan id and operation ids from `new_id` (the plan's first), so that
/// one server can hold it again and again: for the benchmarks and the e2e seeder. What an
/// operation supersedes follows it to its new id.
pub fn year_plan_with_ids(start: Date, mut new_id: impl FnMut() -> Uuid) -> Vec<Op> {
    let plan = PlanId(new_id());
    let mut ids: HashMap<OpId, OpId> = HashMap::new();
    year_plan(start)
        .into_iter()
        .map(|mut op| {
            let id = OpId(new_id());
            ids.insert(op.id, id);
            op.id = id;
            op.plan = plan;
            // What an op supersedes always came before it, so it has its new id already.
            op.supersedes = op.supersedes.map(|old| ids[&old]);
            op
        })
        .collect()
}

fn founding(y: &mut Year) {
    let t = y.at(0, 9, 0);
    // The founder's role first: the server starts a plan from it.
    for (n, (name, role, phone)) in MEMBERS.into_iter().enumerate() {
        let m = Entity::Member(member(n));
        y.set(t, WORKER, m, Field::Role, role);
        y.set(t, WORKER, m, Field::Name, name);
        if let Some(phone) = phone {
            y.set(t, WORKER, m, Field::Phone, Some(phone));
        }
    }
    let birth = y.start.checked_sub_days(Days::new(13 * 365 + 40));
    y.set(t, WORKER, Entity::Plan, Field::ChildName, "Noa");
    y.set(t, WORKER, Entity::Plan, Field::ChildBirthDate, birth);
    y.set(t, WORKER, Entity::Plan, Field::StartDate, y.start);
    y.set(t, WORKER, Entity::Plan, Field::Phase, Phase::Mandate);
    let worker = Some(member(WORKER));
    y.set(t, WORKER, Entity::Plan, Field::ContactPerson, worker);
    for n in 0..MEMBERS.len() {
        let given = y.at(1 + n as u64 % 9, 10 + n as u32 % 8, 15);
        let m = Entity::Consent(member(n));
        y.set(given, n, m, Field::GivenAt, Some(given));
    }
    // Half-way the second worker takes over as the fixed contact person; a phone changes.
    let handover = y.at(200, 11, 0);
    let bram = Some(member(7));
    y.set(handover, WORKER, Entity::Plan, Field::ContactPerson, bram);
    let m = Entity::Member(member(4));
    y.set(handover, WORKER, m, Field::Phone, Some("06 44 55 66 77"));
}

fn phases(y: &mut Year) {
    let moves = [
        (Phase::Mandate, 0, None),
        (Phase::Goals, 14, Some(14)),
        (Phase::Execution, 42, Some(42)),
        (Phase::StrengtheningHome, 302, Some(302)),
        (Phase::AfterCare, 358, Some(358)),
    ];
    let t = y.at(0, 9, 30);
    for (phase, day, _) in moves {
        let planned = y.start + Days::new(day);
        y.set(
            t,
            WORKER,
            Entity::PhaseDates(phase),
            Field::PlannedStart,
            Some(planned),
        );
    }
    let t = y.at(0, 9, 31);
    y.set(
        t,
        WORKER,
        Entity::PhaseDates(Phase::Mandate),
        Field::ActualStart,
        Some(y.start),
    );
    for (phase, _, moved) in moves {
        let Some(day) = moved else { continue };
        let by = if phase == Phase::StrengtheningHome {
            GUARDIAN
        } else {
            WORKER
        };
        let t = y.at(day, 13, 0);
        y.set(t, by, Entity::Plan, Field::Phase, phase);
        let actual = Some(y.start + Days::new(day));
        y.set(t, by, Entity::PhaseDates(phase), Field::ActualStart, actual);
    }
    // The perspective decision, two days before phase 3.
    let t = y.at(300, 15, 0);
    let reasons =
        "Mirjam en Karim bieden thuis veiligheid; het netwerk helpt, de school ziet vooruitgang.";
    y.set(
        t,
        GUARDIAN,
        Entity::Decision,
        Field::Outcome,
        Some(Perspective::Home),
    );
    y.set(t, GUARDIAN, Entity::Decision, Field::Reasons, Some(reasons));
    y.set(
        t,
        GUARDIAN,
        Entity::Decision,
        Field::Date,
        Some(y.start + Days::new(300)),
    );
}

fn interventions(y: &mut Year) -> Vec<InterventionId> {
    let list = [
        (InterventionKind::Vib, "Video-hometraining", 2.0, 8, 120),
        (InterventionKind::Pmto, "PMTO oudertraining", 1.5, 50, 230),
        (
            InterventionKind::SignsOfSafety,
            "Signs of Safety",
            0.5,
            20,
            340,
        ),
        (
            InterventionKind::TraumaTreatment,
            "Traumabehandeling Noa",
            1.0,
            90,
            300,
        ),
    ];
    let mut ids = Vec::new();
    for (n, (kind, name, hours, from, to)) in list.into_iter().enumerate() {
        let i = InterventionId(id(2, n));
        let e = Entity::Intervention(i);
        let by = 8 + n % 3; // the care workers
        let t = y.at(14, 11, n as u32);
        y.set(t, by, e, Field::Kind, kind);
        y.set(t, by, e, Field::Name, Some(name));
        y.set(t, by, e, Field::Status, InterventionStatus::Planned);
        y.set(t, by, e, Field::HoursPerWeek, hours);
        let t = y.at(from, 9, 0);
        y.set(t, by, e, Field::Status, InterventionStatus::Running);
        let t = y.at(to, 16, 0);
        y.set(t, by, e, Field::Status, InterventionStatus::Finished);
        ids.push(i);
    }
    ids
}

fn goals(y: &mut Year, interventions: &[InterventionId]) {
    for n in 0..GOALS {
        let g = GoalId(id(3, n));
        let e = Entity::Goal(g);
        let owner = OWNERS[n % OWNERS.len()];
        let by = if n % 3 == 0 { GUARDIAN } else { WORKER };
        let made = y.at(15 + (n as u64 % 25), 10, (n % 60) as u32);
        let title = format!("{} ({})", GOAL_TITLES[n % GOAL_TITLES.len()], n / 10 + 1);
        y.set(made, by, e, Field::Title, title);
        y.set(made, by, e, Field::Owner, owner);
        // The last few share a priority, as when two were added at once.
        y.set(made, by, e, Field::Priority, (n as i64 + 1).min(46));
        y.set(made, by, e, Field::Status, GoalStatus::Open);
        if n % 2 == 0 {
            let why = "Zodat Noa weet waar ze aan toe is, en iedereen hetzelfde doet.";
            y.set(made, by, e, Field::Description, Some(why));
        }
        if n % 3 == 0 {
            let deadline = y.start + Days::new(60 + y.rng.below(240));
            y.set(made, by, e, Field::Deadline, Some(deadline));
        }
        if n % 7 == 1 {
            let i = interventions[n % interventions.len()];
            y.set(made, by, e, Field::Intervention, Some(i));
        }

        // Ticked off by someone in the owning role; some are re-opened, and some of those done again.
        let tick = speaker(owner);
        if n % 5 < 3 {
            let day = 50 + y.rng.below(270);
            let t = y.at(day, 20, 0);
            y.set(t, tick, e, Field::Status, GoalStatus::Done);
            if n % 4 == 0 {
                let t = y.at(day + 10, 9, 0);
                y.set(t, GUARDIAN, e, Field::Status, GoalStatus::Open);
                if n % 8 == 0 {
                    let t = y.at(day + 30, 20, 0);
                    y.set(t, tick, e, Field::Status, GoalStatus::Done);
                }
            }
        }
        if n % 5 == 4 {
            let day = 100 + y.rng.below(100);
            let t = y.at(day, 14, 0);
            y.set(
                t,
                WORKER,
                e,
                Field::Title,
                format!("{} (aangepast)", GOAL_TITLES[n % 10]),
            );
        }

        // Comments from everyone but the child (who may not comment).
        for c in 0..3 {
            let author = y.rng.below(YOUTH as u64) as usize;
            let day = 45 + y.rng.below(300);
            let t = y.at(day, 8 + c, 30);
            let comment = Entity::GoalComment(CommentId(id(4, n * 3 + c as usize)));
            let text = y.rng.pick(&[
                "Gaat goed, deze week twee keer gelukt.",
                "Lukt nog niet, volgende week opnieuw; ik vraag hulp aan oma.",
                "Besproken in het overleg, we houden dit vast.",
                "Kunnen we dit samen met school oppakken?",
            ]);
            y.set(t, author, comment, Field::Goal, g);
            y.set(t, author, comment, Field::Text, text);
        }
    }
}

fn contact_moments(y: &mut Year) {
    use ContactKind as K;
    use Role as R;
    for n in 0..CONTACT_MOMENTS {
        let c = Entity::ContactMoment(ContactMomentId(id(5, n)));
        let day = 7 + (n as u64 * 358) / CONTACT_MOMENTS as u64;
        let (hour, quarter) = (9 + y.rng.below(11) as u32, y.rng.below(4) as u32);
        let at = y.at(day, hour, 15 * quarter);
        let kind = y.rng.pick(&[
            K::Visit,
            K::Visit,
            K::Visit,
            K::Phone,
            K::Phone,
            K::Video,
            K::Message,
            K::Meeting,
        ]);
        let status = if day >= PLANNED_FROM_DAY {
            ContactStatus::Planned
        } else {
            match y.rng.below(100) {
                0..=75 => ContactStatus::Happened,
                76..=89 => ContactStatus::Cancelled,
                _ => ContactStatus::NoShow,
            }
        };
        let (by, attendees, minutes) = match kind {
            K::Meeting => (
                WORKER,
                vec![R::Parent, R::FosterParent, R::Guardian, R::FosterCareWorker],
                60u16,
            ),
            K::Visit if n % 4 == 0 => (8, vec![R::Parent, R::Youth, R::CareWorker], 90),
            K::Visit => (3 + n % 2, vec![R::Parent, R::FosterParent, R::Youth], 120),
            _ => (3 + n % 2, vec![R::Parent, R::Youth], 20),
        };
        // Visits and meetings are planned a week ahead; calls and messages are logged afterwards.
        let ahead = matches!(kind, K::Visit | K::Meeting) || status == ContactStatus::Planned;
        let (made, done) = if ahead {
            (
                at - Duration::days(7),
                at + Duration::minutes(minutes.into()),
            )
        } else {
            (at + Duration::minutes(30), at + Duration::minutes(30))
        };
        let first = if ahead {
            ContactStatus::Planned
        } else {
            status
        };
        y.set(made, by, c, Field::At, at);
        y.set(made, by, c, Field::Kind, kind);
        y.set(made, by, c, Field::Status, first);
        y.set(made, by, c, Field::Attendees, attendees);
        if ahead {
            let place = if kind == K::Meeting {
                "Kantoor pleegzorg, Utrecht"
            } else {
                "Bij Mirjam thuis"
            };
            y.set(made, by, c, Field::Place, Some(place));
        }
        match status {
            ContactStatus::Planned => continue,
            ContactStatus::Happened => {
                if ahead {
                    y.set(done, by, c, Field::Status, status);
                }
                if kind != K::Message {
                    y.set(done, by, c, Field::DurationMinutes, Some(minutes));
                }
                let rating = Rating::new(2 + y.rng.below(4) as u8);
                y.set(done, by, c, Field::Rating, rating);
                if y.rng.chance(70) {
                    let note = y.rng.pick(&NOTES);
                    y.set(done, by, c, Field::Note, Some(note));
                }
                if y.rng.chance(25) {
                    let parent = 1 + n % 2;
                    let view = y.rng.pick(&[
                        "Fijne middag, Noa lachte veel.",
                        "Kort maar goed.",
                        "Moeilijk afscheid, volgende keer beter.",
                    ]);
                    y.set(
                        done + Duration::hours(20),
                        parent,
                        c,
                        Field::ParentView,
                        Some(view),
                    );
                }
                if y.rng.chance(10) {
                    let view = y.rng.pick(&["Leuk!", "Ik wil vaker bellen.", "Ging wel."]);
                    y.set(
                        done + Duration::hours(3),
                        YOUTH,
                        c,
                        Field::YouthView,
                        Some(view),
                    );
                }
            }
            ContactStatus::Cancelled => {
                let t = if ahead { at - Duration::days(1) } else { done };
                y.set(t, by, c, Field::Status, status);
                let why = y.rng.pick(&[
                    "Noa was ziek.",
                    "Mirjam moest werken.",
                    "Verbinding lukte niet.",
                ]);
                y.set(t, by, c, Field::CancelReason, Some(why));
            }
            ContactStatus::NoShow => {
                y.set(done, by, c, Field::Status, status);
                y.set(
                    done,
                    by,
                    c,
                    Field::Note,
                    Some("Niemand aanwezig op de afgesproken tijd; teruggebeld."),
                );
            }
        }
    }
}

fn evaluations(y: &mut Year) {
    let everyone = [
        Role::Parent,
        Role::FosterParent,
        Role::Guardian,
        Role::FosterCareWorker,
        Role::Youth,
    ];
    for n in 0..EVALUATIONS {
        let e = Entity::Evaluation(EvaluationId(id(6, n)));
        let day = 45 * (n as u64 + 1) - 5;
        let t = y.at(day, 14, 0);
        let by = if n % 2 == 0 { WORKER } else { GUARDIAN };
        let score =
            |base: u64, rng: &mut Rng| Some((base + n as u64 / 2 + rng.below(2)).min(10) as u8);
        y.set(t, by, e, Field::Date, y.start + Days::new(day));
        let (s, d, w) = (
            score(3, &mut y.rng),
            score(4, &mut y.rng),
            score(4, &mut y.rng),
        );
        y.set(t, by, e, Field::Safety, s);
        y.set(t, by, e, Field::Development, d);
        y.set(t, by, e, Field::Wellbeing, w);
        y.set(t, by, e, Field::Participants, everyone);
        y.set(t, by, e, Field::ChildTookPart, n % 3 != 2);
        y.set(
            t,
            by,
            e,
            Field::Note,
            Some("Veiligheid, ontwikkeling en welzijn besproken met iedereen."),
        );
        if n == 3 {
            y.set(
                t,
                by,
                e,
                Field::BigChange,
                Some("Karim woont weer bij Mirjam."),
            );
        }
        if n % 2 == 1 {
            y.set(
                t + Duration::days(1),
                YOUTH,
                e,
                Field::YouthView,
                Some("Ik wil vaker bij mama slapen."),
            );
        }
    }
}

fn network(y: &mut Year) {
    let people = [
        ("Oma Riet", "grootmoeder", "Past op woensdagmiddag", WORKER),
        ("Sandra", "buurvrouw", "Rijdt mee naar bezoeken", WORKER),
        ("Tante Fatima", "tante", "Logeeradres in de vakantie", 2),
        (
            "Meester Tom",
            "leerkracht",
            "Houdt contact over school",
            GUARDIAN,
        ),
        ("Opa Henk", "grootvader", "Haalt Noa op van voetbal", 1),
    ];
    for (n, (name, relation, helps, by)) in people.into_iter().enumerate() {
        let p = Entity::NetworkPerson(NetworkPersonId(id(7, n)));
        let t = y.at(20 + 30 * n as u64, 19, 0);
        y.set(t, by, p, Field::Name, name);
        y.set(t, by, p, Field::Relation, Some(relation));
        y.set(t, by, p, Field::HelpsWith, Some(helps));
        if n % 2 == 0 {
            y.set(t, by, p, Field::Phone, Some(format!("06 10 20 30 4{n}")));
        }
    }
}

/// Orders the writes by date (stable, so writes made together keep their order) and turns them
/// into operations with strictly increasing clocks, each superseding the value its author saw.
fn into_ops(mut y: Year) -> Vec<Op> {
    y.events.sort_by_key(|e| e.at);
    let mut last = Hlc::ZERO;
    let mut current: HashMap<(Entity, Field), OpId> = HashMap::new();
    let mut ops = Vec::with_capacity(y.events.len());
    for (n, e) in y.events.into_iter().enumerate() {
        let millis = e.at.and_utc().timestamp_millis().max(0) as u64;
        let node = NodeId(e.author as u64 + 1);
        let hlc = if millis > last.millis {
            Hlc {
                millis,
                counter: 0,
                node,
            }
        } else {
            Hlc {
                millis: last.millis,
                counter: last.counter + 1,
                node,
            }
        };
        last = hlc;
        let op = OpId(id(0, n));
        ops.push(Op {
            id: op,
            plan: PLAN,
            hlc,
            author: member(e.author),
            entity: e.entity,
            field: e.field,
            value: e.value,
            supersedes: current.insert((e.entity, e.field), op),
        });
    }
    ops
}
