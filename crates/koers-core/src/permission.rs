//! Who may do what. [`allowed`] is the one permission table; the app uses it to offer only what a
//! role may do, and the server uses it (through [`crate::authorize`]) before storing anything.

use crate::model::{Entity, Field, Role};
use crate::plan::Plan;

/// Something a member can do to a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Child, start date, fixed contact person.
    EditPlanDetails,
    /// Move the plan to another phase, or set phase dates.
    ChangePhase,
    /// Give one's own consent to start (phase 0).
    GiveOwnConsent,
    /// Record another party's consent on their behalf.
    RecordConsentForOther,
    /// Invite, rename or remove members.
    ManageMembers,
    /// Create, edit, reorder, assign or remove goals.
    ManageGoals,
    /// Tick off (or reopen) a goal that the member's role owns.
    TickOwnGoal,
    /// Tick off (or reopen) another party's goal.
    TickOtherGoal,
    CommentOnGoal,
    /// Plan a contact moment, or log one that happened (visit, call, message…).
    LogContactMoment,
    /// A parent's own view of a contact moment (shared parenting).
    AddParentView,
    /// The child's own words about a contact moment or evaluation.
    AddYouthView,
    /// Safety, development and wellbeing scores.
    RecordEvaluation,
    /// Home, or growing up in the foster family.
    RecordDecision,
    EditNetwork,
    EditIntervention,
    /// Hide (or show again) a comment or a parent's or child's view that someone else wrote: the
    /// worker's moderation. The words stay in the log; history shows who hid them and when.
    HideContribution,
}

impl Action {
    pub const ALL: [Action; 17] = [
        Action::EditPlanDetails,
        Action::ChangePhase,
        Action::GiveOwnConsent,
        Action::RecordConsentForOther,
        Action::ManageMembers,
        Action::ManageGoals,
        Action::TickOwnGoal,
        Action::TickOtherGoal,
        Action::CommentOnGoal,
        Action::LogContactMoment,
        Action::AddParentView,
        Action::AddYouthView,
        Action::RecordEvaluation,
        Action::RecordDecision,
        Action::EditNetwork,
        Action::EditIntervention,
        Action::HideContribution,
    ];
}

/// The permission table: role × action → allowed.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action as A;
    use Role as R;
    match action {
        A::GiveOwnConsent | A::TickOwnGoal => true,
        A::EditPlanDetails | A::ManageMembers | A::RecordConsentForOther | A::HideContribution => {
            role == R::FosterCareWorker
        }
        A::ChangePhase
        | A::ManageGoals
        | A::TickOtherGoal
        | A::RecordEvaluation
        | A::RecordDecision => {
            matches!(role, R::FosterCareWorker | R::Guardian)
        }
        A::CommentOnGoal => role != R::Youth,
        A::LogContactMoment => matches!(
            role,
            R::FosterParent | R::FosterCareWorker | R::Guardian | R::CareWorker
        ),
        A::AddParentView => role == R::Parent,
        A::AddYouthView => role == R::Youth,
        A::EditNetwork => matches!(role, R::Parent | R::FosterCareWorker | R::Guardian),
        A::EditIntervention => matches!(role, R::FosterCareWorker | R::Guardian | R::CareWorker),
    }
}

/// What kind of action writing `field` of `entity` is, for a member with `role`, given the plan as
/// it stands.
pub fn action_of(
    plan: &Plan,
    role: Role,
    author: crate::model::MemberId,
    entity: &Entity,
    field: Field,
) -> Action {
    match entity {
        Entity::Plan if field == Field::Phase => Action::ChangePhase,
        Entity::Plan => Action::EditPlanDetails,
        Entity::PhaseDates(_) => Action::ChangePhase,
        Entity::Member(_) => Action::ManageMembers,
        Entity::Consent(member) if *member == author => Action::GiveOwnConsent,
        Entity::Consent(_) => Action::RecordConsentForOther,
        Entity::Goal(id) if field == Field::Status => match plan.goal(*id) {
            Some(goal) if goal.owner == role => Action::TickOwnGoal,
            _ => Action::TickOtherGoal,
        },
        Entity::Goal(_) => Action::ManageGoals,
        Entity::GoalComment(_) if field == Field::Hidden => Action::HideContribution,
        Entity::GoalComment(_) => Action::CommentOnGoal,
        Entity::ContactMoment(_) => match field {
            Field::ParentView => Action::AddParentView,
            Field::YouthView => Action::AddYouthView,
            Field::ParentViewHidden | Field::YouthViewHidden => Action::HideContribution,
            _ => Action::LogContactMoment,
        },
        Entity::Evaluation(_) if field == Field::YouthView => Action::AddYouthView,
        Entity::Evaluation(_) if field == Field::YouthViewHidden => Action::HideContribution,
        Entity::Evaluation(_) => Action::RecordEvaluation,
        Entity::Intervention(_) => Action::EditIntervention,
        Entity::NetworkPerson(_) => Action::EditNetwork,
        Entity::Decision => Action::RecordDecision,
    }
}

/// Whether `field` of `entity` holds words written in someone's own name (a goal comment, a
/// parent's or the child's view): only their writer may change or clear them
/// ([`crate::Plan::writer`]).
pub fn is_own_words(entity: &Entity, field: Field) -> bool {
    match entity {
        Entity::GoalComment(_) => field != Field::Hidden,
        Entity::ContactMoment(_) => matches!(field, Field::ParentView | Field::YouthView),
        Entity::Evaluation(_) => field == Field::YouthView,
        _ => false,
    }
}

/// True if applying `op` can change what [`crate::authorize`] decides for later ops: membership
/// and roles, goal owners, phase, consents, the decision, and who wrote a comment or a view.
/// A holder of a [`Plan`] kept beside its replica (the server) derives the plan again after such
/// an op before checking the next one.
pub fn affects_authorization(op: &crate::Op) -> bool {
    matches!(
        op.entity,
        Entity::Plan | Entity::Member(_) | Entity::Consent(_) | Entity::Goal(_) | Entity::Decision
    ) || is_own_words(&op.entity, op.field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_work_on_their_own_goals_but_do_not_steer_the_plan() {
        assert!(allowed(Role::Parent, Action::TickOwnGoal));
        assert!(allowed(Role::Parent, Action::AddParentView));
        for a in [
            Action::ChangePhase,
            Action::RecordDecision,
            Action::TickOtherGoal,
            Action::ManageGoals,
        ] {
            assert!(!allowed(Role::Parent, a), "{a:?}");
        }
    }

    #[test]
    fn foster_parents_log_contact_moments_and_the_worker_leads() {
        assert!(allowed(Role::FosterParent, Action::LogContactMoment));
        assert!(!allowed(Role::FosterParent, Action::ChangePhase));
        assert!(
            Action::ALL
                .iter()
                .filter(|a| allowed(Role::FosterCareWorker, **a))
                .count()
                >= 14
        );
        assert!(allowed(Role::Guardian, Action::RecordDecision));
        assert!(!allowed(Role::Guardian, Action::ManageMembers));
    }

    #[test]
    fn only_the_worker_hides_what_others_wrote() {
        for role in Role::ALL {
            assert_eq!(
                allowed(role, Action::HideContribution),
                role == Role::FosterCareWorker,
                "{role:?}"
            );
        }
    }

    #[test]
    fn only_the_child_writes_the_childs_view_and_only_parents_the_parents_view() {
        for role in Role::ALL {
            assert_eq!(allowed(role, Action::AddYouthView), role == Role::Youth);
            assert_eq!(allowed(role, Action::AddParentView), role == Role::Parent);
        }
    }
}
