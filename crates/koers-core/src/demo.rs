//! The example plan a new install opens with, clearly marked as an example (`is_example`).

use chrono::{Datelike, Days, NaiveTime};
use serde::Serialize;
use uuid::Uuid;

use crate::hlc::{Hlc, NodeId};
use crate::model::*;
use crate::op::Op;

pub const PLAN: PlanId = PlanId(Uuid::from_u128(0x6b6f_6572_7300_4000_8000_0000_0000_0001));
pub const PARENT: MemberId = MemberId(Uuid::from_u128(0x6b6f_6572_7300_4000_8000_0000_0000_0101));
pub const FOSTER_PARENT: MemberId =
    MemberId(Uuid::from_u128(0x6b6f_6572_7300_4000_8000_0000_0000_0102));
pub const GUARDIAN: MemberId = MemberId(Uuid::from_u128(0x6b6f_6572_7300_4000_8000_0000_0000_0103));
pub const WORKER: MemberId = MemberId(Uuid::from_u128(0x6b6f_6572_7300_4000_8000_0000_0000_0104));
pub const YOUTH: MemberId = MemberId(Uuid::from_u128(0x6b6f_6572_7300_4000_8000_0000_0000_0105));

/// The member who speaks for `role` in the example plan.
pub fn member_for(role: Role) -> MemberId {
    match role {
        Role::Parent => PARENT,
        Role::FosterParent => FOSTER_PARENT,
        Role::Guardian => GUARDIAN,
        Role::FosterCareWorker | Role::CareWorker => WORKER,
        Role::Youth => YOUTH,
    }
}

struct Builder {
    ops: Vec<Op>,
    millis: u64,
}

impl Builder {
    fn set(&mut self, author: MemberId, entity: Entity, field: Field, value: impl Serialize) {
        let n = self.ops.len() as u128;
        self.ops.push(Op {
            id: OpId(Uuid::from_u128(
                0x6b6f_6572_7300_4000_9000_0000_0000_0000 | n,
            )),
            plan: PLAN,
            hlc: Hlc {
                millis: self.millis,
                counter: n as u32,
                node: NodeId(0),
            },
            author,
            entity,
            field,
            value: serde_json::to_value(value).expect("demo values serialize"),
            supersedes: None,
        });
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x6b6f_6572_7300_4000_a000_0000_0000_0000 | n)
}

