//! The method's rules: phase order and gates, the one-year perspective deadline, evaluation rhythm.

use chrono::{Days, Months};

use crate::model::{Date, MemberId, Perspective, Phase};
use crate::plan::Plan;

/// The perspective must be clear within one year of the start.
pub const PERSPECTIVE_DAYS: u64 = 365;
/// Warn this many days before the deadline.
pub const DEADLINE_WARNING_DAYS: i64 = 60;
/// Safety, development and wellbeing are evaluated at least four times a year.
pub const EVALUATION_INTERVAL_MONTHS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhaseError {
    #[error("phases go one step at a time: from phase {} the next is phase {}", .from.number(), .from.number() + 1)]
    NotNextPhase { from: Phase, to: Phase },
    #[error("every party must consent before goals are drawn up; {} still to consent", .missing.len())]
    ConsentMissing { missing: Vec<MemberId> },
    #[error("phase 2 ends with the perspective decision; record it first")]
    NoDecision,
    #[error("phase 3 only follows a decision that the child goes home")]
    DecisionNotHome,
}

/// Checks that the plan may move from its current phase to `to`.
pub fn check_phase_change(plan: &Plan, to: Phase) -> Result<(), PhaseError> {
    let from = plan.phase;
    if to == from {
        return Ok(());
    }
    if from.next() != Some(to) {
        return Err(PhaseError::NotNextPhase { from, to });
    }
    match to {
        Phase::Mandate | Phase::Execution => Ok(()),
        Phase::Goals => {
            let missing: Vec<MemberId> = plan
                .members
                .iter()
                .filter(|m| !plan.consents.contains_key(&m.id))
                .map(|m| m.id)
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(PhaseError::ConsentMissing { missing })
            }
        }
        Phase::StrengtheningHome => match &plan.decision {
            None => Err(PhaseError::NoDecision),
            Some(d) if d.outcome != Perspective::Home => Err(PhaseError::DecisionNotHome),
            Some(_) => Ok(()),
        },
        // Only reachable from phase 3, which itself needed a decision for home.
        Phase::AfterCare => Ok(()),
    }
}

/// The last day by which the perspective must be decided.
pub fn perspective_deadline(plan: &Plan) -> Option<Date> {
    plan.start_date?
        .checked_add_days(Days::new(PERSPECTIVE_DAYS))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The decision has been made: the deadline no longer applies.
    Decided,
    OnTrack {
        days_left: i64,
    },
    /// Within [`DEADLINE_WARNING_DAYS`] of the deadline.
    Nearing {
        days_left: i64,
    },
    Passed {
        days_over: i64,
    },
}

pub fn deadline(plan: &Plan, today: Date) -> Option<Deadline> {
    deadline_on(perspective_deadline(plan), plan.decision.is_some(), today)
}

/// [`deadline`] from what it reads of the plan: its [`perspective_deadline`] and whether the
/// decision is taken. For those who keep only these (a caseload summary).
pub fn deadline_on(
    perspective_deadline: Option<Date>,
    decided: bool,
    today: Date,
) -> Option<Deadline> {
    if decided {
        return Some(Deadline::Decided);
    }
    let days_left = (perspective_deadline? - today).num_days();
    Some(if days_left < 0 {
        Deadline::Passed {
            days_over: -days_left,
        }
    } else if days_left <= DEADLINE_WARNING_DAYS {
        Deadline::Nearing { days_left }
    } else {
        Deadline::OnTrack { days_left }
    })
}

/// After a big change (the plan entering a new phase, or the perspective decision), evaluate
/// within this many days.
pub const EVALUATION_AFTER_CHANGE_DAYS: u64 = 14;

/// The date by which the next evaluation is due: three months after the last one (or the
/// start), or sooner when a big change came after it: a new phase, or the decision.
pub fn next_evaluation_due(plan: &Plan) -> Option<Date> {
    let last = plan
        .evaluations
        .last()
        .map(|e| e.date)
        .or(plan.start_date)?;
    let regular = last.checked_add_months(Months::new(EVALUATION_INTERVAL_MONTHS))?;
    let phase_starts = plan.phase_dates.values().filter_map(|d| d.actual_start);
    let decided = plan.decision.as_ref().and_then(|d| d.date);
    let after_change = phase_starts
        .chain(decided)
        .filter(|changed| *changed > last)
        .max()
        .and_then(|changed| changed.checked_add_days(Days::new(EVALUATION_AFTER_CHANGE_DAYS)));
    Some(after_change.map_or(regular, |due| due.min(regular)))
}

pub fn evaluation_overdue(plan: &Plan, today: Date) -> bool {
    next_evaluation_due(plan).is_some_and(|due| evaluation_overdue_on(due, today))
}

/// An evaluation due on `due` is overdue on `today`: from the day after.
pub fn evaluation_overdue_on(due: Date, today: Date) -> bool {
    today > due
}
