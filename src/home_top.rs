//! The top of home in words: what both the first paint (`glance.rs`, plain DOM calls) and the
//! app (`pages/home.rs`, Leptos) draw, derived once from the plan. Leptos-free and web-free, so
//! it is tested natively (see the tests below), and the two renderers only lay it out: they
//! cannot come to say different things.

use chrono::{NaiveDate, NaiveDateTime};
use koers_core::caseload::{open_actions, OpenAction};
use koers_core::reminders::reminders;
use koers_core::rules::{self, Deadline};
use koers_core::{allowed, Action, GoalId, GoalStatus, MemberId, Phase, Plan, Role};

use crate::address::Screen;
use crate::format;
use crate::i18n::*;

/// From the example badge to "Contact vastleggen", in the order home shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct HomeTop {
    /// The plan is the example plan (a badge says so).
    pub example: bool,
    /// "Plan van Noa".
    pub title: String,
    /// "Wat jij nu kunt doen": the member's own open actions; none, no card.
    pub actions: Vec<ActionItem>,
    /// "Binnenkort", most urgent first; none, no card.
    pub reminders: Vec<String>,
    pub timeline: Timeline,
    pub deadline: DeadlineCard,
    /// "Volgend contact: …" and, when one is planned, the next evaluation.
    pub next_contact: String,
    pub next_evaluation: Option<String>,
    /// A few words for a parent or the child about what home shows them.
    pub intro: Option<String>,
    pub goals: GoalsCard,
    /// Whether the role may log a contact moment (home then links to it).
    pub log_contact: bool,
}

/// One of the member's own open actions.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionItem {
    pub text: String,
    pub does: ActionTarget,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActionTarget {
    /// Done right there: a button gives the member's consent.
    GiveConsent,
    /// Done on another screen, linked.
    Open(Screen),
}

/// The five phases, the current one marked, and a sentence on where the plan stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    pub steps: Vec<Step>,
    /// "Fase 2: Uitvoering".
    pub current: String,
    /// What the current phase means (for the child, addressed to them).
    pub explained: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub number: u8,
    pub name: &'static str,
    /// The step's class: "done", "current" (also `aria-current="step"`) or none.
    pub class: Option<&'static str>,
}

/// Days left until the perspective must be decided.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadlineCard {
    /// "card deadline", with "warn" under 60 days and "overdue" once passed.
    pub class: &'static str,
    pub body: DeadlineBody,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeadlineBody {
    /// "120 dagen" (the number on its own, large), then "tot het besluit op 4 dec 2026".
    DaysLeft {
        days: i64,
        unit: &'static str,
        until: String,
    },
    /// One paragraph: "big" when it is urgent, "muted" when nothing is known.
    Line {
        text: String,
        class: Option<&'static str>,
    },
}

/// "Mijn doelen": the goals the role owns, by priority.
#[derive(Clone, Debug, PartialEq)]
pub struct GoalsCard {
    /// "2 van 5 klaar".
    pub progress: String,
    /// The sentence shown instead of the list when the role owns no goal.
    pub empty: Option<&'static str>,
    pub rows: Vec<GoalRow>,
}

/// One goal in "Mijn doelen", ticked off with its checkbox.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GoalRow {
    pub id: GoalId,
    pub done: bool,
    pub title: String,
    pub description: Option<String>,
    /// "Door twee mensen tegelijk gewijzigd": two members changed it at once.
    pub changed_by_two: Option<&'static str>,
    /// "Klaar op 4 dec 2026".
    pub deadline: Option<String>,
}

