//! The things a family plan is made of, and the addresses (entity + field) that operations change.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// One family plan (one child).
    PlanId,
    /// One operation in the log.
    OpId,
    /// A person taking part in the plan.
    MemberId,
    GoalId,
    CommentId,
    ContactMomentId,
    EvaluationId,
    InterventionId,
    NetworkPersonId,
);

/// The parties around the child. One permission table ([`crate::permission::allowed`]) is keyed on this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Ouder.
    Parent,
    /// Pleegouder / gezinshuisouder.
    FosterParent,
    /// Gezinsvoogd, from the certified institution.
    Guardian,
    /// Pleegzorgbegeleider: leads the trajectory.
    FosterCareWorker,
    /// Hulpverlener / gedragswetenschapper.
    CareWorker,
    /// Jongere: the child, from about 12.
    Youth,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Parent,
        Role::FosterParent,
        Role::Guardian,
        Role::FosterCareWorker,
        Role::CareWorker,
        Role::Youth,
    ];

    /// Stable text key, as used in storage and URLs.
    pub fn key(self) -> &'static str {
        match self {
            Role::Parent => "parent",
            Role::FosterParent => "foster_parent",
            Role::Guardian => "guardian",
            Role::FosterCareWorker => "foster_care_worker",
            Role::CareWorker => "care_worker",
            Role::Youth => "youth",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// The 2thepoint phases; the perspective must be clear within one year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// 0 — every party consents to start.
    Mandate,
    /// 1 — goals are drawn up.
    Goals,
    /// 2 — goals are carried out; ends with the perspective decision.
    Execution,
    /// 3 — only if the child goes home: strengthen the home situation.
    StrengtheningHome,
    /// 4 — extra support the parents still need.
    AfterCare,
}

