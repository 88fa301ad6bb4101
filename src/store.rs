//! The plan on this device: the operation log (IndexedDB) folded into a replica, exposed to the
//! screens as signals. Every change is authored, checked, stored, and only then shown.

use std::rc::Rc;

use koers_core::{demo, Author, Entity, Field, NodeId, Op, OpId, Plan, PlanId, Refusal, Replica, Role};
use koers_store::{OpLog, StoreError};
use leptos::prelude::*;
use serde_json::Value;
use uuid::Uuid;

const DATABASE: &str = "koers";

/// One field to set.
pub struct Edit {
    pub entity: Entity,
    pub field: Field,
    pub value: Value,
}

impl Edit {
    pub fn new(entity: Entity, field: Field, value: impl serde::Serialize) -> Edit {
        Edit { entity, field, value: serde_json::to_value(value).expect("domain values serialize") }
    }
}

/// Why a change did not go through; the screens turn it into a sentence.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeError {
    /// This device has no member with the chosen role in the plan.
    NoMember,
    Refused(Refusal),
    Storage(StoreError),
    NotLoaded,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LoadState {
    Loading,
    Ready,
    Failed(StoreError),
}

struct Device {
    log: Rc<OpLog>,
    replica: Replica,
    node: NodeId,
}

/// Signals for the screens plus the non-reactive device state behind them.
#[derive(Clone, Copy)]
pub struct PlanStore {
    device: StoredValue<Option<Device>, LocalStorage>,
    pub plan: RwSignal<Option<Plan>>,
    pub state: RwSignal<LoadState>,
    /// Stored records this version could not read (kept, not deleted).
    pub unreadable: RwSignal<usize>,
    /// A sentence about the last change ("saved", or what went wrong and what to do).
    pub notice: RwSignal<Option<Notice>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

impl PlanStore {
    /// Opens the device's database and loads the plan, seeding the example plan on first use.
    pub fn open() -> PlanStore {
        let store = PlanStore {
            device: StoredValue::new_local(None),
            plan: RwSignal::new(None),
            state: RwSignal::new(LoadState::Loading),
            unreadable: RwSignal::new(0),
            notice: RwSignal::new(None),
        };
        leptos::task::spawn_local(async move {
            match load(demo::PLAN).await {
                Ok((device, unreadable)) => {
                    store.plan.set(Some(Plan::from_replica(&device.replica)));
                    store.unreadable.set(unreadable);
                    store.device.set_value(Some(device));
                    store.state.set(LoadState::Ready);
                }
                Err(e) => store.state.set(LoadState::Failed(e)),
            }
        });
        store
    }

    /// Applies `edits` as the member holding `role`: checked by the core's permission rules,
    /// stored durably, then shown. On any error nothing is shown and nothing is half-stored.
    pub async fn change(self, role: Role, edits: Vec<Edit>) -> Result<(), ChangeError> {
        let plan = self.plan.get_untracked().ok_or(ChangeError::NotLoaded)?;
        let member = plan.members.iter().find(|m| m.role == role).ok_or(ChangeError::NoMember)?.id;
        let now = js_sys::Date::now() as u64;
        let (log, ops) = self
            .device
            .with_value(|device| {
                let device = device.as_ref()?;
                let mut author = Author::new(member, device.node);
                let ops: Result<Vec<Op>, Refusal> = edits
                    .into_iter()
                    .map(|e| {
                        author.change(&device.replica, &plan, OpId(Uuid::new_v4()), now, e.entity, e.field, e.value)
                    })
                    .collect();
                Some((device.log.clone(), ops))
            })
            .ok_or(ChangeError::NotLoaded)?;
        let ops = ops.map_err(ChangeError::Refused)?;
        log.append_local(&ops).await.map_err(ChangeError::Storage)?;
        self.device.update_value(|device| {
            if let Some(device) = device {
                for op in &ops {
                    let _ = device.replica.apply(op);
                }
                self.plan.set(Some(Plan::from_replica(&device.replica)));
            }
        });
        Ok(())
    }
}

async fn load(plan: PlanId) -> Result<(Device, usize), StoreError> {
    let log = OpLog::open(DATABASE).await?;
    let node = match log.meta::<u64>("node").await? {
        Some(n) => NodeId(n),
        None => {
            let n = Uuid::new_v4().as_u64_pair().0;
            log.set_meta("node", &n).await?;
            NodeId(n)
        }
    };
    let mut loaded = log.load(plan).await?;
    if loaded.ops.is_empty() && plan == demo::PLAN {
        let today = chrono::Local::now().date_naive();
        loaded.ops = demo::plan_ops(today);
        log.append_remote(&loaded.ops).await?;
    }
    let mut replica = Replica::new(plan);
    for op in &loaded.ops {
        let _ = replica.apply(op);
    }
    Ok((Device { log: Rc::new(log), replica, node }, loaded.unreadable))
}
