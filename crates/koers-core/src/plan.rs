//! The plan as people see it: typed items derived from a replica's registers.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::hlc::Hlc;
use crate::model::*;
use crate::replica::{Replica, Write};

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub id: MemberId,
    pub name: String,
    pub role: Role,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    pub id: GoalId,
    pub title: String,
    pub description: Option<String>,
    pub owner: Role,
    /// Lower comes first.
    pub priority: i64,
    pub status: GoalStatus,
    pub deadline: Option<Date>,
    pub intervention: Option<InterventionId>,
    /// Two people changed it without seeing each other's change; both values are in history.
    pub changed_concurrently: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GoalComment {
    pub id: CommentId,
    pub goal: GoalId,
    pub text: String,
    /// Who wrote it: the only one who may change or remove it.
    pub author: MemberId,
}

/// Someone's words that the foster-care worker hid: who hid them, and when. The words stay in
/// the log and in history; the plan leaves them out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hiding {
    pub by: MemberId,
    pub at: Hlc,
}

/// A goal comment the worker hid: where it was and whose it is, without its words.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenComment {
    pub id: CommentId,
    pub goal: GoalId,
    pub author: MemberId,
    pub hiding: Hiding,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContactMoment {
    pub id: ContactMomentId,
    pub at: LocalDateTime,
    pub kind: ContactKind,
    pub status: ContactStatus,
    pub place: Option<String>,
    pub attendees: Vec<Role>,
    pub duration_minutes: Option<u16>,
    pub rating: Option<Rating>,
    pub note: Option<String>,
    pub cancel_reason: Option<String>,
    /// Absent when hidden.
    pub parent_view: Option<String>,
    /// Who wrote the parent view there is now: only they may change or clear it.
    pub parent_view_writer: Option<MemberId>,
    pub parent_view_hidden: Option<Hiding>,
    /// Absent when hidden.
    pub youth_view: Option<String>,
    pub youth_view_writer: Option<MemberId>,
    pub youth_view_hidden: Option<Hiding>,
    /// Who logged it.
    pub logged_by: MemberId,
    pub changed_concurrently: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub id: EvaluationId,
    pub date: Date,
    pub safety: Option<Score>,
    pub development: Option<Score>,
    pub wellbeing: Option<Score>,
    pub note: Option<String>,
    pub participants: Vec<Role>,
    pub child_took_part: bool,
    /// Set when this evaluation follows a big change (the reason).
    pub big_change: Option<String>,
    /// Absent when hidden.
    pub youth_view: Option<String>,
    /// Who wrote the youth view there is now: only they may change or clear it.
    pub youth_view_writer: Option<MemberId>,
    pub youth_view_hidden: Option<Hiding>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    pub id: InterventionId,
    pub kind: InterventionKind,
    pub name: Option<String>,
    pub status: InterventionStatus,
    pub hours_per_week: f32,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkPerson {
    pub id: NetworkPersonId,
    pub name: String,
    pub relation: Option<String>,
    pub helps_with: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct PhaseDates {
    pub planned_start: Option<Date>,
    pub actual_start: Option<Date>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    pub given_at: LocalDateTime,
    /// Who recorded it (the member themself, or the worker on their behalf).
    pub recorded_by: MemberId,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PerspectiveDecision {
    pub outcome: Perspective,
    pub reasons: Option<String>,
    pub date: Option<Date>,
    pub recorded_by: MemberId,
}

/// One child's plan, derived from its operations.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub id: PlanId,
    pub child_name: String,
    pub child_birth_date: Option<Date>,
    pub start_date: Option<Date>,
    pub phase: Phase,
    pub contact_person: Option<MemberId>,
    pub is_example: bool,
    pub members: Vec<Member>,
    /// Members taken out of the plan: they no longer take part or see it, but their name stays
    /// with what they wrote.
    pub former_members: Vec<Member>,
    pub consents: BTreeMap<MemberId, Consent>,
    pub phase_dates: BTreeMap<Phase, PhaseDates>,
    /// Ordered by priority.
    pub goals: Vec<Goal>,
    /// The comments shown; hidden ones are in `hidden_comments`, without their words.
    pub comments: Vec<GoalComment>,
    pub hidden_comments: Vec<HiddenComment>,
    /// Ordered by date and time.
    pub contact_moments: Vec<ContactMoment>,
    /// Ordered by date.
    pub evaluations: Vec<Evaluation>,
    pub interventions: Vec<Intervention>,
    pub network: Vec<NetworkPerson>,
    pub decision: Option<PerspectiveDecision>,
    /// Who wrote each comment (removed ones too) and each view there is now: read it through
    /// [`Plan::writer`], which [`crate::authorize`] checks writer-only changes against.
    pub writers: Writers,
}

/// Who wrote each comment and view, by (item, field); a comment's under [`Field::Text`].
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Writers(BTreeMap<(Entity, Field), MemberId>);

impl Plan {
    pub fn from_replica(r: &Replica) -> Plan {
        let read = Reader { r };
        let mut plan = Plan {
            id: r.plan_id(),
            child_name: read.or_default(Entity::Plan, Field::ChildName),
            child_birth_date: read.or_default(Entity::Plan, Field::ChildBirthDate),
            start_date: read.get(Entity::Plan, Field::StartDate),
            phase: read
                .get(Entity::Plan, Field::Phase)
                .unwrap_or(Phase::Mandate),
            contact_person: read.or_default(Entity::Plan, Field::ContactPerson),
            is_example: read.or_default(Entity::Plan, Field::IsExample),
            members: vec![],
            former_members: vec![],
            consents: BTreeMap::new(),
            phase_dates: BTreeMap::new(),
            goals: vec![],
            comments: vec![],
            hidden_comments: vec![],
            contact_moments: vec![],
            evaluations: vec![],
            interventions: vec![],
            network: vec![],
            decision: None,
            writers: Writers::default(),
        };
        // Walk each entity once; registers are grouped by entity.
        let mut last: Option<Entity> = None;
        for (entity, _, _) in r.registers() {
            if last == Some(*entity) {
                continue;
            }
            last = Some(*entity);
            let e = *entity;
            if matches!(
                e,
                Entity::Plan | Entity::Decision | Entity::Consent(_) | Entity::PhaseDates(_)
            ) {
                read.singleton(&mut plan, e);
                continue;
            }
            // Who wrote it counts even once it is removed: nobody else may bring it back.
            match e {
                Entity::GoalComment(_) => {
                    if let Some(writer) = read.comment_writer(e) {
                        plan.writers.0.insert((e, Field::Text), writer);
                    }
                }
                Entity::ContactMoment(_) | Entity::Evaluation(_) => {
                    for f in [Field::ParentView, Field::YouthView] {
                        if let Some(writer) = read.view_writer(e, f) {
                            plan.writers.0.insert((e, f), writer);
                        }
                    }
                }
                _ => {}
            }
            if read.or_default::<bool>(e, Field::Deleted) {
                if let Entity::Member(id) = e {
                    if let Some(member) = read.member(id) {
                        plan.former_members.push(member);
                    }
                }
                continue;
            }
            match e {
                Entity::Member(id) => plan.members.extend(read.member(id)),
                Entity::Goal(id) => {
                    let Some(owner) = read.get(e, Field::Owner) else {
                        continue;
                    };
                    plan.goals.push(Goal {
                        id,
                        title: read.or_default(e, Field::Title),
                        description: read.or_default(e, Field::Description),
                        owner,
                        priority: read.or_default(e, Field::Priority),
                        status: read.or_default(e, Field::Status),
                        deadline: read.or_default(e, Field::Deadline),
                        intervention: read.or_default(e, Field::Intervention),
                        changed_concurrently: r.has_concurrent_change(e),
                    });
                }
                Entity::GoalComment(id) => {
                    let (Some(goal), Some(text)) =
                        (read.get(e, Field::Goal), read.get(e, Field::Text))
                    else {
                        continue;
                    };
                    let author = plan
                        .writers
                        .0
                        .get(&(e, Field::Text))
                        .copied()
                        .unwrap_or_else(|| read.first_author(e, Field::Text));
                    match read.hiding(e, Field::Hidden) {
                        Some(hiding) => plan.hidden_comments.push(HiddenComment {
                            id,
                            goal,
                            author,
                            hiding,
                        }),
                        None => plan.comments.push(GoalComment {
                            id,
                            goal,
                            text,
                            author,
                        }),
                    }
                }
                Entity::ContactMoment(id) => {
                    let Some(at) = read.get(e, Field::At) else {
                        continue;
                    };
                    let parent_view_hidden = read.hiding(e, Field::ParentViewHidden);
                    let youth_view_hidden = read.hiding(e, Field::YouthViewHidden);
                    plan.contact_moments.push(ContactMoment {
                        id,
                        at,
                        kind: read.or_default(e, Field::Kind),
                        status: read.or_default(e, Field::Status),
                        place: read.or_default(e, Field::Place),
                        attendees: read.or_default(e, Field::Attendees),
                        duration_minutes: read.or_default(e, Field::DurationMinutes),
                        rating: read.or_default(e, Field::Rating),
                        note: read.or_default(e, Field::Note),
                        cancel_reason: read.or_default(e, Field::CancelReason),
                        parent_view: read.unless_hidden(e, Field::ParentView, parent_view_hidden),
                        parent_view_writer: plan.writers.0.get(&(e, Field::ParentView)).copied(),
                        parent_view_hidden,
                        youth_view: read.unless_hidden(e, Field::YouthView, youth_view_hidden),
                        youth_view_writer: plan.writers.0.get(&(e, Field::YouthView)).copied(),
                        youth_view_hidden,
                        logged_by: read.first_author(e, Field::At),
                        changed_concurrently: r.has_concurrent_change(e),
                    });
                }
                Entity::Evaluation(id) => {
                    let Some(date) = read.get(e, Field::Date) else {
                        continue;
                    };
                    let youth_view_hidden = read.hiding(e, Field::YouthViewHidden);
                    plan.evaluations.push(Evaluation {
                        id,
                        date,
                        safety: read.or_default(e, Field::Safety),
                        development: read.or_default(e, Field::Development),
                        wellbeing: read.or_default(e, Field::Wellbeing),
                        note: read.or_default(e, Field::Note),
                        participants: read.or_default(e, Field::Participants),
                        child_took_part: read.or_default(e, Field::ChildTookPart),
                        big_change: read.or_default(e, Field::BigChange),
                        youth_view: read.unless_hidden(e, Field::YouthView, youth_view_hidden),
                        youth_view_writer: plan.writers.0.get(&(e, Field::YouthView)).copied(),
                        youth_view_hidden,
                    });
                }
                Entity::Intervention(id) => {
                    let Some(kind) = read.get(e, Field::Kind) else {
                        continue;
                    };
                    plan.interventions.push(Intervention {
                        id,
                        kind,
                        name: read.or_default(e, Field::Name),
                        status: read.or_default(e, Field::Status),
                        hours_per_week: read.or_default(e, Field::HoursPerWeek),
                        note: read.or_default(e, Field::Note),
                    });
                }
                Entity::NetworkPerson(id) => {
                    plan.network.push(NetworkPerson {
                        id,
                        name: read.or_default(e, Field::Name),
                        relation: read.or_default(e, Field::Relation),
                        helps_with: read.or_default(e, Field::HelpsWith),
                        phone: read.or_default(e, Field::Phone),
                    });
                }
                Entity::Plan | Entity::Decision | Entity::Consent(_) | Entity::PhaseDates(_) => {}
            }
        }
        plan.goals.sort_by_key(|g| (g.priority, g.id));
        plan.contact_moments.sort_by_key(|c| (c.at, c.id));
        plan.evaluations.sort_by_key(|e| (e.date, e.id));
        plan
    }

    /// Who wrote `field` of `entity` in their own name, if it holds such words now: the only
    /// member who may change or clear it. A goal comment is one whole: its writer is who created
    /// it, for every field (removed comments too). A parent's or the child's view belongs to who
    /// wrote it since it was last empty; an empty view may be written by any member the
    /// permission table allows. Hiding is the worker's, never a writer's ([`None`]).
    pub fn writer(&self, entity: Entity, field: Field) -> Option<MemberId> {
        if !crate::permission::is_own_words(&entity, field) {
            return None;
        }
        let field = match entity {
            Entity::GoalComment(_) => Field::Text,
            _ => field,
        };
        self.writers.0.get(&(entity, field)).copied()
    }

    /// Whether the worker hid the words `field` of `entity` holds (a comment's every field, or one
    /// view): a history shown to others may leave their values out.
    pub fn is_hidden(&self, entity: Entity, field: Field) -> bool {
        match (entity, field) {
            (Entity::GoalComment(id), _) => self.hidden_comments.iter().any(|c| c.id == id),
            (Entity::ContactMoment(id), Field::ParentView | Field::ParentViewHidden) => self
                .contact_moment(id)
                .is_some_and(|c| c.parent_view_hidden.is_some()),
            (Entity::ContactMoment(id), Field::YouthView | Field::YouthViewHidden) => self
                .contact_moment(id)
                .is_some_and(|c| c.youth_view_hidden.is_some()),
            (Entity::Evaluation(id), Field::YouthView | Field::YouthViewHidden) => self
                .evaluations
                .iter()
                .any(|e| e.id == id && e.youth_view_hidden.is_some()),
            _ => false,
        }
    }

    /// A member who takes part now.
    pub fn member(&self, id: MemberId) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// Who wrote something: a member now, or one who was taken out of the plan since.
    pub fn member_or_former(&self, id: MemberId) -> Option<&Member> {
        self.member(id)
            .or_else(|| self.former_members.iter().find(|m| m.id == id))
    }

    pub fn goal(&self, id: GoalId) -> Option<&Goal> {
        self.goals.iter().find(|g| g.id == id)
    }

    pub fn contact_moment(&self, id: ContactMomentId) -> Option<&ContactMoment> {
        self.contact_moments.iter().find(|c| c.id == id)
    }

    /// Open and done goals owned by `role`, highest priority first.
    pub fn goals_of(&self, role: Role) -> impl Iterator<Item = &Goal> {
        self.goals.iter().filter(move |g| g.owner == role)
    }

    /// The first planned contact moment at or after `now` ("Wat komt eraan").
    pub fn next_planned_contact(&self, now: LocalDateTime) -> Option<&ContactMoment> {
        self.contact_moments
            .iter()
            .find(|c| c.status == ContactStatus::Planned && c.at >= now)
    }

    pub fn contact_person(&self) -> Option<&Member> {
        self.contact_person.and_then(|id| self.member(id))
    }

    /// Contact moments counted per calendar month, oldest month first: planned against what
    /// happened, was cancelled, or where someone did not come.
    pub fn contacts_per_month(&self) -> Vec<MonthOfContacts> {
        use chrono::Datelike;
        let mut months: Vec<MonthOfContacts> = Vec::new();
        for c in &self.contact_moments {
            let (year, month) = (c.at.year(), c.at.month());
            if months
                .last()
                .is_none_or(|m| (m.year, m.month) != (year, month))
            {
                months.push(MonthOfContacts {
                    year,
                    month,
                    ..MonthOfContacts::default()
                });
            }
            let m = months.last_mut().expect("pushed above");
            match c.status {
                ContactStatus::Planned => m.planned += 1,
                ContactStatus::Happened => m.happened += 1,
                ContactStatus::Cancelled => m.cancelled += 1,
                ContactStatus::NoShow => m.no_show += 1,
            }
        }
        months
    }
}

/// One month of contact moments, by what became of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MonthOfContacts {
    pub year: i32,
    /// 1–12.
    pub month: u32,
    pub planned: u32,
    pub happened: u32,
    pub cancelled: u32,
    pub no_show: u32,
}

/// Reads typed values out of registers; a value that no longer parses (written by a newer app
/// version, say) reads as absent rather than failing the whole plan.
struct Reader<'a> {
    r: &'a Replica,
}

