//! Operations: every change to a plan is one of these, appended to a log and shipped by sync.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hlc::Hlc;
use crate::model::*;

/// One change: `author` set `field` of `entity` to `value` at time `hlc`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    pub id: OpId,
    pub plan: PlanId,
    pub hlc: Hlc,
    pub author: MemberId,
    pub entity: Entity,
    pub field: Field,
    pub value: Value,
    /// The write the author saw when making this change; a different current value means two
    /// people changed the field without seeing each other's change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<OpId>,
}

/// The entities `ops` change, once each and in entity order: what [`crate::Plan::refresh`] needs
/// after they are applied.
pub fn entities_of<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Vec<Entity> {
    let mut entities: Vec<Entity> = ops.into_iter().map(|op| op.entity).collect();
    entities.sort_unstable();
    entities.dedup();
    entities
}

/// Longest free text accepted in one field (about two pages).
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Longest list (attendees, participants).
pub const MAX_LIST_LEN: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOp {
    #[error("{entity} has no field {field:?}")]
    UnknownField { entity: &'static str, field: Field },
    #[error("the value for {field:?} is not valid: {reason}")]
    BadValue { field: Field, reason: String },
    #[error("the text for {field:?} is longer than {MAX_TEXT_CHARS} characters")]
    TooLong { field: Field },
}

impl Entity {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Entity::Plan => "plan",
            Entity::Member(_) => "member",
            Entity::Consent(_) => "consent",
            Entity::PhaseDates(_) => "phase_dates",
            Entity::Goal(_) => "goal",
            Entity::GoalComment(_) => "goal_comment",
            Entity::ContactMoment(_) => "contact_moment",
            Entity::Evaluation(_) => "evaluation",
            Entity::Intervention(_) => "intervention",
            Entity::NetworkPerson(_) => "network_person",
            Entity::Decision => "decision",
        }
    }
}

