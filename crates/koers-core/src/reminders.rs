//! What the app should remind a member of. Typed data only: the app words and translates it, and
//! uses [`Reminder::key`] to notify about each thing once.

use chrono::{Duration, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::model::{ContactKind, ContactMomentId, ContactStatus, Date, LocalDateTime, Role};
use crate::permission::{allowed, Action};
use crate::plan::{ContactMoment, Plan};
use crate::rules::{self, Deadline};

/// Remind of an evaluation this many days before it is due.
pub const EVALUATION_NOTICE_DAYS: i64 = 14;
/// Remind of a planned contact moment this many hours before it starts.
pub const CONTACT_NOTICE_HOURS: i64 = 48;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reminder {
    /// A planned contact moment that concerns the member starts soon.
    ContactSoon {
        id: ContactMomentId,
        at: LocalDateTime,
        kind: ContactKind,
    },
    EvaluationDue {
        due: Date,
        days_left: i64,
    },
    EvaluationOverdue {
        due: Date,
        days_over: i64,
    },
    /// The perspective decision is due within [`rules::DEADLINE_WARNING_DAYS`].
    DeadlineNearing {
        deadline: Date,
        days_left: i64,
    },
    DeadlinePassed {
        deadline: Date,
        days_over: i64,
    },
}

impl Reminder {
    /// Stays the same while the reminder is about the same thing, so the app can notify once.
    /// A contact moment moved to another time gets a new key: the member should hear of it again.
    pub fn key(&self) -> String {
        match self {
            Reminder::ContactSoon { id, at, .. } => {
                format!("contact:{id}@{at}")
            }
            Reminder::EvaluationDue { due, .. } => format!("evaluation-due:{due}"),
            Reminder::EvaluationOverdue { due, .. } => format!("evaluation-overdue:{due}"),
            Reminder::DeadlineNearing { deadline, .. } => format!("deadline-nearing:{deadline}"),
            Reminder::DeadlinePassed { deadline, .. } => format!("deadline-passed:{deadline}"),
        }
    }

    /// The moment the reminder is about; the earlier, the more urgent (overdue things are in
    /// the past and so come first).
    pub fn when(&self) -> LocalDateTime {
        let day = |d: &Date| d.and_time(NaiveTime::MIN);
        match self {
            Reminder::ContactSoon { at, .. } => *at,
            Reminder::EvaluationDue { due, .. } | Reminder::EvaluationOverdue { due, .. } => {
                day(due)
            }
            Reminder::DeadlineNearing { deadline, .. }
            | Reminder::DeadlinePassed { deadline, .. } => day(deadline),
        }
    }
}

/// A contact moment still planned, as the reminders read it: few enough fields to keep one per
/// moment in a [`crate::caseload::PlanSummary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedContact {
    pub id: ContactMomentId,
    pub at: LocalDateTime,
    pub kind: ContactKind,
    /// It concerns the role the list was made for: that role is reminded of it.
    pub concerns_role: bool,
}

/// The contact moments of `plan` still planned, earliest first (then by id), each marked whether
/// it concerns `role`: its attendees, and the worker and the guardian, who follow them all. With
/// no role none concerns it.
pub fn planned_contacts(plan: &Plan, role: Option<Role>) -> Vec<PlannedContact> {
    // In time order as the plan keeps its contact moments (`Plan::from_replica` sorts them by
    // time, then id): no sort here, whose code the first paint would download.
    plan.contact_moments
        .iter()
        .filter(|c| c.status == ContactStatus::Planned)
        .map(|c| PlannedContact {
            id: c.id,
            at: c.at,
            kind: c.kind,
            concerns_role: role.is_some_and(|role| concerns(c, role)),
        })
        .collect()
}

/// The reminders for a member with `role`, most urgent first. Evaluations and the deadline are
/// reminded to the roles that act on them (who may record an evaluation or the decision); a
/// contact moment to its attendees, and to the worker and the guardian, who follow them all.
pub fn reminders(plan: &Plan, role: Role, now: LocalDateTime) -> Vec<Reminder> {
    Inputs {
        role,
        contacts: &planned_contacts(plan, Some(role)),
        next_evaluation_due: rules::next_evaluation_due(plan),
        perspective_deadline: rules::perspective_deadline(plan),
        decided: plan.decision.is_some(),
    }
    .reminders(now)
}

