//! Moving a whole plan to a fresh install: its operations in one versioned JSON document. The
//! operations, not the derived plan, are exported, so that nothing (history included) is lost and
//! the new install merges later changes exactly as the old one would have.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{OpId, PlanId};
use crate::op::{self, InvalidOp, Op};
use crate::plan::Plan;
use crate::replica::Replica;

/// What the `format` field of an export says.
pub const FORMAT: &str = "koers-plan";
/// The newest export version this app writes and reads.
pub const VERSION: u64 = 1;

#[derive(Serialize)]
struct Header<'a> {
    format: &'a str,
    version: u64,
    plan: PlanId,
    exported_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Body {
    plan: PlanId,
    exported_at: DateTime<Utc>,
    ops: Vec<Value>,
}

/// A plan read back from an export, checked and ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub plan: PlanId,
    /// In the order they were exported, each id once.
    pub ops: Vec<Op>,
    pub exported_at: DateTime<Utc>,
}

/// Why an export could not be read. Nothing is imported when any of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not readable JSON; it may be cut off or damaged ({reason})")]
    NotJson { reason: String },
    #[error("the file is not a Koers plan export")]
    NotAnExport,
    #[error("the export was made by a newer version of Koers (version {found}, this app reads up to {VERSION}); update the app first")]
    NewerVersion { found: u64 },
    #[error("change number {index} in the export is not a change Koers knows ({reason})")]
    MalformedOp { index: usize, reason: String },
    #[error("change {op} belongs to another plan than the export says")]
    OpOfAnotherPlan { op: OpId },
    #[error("change {op} is not valid: {source}")]
    InvalidOp {
        op: OpId,
        #[source]
        source: InvalidOp,
    },
    #[error("the export holds no changes")]
    NoOps,
    #[error("the export does not make a plan with a child's name")]
    NoChildName,
}

/// Writes the operations of `plan` as an export document: the header first, then one operation
/// per line, so that a person can look inside (and it is a fifth smaller than pretty-printed).
/// Operations of other plans are left out, so that the export always reads back.
pub fn export(plan: PlanId, ops: &[Op], exported_at: DateTime<Utc>) -> String {
    let header = Header {
        format: FORMAT,
        version: VERSION,
        plan,
        exported_at,
    };
    let mut out = serde_json::to_string(&header).expect("the header serializes");
    // The header is an object; reopen it to append the operations.
    out.pop();
    out.push_str(",\n\"ops\": [");
    let mut first = true;
    for op in ops.iter().filter(|o| o.plan == plan) {
        out.push_str(if first { "\n" } else { ",\n" });
        first = false;
        out.push_str(&serde_json::to_string(op).expect("an operation serializes"));
    }
    out.push_str("\n]}\n");
    out
}