/// Checks that `field` belongs to `entity` and that `value` has the field's type.
pub fn validate_value(entity: &Entity, field: Field, value: &Value) -> Result<(), InvalidOp> {
    use Field as F;
    let is = |check: fn(&Value) -> Result<(), String>| {
        check(value).map_err(|reason| InvalidOp::BadValue { field, reason })
    };
    let text = || -> Result<(), InvalidOp> {
        let s: String = parse(field, value)?;
        if s.chars().count() > MAX_TEXT_CHARS {
            return Err(InvalidOp::TooLong { field });
        }
        Ok(())
    };
    let opt_text = || -> Result<(), InvalidOp> {
        if value.is_null() {
            Ok(())
        } else {
            text()
        }
    };
    let list = || -> Result<(), InvalidOp> {
        let roles: Vec<Role> = parse(field, value)?;
        if roles.len() > MAX_LIST_LEN {
            return Err(InvalidOp::BadValue {
                field,
                reason: "too many entries".into(),
            });
        }
        Ok(())
    };
    let unknown = || {
        Err(InvalidOp::UnknownField {
            entity: entity.kind_name(),
            field,
        })
    };
    match entity {
        Entity::Plan => match field {
            F::ChildName => text(),
            F::ChildBirthDate => parse::<Option<Date>>(field, value).map(drop),
            F::StartDate => parse::<Date>(field, value).map(drop),
            F::Phase => parse::<Phase>(field, value).map(drop),
            F::ContactPerson => parse::<Option<MemberId>>(field, value).map(drop),
            F::IsExample => parse::<bool>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::Member(_) => match field {
            F::Name => text(),
            F::Role => parse::<Role>(field, value).map(drop),
            F::Phone => opt_text(),
            F::Deleted => parse::<bool>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::Consent(_) => match field {
            F::GivenAt => parse::<Option<LocalDateTime>>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::PhaseDates(_) => match field {
            F::PlannedStart | F::ActualStart => parse::<Option<Date>>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::Goal(_) => match field {
            F::Title => text(),
            F::Description => opt_text(),
            F::Owner => parse::<Role>(field, value).map(drop),
            F::Priority => is(|v| {
                v.as_i64()
                    .map(drop)
                    .ok_or_else(|| "expected a whole number".into())
            }),
            F::Status => parse::<GoalStatus>(field, value).map(drop),
            F::Deadline => parse::<Option<Date>>(field, value).map(drop),
            F::Intervention => parse::<Option<InterventionId>>(field, value).map(drop),
            F::Deleted => parse::<bool>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::GoalComment(_) => match field {
            F::Goal => parse::<GoalId>(field, value).map(drop),
            F::Text => text(),
            F::Deleted | F::Hidden => parse::<bool>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::ContactMoment(_) => match field {
            F::At => parse::<LocalDateTime>(field, value).map(drop),
            F::Kind => parse::<ContactKind>(field, value).map(drop),
            F::Status => parse::<ContactStatus>(field, value).map(drop),
            F::Place | F::Note | F::CancelReason | F::ParentView | F::YouthView => opt_text(),
            F::Attendees => list(),
            F::DurationMinutes => parse::<Option<u16>>(field, value).map(drop),
            F::Rating => parse::<Option<Rating>>(field, value).map(drop),
            F::Deleted | F::ParentViewHidden | F::YouthViewHidden => {
                parse::<bool>(field, value).map(drop)
            }
            _ => unknown(),
        },
        Entity::Evaluation(_) => match field {
            F::Date => parse::<Date>(field, value).map(drop),
            F::Safety | F::Development | F::Wellbeing => {
                parse::<Option<Score>>(field, value).map(drop)
            }
            F::Note | F::BigChange | F::YouthView => opt_text(),
            F::Participants => list(),
            F::ChildTookPart | F::Deleted | F::YouthViewHidden => {
                parse::<bool>(field, value).map(drop)
            }
            _ => unknown(),
        },
        Entity::Intervention(_) => match field {
            F::Kind => parse::<InterventionKind>(field, value).map(drop),
            F::Name | F::Note => opt_text(),
            F::Status => parse::<InterventionStatus>(field, value).map(drop),
            F::HoursPerWeek => {
                let h: f32 = parse(field, value)?;
                if (0.0..=60.0).contains(&h) {
                    Ok(())
                } else {
                    Err(InvalidOp::BadValue {
                        field,
                        reason: "hours per week are 0 to 60".into(),
                    })
                }
            }
            F::Deleted => parse::<bool>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::NetworkPerson(_) => match field {
            F::Name => text(),
            F::Relation | F::HelpsWith | F::Phone => opt_text(),
            F::Deleted => parse::<bool>(field, value).map(drop),
            _ => unknown(),
        },
        Entity::Decision => match field {
            F::Outcome => parse::<Option<Perspective>>(field, value).map(drop),
            F::Reasons => opt_text(),
            F::Date => parse::<Option<Date>>(field, value).map(drop),
            _ => unknown(),
        },
    }
}

fn parse<T: DeserializeOwned>(field: Field, value: &Value) -> Result<T, InvalidOp> {
    T::deserialize(value).map_err(|e| InvalidOp::BadValue {
        field,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn fields_must_belong_to_their_entity_and_have_the_right_type() {
        let goal = Entity::Goal(GoalId(Uuid::nil()));
        assert!(validate_value(&goal, Field::Title, &json!("Elke ochtend ontbijt")).is_ok());
        assert!(validate_value(&goal, Field::Status, &json!("done")).is_ok());
        assert!(matches!(
            validate_value(&goal, Field::Status, &json!("finished")),
            Err(InvalidOp::BadValue { .. })
        ));
        assert!(matches!(
            validate_value(&goal, Field::Rating, &json!(3)),
            Err(InvalidOp::UnknownField { .. })
        ));
        assert!(matches!(
            validate_value(&goal, Field::Title, &json!("x".repeat(MAX_TEXT_CHARS + 1))),
            Err(InvalidOp::TooLong { .. })
        ));
        let cm = Entity::ContactMoment(ContactMomentId(Uuid::nil()));
        assert!(validate_value(&cm, Field::Rating, &json!(6)).is_err());
        assert!(validate_value(&cm, Field::Rating, &json!(5)).is_ok());
        assert!(validate_value(&cm, Field::At, &json!("2026-03-01T14:30:00")).is_ok());
        assert!(validate_value(&cm, Field::At, &json!("tomorrow")).is_err());
        let ev = Entity::Evaluation(EvaluationId(Uuid::nil()));
        assert!(validate_value(&ev, Field::Safety, &json!(10)).is_ok());
        assert!(validate_value(&ev, Field::Safety, &json!(11)).is_err());
    }

    #[test]
    fn ops_round_trip_through_json_and_reject_unknown_fields() {
        let op = Op {
            id: OpId(Uuid::from_u128(1)),
            plan: PlanId(Uuid::from_u128(2)),
            hlc: "000000000000001000-0000000-0000000000000001"
                .parse()
                .unwrap(),
            author: MemberId(Uuid::from_u128(3)),
            entity: Entity::Goal(GoalId(Uuid::from_u128(4))),
            field: Field::Status,
            value: json!("done"),
            supersedes: None,
        };
        let text = serde_json::to_string(&op).unwrap();
        assert_eq!(serde_json::from_str::<Op>(&text).unwrap(), op);
        let mut v: Value = serde_json::from_str(&text).unwrap();
        v["extra"] = json!(1);
        assert!(serde_json::from_value::<Op>(v).is_err());
    }
}
