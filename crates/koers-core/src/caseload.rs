//! The caseload overview ("Mijn gezinnen") and a member's own open actions.
//!
//! A worker follows 8–15 families, a guardian 12–18 children: the overview must not replay every
//! plan's log on each start. So the phone keeps one small [`PlanSummary`] per plan, made by
//! [`summarize`] whenever that plan changes. A summary holds dates, never day counts: the app
//! shows it on later days, and [`PlanSummary::signals`] counts the days for the day it is shown.
//! [`Row`] and [`order`] then put the plans that need attention first.
//!
//! The home screen asks [`open_actions`] of the plan it has in hand; it gives the same actions
//! as the summary would. Likewise [`PlanSummary::reminders`] gives what
//! [`reminders::reminders`] gives of the plan, so the phone can notify for every plan it holds.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::model::{
    ContactStatus, Date, GoalId, GoalStatus, LocalDateTime, MemberId, Phase, PlanId, Role,
};
use crate::permission::{allowed, Action};
use crate::plan::Plan;
use crate::reminders::{self, PlannedContact, Reminder, EVALUATION_NOTICE_DAYS};
use crate::rules::{self, DEADLINE_WARNING_DAYS};

/// The shape of [`PlanSummary`]. Raise it whenever a field is added or changes meaning: the app
/// rebuilds a stored summary of another version (and one that no longer reads) from the plan.
pub const SUMMARY_VERSION: u32 = 2;

/// What the overview needs of one plan, for one member. Only dates and the few words the
/// member's own actions need, so 20 of them are cheap to keep in IndexedDB and to read on start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// [`SUMMARY_VERSION`] when it was made.
    pub version: u32,
    pub plan: PlanId,
    /// The child's first name, as the plan holds it.
    pub child_name: String,
    pub phase: Phase,
    /// The last day for the perspective decision ([`rules::perspective_deadline`]).
    pub perspective_deadline: Option<Date>,
    /// The perspective decision is taken: its deadline no longer counts.
    pub decided: bool,
    /// Every contact moment still planned, earliest first. All of them rather than the next one:
    /// which one is next (and which to remind of) depends on the moment the summary is shown, not
    /// the moment it was made. Each marked whether it concerns [`PlanSummary::role`].
    pub planned_contacts: Vec<PlannedContact>,
    /// The day of the last contact moment that took place.
    pub last_contact: Option<Date>,
    /// [`rules::next_evaluation_due`].
    pub next_evaluation_due: Option<Date>,
    /// The deadlines of all open goals that have one, earliest first: enough to count the
    /// overdue ones on any later day.
    pub open_goal_deadlines: Vec<Date>,
    /// Members who have not consented yet (it matters in phase 0 only).
    pub consents_missing: usize,
    /// Who the summary is for; `None` on a plan the phone holds without taking part.
    pub member: Option<MemberId>,
    /// The member's role; `None` when they do not (or no longer) take part.
    pub role: Option<Role>,
    /// The member's own consent is still to be given.
    pub own_consent_missing: bool,
    /// The open goals of the member's role that have a deadline, for [`OpenAction::GoalOverdue`].
    pub own_goals: Vec<OwnGoal>,
}

/// An open goal of the member's role with a deadline: what an overdue-goal action shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnGoal {
    pub goal: GoalId,
    pub title: String,
    pub deadline: Date,
}

/// What a summary says on one day. Computed, never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signals {
    /// Days until the perspective decision is due: negative once past, `None` when decided or
    /// when the plan has no start date.
    pub days_left: Option<i64>,
    /// The decision is due within [`DEADLINE_WARNING_DAYS`] or overdue: shown red.
    pub deadline_urgent: bool,
    /// Days since the last contact moment that took place; `None` if none did.
    pub days_since_contact: Option<i64>,
    /// The first planned contact moment on or after the day.
    pub next_contact: Option<LocalDateTime>,
    pub next_evaluation: Option<Date>,
    pub evaluation_overdue: bool,
    /// Open goals whose deadline is before the day.
    pub goals_overdue: usize,
    /// Members still to consent; zero outside phase 0.
    pub consents_missing: usize,
    /// The member's own open actions, most urgent first.
    pub open_actions: Vec<OpenAction>,
}

/// Something the member themself should do now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpenAction {
    /// Phase 0, and the member has not consented yet.
    GiveConsent,
    /// A goal of the member's role, still open, past its deadline.
    GoalOverdue {
        goal: GoalId,
        title: String,
        deadline: Date,
    },
    /// The next evaluation is due within [`EVALUATION_NOTICE_DAYS`], or overdue.
    PrepareEvaluation { due: Date },
}

impl OpenAction {
    /// Most urgent first. Consent comes before all: until every party consents the plan cannot
    /// leave phase 0, so nothing else can move. The rest by date, the oldest (most overdue)
    /// first; a goal and an evaluation on the same day by kind, goals by id, so the order is total.
    fn urgency(&self) -> (u8, Option<Date>, u8, Option<GoalId>) {
        match self {
            OpenAction::GiveConsent => (0, None, 0, None),
            OpenAction::GoalOverdue { goal, deadline, .. } => (1, Some(*deadline), 0, Some(*goal)),
            OpenAction::PrepareEvaluation { due } => (1, Some(*due), 1, None),
        }
    }
}