/// Reads an export back: checks the format and version, every operation's plan and value, and
/// that the operations make a plan with a child's name. Repeated operation ids are kept once.
pub fn import(text: &str) -> Result<Imported, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::NotJson {
        reason: e.to_string(),
    })?;
    // Format and version first, so that a newer export says so rather than "not an export".
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(ImportError::NotAnExport);
    }
    match doc.get("version").and_then(Value::as_u64) {
        Some(found) if found > VERSION => return Err(ImportError::NewerVersion { found }),
        Some(1..) => {}
        _ => return Err(ImportError::NotAnExport),
    }
    let body = Body::deserialize(doc).map_err(|_| ImportError::NotAnExport)?;

    let mut seen = HashSet::new();
    let mut ops = Vec::with_capacity(body.ops.len());
    for (index, raw) in body.ops.into_iter().enumerate() {
        let op: Op = serde_json::from_value(raw).map_err(|e| ImportError::MalformedOp {
            index,
            reason: e.to_string(),
        })?;
        if op.plan != body.plan {
            return Err(ImportError::OpOfAnotherPlan { op: op.id });
        }
        op::validate_value(&op.entity, op.field, &op.value)
            .map_err(|source| ImportError::InvalidOp { op: op.id, source })?;
        if seen.insert(op.id) {
            ops.push(op);
        }
    }
    if ops.is_empty() {
        return Err(ImportError::NoOps);
    }
    // Every op was checked above to be of this plan.
    let replica = Replica::from_ops(body.plan, &ops);
    if Plan::from_replica(&replica).child_name.trim().is_empty() {
        return Err(ImportError::NoChildName);
    }
    Ok(Imported {
        plan: body.plan,
        ops,
        exported_at: body.exported_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::model::{ContactMomentId, Entity, Field};
    use chrono::{NaiveDate, TimeZone};
    use serde_json::json;
    use uuid::Uuid;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn exported_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 15, 4, 5).unwrap()
    }

    fn replay(plan: PlanId, ops: &[Op]) -> Plan {
        Plan::from_replica(&Replica::from_ops(plan, ops))
    }

    fn demo_export() -> String {
        export(demo::PLAN, &demo::plan_ops(today()), exported_at())
    }

    /// The demo export as JSON, changed by `edit`, as text again.
    fn altered(edit: impl FnOnce(&mut Value)) -> String {
        let mut doc: Value = serde_json::from_str(&demo_export()).unwrap();
        edit(&mut doc);
        doc.to_string()
    }

    #[test]
    fn an_exported_plan_reads_back_as_the_same_plan() {
        let ops = demo::plan_ops(today());
        let text = export(demo::PLAN, &ops, exported_at());
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["format"], "koers-plan");
        assert_eq!(doc["version"], 1);

        let imported = import(&text).unwrap();
        assert_eq!(imported.plan, demo::PLAN);
        assert_eq!(imported.exported_at, exported_at());
        assert_eq!(imported.ops, ops);
        let original = replay(demo::PLAN, &ops);
        assert_eq!(replay(imported.plan, &imported.ops), original);
        assert_eq!(original.child_name, "Noa");
    }

    #[test]
    fn repeated_changes_are_kept_once_and_other_plans_are_left_out() {
        let ops = demo::plan_ops(today());
        let mut doubled = ops.clone();
        doubled.extend(ops.iter().take(10).cloned());
        let mut stranger = ops[0].clone();
        stranger.plan = PlanId(Uuid::from_u128(99));
        stranger.id = OpId(Uuid::from_u128(99));
        doubled.push(stranger);

        let imported = import(&export(demo::PLAN, &doubled, exported_at())).unwrap();
        assert_eq!(imported.ops, ops);
    }

    #[test]
    fn each_kind_of_bad_file_gets_its_own_error() {
        assert!(matches!(
            import("Noa, 13 jaar"),
            Err(ImportError::NotJson { .. })
        ));
        assert!(matches!(import(""), Err(ImportError::NotJson { .. })));
        for not_ours in [
            "[1, 2]",
            r#"{"name": "Noa"}"#,
            r#"{"format": "koers-plan"}"#,
            &altered(|d| d["format"] = json!("other-app")),
            &altered(|d| d["version"] = json!(0)),
            &altered(|d| d["version"] = json!("1")),
            &altered(|d| d["plan"] = json!("not-a-uuid")),
            &altered(|d| d["ops"] = json!({})),
        ] {
            assert_eq!(
                import(not_ours),
                Err(ImportError::NotAnExport),
                "{not_ours:.60}"
            );
        }
        assert_eq!(
            import(&altered(|d| d["version"] = json!(2))),
            Err(ImportError::NewerVersion { found: 2 })
        );
        // A newer version is reported as such, even if the rest has changed shape.
        assert_eq!(
            import(r#"{"format": "koers-plan", "version": 3, "plans": []}"#),
            Err(ImportError::NewerVersion { found: 3 })
        );
        assert!(matches!(
            import(&altered(|d| d["ops"][4]["entity"] = json!("house:1"))),
            Err(ImportError::MalformedOp { index: 4, .. })
        ));
        let other = PlanId(Uuid::from_u128(5));
        let first = demo::plan_ops(today())[0].id;
        assert_eq!(
            import(&altered(|d| d["ops"][0]["plan"] = json!(other))),
            Err(ImportError::OpOfAnotherPlan { op: first })
        );
        let visit = Entity::ContactMoment(ContactMomentId(Uuid::from_u128(1)));
        let bad = altered(|d| {
            d["ops"][0]["entity"] = json!(visit);
            d["ops"][0]["field"] = json!(Field::Rating);
            d["ops"][0]["value"] = json!(9);
        });
        assert!(matches!(
            import(&bad),
            Err(ImportError::InvalidOp { op, source: InvalidOp::BadValue { field: Field::Rating, .. } }) if op == first
        ));
        assert_eq!(
            import(&altered(|d| d["ops"] = json!([]))),
            Err(ImportError::NoOps)
        );
        let nameless = altered(|d| {
            let ops = d["ops"].as_array_mut().unwrap();
            ops.retain(|o| o["field"] != "child_name");
        });
        assert_eq!(import(&nameless), Err(ImportError::NoChildName));
        let blank = altered(|d| {
            for o in d["ops"].as_array_mut().unwrap() {
                if o["field"] == "child_name" {
                    o["value"] = json!("  ");
                }
            }
        });
        assert_eq!(import(&blank), Err(ImportError::NoChildName));
    }

    #[test]
    fn a_cut_off_file_is_refused_whole() {
        let text = demo_export();
        let mut cuts = 0;
        for end in (1..text.len())
            .step_by(37)
            .filter(|e| text.is_char_boundary(*e))
        {
            let result = import(&text[..end]);
            assert!(
                matches!(result, Err(ImportError::NotJson { .. })),
                "cut at {end}: {result:?}"
            );
            cuts += 1;
        }
        assert!(cuts > 100);
        // Only the final closing brace missing: still refused.
        let end = text.trim_end().len() - 1;
        assert!(matches!(
            import(&text[..end]),
            Err(ImportError::NotJson { .. })
        ));
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = ImportError::NewerVersion { found: 2 };
        assert_eq!(
            e.to_string(),
            "the export was made by a newer version of Koers (version 2, this app reads up to 1); update the app first"
        );
    }
}
