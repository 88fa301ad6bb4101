//! The Koers domain, with no browser or server dependency: a family plan (phases, goals, contact
//! moments, evaluations, network, decision), the operations that change it, the rules that merge
//! them, and the one permission table every layer uses.
//!
//! Data flow: an [`Author`] turns an edit into an [`Op`] (checked by [`authorize`]); ops are stored,
//! synced, and folded into a [`Replica`] by [`Replica::apply`]; screens read the [`Plan`] derived
//! from it by [`Plan::from_replica`], and kept up to date after changes by [`Plan::refresh`].

pub mod author;
/// The planned contact moments as an iCalendar file for the phone's calendar.
pub mod calendar;
/// The caseload overview ("Mijn gezinnen"): a small per-plan summary, what it signals on a given
/// day, the member's own open actions, and the order that puts what needs attention first.
pub mod caseload;
pub mod demo;
/// Moving a whole plan to a fresh install as one JSON document.
pub mod export;
pub mod founding;
/// Who changed what and when (the transparency screen).
pub mod history;
pub mod hlc;
pub mod model;
pub mod op;
pub mod permission;
pub mod plan;
/// What to remind a member of: evaluations, contact moments, the deadline.
pub mod reminders;
/// Putting goals in order.
pub mod reorder;
pub mod replica;
pub mod rules;
/// A generated one-year plan for benchmarks and load tests.
pub mod year;

pub use author::{renew_ids, restamp, restamp_refused, Author, Edit};
pub use export::{ImportError, Imported};
pub use history::Change;
pub use hlc::{Clock, Hlc, NodeId};
pub use model::*;
pub use op::{InvalidOp, Op};
pub use permission::{affects_authorization, allowed, Action};
pub use plan::Plan;
pub use reminders::Reminder;
pub use replica::{Applied, Replica, WrongPlan};
pub use rules::PhaseError;

/// Why an operation was refused. Each reads as a sentence; the app shows its own translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Invalid(#[from] InvalidOp),
    #[error("this change belongs to another plan")]
    WrongPlan,
    #[error("the author is not a member of this plan")]
    NotAMember,
    #[error("a {role:?} may not do this ({action:?})")]
    NotAllowed { role: Role, action: Action },
    #[error(transparent)]
    Phase(#[from] PhaseError),
    /// Taking oneself out would leave a plan without the one who manages it.
    #[error("a member cannot take themselves out of the plan")]
    RemovesSelf,
    /// A goal comment, or a parent's or the child's view, is in its writer's own words: nobody
    /// else changes or removes it (the worker may hide it instead).
    #[error("only its writer may change this {}", own_words_name(*.field))]
    NotTheWriter { writer: MemberId, field: Field },
}

fn own_words_name(field: Field) -> &'static str {
    match field {
        Field::ParentView => "parent's view",
        Field::YouthView => "child's view",
        _ => "comment",
    }
}

/// Checks one operation against the plan as it stands: the value's type, the author's membership
/// and role (through [`allowed`]), that only its writer changes a comment or a view
/// ([`Plan::writer`]), and the phase rules. Returns what kind of action it is.
pub fn authorize(plan: &Plan, op: &Op) -> Result<Action, Refusal> {
    if op.plan != plan.id {
        return Err(Refusal::WrongPlan);
    }
    op::validate_value(&op.entity, op.field, &op.value)?;
    let role = plan.member(op.author).ok_or(Refusal::NotAMember)?.role;
    let action = permission::action_of(plan, role, op.author, &op.entity, op.field);
    if !allowed(role, action) {
        return Err(Refusal::NotAllowed { role, action });
    }
    if let Some(writer) = plan.writer(op.entity, op.field) {
        if writer != op.author {
            return Err(Refusal::NotTheWriter {
                writer,
                field: op.field,
            });
        }
    }
    if op.entity == Entity::Member(op.author) && op.field == Field::Deleted && op.value == true {
        return Err(Refusal::RemovesSelf);
    }
    if let (Entity::Plan, Field::Phase) = (op.entity, op.field) {
        let to: Phase =
            serde_json::from_value(op.value.clone()).map_err(|e| InvalidOp::BadValue {
                field: op.field,
                reason: e.to_string(),
            })?;
        rules::check_phase_change(plan, to)?;
    }
    Ok(action)
}