impl Reader<'_> {
    fn get<T: DeserializeOwned>(&self, e: Entity, f: Field) -> Option<T> {
        self.r.get(e, f).and_then(|v| T::deserialize(v).ok())
    }

    fn or_default<T: DeserializeOwned + Default>(&self, e: Entity, f: Field) -> T {
        self.get(e, f).unwrap_or_default()
    }

    /// Who first wrote this field (who created the item). Only asked of fields that exist.
    fn first_author(&self, e: Entity, f: Field) -> MemberId {
        self.r
            .register(e, f)
            .map(|r| r.writes()[0].author)
            .unwrap_or(MemberId(uuid::Uuid::nil()))
    }

    /// Who created a goal comment: the author of its earliest write, hides aside.
    fn comment_writer(&self, e: Entity) -> Option<MemberId> {
        self.r
            .fields_of(e)
            .filter(|(f, _)| *f != Field::Hidden)
            .map(|(_, r)| &r.writes()[0])
            .min_by_key(|w| (w.hlc, w.op))
            .map(|w| w.author)
    }

    /// Who wrote a view as it stands: the author of the first write since it was last empty
    /// (cleared, or never written). None while it is empty.
    fn view_writer(&self, e: Entity, f: Field) -> Option<MemberId> {
        let writes = self.r.register(e, f)?.writes();
        let empty = |w: &Write| w.value.as_str().is_none_or(|s| s.trim().is_empty());
        let since = writes.iter().rposition(empty).map_or(0, |at| at + 1);
        writes.get(since).map(|w| w.author)
    }

    /// Set when the worker hid what `hidden_field` covers: who did, and when.
    fn hiding(&self, e: Entity, hidden_field: Field) -> Option<Hiding> {
        let w = self.r.register(e, hidden_field)?.current();
        (w.value == serde_json::Value::Bool(true)).then_some(Hiding {
            by: w.author,
            at: w.hlc,
        })
    }

    /// A view's words, left out while hidden.
    fn unless_hidden(&self, e: Entity, f: Field, hidden: Option<Hiding>) -> Option<String> {
        if hidden.is_some() {
            None
        } else {
            self.or_default(e, f)
        }
    }

    /// Who wrote the field's current value.
    fn current_author(&self, e: Entity, f: Field) -> MemberId {
        self.r
            .register(e, f)
            .map(|r| r.current().author)
            .unwrap_or(MemberId(uuid::Uuid::nil()))
    }

    /// A member entity with a role; without one it was never a member.
    fn member(&self, id: MemberId) -> Option<Member> {
        let e = Entity::Member(id);
        Some(Member {
            id,
            role: self.get(e, Field::Role)?,
            name: self.or_default(e, Field::Name),
            phone: self.or_default(e, Field::Phone),
        })
    }

    fn singleton(&self, plan: &mut Plan, e: Entity) {
        match e {
            Entity::Consent(member) => {
                if let Some(given_at) = self
                    .get::<Option<LocalDateTime>>(e, Field::GivenAt)
                    .flatten()
                {
                    plan.consents.insert(
                        member,
                        Consent {
                            given_at,
                            recorded_by: self.current_author(e, Field::GivenAt),
                        },
                    );
                }
            }
            Entity::PhaseDates(phase) => {
                plan.phase_dates.insert(
                    phase,
                    PhaseDates {
                        planned_start: self.or_default(e, Field::PlannedStart),
                        actual_start: self.or_default(e, Field::ActualStart),
                    },
                );
            }
            Entity::Decision => {
                if let Some(outcome) = self.get::<Option<Perspective>>(e, Field::Outcome).flatten()
                {
                    plan.decision = Some(PerspectiveDecision {
                        outcome,
                        reasons: self.or_default(e, Field::Reasons),
                        date: self.or_default(e, Field::Date),
                        recorded_by: self.current_author(e, Field::Outcome),
                    });
                }
            }
            _ => {}
        }
    }
}