impl Phase {
    /// Stable text key, as used in storage.
    pub fn key(self) -> &'static str {
        match self {
            Phase::Mandate => "mandate",
            Phase::Goals => "goals",
            Phase::Execution => "execution",
            Phase::StrengtheningHome => "strengthening_home",
            Phase::AfterCare => "after_care",
        }
    }

    pub const ALL: [Phase; 5] = [
        Phase::Mandate,
        Phase::Goals,
        Phase::Execution,
        Phase::StrengtheningHome,
        Phase::AfterCare,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn next(self) -> Option<Phase> {
        Phase::ALL.get(self as usize + 1).copied()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    #[default]
    Open,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// Bezoek.
    #[default]
    Visit,
    /// Telefoon.
    Phone,
    /// Video.
    Video,
    /// Bericht.
    Message,
    /// Overleg.
    Meeting,
}

impl ContactKind {
    pub const ALL: [ContactKind; 5] = [
        ContactKind::Visit,
        ContactKind::Phone,
        ContactKind::Video,
        ContactKind::Message,
        ContactKind::Meeting,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    Planned,
    #[default]
    Happened,
    Cancelled,
    NoShow,
}

impl ContactStatus {
    pub const ALL: [ContactStatus; 4] = [
        ContactStatus::Planned,
        ContactStatus::Happened,
        ContactStatus::Cancelled,
        ContactStatus::NoShow,
    ];
}

/// How a contact moment went, on a five-point scale (1 = very hard, 5 = very good).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 5;
    pub fn new(v: u8) -> Option<Rating> {
        (Self::MIN..=Self::MAX).contains(&v).then_some(Rating(v))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Rating::new(v).ok_or_else(|| format!("a rating is 1 to 5, not {v}"))
    }
}

impl From<Rating> for u8 {
    fn from(r: Rating) -> u8 {
        r.0
    }
}

/// A Signs of Safety score, 0 (very unsafe / worried) to 10 (safe / no worries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Score(u8);

impl Score {
    pub fn new(v: u8) -> Option<Score> {
        (v <= 10).then_some(Score(v))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Score {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Score::new(v).ok_or_else(|| format!("a score is 0 to 10, not {v}"))
    }
}

impl From<Score> for u8 {
    fn from(s: Score) -> u8 {
        s.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterventionKind {
    Vib,
    Pcit,
    Pmto,
    TraumaTreatment,
    SignsOfSafety,
    NetworkDevelopment,
    Mst,
    Mdft,
    Iag,
    FamiliesFirst,
    Ash,
    Other,
}

impl InterventionKind {
    pub const ALL: [InterventionKind; 12] = [
        InterventionKind::Vib,
        InterventionKind::Pcit,
        InterventionKind::Pmto,
        InterventionKind::TraumaTreatment,
        InterventionKind::SignsOfSafety,
        InterventionKind::NetworkDevelopment,
        InterventionKind::Mst,
        InterventionKind::Mdft,
        InterventionKind::Iag,
        InterventionKind::FamiliesFirst,
        InterventionKind::Ash,
        InterventionKind::Other,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InterventionStatus {
    #[default]
    Planned,
    Running,
    Finished,
    Stopped,
}

impl InterventionStatus {
    pub const ALL: [InterventionStatus; 4] = [
        InterventionStatus::Planned,
        InterventionStatus::Running,
        InterventionStatus::Finished,
        InterventionStatus::Stopped,
    ];
}

/// Where the child grows up: the outcome of phase 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perspective {
    /// Terug naar huis.
    Home,
    /// Opgroeien in het pleeggezin.
    FosterFamily,
}

/// What an operation changes: one item of the plan. Written as text, `goal:<uuid>` or `plan`
/// (compact in storage, and far less wasm than serde's adjacently tagged enums).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// The plan itself: child, start date, phase, fixed contact person.
    Plan,
    Member(MemberId),
    /// One member's consent to start (phase 0).
    Consent(MemberId),
    /// Planned and actual dates of one phase.
    PhaseDates(Phase),
    Goal(GoalId),
    GoalComment(CommentId),
    ContactMoment(ContactMomentId),
    Evaluation(EvaluationId),
    Intervention(InterventionId),
    NetworkPerson(NetworkPersonId),
    /// The perspective decision that ends phase 2.
    Decision,
}

/// The field of an entity that an operation sets. Which fields belong to which entity, and the
/// type of their value, is checked by [`crate::op::validate_value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    // Plan
    ChildName,
    ChildBirthDate,
    StartDate,
    Phase,
    ContactPerson,
    IsExample,
    // Member, network person
    Name,
    Role,
    Phone,
    Relation,
    HelpsWith,
    // Consent
    GivenAt,
    // Phase dates
    PlannedStart,
    ActualStart,
    // Goal
    Title,
    Description,
    Owner,
    Priority,
    Status,
    Deadline,
    Intervention,
    // Goal comment
    Goal,
    Text,
    // Contact moment
    At,
    Kind,
    Place,
    Attendees,
    DurationMinutes,
    Rating,
    Note,
    CancelReason,
    ParentView,
    YouthView,
    // Evaluation
    Date,
    Safety,
    Development,
    Wellbeing,
    Participants,
    ChildTookPart,
    BigChange,
    // Intervention
    HoursPerWeek,
    // Decision
    Outcome,
    Reasons,
    // Any removable item: a tombstone, so a deletion merges like any other write.
    Deleted,
    // Hiding what someone wrote in their own name (the worker only; the words stay in the log).
    // Their own fields rather than a flag inside the value, so a hide merges like any write and
    // history shows who hid what, and when.
    /// A goal comment hidden.
    Hidden,
    /// A contact moment's parent view hidden.
    ParentViewHidden,
    /// A contact moment's or evaluation's youth view hidden.
    YouthViewHidden,
}

/// Dates and times are local to the family (Europe/Amsterdam); no time zone is stored.
pub type LocalDateTime = NaiveDateTime;
pub type Date = NaiveDate;

impl Field {
    /// The lowest field in the derived order (the first variant), for range scans of one entity.
    pub const FIRST: Field = Field::ChildName;
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = |f: &mut std::fmt::Formatter<'_>, kind: &str, id: &Uuid| write!(f, "{kind}:{id}");
        match self {
            Entity::Plan => f.write_str("plan"),
            Entity::Decision => f.write_str("decision"),
            Entity::PhaseDates(p) => write!(f, "phase_dates:{}", p.key()),
            Entity::Member(m) => id(f, "member", &m.0),
            Entity::Consent(m) => id(f, "consent", &m.0),
            Entity::Goal(g) => id(f, "goal", &g.0),
            Entity::GoalComment(c) => id(f, "goal_comment", &c.0),
            Entity::ContactMoment(c) => id(f, "contact_moment", &c.0),
            Entity::Evaluation(e) => id(f, "evaluation", &e.0),
            Entity::Intervention(i) => id(f, "intervention", &i.0),
            Entity::NetworkPerson(n) => id(f, "network_person", &n.0),
        }
    }
}

impl std::str::FromStr for Entity {
    type Err = String;
    fn from_str(s: &str) -> Result<Entity, String> {
        let bad = || {
            format!(
                "not an item of a plan: {:?}",
                s.chars().take(60).collect::<String>()
            )
        };
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        let uuid = || rest.parse::<Uuid>().map_err(|_| bad());
        Ok(match kind {
            "plan" if rest.is_empty() => Entity::Plan,
            "decision" if rest.is_empty() => Entity::Decision,
            "phase_dates" => Entity::PhaseDates(
                Phase::ALL
                    .into_iter()
                    .find(|p| p.key() == rest)
                    .ok_or_else(bad)?,
            ),
            "member" => Entity::Member(MemberId(uuid()?)),
            "consent" => Entity::Consent(MemberId(uuid()?)),
            "goal" => Entity::Goal(GoalId(uuid()?)),
            "goal_comment" => Entity::GoalComment(CommentId(uuid()?)),
            "contact_moment" => Entity::ContactMoment(ContactMomentId(uuid()?)),
            "evaluation" => Entity::Evaluation(EvaluationId(uuid()?)),
            "intervention" => Entity::Intervention(InterventionId(uuid()?)),
            "network_person" => Entity::NetworkPerson(NetworkPersonId(uuid()?)),
            _ => return Err(bad()),
        })
    }
}

impl Serialize for Entity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Entity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_round_trip_through_their_text_form() {
        let id = Uuid::from_u128(0xabc);
        for e in [
            Entity::Plan,
            Entity::Decision,
            Entity::PhaseDates(Phase::StrengtheningHome),
            Entity::Member(MemberId(id)),
            Entity::Consent(MemberId(id)),
            Entity::Goal(GoalId(id)),
            Entity::GoalComment(CommentId(id)),
            Entity::ContactMoment(ContactMomentId(id)),
            Entity::Evaluation(EvaluationId(id)),
            Entity::Intervention(InterventionId(id)),
            Entity::NetworkPerson(NetworkPersonId(id)),
        ] {
            assert_eq!(e.to_string().parse::<Entity>(), Ok(e));
            assert_eq!(
                serde_json::from_str::<Entity>(&serde_json::to_string(&e).unwrap()).unwrap(),
                e
            );
        }
        assert_eq!(Entity::Goal(GoalId(id)).to_string(), format!("goal:{id}"));
        for bad in [
            "",
            "goal",
            "goal:xyz",
            "plan:1",
            "phase_dates:nine",
            "house:1",
        ] {
            assert!(bad.parse::<Entity>().is_err(), "{bad}");
        }
    }
}