/// The operations that make up the example plan, with dates around `today`.
pub fn plan_ops(today: Date) -> Vec<Op> {
    let start = today - Days::new(140);
    let day = |offset: i64| {
        if offset >= 0 {
            start + Days::new(offset as u64)
        } else {
            start - Days::new((-offset) as u64)
        }
    };
    let at =
        |d: Date, h: u32, m: u32| d.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("valid time"));
    let millis = start
        .and_hms_opt(9, 0, 0)
        .expect("valid")
        .and_utc()
        .timestamp_millis()
        .max(0) as u64;
    let mut b = Builder {
        ops: vec![],
        millis,
    };
    let w = WORKER;

    b.set(w, Entity::Plan, Field::IsExample, true);
    b.set(w, Entity::Plan, Field::ChildName, "Noa");
    b.set(
        w,
        Entity::Plan,
        Field::ChildBirthDate,
        Date::from_ymd_opt(today.year() - 13, 5, 14),
    );
    b.set(w, Entity::Plan, Field::StartDate, start);
    b.set(w, Entity::Plan, Field::Phase, Phase::Execution);
    b.set(w, Entity::Plan, Field::ContactPerson, Some(WORKER));

    let members = [
        (PARENT, "Mirjam (moeder)", Role::Parent, None),
        (
            FOSTER_PARENT,
            "Anouk en Peter Bakker",
            Role::FosterParent,
            Some("06 11 22 33 44"),
        ),
        (
            GUARDIAN,
            "Youssef El Amrani",
            Role::Guardian,
            Some("088 123 45 67"),
        ),
        (
            WORKER,
            "Lotte de Vries",
            Role::FosterCareWorker,
            Some("06 12 34 56 78"),
        ),
        (YOUTH, "Noa", Role::Youth, None),
    ];
    for (m, name, role, phone) in members {
        b.set(w, Entity::Member(m), Field::Name, name);
        b.set(w, Entity::Member(m), Field::Role, role);
        if let Some(phone) = phone {
            b.set(w, Entity::Member(m), Field::Phone, phone);
        }
        b.set(
            m,
            Entity::Consent(m),
            Field::GivenAt,
            Some(at(day(3), 10, 0)),
        );
    }
    for (phase, planned, actual) in [
        (Phase::Mandate, 0, Some(0)),
        (Phase::Goals, 14, Some(14)),
        (Phase::Execution, 42, Some(45)),
        (Phase::StrengtheningHome, 300, None),
        (Phase::AfterCare, 365, None),
    ] {
        b.set(
            w,
            Entity::PhaseDates(phase),
            Field::PlannedStart,
            Some(day(planned)),
        );
        b.set(
            w,
            Entity::PhaseDates(phase),
            Field::ActualStart,
            actual.map(day),
        );
    }

    let vib = InterventionId(id(1));
    b.set(
        w,
        Entity::Intervention(vib),
        Field::Kind,
        InterventionKind::Vib,
    );
    b.set(
        w,
        Entity::Intervention(vib),
        Field::Name,
        "Video-hometraining (VIB)",
    );
    b.set(
        w,
        Entity::Intervention(vib),
        Field::Status,
        InterventionStatus::Running,
    );
    b.set(w, Entity::Intervention(vib), Field::HoursPerWeek, 2.0);

    let goals: [(Role, &str, &str, bool, Option<i64>); 10] = [
        (
            Role::Parent,
            "Elke weekendochtend samen ontbijten",
            "Als Noa thuis slaapt: samen ontbijten en op tijd klaar voor de dag.",
            false,
            Some(30),
        ),
        (
            Role::Parent,
            "Elke week naar de video-hometraining",
            "Samen met de VIB-trainer kijken hoe het contact met Noa gaat.",
            false,
            None,
        ),
        (
            Role::Parent,
            "Een vast dagritme opschrijven",
            "Slaaptijden, eten en school in één weekschema.",
            true,
            None,
        ),
        (
            Role::Parent,
            "Schulden in beeld brengen met de budgetcoach",
            "Een overzicht maken en een afspraak voor een regeling.",
            false,
            Some(60),
        ),
        (
            Role::FosterParent,
            "Mirjam elke week een foto-update sturen",
            "Zo blijft Mirjam op de hoogte van Noa's week.",
            false,
            None,
        ),
        (
            Role::FosterParent,
            "Bezoeken voorbereiden en nabespreken met Noa",
            "Kort vooraf en achteraf vragen hoe Noa het vindt.",
            false,
            None,
        ),
        (
            Role::Guardian,
            "Veiligheidsplan voor thuis vaststellen",
            "Samen met Mirjam en het netwerk: wie doet wat als het misgaat.",
            false,
            Some(45),
        ),
        (
            Role::FosterCareWorker,
            "Netwerkberaad met oma en buurvrouw",
            "Wie uit het netwerk kan helpen bij weekendbezoeken?",
            true,
            None,
        ),
        (
            Role::FosterCareWorker,
            "Elk kwartaal evalueren met ouders en Noa",
            "Veiligheid, ontwikkeling en welzijn bespreken.",
            false,
            None,
        ),
        (
            Role::Youth,
            "Zeggen wat ik fijn en niet fijn vind bij bezoek",
            "Dat mag aan de pleegouders, Lotte of mama.",
            false,
            None,
        ),
    ];
    for (n, (owner, title, description, done, deadline)) in goals.into_iter().enumerate() {
        let g = Entity::Goal(GoalId(id(100 + n as u128)));
        b.set(w, g, Field::Title, title);
        b.set(w, g, Field::Description, description);
        b.set(w, g, Field::Owner, owner);
        b.set(w, g, Field::Priority, n as i64 + 1);
        b.set(
            w,
            g,
            Field::Status,
            if done {
                GoalStatus::Done
            } else {
                GoalStatus::Open
            },
        );
        b.set(
            w,
            g,
            Field::Deadline,
            deadline.map(|d| today + Days::new(d as u64)),
        );
        if n == 1 {
            b.set(w, g, Field::Intervention, Some(vib));
        }
    }

    let visits: [(i64, u32, ContactKind, ContactStatus, u8, &str); 5] = [
        (
            -21,
            14,
            ContactKind::Visit,
            ContactStatus::Happened,
            4,
            "Samen naar de speeltuin. Afscheid was even moeilijk.",
        ),
        (
            -14,
            19,
            ContactKind::Phone,
            ContactStatus::Happened,
            4,
            "Noa vertelde over haar spreekbeurt.",
        ),
        (
            -7,
            14,
            ContactKind::Visit,
            ContactStatus::Happened,
            5,
            "Pannenkoeken gebakken bij Mirjam thuis, onder begeleiding.",
        ),
        (
            -3,
            16,
            ContactKind::Video,
            ContactStatus::Cancelled,
            3,
            "Verbinding lukte niet.",
        ),
        (5, 14, ContactKind::Visit, ContactStatus::Planned, 3, ""),
    ];
    for (n, (offset, hour, kind, status, rating, note)) in visits.into_iter().enumerate() {
        let c = Entity::ContactMoment(ContactMomentId(id(200 + n as u128)));
        let d = if offset < 0 {
            today - Days::new((-offset) as u64)
        } else {
            today + Days::new(offset as u64)
        };
        let by = FOSTER_PARENT;
        b.set(by, c, Field::At, at(d, hour, 0));
        b.set(by, c, Field::Kind, kind);
        b.set(by, c, Field::Status, status);
        b.set(
            by,
            c,
            Field::Attendees,
            [Role::Parent, Role::FosterParent, Role::Youth],
        );
        if status == ContactStatus::Happened {
            b.set(
                by,
                c,
                Field::DurationMinutes,
                Some(if kind == ContactKind::Visit {
                    120u16
                } else {
                    20
                }),
            );
            b.set(by, c, Field::Rating, Some(rating));
            b.set(by, c, Field::Note, Some(note));
        }
        if status == ContactStatus::Cancelled {
            b.set(by, c, Field::CancelReason, Some(note));
        }
        if status == ContactStatus::Planned {
            b.set(by, c, Field::Place, Some("Bij Mirjam thuis"));
        }
    }
    b.set(
        PARENT,
        Entity::ContactMoment(ContactMomentId(id(202))),
        Field::ParentView,
        Some("Fijne middag, Noa lachte veel."),
    );

    for (n, (offset, safety, development, wellbeing)) in [(30, 4u8, 5u8, 5u8), (120, 6, 6, 7)]
        .into_iter()
        .enumerate()
    {
        let e = Entity::Evaluation(EvaluationId(id(300 + n as u128)));
        b.set(w, e, Field::Date, day(offset));
        b.set(w, e, Field::Safety, Some(safety));
        b.set(w, e, Field::Development, Some(development));
        b.set(w, e, Field::Wellbeing, Some(wellbeing));
        b.set(
            w,
            e,
            Field::Participants,
            [
                Role::Parent,
                Role::FosterParent,
                Role::Guardian,
                Role::FosterCareWorker,
                Role::Youth,
            ],
        );
        b.set(w, e, Field::ChildTookPart, true);
    }

    for (n, (name, relation, helps)) in [
        ("Oma Riet", "grootmoeder", "Past op woensdagmiddag"),
        ("Sandra", "buurvrouw", "Rijdt mee naar bezoeken"),
    ]
    .into_iter()
    .enumerate()
    {
        let p = Entity::NetworkPerson(NetworkPersonId(id(400 + n as u128)));
        b.set(w, p, Field::Name, name);
        b.set(w, p, Field::Relation, Some(relation));
        b.set(w, p, Field::HelpsWith, Some(helps));
    }
    b.ops
}
