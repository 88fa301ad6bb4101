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
    /// The whole plan, every entity read once.
    pub fn from_replica(r: &Replica) -> Plan {
        let read = Reader { r };
        let mut plan = Plan {
            id: r.plan_id(),
            // Set by deriving Entity::Plan below.
            child_name: String::new(),
            child_birth_date: None,
            start_date: None,
            phase: Phase::Mandate,
            contact_person: None,
            is_example: false,
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
        // The plan's own fields have their defaults even without a register.
        plan.derive::<Append>(&read, Entity::Plan);
        for e in r.entities().filter(|e| *e != Entity::Plan) {
            plan.derive::<Append>(&read, e);
        }
        // The other lists come out in entity order, which is their order. These three are sorted
        // by a key that ends in the id, so no two are equal: an unstable sort gives the same
        // order as a stable one, with less code in the phone's first download.
        plan.goals.sort_unstable_by_key(goal_order);
        plan.contact_moments
            .sort_unstable_by_key(contact_moment_order);
        plan.evaluations.sort_unstable_by_key(evaluation_order);
        plan
    }

    /// Brings the plan up to date with `r` for the `changed` entities only, instead of deriving
    /// it whole: what each gave the plan before (an item in any list, its writers, a consent,
    /// phase dates, the decision, the plan's own fields) is replaced by what it gives now, in its
    /// place in every ordered list.
    ///
    /// Gives exactly [`Plan::from_replica`]`(r)` when `self` was derived (whole or by refreshes)
    /// from an earlier state of `r` and `changed` names every entity of the operations applied
    /// since, e.g. [`crate::op::entities_of`] of them. An entity named twice, or unchanged, is
    /// harmless; one left out stays stale.
    pub fn refresh(&mut self, r: &Replica, changed: impl IntoIterator<Item = Entity>) {
        debug_assert_eq!(self.id, r.plan_id(), "a plan refreshed from another plan");
        let read = Reader { r };
        for e in changed {
            self.derive::<Replace>(&read, e);
        }
    }

    /// What one entity gives the plan, put in place: the one place registers are read into it.
    /// Everything an entity gives depends on its own registers only.
    fn derive<M: Mode>(&mut self, read: &Reader, e: Entity) {
        match e {
            Entity::Plan => {
                self.child_name = read.or_default(e, Field::ChildName);
                self.child_birth_date = read.or_default(e, Field::ChildBirthDate);
                self.start_date = read.get(e, Field::StartDate);
                self.phase = read.get(e, Field::Phase).unwrap_or(Phase::Mandate);
                self.contact_person = read.or_default(e, Field::ContactPerson);
                self.is_example = read.or_default(e, Field::IsExample);
            }
            Entity::Consent(member) => set::<M, _, _>(&mut self.consents, member, read.consent(e)),
            Entity::PhaseDates(phase) => {
                set::<M, _, _>(&mut self.phase_dates, phase, read.phase_dates(e))
            }
            Entity::Decision => self.decision = read.decision(),
            Entity::Member(id) => {
                let member = read.member(id);
                let (now, former) = if read.deleted(e) {
                    (None, member)
                } else {
                    (member, None)
                };
                put::<M, _, _>(&mut self.members, now, |m| m.id == id, |m| m.id);
                put::<M, _, _>(&mut self.former_members, former, |m| m.id == id, |m| m.id);
            }
            Entity::Goal(id) => {
                let goal = read.unless_deleted(e, || read.goal(id));
                put::<M, _, _>(&mut self.goals, goal, |g| g.id == id, goal_order);
            }
            Entity::GoalComment(id) => {
                // Who wrote it counts even once it is removed: nobody else may bring it back.
                let writer = read.comment_writer(e);
                self.writers.set::<M>(e, Field::Text, writer);
                let (shown, hidden) = read
                    .unless_deleted(e, || read.comment(id, writer))
                    .unwrap_or_default();
                put::<M, _, _>(&mut self.comments, shown, |c| c.id == id, |c| c.id);
                put::<M, _, _>(&mut self.hidden_comments, hidden, |c| c.id == id, |c| c.id);
            }
            Entity::ContactMoment(id) => {
                let [parent, youth] = self.view_writers::<M>(read, e);
                let moment = read.unless_deleted(e, || read.contact_moment(id, parent, youth));
                let list = &mut self.contact_moments;
                put::<M, _, _>(list, moment, |c| c.id == id, contact_moment_order);
            }
            Entity::Evaluation(id) => {
                let [_, youth] = self.view_writers::<M>(read, e);
                let evaluation = read.unless_deleted(e, || read.evaluation(id, youth));
                let list = &mut self.evaluations;
                put::<M, _, _>(list, evaluation, |v| v.id == id, evaluation_order);
            }
            Entity::Intervention(id) => {
                let intervention = read.unless_deleted(e, || read.intervention(id));
                put::<M, _, _>(
                    &mut self.interventions,
                    intervention,
                    |i| i.id == id,
                    |i| i.id,
                );
            }
            Entity::NetworkPerson(id) => {
                let person = read.unless_deleted(e, || read.network_person(id));
                put::<M, _, _>(&mut self.network, person, |p| p.id == id, |p| p.id);
            }
        }
    }

    /// Records who wrote the parent's and the child's view of `e` as they stand (even once it is
    /// removed) and returns them, in that order.
    fn view_writers<M: Mode>(&mut self, read: &Reader, e: Entity) -> [Option<MemberId>; 2] {
        [Field::ParentView, Field::YouthView].map(|f| {
            let writer = read.view_writer(e, f);
            self.writers.set::<M>(e, f, writer);
            writer
        })
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

impl Writers {
    fn set<M: Mode>(&mut self, e: Entity, f: Field, writer: Option<MemberId>) {
        set::<M, _, _>(&mut self.0, (e, f), writer);
    }
}

/// How [`Plan::derive`] puts what an entity gives in place. A type rather than a value, so that
/// each way is compiled on its own: the phone's first download derives whole plans only, and
/// carries none of the code that replaces and removes.
trait Mode {
    const REPLACE: bool;
}

/// Deriving from nothing, each entity once and in entity order: append, and let
/// [`Plan::from_replica`] sort what is not in entity order once at the end.
struct Append;

/// Replace what the entity gave before, keeping every list in its order.
struct Replace;

impl Mode for Append {
    const REPLACE: bool = false;
}

impl Mode for Replace {
    const REPLACE: bool = true;
}

fn goal_order(g: &Goal) -> (i64, GoalId) {
    (g.priority, g.id)
}

fn contact_moment_order(c: &ContactMoment) -> (LocalDateTime, ContactMomentId) {
    (c.at, c.id)
}

fn evaluation_order(e: &Evaluation) -> (Date, EvaluationId) {
    (e.date, e.id)
}

/// Puts `item` in `list`, which is ordered by `key` (unique: it ends in the id); in
/// [`Replace`] in place of the one `is_it` finds, or removes that one if there is no item.
fn put<M: Mode, T, K: Ord>(
    list: &mut Vec<T>,
    item: Option<T>,
    is_it: impl Fn(&T) -> bool,
    key: impl Fn(&T) -> K,
) {
    if !M::REPLACE {
        list.extend(item);
        return;
    }
    let old = list.iter().position(is_it);
    let Some(item) = item else {
        if let Some(at) = old {
            list.remove(at);
        }
        return;
    };
    let k = key(&item);
    if let Some(at) = old {
        // Most changes leave an item where it was: overwrite it rather than shift the list twice.
        let after_previous = at == 0 || key(&list[at - 1]) < k;
        if after_previous && list.get(at + 1).is_none_or(|next| k < key(next)) {
            list[at] = item;
            return;
        }
        list.remove(at);
    }
    let at = list.partition_point(|x| key(x) < k);
    list.insert(at, item);
}

/// Sets or (in [`Replace`]) clears one entry of a map.
fn set<M: Mode, K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, value: Option<V>) {
    match value {
        Some(value) => {
            map.insert(key, value);
        }
        None if M::REPLACE => {
            map.remove(&key);
        }
        None => {}
    }
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

    fn deleted(&self, e: Entity) -> bool {
        self.or_default(e, Field::Deleted)
    }

    /// What `item` reads unless the entity is removed.
    fn unless_deleted<T>(&self, e: Entity, item: impl FnOnce() -> Option<T>) -> Option<T> {
        if self.deleted(e) {
            None
        } else {
            item()
        }
    }

    /// A goal with an owner; without one it was never made.
    fn goal(&self, id: GoalId) -> Option<Goal> {
        let e = Entity::Goal(id);
        Some(Goal {
            id,
            owner: self.get(e, Field::Owner)?,
            title: self.or_default(e, Field::Title),
            description: self.or_default(e, Field::Description),
            priority: self.or_default(e, Field::Priority),
            status: self.or_default(e, Field::Status),
            deadline: self.or_default(e, Field::Deadline),
            intervention: self.or_default(e, Field::Intervention),
            changed_concurrently: self.r.has_concurrent_change(e),
        })
    }

    /// A goal comment with a goal and words: shown, or hidden by the worker.
    fn comment(
        &self,
        id: CommentId,
        writer: Option<MemberId>,
    ) -> Option<(Option<GoalComment>, Option<HiddenComment>)> {
        let e = Entity::GoalComment(id);
        let goal = self.get(e, Field::Goal)?;
        let text = self.get(e, Field::Text)?;
        let author = writer.unwrap_or_else(|| self.first_author(e, Field::Text));
        Some(match self.hiding(e, Field::Hidden) {
            Some(hiding) => (
                None,
                Some(HiddenComment {
                    id,
                    goal,
                    author,
                    hiding,
                }),
            ),
            None => (
                Some(GoalComment {
                    id,
                    goal,
                    text,
                    author,
                }),
                None,
            ),
        })
    }

    /// A contact moment with a time, given who wrote its parent's and child's view.
    fn contact_moment(
        &self,
        id: ContactMomentId,
        parent_view_writer: Option<MemberId>,
        youth_view_writer: Option<MemberId>,
    ) -> Option<ContactMoment> {
        let e = Entity::ContactMoment(id);
        let at = self.get(e, Field::At)?;
        let parent_view_hidden = self.hiding(e, Field::ParentViewHidden);
        let youth_view_hidden = self.hiding(e, Field::YouthViewHidden);
        Some(ContactMoment {
            id,
            at,
            kind: self.or_default(e, Field::Kind),
            status: self.or_default(e, Field::Status),
            place: self.or_default(e, Field::Place),
            attendees: self.or_default(e, Field::Attendees),
            duration_minutes: self.or_default(e, Field::DurationMinutes),
            rating: self.or_default(e, Field::Rating),
            note: self.or_default(e, Field::Note),
            cancel_reason: self.or_default(e, Field::CancelReason),
            parent_view: self.unless_hidden(e, Field::ParentView, parent_view_hidden),
            parent_view_writer,
            parent_view_hidden,
            youth_view: self.unless_hidden(e, Field::YouthView, youth_view_hidden),
            youth_view_writer,
            youth_view_hidden,
            logged_by: self.first_author(e, Field::At),
            changed_concurrently: self.r.has_concurrent_change(e),
        })
    }

    /// An evaluation with a date, given who wrote the child's view.
    fn evaluation(
        &self,
        id: EvaluationId,
        youth_view_writer: Option<MemberId>,
    ) -> Option<Evaluation> {
        let e = Entity::Evaluation(id);
        let date = self.get(e, Field::Date)?;
        let youth_view_hidden = self.hiding(e, Field::YouthViewHidden);
        Some(Evaluation {
            id,
            date,
            safety: self.or_default(e, Field::Safety),
            development: self.or_default(e, Field::Development),
            wellbeing: self.or_default(e, Field::Wellbeing),
            note: self.or_default(e, Field::Note),
            participants: self.or_default(e, Field::Participants),
            child_took_part: self.or_default(e, Field::ChildTookPart),
            big_change: self.or_default(e, Field::BigChange),
            youth_view: self.unless_hidden(e, Field::YouthView, youth_view_hidden),
            youth_view_writer,
            youth_view_hidden,
        })
    }

    fn intervention(&self, id: InterventionId) -> Option<Intervention> {
        let e = Entity::Intervention(id);
        Some(Intervention {
            id,
            kind: self.get(e, Field::Kind)?,
            name: self.or_default(e, Field::Name),
            status: self.or_default(e, Field::Status),
            hours_per_week: self.or_default(e, Field::HoursPerWeek),
            note: self.or_default(e, Field::Note),
        })
    }

    /// A network person: anyone with a field written, even without a name.
    fn network_person(&self, id: NetworkPersonId) -> Option<NetworkPerson> {
        let e = Entity::NetworkPerson(id);
        self.exists(e).then(|| NetworkPerson {
            id,
            name: self.or_default(e, Field::Name),
            relation: self.or_default(e, Field::Relation),
            helps_with: self.or_default(e, Field::HelpsWith),
            phone: self.or_default(e, Field::Phone),
        })
    }

    fn consent(&self, e: Entity) -> Option<Consent> {
        let given_at = self.get::<Option<LocalDateTime>>(e, Field::GivenAt)??;
        Some(Consent {
            given_at,
            recorded_by: self.current_author(e, Field::GivenAt),
        })
    }

    /// A phase's dates, once either was ever written.
    fn phase_dates(&self, e: Entity) -> Option<PhaseDates> {
        self.exists(e).then(|| PhaseDates {
            planned_start: self.or_default(e, Field::PlannedStart),
            actual_start: self.or_default(e, Field::ActualStart),
        })
    }

    fn decision(&self) -> Option<PerspectiveDecision> {
        let e = Entity::Decision;
        let outcome = self.get::<Option<Perspective>>(e, Field::Outcome)??;
        Some(PerspectiveDecision {
            outcome,
            reasons: self.or_default(e, Field::Reasons),
            date: self.or_default(e, Field::Date),
            recorded_by: self.current_author(e, Field::Outcome),
        })
    }

    /// Whether any field of `e` was ever written.
    fn exists(&self, e: Entity) -> bool {
        self.r.fields_of(e).next().is_some()
    }
}