/// All that [`reminders`] reads of a plan, for one role: made from the plan in hand, or from a
/// stored [`crate::caseload::PlanSummary`] of a plan the phone does not hold derived. The one
/// place the reminder rules live, so both give the same.
pub(crate) struct Inputs<'a> {
    pub role: Role,
    /// [`planned_contacts`] for `role`.
    pub contacts: &'a [PlannedContact],
    /// [`rules::next_evaluation_due`].
    pub next_evaluation_due: Option<Date>,
    /// [`rules::perspective_deadline`].
    pub perspective_deadline: Option<Date>,
    /// The perspective decision is taken.
    pub decided: bool,
}

impl Inputs<'_> {
    pub fn reminders(&self, now: LocalDateTime) -> Vec<Reminder> {
        let today = now.date();
        let mut out = Vec::new();

        let soon = now + Duration::hours(CONTACT_NOTICE_HOURS);
        out.extend(
            self.contacts
                .iter()
                .filter(|c| c.concerns_role && c.at >= now && c.at < soon)
                .map(|c| Reminder::ContactSoon {
                    id: c.id,
                    at: c.at,
                    kind: c.kind,
                }),
        );

        if allowed(self.role, Action::RecordEvaluation) {
            if let Some(due) = self.next_evaluation_due {
                let days_left = (due - today).num_days();
                if rules::evaluation_overdue_on(due, today) {
                    out.push(Reminder::EvaluationOverdue {
                        due,
                        days_over: -days_left,
                    });
                } else if days_left <= EVALUATION_NOTICE_DAYS {
                    out.push(Reminder::EvaluationDue { due, days_left });
                }
            }
        }

        if allowed(self.role, Action::RecordDecision) {
            if let Some(deadline) = self.perspective_deadline {
                match rules::deadline_on(Some(deadline), self.decided, today) {
                    Some(Deadline::Nearing { days_left }) => out.push(Reminder::DeadlineNearing {
                        deadline,
                        days_left,
                    }),
                    Some(Deadline::Passed { days_over }) => out.push(Reminder::DeadlinePassed {
                        deadline,
                        days_over,
                    }),
                    _ => {}
                }
            }
        }

        out.sort_by_key(|r| (r.when(), r.key()));
        out
    }
}