impl HomeTop {
    /// The top of home for `role` (and its `member`, who acts in the plan), at `now`.
    pub fn new(
        l: Locale,
        plan: &Plan,
        role: Role,
        member: Option<MemberId>,
        now: NaiveDateTime,
    ) -> HomeTop {
        let child = &plan.child_name;
        HomeTop {
            example: plan.is_example,
            title: td_string!(l, plan_of, child = child).to_string(),
            actions: open_actions(plan, member, now.date())
                .iter()
                .map(|a| ActionItem {
                    text: format::open_action(l, a),
                    does: match a {
                        OpenAction::GiveConsent => ActionTarget::GiveConsent,
                        OpenAction::GoalOverdue { goal, .. } => {
                            ActionTarget::Open(Screen::Goal(*goal))
                        }
                        OpenAction::PrepareEvaluation { .. } => {
                            ActionTarget::Open(Screen::Evaluations)
                        }
                    },
                })
                .collect(),
            reminders: reminders(plan, role, now)
                .iter()
                .map(|r| format::reminder(l, r))
                .collect(),
            timeline: Timeline::new(l, plan.phase, role == Role::Youth),
            deadline: DeadlineCard::new(l, plan, now.date()),
            next_contact: format::next_contact(l, plan, now),
            next_evaluation: rules::next_evaluation_due(plan)
                .map(|d| td_string!(l, next_evaluation, date = format::date(l, d)).to_string()),
            intro: match role {
                Role::Parent => Some(td_string!(l, home_intro_parent, child = child).to_string()),
                Role::Youth => Some(td_string!(l, home_intro_youth).to_string()),
                _ => None,
            },
            goals: GoalsCard::new(l, plan, role),
            log_contact: allowed(role, Action::LogContactMoment),
        }
    }
}

impl Timeline {
    fn new(l: Locale, current: Phase, youth: bool) -> Timeline {
        Timeline {
            steps: Phase::ALL
                .iter()
                .map(|&phase| Step {
                    number: phase.number(),
                    name: format::phase(l, phase),
                    class: match phase.cmp(&current) {
                        std::cmp::Ordering::Less => Some("done"),
                        std::cmp::Ordering::Equal => Some("current"),
                        std::cmp::Ordering::Greater => None,
                    },
                })
                .collect(),
            current: format!(
                "{} {}: {}",
                td_string!(l, phase_word),
                current.number(),
                format::phase(l, current)
            ),
            explained: format::phase_explained(l, current, youth),
        }
    }
}

impl DeadlineCard {
    fn new(l: Locale, plan: &Plan, today: NaiveDate) -> DeadlineCard {
        let line = |text: String, class| DeadlineBody::Line { text, class };
        match rules::deadline(plan, today) {
            Some(state @ (Deadline::OnTrack { days_left } | Deadline::Nearing { days_left })) => {
                let date = rules::perspective_deadline(plan)
                    .map(|d| format::date(l, d))
                    .unwrap_or_default();
                DeadlineCard {
                    class: if matches!(state, Deadline::Nearing { .. }) {
                        "card deadline warn"
                    } else {
                        "card deadline"
                    },
                    body: DeadlineBody::DaysLeft {
                        days: days_left,
                        unit: td_string!(l, days_left_unit),
                        until: td_string!(l, days_left_until, date = date).to_string(),
                    },
                }
            }
            Some(Deadline::Passed { days_over }) => DeadlineCard {
                class: "card deadline overdue",
                body: line(
                    td_string!(l, deadline_passed, days = days_over).to_string(),
                    Some("big"),
                ),
            },
            Some(Deadline::Decided) => DeadlineCard {
                class: "card deadline",
                body: line(td_string!(l, deadline_decided).to_string(), None),
            },
            None => DeadlineCard {
                class: "card deadline",
                body: line(td_string!(l, deadline_unknown).to_string(), Some("muted")),
            },
        }
    }
}