/// Sorts the few actions by insertion: the phone's first paint draws them, and a general sort
/// would add kilobytes to its download for lists of one to five.
fn most_urgent_first(actions: &mut [OpenAction]) {
    for i in 1..actions.len() {
        let mut j = i;
        while j > 0 && actions[j - 1].urgency() > actions[j].urgency() {
            actions.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Every member must consent before phase 1 ([`rules::check_phase_change`] counts all members),
/// and the permission table lets each give their own: asking the table keeps one source.
fn gives_consent(role: Role) -> bool {
    allowed(role, Action::GiveOwnConsent)
}

/// Who prepares an evaluation: those who take part in it. The method discusses safety,
/// development and wellbeing *with parents and child*; the foster parents live with the child
/// every day; the guardian co-decides evaluations; the worker leads them. The care worker
/// delivers an intervention and is not a party to the evaluation (nor is the informal network),
/// so they are not asked. Broader than who is *reminded* ([`crate::reminders`]), which is who
/// records the evaluation.
fn prepares_evaluations(role: Role) -> bool {
    matches!(
        role,
        Role::Parent | Role::FosterParent | Role::Youth | Role::Guardian | Role::FosterCareWorker
    )
}

/// Due within the notice the reminders give, or already overdue.
fn evaluation_soon(due: Date, today: Date) -> bool {
    (due - today).num_days() <= EVALUATION_NOTICE_DAYS
}

fn is_overdue(deadline: Date, today: Date) -> bool {
    deadline < today
}

/// The member's role in the plan, if they take part now.
fn role_in(plan: &Plan, member: Option<MemberId>) -> Option<Role> {
    member.and_then(|m| plan.member(m)).map(|m| m.role)
}

/// The summary of `plan` for `member`. Reads the plan already derived; it replays nothing.
pub fn summarize(plan: &Plan, member: Option<MemberId>) -> PlanSummary {
    let role = role_in(plan, member);
    let mut open_goal_deadlines: Vec<Date> = plan
        .goals
        .iter()
        .filter(|g| g.status == GoalStatus::Open)
        .filter_map(|g| g.deadline)
        .collect();
    open_goal_deadlines.sort_unstable();
    let own_goals = role
        .map(|role| {
            plan.goals_of(role)
                .filter(|g| g.status == GoalStatus::Open)
                .filter_map(|g| {
                    Some(OwnGoal {
                        goal: g.id,
                        title: g.title.clone(),
                        deadline: g.deadline?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    PlanSummary {
        version: SUMMARY_VERSION,
        plan: plan.id,
        child_name: plan.child_name.clone(),
        phase: plan.phase,
        perspective_deadline: rules::perspective_deadline(plan),
        decided: plan.decision.is_some(),
        planned_contacts: reminders::planned_contacts(plan, role),
        last_contact: plan
            .contact_moments
            .iter()
            .filter(|c| c.status == ContactStatus::Happened)
            .map(|c| c.at.date())
            .max(),
        next_evaluation_due: rules::next_evaluation_due(plan),
        open_goal_deadlines,
        consents_missing: plan
            .members
            .iter()
            .filter(|m| !plan.consents.contains_key(&m.id))
            .count(),
        member,
        role,
        own_consent_missing: role.is_some_and(gives_consent)
            && member.is_some_and(|m| !plan.consents.contains_key(&m)),
        own_goals,
    }
}

impl PlanSummary {
    /// Made by this version of the app; otherwise make it again from the plan.
    pub fn is_current(&self) -> bool {
        self.version == SUMMARY_VERSION
    }

    /// What the summary says on `today`.
    pub fn signals(&self, today: Date) -> Signals {
        let days_left = if self.decided {
            None
        } else {
            self.perspective_deadline
                .map(|deadline| (deadline - today).num_days())
        };
        let first_hour = today.and_time(chrono::NaiveTime::MIN);
        let in_phase_0 = self.phase == Phase::Mandate;
        Signals {
            days_left,
            deadline_urgent: days_left.is_some_and(urgent),
            // A contact logged ahead of its day reads as today rather than as a negative count.
            days_since_contact: self
                .last_contact
                .map(|last| (today - last).num_days().max(0)),
            next_contact: self
                .planned_contacts
                .iter()
                .map(|c| c.at)
                .find(|at| *at >= first_hour),
            next_evaluation: self.next_evaluation_due,
            evaluation_overdue: self
                .next_evaluation_due
                .is_some_and(|due| rules::evaluation_overdue_on(due, today)),
            goals_overdue: self
                .open_goal_deadlines
                .partition_point(|d| is_overdue(*d, today)),
            consents_missing: if in_phase_0 { self.consents_missing } else { 0 },
            open_actions: self.open_actions(today),
        }
    }

    /// What to remind the member of at `now`: the same as [`reminders::reminders`] gives of the
    /// plan for [`PlanSummary::role`]; nothing when they take no part.
    pub fn reminders(&self, now: LocalDateTime) -> Vec<Reminder> {
        let Some(role) = self.role else {
            return vec![];
        };
        reminders::Inputs {
            role,
            contacts: &self.planned_contacts,
            next_evaluation_due: self.next_evaluation_due,
            perspective_deadline: self.perspective_deadline,
            decided: self.decided,
        }
        .reminders(now)
    }

    fn open_actions(&self, today: Date) -> Vec<OpenAction> {
        let Some(role) = self.role else {
            return vec![];
        };
        let mut out = Vec::new();
        if self.phase == Phase::Mandate && self.own_consent_missing {
            out.push(OpenAction::GiveConsent);
        }
        out.extend(
            self.own_goals
                .iter()
                .filter(|g| is_overdue(g.deadline, today))
                .map(|g| OpenAction::GoalOverdue {
                    goal: g.goal,
                    title: g.title.clone(),
                    deadline: g.deadline,
                }),
        );
        if prepares_evaluations(role) {
            if let Some(due) = self.next_evaluation_due {
                if evaluation_soon(due, today) {
                    out.push(OpenAction::PrepareEvaluation { due });
                }
            }
        }
        most_urgent_first(&mut out);
        out
    }
}

/// Red from [`DEADLINE_WARNING_DAYS`] on: the same line as the deadline reminder
/// ([`rules::deadline`]), so the red row and the notification appear on the same day.
fn urgent(days_left: i64) -> bool {
    days_left <= DEADLINE_WARNING_DAYS
}

/// The member's own open actions in `plan` on `today`, most urgent first: what home puts on top.
/// The same as `summarize(plan, member).signals(today).open_actions`, without making the rest.
pub fn open_actions(plan: &Plan, member: Option<MemberId>, today: Date) -> Vec<OpenAction> {
    let (Some(member), Some(role)) = (member, role_in(plan, member)) else {
        return vec![];
    };
    let mut out = Vec::new();
    if plan.phase == Phase::Mandate && gives_consent(role) && !plan.consents.contains_key(&member) {
        out.push(OpenAction::GiveConsent);
    }
    for goal in plan.goals_of(role) {
        if goal.status != GoalStatus::Open {
            continue;
        }
        if let Some(deadline) = goal.deadline.filter(|d| is_overdue(*d, today)) {
            out.push(OpenAction::GoalOverdue {
                goal: goal.id,
                title: goal.title.clone(),
                deadline,
            });
        }
    }
    if prepares_evaluations(role) {
        if let Some(due) = rules::next_evaluation_due(plan).filter(|d| evaluation_soon(*d, today)) {
            out.push(OpenAction::PrepareEvaluation { due });
        }
    }
    most_urgent_first(&mut out);
    out
}

/// How much a plan asks for attention; the first variant the most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// Something is overdue (a goal, the evaluation, the perspective decision), or the member has
    /// an open action of their own.
    Act,
    /// The perspective decision is due within [`DEADLINE_WARNING_DAYS`].
    DeadlineNear,
    /// Nothing due, but changes made here wait to be sent (others do not see them yet), or
    /// others changed the plan since the member last opened it.
    Changes,
    /// Nothing asks for attention.
    Calm,
}

/// How much the plan asks for attention. `pending`: changes on this phone waiting to be sent;
/// `unseen`: changes others made since the member last opened the plan (both kept by the app).
pub fn attention(signals: &Signals, pending: usize, unseen: usize) -> Attention {
    let overdue = signals.goals_overdue > 0
        || signals.evaluation_overdue
        || signals.days_left.is_some_and(|d| d < 0);
    if overdue || !signals.open_actions.is_empty() {
        Attention::Act
    } else if signals.deadline_urgent {
        Attention::DeadlineNear
    } else if pending > 0 || unseen > 0 {
        Attention::Changes
    } else {
        Attention::Calm
    }
}

/// What the "needs attention" filter keeps: every plan that is not [`Attention::Calm`].
pub fn needs_attention(signals: &Signals, pending: usize, unseen: usize) -> bool {
    attention(signals, pending, unseen) != Attention::Calm
}

/// One plan's row in the overview, for one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub summary: PlanSummary,
    pub signals: Signals,
    /// Changes on this phone waiting to be sent.
    pub pending: usize,
    /// Changes others made since the member last opened the plan.
    pub unseen: usize,
    pub attention: Attention,
}

impl Row {
    pub fn new(summary: PlanSummary, today: Date, pending: usize, unseen: usize) -> Row {
        let signals = summary.signals(today);
        Row::with_signals(summary, signals, pending, unseen)
    }

    /// A row from signals already worked out (the tests give them directly).
    fn with_signals(summary: PlanSummary, signals: Signals, pending: usize, unseen: usize) -> Row {
        let attention = attention(&signals, pending, unseen);
        Row {
            summary,
            signals,
            pending,
            unseen,
            attention,
        }
    }
}

/// The overview's order, what needs attention first:
/// 1. by [`Attention`]: overdue things and the member's own open actions, then a perspective
///    decision due within [`DEADLINE_WARNING_DAYS`], then plans with changes to send or to see,
///    then the calm ones;
/// 2. then by days left until the perspective decision, fewest first (overdue ones, negative,
///    before all); decided plans and plans without a start date last;
/// 3. then by the child's first name, ignoring case;
/// 4. then by plan id, so that two children of the same name keep one order on every phone.
///
/// A total order on rows of distinct plans: the same rows sort the same whatever their order.
pub fn compare(a: &Row, b: &Row) -> Ordering {
    let days = |r: &Row| r.signals.days_left.unwrap_or(i64::MAX);
    let name = |r: &Row| {
        r.summary
            .child_name
            .chars()
            .flat_map(char::to_lowercase)
            .collect::<Vec<_>>()
    };
    a.attention
        .cmp(&b.attention)
        .then_with(|| days(a).cmp(&days(b)))
        .then_with(|| name(a).cmp(&name(b)))
        .then_with(|| a.summary.child_name.cmp(&b.summary.child_name))
        .then_with(|| a.summary.plan.cmp(&b.summary.plan))
}

/// Sorts the overview's rows by [`compare`].
pub fn order(rows: &mut [Row]) {
    rows.sort_by(compare);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::founding::{self, NewPlan};
    use crate::hlc::{Clock, NodeId};
    use crate::model::{Perspective, Role};
    use crate::plan::{Consent, Goal, Member, PerspectiveDecision};
    use crate::{year, Replica};
    use chrono::{NaiveDate, NaiveTime};
    use uuid::Uuid;

    fn today() -> Date {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn plus(d: Date, days: i64) -> Date {
        d + chrono::Duration::days(days)
    }

    fn demo_plan() -> Plan {
        Plan::from_replica(&Replica::from_ops(demo::PLAN, &demo::plan_ops(today())))
    }

    /// A plan just founded: phase 0, a worker, a parent and foster parents, nobody consented.
    fn founded() -> (Plan, MemberId, MemberId) {
        let new = NewPlan {
            child_name: "Sam".into(),
            start_date: today(),
            founder_name: "Lotte".into(),
            members: vec![
                ("Mirjam".into(), Role::Parent),
                ("Fam. Bakker".into(), Role::FosterParent),
            ],
        };
        let mut n = 0u128;
        let (id, worker, ops) = founding::plan_ops(&new, &mut Clock::new(NodeId(1)), 1_000, || {
            n += 1;
            Uuid::from_u128(n)
        });
        let plan = Plan::from_replica(&Replica::from_ops(id, &ops));
        let parent = plan
            .members
            .iter()
            .find(|m| m.role == Role::Parent)
            .unwrap()
            .id;
        (plan, worker, parent)
    }

    fn consent(plan: &mut Plan, member: MemberId) {
        plan.consents.insert(
            member,
            Consent {
                given_at: today().and_time(NaiveTime::MIN),
                recorded_by: member,
            },
        );
    }

    fn signals(plan: &Plan, member: Option<MemberId>, day: Date) -> Signals {
        summarize(plan, member).signals(day)
    }

    #[test]
    fn the_demo_plan_signals_its_deadline_contacts_and_evaluation() {
        let plan = demo_plan();
        let s = signals(&plan, Some(demo::WORKER), today());
        // Started 140 days ago, one year to decide.
        assert_eq!(s.days_left, Some(365 - 140));
        assert!(!s.deadline_urgent);
        // The visit of a week ago took place; the video call after it was cancelled.
        assert_eq!(s.days_since_contact, Some(7));
        assert_eq!(
            s.next_contact,
            Some(plus(today(), 5).and_hms_opt(14, 0, 0).unwrap())
        );
        assert_eq!(s.next_evaluation, rules::next_evaluation_due(&plan));
        assert!(!s.evaluation_overdue);
        assert_eq!(s.goals_overdue, 0);
        assert_eq!(s.consents_missing, 0, "past phase 0");
        assert_eq!(s.open_actions, vec![]);
    }

    #[test]
    fn days_left_count_down_turn_urgent_at_sixty_and_go_negative_once_passed() {
        let plan = demo_plan();
        let deadline = rules::perspective_deadline(&plan).unwrap();
        let summary = summarize(&plan, Some(demo::WORKER));
        let on = |days_before: i64| summary.signals(plus(deadline, -days_before));
        assert_eq!(
            (on(61).days_left, on(61).deadline_urgent),
            (Some(61), false)
        );
        assert_eq!((on(60).days_left, on(60).deadline_urgent), (Some(60), true));
        assert_eq!((on(-3).days_left, on(-3).deadline_urgent), (Some(-3), true));
        for days in [-3, 0, 30, 61, 200] {
            let day = plus(deadline, -days);
            let expected = match rules::deadline(&plan, day) {
                Some(rules::Deadline::Passed { days_over }) => -days_over,
                Some(
                    rules::Deadline::Nearing { days_left } | rules::Deadline::OnTrack { days_left },
                ) => days_left,
                other => panic!("{other:?}"),
            };
            assert_eq!(summary.signals(day).days_left, Some(expected));
        }
    }

    #[test]
    fn a_decided_plan_has_no_days_left_and_nothing_red() {
        let mut plan = demo_plan();
        plan.decision = Some(PerspectiveDecision {
            outcome: Perspective::Home,
            reasons: None,
            date: Some(today()),
            recorded_by: demo::GUARDIAN,
        });
        let deadline = rules::perspective_deadline(&plan).unwrap();
        let s = signals(&plan, Some(demo::GUARDIAN), plus(deadline, 10));
        assert_eq!((s.days_left, s.deadline_urgent), (None, false));
        assert!(summarize(&plan, None).decided);
    }

    #[test]
    fn a_plan_without_a_start_date_has_no_deadline_and_no_evaluation_due() {
        let mut plan = demo_plan();
        plan.start_date = None;
        plan.evaluations.clear();
        let s = signals(&plan, Some(demo::WORKER), today());
        assert_eq!((s.days_left, s.next_evaluation), (None, None));
        assert!(!s.evaluation_overdue && !s.deadline_urgent);
    }

    #[test]
    fn only_open_goals_past_their_deadline_count_as_overdue() {
        let mut plan = demo_plan();
        // The demo's deadlines: a parent's goal in 30 days, the guardian's in 45, a parent's in 60.
        let summary = summarize(&plan, None);
        let overdue = |day: i64| summary.signals(plus(today(), day)).goals_overdue;
        assert_eq!(
            [overdue(30), overdue(31), overdue(46), overdue(61)],
            [0, 1, 2, 3]
        );
        plan.goals
            .iter_mut()
            .find(|g| g.deadline == Some(plus(today(), 30)))
            .unwrap()
            .status = GoalStatus::Done;
        assert_eq!(signals(&plan, None, plus(today(), 61)).goals_overdue, 2);
    }

    #[test]
    fn the_last_contact_is_the_last_that_took_place_and_the_next_moves_on_with_the_days() {
        let mut plan = demo_plan();
        let summary = summarize(&plan, None);
        assert_eq!(summary.last_contact, Some(plus(today(), -7)));
        let visit = summary.planned_contacts[0].at;
        assert_eq!(summary.signals(visit.date()).next_contact, Some(visit));
        assert_eq!(
            summary.signals(plus(visit.date(), 1)).next_contact,
            None,
            "the same summary, a day after the only planned visit"
        );
        assert_eq!(
            summary.signals(plus(today(), 10)).days_since_contact,
            Some(17)
        );
        plan.contact_moments.clear();
        let s = signals(&plan, None, today());
        assert_eq!((s.days_since_contact, s.next_contact), (None, None));
    }

    #[test]
    fn a_parent_in_phase_zero_is_asked_for_her_own_consent_first() {
        let (mut plan, worker, parent) = founded();
        let s = signals(&plan, Some(parent), today());
        assert_eq!(s.consents_missing, 3);
        assert_eq!(s.open_actions, vec![OpenAction::GiveConsent]);
        assert_eq!(
            open_actions(&plan, Some(parent), today()),
            vec![OpenAction::GiveConsent]
        );
        consent(&mut plan, parent);
        let s = signals(&plan, Some(parent), today());
        assert_eq!((s.consents_missing, s.open_actions), (2, vec![]));
        assert!(!summarize(&plan, Some(parent)).own_consent_missing);
        assert!(summarize(&plan, Some(worker)).own_consent_missing);
        // Past phase 0 consent is no longer asked, nor counted.
        plan.phase = Phase::Goals;
        let s = signals(&plan, Some(worker), today());
        assert_eq!((s.consents_missing, s.open_actions), (0, vec![]));
    }

    #[test]
    fn every_role_gives_its_own_consent() {
        for role in Role::ALL {
            assert!(gives_consent(role), "{role:?}");
        }
    }

    #[test]
    fn an_overdue_goal_is_an_action_for_its_own_role_only() {
        let plan = demo_plan();
        let day = plus(today(), 31);
        let goal = plan
            .goals
            .iter()
            .find(|g| g.deadline == Some(plus(today(), 30)))
            .unwrap();
        assert_eq!(goal.owner, Role::Parent);
        let expected = OpenAction::GoalOverdue {
            goal: goal.id,
            title: goal.title.clone(),
            deadline: plus(today(), 30),
        };
        assert_eq!(open_actions(&plan, Some(demo::PARENT), day), vec![expected]);
        for member in [
            demo::FOSTER_PARENT,
            demo::GUARDIAN,
            demo::WORKER,
            demo::YOUTH,
        ] {
            assert_eq!(open_actions(&plan, Some(member), day), vec![], "{member}");
        }
        // Due today is not yet overdue.
        assert_eq!(
            open_actions(&plan, Some(demo::PARENT), plus(today(), 30)),
            vec![]
        );
    }

    #[test]
    fn an_evaluation_is_to_prepare_two_weeks_ahead_by_those_who_take_part() {
        let mut plan = demo_plan();
        // Only the evaluation speaks: no goal deadlines to run past.
        plan.goals.clear();
        let care_worker = MemberId(Uuid::from_u128(0xca5e));
        plan.members.push(Member {
            id: care_worker,
            name: "Sanne (VIB)".into(),
            role: Role::CareWorker,
            phone: None,
        });
        let due = rules::next_evaluation_due(&plan).unwrap();
        let prepare = vec![OpenAction::PrepareEvaluation { due }];
        for member in [
            demo::PARENT,
            demo::FOSTER_PARENT,
            demo::GUARDIAN,
            demo::WORKER,
            demo::YOUTH,
        ] {
            assert_eq!(open_actions(&plan, Some(member), plus(due, -15)), vec![]);
            assert_eq!(open_actions(&plan, Some(member), plus(due, -14)), prepare);
            assert_eq!(open_actions(&plan, Some(member), plus(due, 5)), prepare);
            assert!(signals(&plan, Some(member), plus(due, 1)).evaluation_overdue);
            assert!(!signals(&plan, Some(member), due).evaluation_overdue);
        }
        assert_eq!(open_actions(&plan, Some(care_worker), plus(due, 5)), vec![]);
    }

    #[test]
    fn the_most_overdue_action_comes_first_and_consent_before_all() {
        let mut plan = demo_plan();
        let due = rules::next_evaluation_due(&plan).unwrap();
        let goal = |id: u128, deadline: Date| Goal {
            id: GoalId(Uuid::from_u128(id)),
            title: format!("doel {id}"),
            description: None,
            owner: Role::Parent,
            priority: 50,
            status: GoalStatus::Open,
            deadline: Some(deadline),
            intervention: None,
            changed_concurrently: false,
        };
        plan.goals.push(goal(1, plus(due, -3)));
        plan.goals.push(goal(2, plus(due, 2)));
        plan.phase = Phase::Mandate;
        plan.consents.remove(&demo::PARENT);
        let day = plus(due, 5);
        let kinds: Vec<String> = open_actions(&plan, Some(demo::PARENT), day)
            .into_iter()
            .map(|a| match a {
                OpenAction::GiveConsent => "consent".to_string(),
                OpenAction::GoalOverdue { title, .. } => title,
                OpenAction::PrepareEvaluation { .. } => "evaluation".to_string(),
            })
            .collect();
        // The demo's own parent goals (deadlines in 30 and 60 days) are older than the evaluation.
        assert_eq!(kinds.first().map(String::as_str), Some("consent"));
        let rest = &kinds[kinds.len() - 3..];
        assert_eq!(rest, ["doel 1", "evaluation", "doel 2"]);
    }

    #[test]
    fn someone_not_taking_part_has_no_role_and_no_actions() {
        let (plan, ..) = founded();
        let stranger = MemberId(Uuid::from_u128(0xdead));
        for member in [None, Some(stranger)] {
            let summary = summarize(&plan, member);
            assert_eq!(summary.role, None);
            assert!(!summary.own_consent_missing);
            assert_eq!(summary.signals(today()).open_actions, vec![]);
            assert_eq!(open_actions(&plan, member, today()), vec![]);
            assert_eq!(summary.signals(today()).consents_missing, 3);
        }
    }

    #[test]
    fn a_summary_of_another_version_is_made_again() {
        let mut summary = summarize(&demo_plan(), Some(demo::PARENT));
        assert!(summary.is_current());
        summary.version = SUMMARY_VERSION - 1;
        assert!(!summary.is_current());
        // One stored before a field existed no longer reads: the app makes it again, too.
        let mut json = serde_json::to_value(&summary).unwrap();
        json.as_object_mut().unwrap().remove("own_goals");
        assert!(serde_json::from_value::<PlanSummary>(json).is_err());
    }

    #[test]
    fn a_year_plan_summarizes_from_the_derived_plan_into_a_few_kilobytes() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        let plan = Plan::from_replica(&Replica::from_ops(year::PLAN, &year::year_plan(start)));
        let worker = plan.contact_person.unwrap();
        // summarize takes the derived plan: the log is replayed once, by whoever derived it.
        let summary = summarize(&plan, Some(worker));
        assert_eq!(summary.phase, Phase::AfterCare);
        assert!(summary.decided);
        assert_eq!(
            summary.role,
            Some(Role::FosterCareWorker),
            "the second worker"
        );
        assert!(summary.planned_contacts.len() > 10);
        let json = serde_json::to_string(&summary).unwrap();
        // Under two kilobytes for the plan, and some 110 bytes per planned contact (id, time,
        // kind: what a reminder of it needs). The year plan's 58 all concern the worker.
        let contacts = summary.planned_contacts.len();
        assert!(
            json.len() < 2_000 + 120 * contacts && json.len() < 8_000,
            "{} bytes, {contacts} planned contacts",
            json.len()
        );
        // The summary reminds the worker of the next visit as the plan does.
        let next = summary.planned_contacts[0];
        let now = next.at - chrono::Duration::hours(24);
        let reminded = summary.reminders(now);
        assert_eq!(
            reminded,
            reminders::reminders(&plan, Role::FosterCareWorker, now)
        );
        assert!(reminded.contains(&Reminder::ContactSoon {
            id: next.id,
            at: next.at,
            kind: next.kind
        }));
        let s = summary.signals(plus(start, 340));
        assert_eq!(s.days_left, None);
        assert!(s
            .next_contact
            .is_some_and(|at| at.date() >= plus(start, 340)));
    }

    fn row(name: &str, id: u128, signals: Signals, pending: usize, unseen: usize) -> Row {
        let mut summary = summarize(&demo_plan(), None);
        summary.child_name = name.into();
        summary.plan = PlanId(Uuid::from_u128(id));
        Row::with_signals(summary, signals, pending, unseen)
    }

    fn calm(days_left: Option<i64>) -> Signals {
        Signals {
            days_left,
            deadline_urgent: days_left.is_some_and(urgent),
            days_since_contact: Some(3),
            next_contact: None,
            next_evaluation: None,
            evaluation_overdue: false,
            goals_overdue: 0,
            consents_missing: 0,
            open_actions: vec![],
        }
    }

    #[test]
    fn attention_goes_to_overdue_things_and_own_actions_then_the_deadline_then_changes() {
        let s = calm(Some(200));
        assert_eq!(attention(&s, 0, 0), Attention::Calm);
        assert!(!needs_attention(&s, 0, 0));
        assert_eq!(attention(&s, 1, 0), Attention::Changes);
        assert_eq!(attention(&s, 0, 4), Attention::Changes);
        assert!(needs_attention(&s, 0, 4));
        assert_eq!(attention(&calm(Some(60)), 2, 2), Attention::DeadlineNear);
        for act in [
            calm(Some(-1)),
            Signals {
                goals_overdue: 1,
                ..calm(None)
            },
            Signals {
                evaluation_overdue: true,
                ..calm(None)
            },
            Signals {
                open_actions: vec![OpenAction::GiveConsent],
                ..calm(None)
            },
        ] {
            assert_eq!(attention(&act, 0, 0), Attention::Act, "{act:?}");
        }
    }

    #[test]
    fn the_overview_puts_what_needs_attention_first_then_fewest_days_then_the_name() {
        let late_goal = Signals {
            goals_overdue: 2,
            ..calm(Some(150))
        };
        let mut rows = vec![
            row("Sam", 1, calm(Some(100)), 0, 0),
            row("bram", 2, calm(Some(40)), 0, 0),
            row("Ayla", 3, calm(None), 0, 0),
            row("Noa", 4, late_goal.clone(), 0, 0),
            row("Ayla", 5, calm(Some(300)), 0, 3),
            row("Daan", 6, calm(Some(-5)), 0, 0),
            row("Noa", 7, calm(Some(100)), 0, 0),
            row("Eva", 8, late_goal, 0, 0),
        ];
        order(&mut rows);
        let names: Vec<(&str, u128)> = rows
            .iter()
            .map(|r| (r.summary.child_name.as_str(), r.summary.plan.0.as_u128()))
            .collect();
        assert_eq!(
            names,
            [
                ("Daan", 6),
                ("Eva", 8),
                ("Noa", 4),
                ("bram", 2),
                ("Ayla", 5),
                ("Noa", 7),
                ("Sam", 1),
                ("Ayla", 3),
            ]
        );
    }

    #[test]
    fn a_row_counts_its_signals_for_the_day() {
        let plan = demo_plan();
        let deadline = rules::perspective_deadline(&plan).unwrap();
        let summary = summarize(&plan, Some(demo::WORKER));
        let r = Row::new(summary.clone(), plus(deadline, -30), 1, 0);
        assert_eq!(r.signals, summary.signals(plus(deadline, -30)));
        assert_eq!(r.attention, attention(&r.signals, 1, 0));
    }

    mod properties {
        use super::*;
        use crate::plan::{ContactMoment, Evaluation, PhaseDates};
        use crate::reminders::CONTACT_NOTICE_HOURS;
        use crate::ContactKind;
        use chrono::Duration;
        use proptest::prelude::*;

        /// The knobs of a random plan: every field the summary reads.
        #[derive(Clone, Debug)]
        struct Shape {
            name: usize,
            phase: usize,
            start: Option<i64>,
            decided: Option<i64>,
            phase_starts: Vec<Option<i64>>,
            goals: Vec<(usize, bool, Option<i64>)>,
            consents: Vec<bool>,
            /// Day, hour, status, kind, and which roles attend (a bit per [`Role::ALL`]).
            contacts: Vec<(i64, u32, usize, usize, u8)>,
            evaluations: Vec<i64>,
            member: usize,
        }

        const NAMES: [&str; 4] = ["Noa", "noa", "Sam", "Ayla"];

        fn shape() -> impl Strategy<Value = Shape> {
            let day = -400i64..400;
            (
                (0..NAMES.len(), 0..5usize, prop::option::of(day.clone())),
                (
                    prop::option::weighted(0.3, day.clone()),
                    prop::collection::vec(prop::option::of(day.clone()), 5),
                ),
                prop::collection::vec(
                    (0..6usize, any::<bool>(), prop::option::of(day.clone())),
                    0..12,
                ),
                prop::collection::vec(any::<bool>(), 6),
                prop::collection::vec(
                    (
                        day.clone(),
                        0u32..24,
                        0..ContactStatus::ALL.len(),
                        0..ContactKind::ALL.len(),
                        0u8..64,
                    ),
                    0..10,
                ),
                prop::collection::vec(day, 0..4),
                0..8usize,
            )
                .prop_map(
                    |(
                        (name, phase, start),
                        (decided, phase_starts),
                        goals,
                        consents,
                        contacts,
                        evaluations,
                        member,
                    )| Shape {
                        name,
                        phase,
                        start,
                        decided,
                        phase_starts,
                        goals,
                        consents,
                        contacts,
                        evaluations,
                        member,
                    },
                )
        }

        const CARE_WORKER: MemberId = MemberId(Uuid::from_u128(0xca5e));

        /// The demo plan's people (and a care worker), everything else from the shape.
        fn plan_of(shape: &Shape, id: u128) -> (Plan, Option<MemberId>) {
            let mut plan = demo_plan();
            plan.id = PlanId(Uuid::from_u128(id));
            plan.child_name = NAMES[shape.name].into();
            plan.members.push(Member {
                id: CARE_WORKER,
                name: "Sanne".into(),
                role: Role::CareWorker,
                phone: None,
            });
            let on = |offset: i64| plus(today(), offset);
            plan.phase = Phase::ALL[shape.phase];
            plan.start_date = shape.start.map(on);
            plan.decision = shape.decided.map(|d| PerspectiveDecision {
                outcome: Perspective::FosterFamily,
                reasons: None,
                date: Some(on(d)),
                recorded_by: demo::GUARDIAN,
            });
            plan.phase_dates = Phase::ALL
                .into_iter()
                .zip(&shape.phase_starts)
                .map(|(phase, start)| {
                    let dates = PhaseDates {
                        planned_start: None,
                        actual_start: start.map(on),
                    };
                    (phase, dates)
                })
                .collect();
            plan.goals = shape
                .goals
                .iter()
                .enumerate()
                .map(|(n, (owner, done, deadline))| Goal {
                    id: GoalId(Uuid::from_u128(n as u128 + 1)),
                    title: format!("doel {n}"),
                    description: None,
                    owner: Role::ALL[*owner],
                    priority: n as i64,
                    status: if *done {
                        GoalStatus::Done
                    } else {
                        GoalStatus::Open
                    },
                    deadline: deadline.map(on),
                    intervention: None,
                    changed_concurrently: false,
                })
                .collect();
            let members: Vec<MemberId> = plan.members.iter().map(|m| m.id).collect();
            plan.consents.clear();
            for (m, given) in members.iter().zip(&shape.consents) {
                if *given {
                    consent(&mut plan, *m);
                }
            }
            let template = plan.contact_moments[0].clone();
            plan.contact_moments = shape
                .contacts
                .iter()
                .enumerate()
                .map(|(n, (day, hour, status, kind, attendees))| ContactMoment {
                    id: crate::ContactMomentId(Uuid::from_u128(n as u128 + 1)),
                    at: on(*day).and_hms_opt(*hour, 0, 0).unwrap(),
                    kind: ContactKind::ALL[*kind],
                    status: ContactStatus::ALL[*status],
                    attendees: Role::ALL
                        .into_iter()
                        .enumerate()
                        .filter(|(bit, _)| attendees & (1 << bit) != 0)
                        .map(|(_, role)| role)
                        .collect(),
                    ..template.clone()
                })
                .collect();
            plan.contact_moments.sort_by_key(|c| (c.at, c.id));
            let template = plan.evaluations[0].clone();
            plan.evaluations = shape
                .evaluations
                .iter()
                .enumerate()
                .map(|(n, day)| Evaluation {
                    id: crate::EvaluationId(Uuid::from_u128(n as u128 + 1)),
                    date: on(*day),
                    ..template.clone()
                })
                .collect();
            plan.evaluations.sort_by_key(|e| (e.date, e.id));
            // One of the six members, someone not in the plan, or nobody.
            let member = match shape.member {
                n @ 0..=5 => Some(members[n]),
                6 => Some(MemberId(Uuid::from_u128(0xdead))),
                _ => None,
            };
            (plan, member)
        }

        proptest! {
            #[test]
            fn the_summary_gives_the_same_open_actions_as_the_plan(
                shape in shape(), day in -400i64..500,
            ) {
                let (plan, member) = plan_of(&shape, 1);
                let day = plus(today(), day);
                prop_assert_eq!(
                    summarize(&plan, member).signals(day).open_actions,
                    open_actions(&plan, member, day)
                );
            }

            #[test]
            fn signals_agree_with_the_rules_and_the_plan(
                shape in shape(), day in -400i64..500,
            ) {
                let (plan, member) = plan_of(&shape, 1);
                let day = plus(today(), day);
                let s = summarize(&plan, member).signals(day);
                prop_assert_eq!(s.evaluation_overdue, rules::evaluation_overdue(&plan, day));
                prop_assert_eq!(s.next_evaluation, rules::next_evaluation_due(&plan));
                let rules_days = match rules::deadline(&plan, day) {
                    Some(rules::Deadline::Passed { days_over }) => Some(-days_over),
                    Some(rules::Deadline::Nearing { days_left }) => Some(days_left),
                    Some(rules::Deadline::OnTrack { days_left }) => Some(days_left),
                    Some(rules::Deadline::Decided) | None => None,
                };
                prop_assert_eq!(s.days_left, rules_days);
                prop_assert_eq!(
                    s.deadline_urgent,
                    matches!(
                        rules::deadline(&plan, day),
                        Some(rules::Deadline::Nearing { .. } | rules::Deadline::Passed { .. })
                    )
                );
                let first_hour = day.and_time(NaiveTime::MIN);
                prop_assert_eq!(
                    s.next_contact,
                    plan.next_planned_contact(first_hour).map(|c| c.at)
                );
                let overdue = plan
                    .goals
                    .iter()
                    .filter(|g| g.status == GoalStatus::Open)
                    .filter(|g| g.deadline.is_some_and(|d| d < day))
                    .count();
                prop_assert_eq!(s.goals_overdue, overdue);
            }

            #[test]
            fn the_summary_reminds_every_member_of_the_same_as_the_plan(
                shape in shape(),
                day in -400i64..500,
                hour in 0u32..24,
                minutes_before in -60i64..(CONTACT_NOTICE_HOURS * 60 + 60),
            ) {
                let (plan, _) = plan_of(&shape, 1);
                let midnight = |d: Date| d.and_time(NaiveTime::MIN);
                let start = plan.start_date.unwrap_or(today());
                let mut nows = vec![plus(start, day).and_hms_opt(hour, 0, 0).unwrap()];
                // Around each planned contact: the edges of its notice, and somewhere within.
                for c in &plan.contact_moments {
                    let notice = Duration::hours(CONTACT_NOTICE_HOURS);
                    nows.extend([
                        c.at - notice,
                        c.at - notice + Duration::minutes(1),
                        c.at - Duration::minutes(minutes_before),
                        c.at,
                        c.at + Duration::minutes(1),
                    ]);
                }
                // Around the evaluation's notice and due day, and the deadline's warning and day.
                if let Some(due) = rules::next_evaluation_due(&plan) {
                    for d in [-EVALUATION_NOTICE_DAYS - 1, -EVALUATION_NOTICE_DAYS, 0, 1] {
                        nows.push(midnight(plus(due, d)));
                    }
                }
                if let Some(deadline) = rules::perspective_deadline(&plan) {
                    for d in [-DEADLINE_WARNING_DAYS - 1, -DEADLINE_WARNING_DAYS, 0, 1] {
                        nows.push(midnight(plus(deadline, d)));
                    }
                }
                for member in &plan.members {
                    let summary = summarize(&plan, Some(member.id));
                    prop_assert_eq!(summary.role, Some(member.role));
                    let json = serde_json::to_string(&summary).unwrap();
                    let back: PlanSummary = serde_json::from_str(&json).unwrap();
                    for now in &nows {
                        let expected = reminders::reminders(&plan, member.role, *now);
                        prop_assert_eq!(&summary.reminders(*now), &expected, "{:?} at {}", member.role, now);
                        prop_assert_eq!(&back.reminders(*now), &expected);
                    }
                }
                // Someone not taking part, or nobody, is reminded of nothing.
                for member in [None, Some(MemberId(Uuid::from_u128(0xdead)))] {
                    let summary = summarize(&plan, member);
                    for now in &nows {
                        prop_assert_eq!(summary.reminders(*now), vec![]);
                    }
                }
            }

            #[test]
            fn summarize_is_deterministic_and_survives_a_json_round_trip(
                shape in shape(), day in -400i64..500,
            ) {
                let (plan, member) = plan_of(&shape, 1);
                let summary = summarize(&plan, member);
                prop_assert_eq!(&summary, &summarize(&plan.clone(), member));
                let json = serde_json::to_string(&summary).unwrap();
                let back: PlanSummary = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(&back, &summary);
                let day = plus(today(), day);
                prop_assert_eq!(back.signals(day), summary.signals(day));
            }

            #[test]
            fn a_day_later_never_shows_fewer_overdue_goals(
                shape in shape(), day in -400i64..500,
            ) {
                let (plan, member) = plan_of(&shape, 1);
                let summary = summarize(&plan, member);
                let day = plus(today(), day);
                let (now, next) = (summary.signals(day), summary.signals(plus(day, 1)));
                prop_assert!(next.goals_overdue >= now.goals_overdue);
                prop_assert_eq!(next.days_left, now.days_left.map(|d| d - 1));
                prop_assert!(next.evaluation_overdue || !now.evaluation_overdue);
            }

            #[test]
            fn the_overview_order_is_total(
                shapes in prop::collection::vec((shape(), 0usize..3, 0usize..3), 1..8)
                    .prop_flat_map(|rows| {
                        let shuffled = Just(rows.clone()).prop_shuffle();
                        (Just(rows), shuffled)
                    }),
                day in -400i64..500,
            ) {
                let day = plus(today(), day);
                let rows_of = |shapes: &[(Shape, usize, usize)]| -> Vec<Row> {
                    shapes
                        .iter()
                        .map(|(shape, pending, unseen)| {
                            // The plan id follows the shape, so a shuffled list holds the same plans.
                            let id = shape_id(shape, *pending, *unseen);
                            let (plan, member) = plan_of(shape, id);
                            Row::new(summarize(&plan, member), day, *pending, *unseen)
                        })
                        .collect()
                };
                let (original, shuffled) = shapes;
                let mut a = rows_of(&original);
                let mut b = rows_of(&shuffled);
                order(&mut a);
                order(&mut b);
                prop_assert_eq!(&a, &b);
                for x in &a {
                    for y in &a {
                        prop_assert_eq!(compare(x, y), compare(y, x).reverse());
                    }
                }
                for w in a.windows(2) {
                    prop_assert!(compare(&w[0], &w[1]) != Ordering::Greater);
                }
            }
        }

        /// A plan id from the shape's contents: equal shapes are the same plan.
        fn shape_id(shape: &Shape, pending: usize, unseen: usize) -> u128 {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            format!("{shape:?}{pending}{unseen}").hash(&mut h);
            h.finish() as u128
        }
    }
}