fn concerns(moment: &ContactMoment, role: Role) -> bool {
    matches!(role, Role::FosterCareWorker | Role::Guardian) || moment.attendees.contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Perspective;
    use crate::plan::PerspectiveDecision;
    use crate::{demo, Plan, Replica};
    use chrono::{Days, NaiveDate};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn demo_plan() -> Plan {
        Plan::from_replica(&Replica::from_ops(demo::PLAN, &demo::plan_ops(today())))
    }

    fn morning(d: Date) -> LocalDateTime {
        d.and_hms_opt(8, 0, 0).unwrap()
    }

    /// The demo plan's one planned visit (with parent, foster parent and child, in five days).
    fn visit(plan: &Plan) -> &ContactMoment {
        plan.contact_moments
            .iter()
            .find(|c| c.status == ContactStatus::Planned)
            .unwrap()
    }

    #[test]
    fn a_plan_on_track_reminds_nobody_of_anything() {
        let plan = demo_plan();
        for role in Role::ALL {
            assert_eq!(reminders(&plan, role, morning(today())), vec![], "{role:?}");
        }
    }

    #[test]
    fn a_visit_is_reminded_to_its_attendees_from_two_days_before() {
        let mut plan = demo_plan();
        let v = visit(&plan).clone();
        let expected = vec![Reminder::ContactSoon {
            id: v.id,
            at: v.at,
            kind: ContactKind::Visit,
        }];
        let day_before = v.at - Duration::hours(24);
        for role in Role::ALL {
            let concerned = role != Role::CareWorker;
            assert_eq!(
                reminders(&plan, role, day_before) == expected,
                concerned,
                "{role:?}"
            );
        }
        let parent = |plan: &Plan, now| reminders(plan, Role::Parent, now);
        assert_eq!(parent(&plan, v.at - Duration::hours(48)), vec![]);
        assert_eq!(
            parent(&plan, v.at - Duration::minutes(47 * 60 + 59)),
            expected
        );
        assert_eq!(parent(&plan, v.at), expected, "starting now");
        assert_eq!(
            parent(&plan, v.at + Duration::minutes(1)),
            vec![],
            "already begun"
        );

        plan.contact_moments
            .iter_mut()
            .find(|c| c.id == v.id)
            .unwrap()
            .status = ContactStatus::Cancelled;
        assert_eq!(parent(&plan, day_before), vec![], "cancelled");
    }

    #[test]
    fn the_worker_and_guardian_are_reminded_of_an_evaluation_two_weeks_ahead_and_when_overdue() {
        let plan = demo_plan();
        let due = rules::next_evaluation_due(&plan).unwrap();
        let at = |days_before: i64| morning(due - Duration::days(days_before));
        for role in [Role::FosterCareWorker, Role::Guardian] {
            assert_eq!(reminders(&plan, role, at(15)), vec![]);
            assert_eq!(
                reminders(&plan, role, at(14)),
                vec![Reminder::EvaluationDue { due, days_left: 14 }]
            );
            assert_eq!(
                reminders(&plan, role, at(0)),
                vec![Reminder::EvaluationDue { due, days_left: 0 }]
            );
            assert_eq!(
                reminders(&plan, role, at(-3)),
                vec![Reminder::EvaluationOverdue { due, days_over: 3 }]
            );
        }
        // Parents and foster parents cannot record one; the worker is reminded, not them.
        for role in [
            Role::Parent,
            Role::FosterParent,
            Role::Youth,
            Role::CareWorker,
        ] {
            assert_eq!(reminders(&plan, role, at(-3)), vec![], "{role:?}");
        }
    }

    #[test]
    fn the_perspective_deadline_is_reminded_sixty_days_ahead_and_once_passed_until_decided() {
        let mut plan = demo_plan();
        let deadline = rules::perspective_deadline(&plan).unwrap();
        // Evaluations kept up to date, so only the deadline speaks.
        let last = plan.evaluations.last_mut().unwrap();
        last.date = deadline - Days::new(20);
        let guardian = |plan: &Plan, d: Date| reminders(plan, Role::Guardian, morning(d));
        assert_eq!(guardian(&plan, deadline - Days::new(61)), vec![]);
        assert_eq!(
            guardian(&plan, deadline - Days::new(60)),
            vec![Reminder::DeadlineNearing {
                deadline,
                days_left: 60
            }]
        );
        assert_eq!(
            guardian(&plan, deadline + Days::new(2)),
            vec![Reminder::DeadlinePassed {
                deadline,
                days_over: 2
            }]
        );
        assert_eq!(
            reminders(&plan, Role::Parent, morning(deadline + Days::new(2))),
            vec![]
        );
        plan.decision = Some(PerspectiveDecision {
            outcome: Perspective::Home,
            reasons: None,
            date: Some(deadline),
            recorded_by: demo::GUARDIAN,
        });
        // Decided: no deadline any more, but the decision is a big change to evaluate soon.
        assert_eq!(
            guardian(&plan, deadline + Days::new(2)),
            vec![Reminder::EvaluationDue {
                due: deadline + Days::new(rules::EVALUATION_AFTER_CHANGE_DAYS),
                days_left: 12
            }]
        );
    }

    #[test]
    fn the_most_urgent_comes_first_and_keys_stay_put_while_the_subject_does() {
        let mut plan = demo_plan();
        let deadline = rules::perspective_deadline(&plan).unwrap();
        let now = morning(deadline + Days::new(2));
        let v = plan
            .contact_moments
            .iter_mut()
            .find(|c| c.status == ContactStatus::Planned)
            .unwrap();
        v.at = now + Duration::hours(27);
        let id = v.id;
        let found = reminders(&plan, Role::FosterCareWorker, now);
        let due = rules::next_evaluation_due(&plan).unwrap();
        assert!(due < deadline);
        assert_eq!(
            found.iter().map(Reminder::key).collect::<Vec<_>>(),
            vec![
                format!("evaluation-overdue:{due}"),
                format!("deadline-passed:{deadline}"),
                format!("contact:{id}@{}", now + Duration::hours(27)),
            ]
        );

        // A day later the same things are still reminded under the same keys.
        let later = reminders(&plan, Role::FosterCareWorker, now + Duration::hours(24));
        assert_eq!(
            later.iter().map(Reminder::key).collect::<Vec<_>>(),
            found.iter().map(Reminder::key).collect::<Vec<_>>()
        );
        assert_ne!(later, found, "with days counted on");
        // A visit moved to another time is a new thing to hear about.
        plan.contact_moments
            .iter_mut()
            .find(|c| c.id == id)
            .unwrap()
            .at += Duration::hours(1);
        let moved = reminders(&plan, Role::FosterCareWorker, now);
        assert_ne!(moved[2].key(), found[2].key());
    }
}