impl GoalsCard {
    fn new(l: Locale, plan: &Plan, role: Role) -> GoalsCard {
        let rows: Vec<GoalRow> = plan
            .goals_of(role)
            .map(|goal| GoalRow {
                id: goal.id,
                done: goal.status == GoalStatus::Done,
                title: goal.title.clone(),
                description: goal.description.clone(),
                changed_by_two: goal
                    .changed_concurrently
                    .then(|| td_string!(l, changed_by_two)),
                deadline: goal
                    .deadline
                    .map(|d| td_string!(l, goal_deadline, date = format::date(l, d)).to_string()),
            })
            .collect();
        let done = rows.iter().filter(|r| r.done).count();
        GoalsCard {
            progress: td_string!(l, goals_done, done = done, total = rows.len()).to_string(),
            empty: rows.is_empty().then(|| td_string!(l, no_goals)),
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use koers_core::{demo, Author, Edit, Entity, Field, NodeId, OpId, Replica};

    /// The example plan's dates are around the day it is made: this one, in every test.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date")
    }

    fn at(date: NaiveDate) -> NaiveDateTime {
        date.and_hms_opt(9, 0, 0).expect("a time")
    }

    /// The example plan, with `edits` made by its foster-care worker.
    fn example(edits: Vec<Edit>) -> Plan {
        let mut replica = Replica::from_ops(demo::PLAN, &demo::plan_ops(today()));
        let plan = Plan::from_replica(&replica);
        let mut worker = Author::new(demo::member_for(Role::FosterCareWorker), NodeId(7));
        for (n, edit) in edits.into_iter().enumerate() {
            let id = OpId(uuid::Uuid::from_u128(0xfeed_0000 + n as u128));
            let op = worker
                .change(&replica, &plan, id, 1_900_000_000_000, edit)
                .expect("the worker may");
            replica.apply(&op).expect("the same plan");
        }
        Plan::from_replica(&replica)
    }

    fn top(l: Locale, plan: &Plan, role: Role, now: NaiveDateTime) -> HomeTop {
        HomeTop::new(l, plan, role, Some(demo::member_for(role)), now)
    }

    #[test]
    fn a_parent_reads_her_own_goals_with_their_dates_in_dutch() {
        let plan = example(vec![]);
        let top = top(Locale::nl, &plan, Role::Parent, at(today()));
        assert!(top.example);
        assert_eq!(top.title, format!("Plan van {}", plan.child_name));
        let own: Vec<_> = plan.goals_of(Role::Parent).collect();
        assert!(!own.is_empty(), "the example gives the parent goals");
        assert_eq!(top.goals.rows.len(), own.len());
        let done = own.iter().filter(|g| g.status == GoalStatus::Done).count();
        assert_eq!(
            top.goals.progress,
            format!("{done} van {} gedaan", own.len())
        );
        assert_eq!(top.goals.empty, None);
        for (row, goal) in top.goals.rows.iter().zip(&own) {
            assert_eq!((row.id, &row.title), (goal.id, &goal.title));
            assert_eq!(row.done, goal.status == GoalStatus::Done);
            let date = goal
                .deadline
                .map(|d| format!("Klaar op {}", format::date(Locale::nl, d)));
            assert_eq!(row.deadline, date);
        }
        assert!(top.intro.is_some(), "a parent is told what home shows her");
        assert!(!top.log_contact, "a parent does not log contact moments");
    }

    #[test]
    fn the_timeline_marks_the_steps_before_and_at_the_phase() {
        let plan = example(vec![]);
        assert_eq!(plan.phase, Phase::Execution);
        let top = top(Locale::en, &plan, Role::FosterCareWorker, at(today()));
        let classes: Vec<_> = top.timeline.steps.iter().map(|s| s.class).collect();
        assert_eq!(
            classes,
            [Some("done"), Some("done"), Some("current"), None, None]
        );
        assert_eq!(
            top.timeline.current,
            format!("Phase 2: {}", format::phase(Locale::en, Phase::Execution))
        );
        assert!(top.log_contact, "the worker logs contact moments");
        assert_eq!(top.intro, None);
    }

    #[test]
    fn the_deadline_card_warns_under_sixty_days_and_says_when_it_passed() {
        let plan = example(vec![]);
        let deadline = rules::perspective_deadline(&plan).expect("the example has a start date");
        let card = |days_before: i64| {
            let now = at(deadline - chrono::Duration::days(days_before));
            top(Locale::nl, &plan, Role::Guardian, now).deadline
        };

        let calm = card(120);
        assert_eq!(calm.class, "card deadline");
        let DeadlineBody::DaysLeft { days, until, .. } = calm.body else {
            panic!("days left: {calm:?}")
        };
        assert_eq!(days, 120);
        assert!(
            until.ends_with(&format!(
                "(uiterlijk {}).",
                format::date(Locale::nl, deadline)
            )),
            "{until}"
        );

        assert_eq!(card(59).class, "card deadline warn");

        let passed = card(-3);
        assert_eq!(passed.class, "card deadline overdue");
        assert!(
            matches!(
                passed.body,
                DeadlineBody::Line {
                    class: Some("big"),
                    ..
                }
            ),
            "{passed:?}"
        );
    }

    #[test]
    fn own_actions_come_as_a_consent_button_and_links_to_late_goals() {
        // Back in phase 0, before the parent consented.
        let mut plan = example(vec![]);
        plan.phase = Phase::Mandate;
        plan.consents.remove(&demo::member_for(Role::Parent));
        let now = top(Locale::nl, &plan, Role::Parent, at(today()));
        assert_eq!(
            now.actions.first().map(|a| a.does),
            Some(ActionTarget::GiveConsent),
            "{:?}",
            now.actions
        );
        assert_eq!(
            now.actions[0].text,
            format::open_action(Locale::nl, &OpenAction::GiveConsent)
        );
        // Every other member's consent is in: theirs is no action.
        let worker = top(Locale::nl, &plan, Role::FosterCareWorker, at(today()));
        assert!(worker
            .actions
            .iter()
            .all(|a| a.does != ActionTarget::GiveConsent));
        // Years on, every open goal of hers with a date is late, and linked.
        let late = top(
            Locale::nl,
            &plan,
            Role::Parent,
            at(today() + chrono::Duration::days(2000)),
        );
        let open: Vec<_> = plan
            .goals_of(Role::Parent)
            .filter(|g| g.status != GoalStatus::Done && g.deadline.is_some())
            .map(|g| ActionTarget::Open(Screen::Goal(g.id)))
            .collect();
        assert!(
            !open.is_empty(),
            "the example's parent has open goals with a date"
        );
        for target in open {
            assert!(
                late.actions.iter().any(|a| a.does == target),
                "{target:?} in {:?}",
                late.actions
            );
        }
    }

    #[test]
    fn a_goal_ticked_off_shows_done_and_counts() {
        let before = example(vec![]);
        let goal = before
            .goals_of(Role::Parent)
            .find(|g| g.status != GoalStatus::Done)
            .expect("an open goal")
            .id;
        let after = example(vec![Edit::new(
            Entity::Goal(goal),
            Field::Status,
            GoalStatus::Done,
        )]);
        let goals = |plan: &Plan| top(Locale::en, plan, Role::Parent, at(today())).goals;
        let (was, is) = (goals(&before), goals(&after));
        let row = |g: &GoalsCard| {
            g.rows
                .iter()
                .find(|r| r.id == goal)
                .cloned()
                .expect("the goal")
        };
        assert!(!row(&was).done && row(&is).done);
        let count = |g: &GoalsCard| g.rows.iter().filter(|r| r.done).count();
        assert_eq!(count(&is), count(&was) + 1);
        assert_eq!(
            is.progress,
            format!("{} of {} done", count(&is), is.rows.len())
        );
    }

    #[test]
    fn a_role_without_goals_is_told_so() {
        let mut plan = example(vec![]);
        plan.goals.clear();
        let goals = top(Locale::nl, &plan, Role::Guardian, at(today())).goals;
        assert!(goals.rows.is_empty());
        assert_eq!(
            goals.empty,
            Some("Voor jouw rol staan nog geen doelen in het plan.")
        );
        assert_eq!(goals.progress, "0 van 0 gedaan");
    }
}
