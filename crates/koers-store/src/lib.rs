//! The device's copy of its plans: an append-only log of operations in IndexedDB, plus a few
//! device facts (node id, sync cursors). Screens never store state any other way: they derive it
//! from these operations through `koers_core`.

use koers_core::{Op, OpId, PlanId};
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

const OPS: &str = "ops";
const META: &str = "meta";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("this browser does not allow storing data here (private mode?): {0}")]
    Unavailable(String),
    #[error("the device's storage is full")]
    QuotaExceeded,
    #[error("storage failed: {0}")]
    Failed(String),
}

impl From<rexie::Error> for StoreError {
    // rexie prints only "idb error"; keep the DOMException's own name and message, which the
    // inner error's Debug holds (its Display would add a few kilobytes of messages to the
    // phone's first download, and says no more).
    fn from(e: rexie::Error) -> Self {
        let detail = match &e {
            rexie::Error::IdbError(inner) => format!("{inner:?}"),
            other => other.to_string(),
        };
        if detail.contains("QuotaExceeded") {
            StoreError::QuotaExceeded
        } else {
            StoreError::Failed(detail)
        }
    }
}

/// One stored record: a single operation (keyed by its id), and whether the server has
/// acknowledged it yet; or, after [`OpLog::compact`], a pack of many acknowledged operations of
/// one plan. A year's plan holds thousands of operations, and reading one IndexedDB record costs
/// about as much as parsing it: packs make opening the app several times faster.
#[derive(Serialize, Deserialize)]
struct Record {
    plan: PlanId,
    #[serde(default)]
    pending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<Op>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pack: Vec<Op>,
}

impl Record {
    fn read(value: &JsValue) -> Option<Record> {
        value
            .as_string()
            .and_then(|t| serde_json::from_str(&t).ok())
    }

    fn text(&self) -> JsValue {
        JsValue::from_str(&serde_json::to_string(self).expect("operations serialize"))
    }
}

/// The records of the "ops" store that an [`OpLog`] method reads, each one key range. Why this
/// works: operations stored one by one are keyed by their id, a lowercase hex UUID, so they all
/// sort below "pack:"; packs are keyed `pack:<plan>:<first op id>`, so one plan's packs sort
/// together. Opening one plan then reads its own packs and no other plan's: a phone with 20
/// year-long plans holds some 60 MB of records.
enum Records {
    /// Operations stored one by one, of every plan.
    Singles,
    /// The packs of one plan.
    Packs(PlanId),
}

impl Records {
    fn range(self) -> Result<KeyRange, StoreError> {
        let range = match self {
            Records::Singles => KeyRange::upper_bound(&JsValue::from_str("pack:"), Some(true)),
            // From "pack:<plan>:" up to, not including, "pack:<plan>;" (';' follows ':'): exactly
            // the keys that start with "pack:<plan>:", whatever follows.
            Records::Packs(plan) => KeyRange::bound(
                &JsValue::from_str(&format!("pack:{}:", plan.0)),
                &JsValue::from_str(&format!("pack:{};", plan.0)),
                Some(false),
                Some(true),
            ),
        };
        Ok(range.map_err(rexie::Error::from)?)
    }
}

/// Pack acknowledged operations once this many are stored one by one.
pub const PACK_AT: usize = 200;
/// At most this many operations go into one pack (a year's plan holds about 5,000): packing
/// this many takes a fraction of a second, during which a change waits for the transaction.
const PACK_MAX: usize = 10_000;

/// What [`OpLog::load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub ops: Vec<Op>,
    /// Ids of operations not yet acknowledged by the server.
    pub pending: Vec<OpId>,
    /// Records that could not be read (damaged, or from a newer app version): this plan's packs,
    /// and records stored one by one, whose plan a damaged one cannot tell. They are left in
    /// place, never deleted, so a later version can still read them.
    pub unreadable: usize,
    /// Acknowledged operations stored one by one: worth an [`OpLog::compact`] from [`PACK_AT`].
    pub unpacked: usize,
}

/// The IndexedDB database of one device.
pub struct OpLog {
    db: Rexie,
}

impl OpLog {
    /// Opens (or creates) the database called `name`.
    pub async fn open(name: &str) -> Result<OpLog, StoreError> {
        let db = Rexie::builder(name)
            .version(1)
            .add_object_store(ObjectStore::new(OPS))
            .add_object_store(ObjectStore::new(META))
            .build()
            .await
            .map_err(|e| StoreError::Unavailable(StoreError::from(e).to_string()))?;
        Ok(OpLog { db })
    }

    /// Deletes the database called `name` (for tests; the app wipes a phone with `clear`).
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        Ok(Rexie::delete(name).await?)
    }

    /// Stores operations made on this device (pending until the server acknowledges them). Returns
    /// only after the transaction committed: an operation is never shown before it is stored.
    pub async fn append_local(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.put(ops, true).await
    }

    /// Stores operations received from the server (already acknowledged).
    pub async fn append_remote(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.put(ops, false).await
    }

    async fn put(&self, ops: &[Op], pending: bool) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadWrite)?;
        let store = tx.store(OPS)?;
        let rows = ops.iter().map(|op| {
            let record = Record {
                plan: op.plan,
                pending,
                op: Some(op.clone()),
                pack: Vec::new(),
            };
            (record.text(), Some(JsValue::from_str(&op.id.to_string())))
        });
        // One request chain in one transaction: ~3× faster than awaiting each put.
        store.put_all(rows).await?;
        tx.done().await?;
        Ok(())
    }

    /// Marks operations as acknowledged by the server.
    pub async fn mark_acknowledged(&self, ids: &[OpId]) -> Result<(), StoreError> {
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadWrite)?;
        let store = tx.store(OPS)?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            let key = JsValue::from_str(&id.to_string());
            let Some(value) = store.get(key.clone()).await? else {
                continue;
            };
            let Some(mut record) = Record::read(&value) else {
                continue;
            };
            record.pending = false;
            rows.push((record.text(), Some(key)));
        }
        store.put_all(rows.into_iter()).await?;
        tx.done().await?;
        Ok(())
    }

    /// All stored operations of one plan.
    pub async fn load(&self, plan: PlanId) -> Result<Loaded, StoreError> {
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadOnly)?;
        let store = tx.store(OPS)?;
        let packs = store
            .get_all(Some(Records::Packs(plan).range()?), None)
            .await?;
        let ones = store.get_all(Some(Records::Singles.range()?), None).await?;
        tx.done().await?;
        let mut loaded = Loaded::default();
        // An operation stored again after it was packed (pulled a second time, say after the
        // server's data came back from a backup, and perhaps packed again) is one operation: the
        // first pack's copy counts.
        let mut packed = std::collections::HashSet::new();
        let mut singles = Vec::new();
        // Records are written with the plan first, so other plans' records are skipped unparsed.
        let this_plan = format!("{{\"plan\":\"{}\"", plan.0);
        for value in packs.into_iter().chain(ones) {
            let text = value.as_string();
            if let Some(t) = &text {
                if t.starts_with("{\"plan\":\"") && !t.starts_with(&this_plan) {
                    continue;
                }
            }
            match text.and_then(|t| serde_json::from_str::<Record>(&t).ok()) {
                Some(r) if r.plan == plan => {
                    if let Some(op) = r.op {
                        singles.push((op, r.pending));
                    }
                    for op in r.pack {
                        if packed.insert(op.id) {
                            loaded.ops.push(op);
                        }
                    }
                }
                Some(_) => {}
                None => loaded.unreadable += 1,
            }
        }
        for (op, pending) in singles {
            if packed.contains(&op.id) {
                continue;
            }
            if pending {
                loaded.pending.push(op.id);
            } else {
                loaded.unpacked += 1;
            }
            loaded.ops.push(op);
        }
        Ok(loaded)
    }

    /// Removes every operation of one plan from this device, packed or not (its packs even when
    /// unreadable: their key tells their plan).
    pub async fn remove_plan(&self, plan: PlanId) -> Result<(), StoreError> {
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadWrite)?;
        let store = tx.store(OPS)?;
        store.delete(Records::Packs(plan).range()?.into()).await?;
        let singles = Records::Singles.range()?;
        let keys = store.get_all_keys(Some(singles.clone()), None).await?;
        let values = store.get_all(Some(singles), None).await?;
        for (key, value) in keys.into_iter().zip(values) {
            if Record::read(&value).is_some_and(|r| r.plan == plan) {
                store.delete(key).await?;
            }
        }
        tx.done().await?;
        Ok(())
    }

    /// Packs the acknowledged operations of `plan` that are stored one by one into one record,
    /// once there are at least `at_least` of them. All in one transaction: a closed tab leaves
    /// either the single records or the pack. Returns how many were packed.
    pub async fn compact(&self, plan: PlanId, at_least: usize) -> Result<usize, StoreError> {
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadWrite)?;
        let store = tx.store(OPS)?;
        // Packs are never repacked: no need to read them.
        let range = Records::Singles.range()?;
        let keys = store.get_all_keys(Some(range.clone()), None).await?;
        let values = store.get_all(Some(range), None).await?;
        let (mut singles, mut ops) = (Vec::new(), Vec::new());
        for (key, value) in keys.into_iter().zip(values) {
            match Record::read(&value) {
                Some(Record {
                    plan: p,
                    pending: false,
                    op: Some(op),
                    ..
                }) if p == plan && ops.len() < PACK_MAX => {
                    singles.push(key);
                    ops.push(op);
                }
                _ => {}
            }
        }
        if ops.len() < at_least.max(1) {
            tx.done().await?;
            return Ok(0);
        }
        let key = format!("pack:{}:{}", plan.0, ops[0].id.0);
        let count = ops.len();
        let pack = Record {
            plan,
            pending: false,
            op: None,
            pack: ops,
        };
        store
            .put(&pack.text(), Some(&JsValue::from_str(&key)))
            .await?;
        for key in singles {
            store.delete(key).await?;
        }
        tx.done().await?;
        Ok(count)
    }

    /// Removes operations, e.g. ones the server refused (they are rolled back on this device).
    pub async fn remove_ops(&self, ids: &[OpId]) -> Result<(), StoreError> {
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadWrite)?;
        let store = tx.store(OPS)?;
        for id in ids {
            store.delete(JsValue::from_str(&id.to_string())).await?;
        }
        tx.done().await?;
        Ok(())
    }

    /// Removes everything this device stored, every plan's operations and every device fact
    /// (node id, session, sync cursors), in one transaction: all of it goes, or nothing.
    pub async fn clear(&self) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[OPS, META], TransactionMode::ReadWrite)?;
        tx.store(OPS)?.clear().await?;
        tx.store(META)?.clear().await?;
        tx.done().await?;
        Ok(())
    }

    /// A small device fact (JSON), such as this device's node id or a sync cursor.
    pub async fn meta<T: for<'de> Deserialize<'de>>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let [text] = self.meta_texts([key]).await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Several device facts as stored (JSON text), read in one transaction: opening the app
    /// reads three, and each transaction costs a few milliseconds.
    pub async fn meta_texts<const N: usize>(
        &self,
        keys: [&str; N],
    ) -> Result<[Option<String>; N], StoreError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadOnly)?;
        let store = tx.store(META)?;
        let mut texts = [const { None }; N];
        for (text, key) in texts.iter_mut().zip(keys) {
            *text = store
                .get(JsValue::from_str(key))
                .await?
                .and_then(|v| v.as_string());
        }
        tx.done().await?;
        Ok(texts)
    }

    /// Any number of device facts as stored (JSON text), read in one transaction: the facts of
    /// every plan on the phone at start.
    pub async fn meta_many(&self, keys: &[String]) -> Result<Vec<Option<String>>, StoreError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadOnly)?;
        let store = tx.store(META)?;
        let mut texts = Vec::with_capacity(keys.len());
        for key in keys {
            texts.push(
                store
                    .get(JsValue::from_str(key))
                    .await?
                    .and_then(|v| v.as_string()),
            );
        }
        tx.done().await?;
        Ok(texts)
    }

    pub async fn set_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        // Device facts are plain data that always serialize; serde_json's error messages would
        // only add to the first download.
        let text = serde_json::to_string(value)
            .map_err(|_| StoreError::Failed(format!("device fact {key} could not be written")))?;
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?
            .put(&JsValue::from_str(&text), Some(&JsValue::from_str(key)))
            .await?;
        tx.done().await?;
        Ok(())
    }

    pub async fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?.delete(JsValue::from_str(key)).await?;
        tx.done().await?;
        Ok(())
    }

    /// How many records the log holds, for tests of packing.
    #[doc(hidden)]
    pub async fn record_count(&self) -> Result<u32, StoreError> {
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadOnly)?;
        let count = tx.store(OPS)?.count(None).await?;
        tx.done().await?;
        Ok(count)
    }

    /// The raw store, for tests that need to plant a damaged record.
    #[doc(hidden)]
    pub async fn put_raw(&self, key: &str, text: &str) -> Result<(), StoreError> {
        let tx = self.db.transaction(&[OPS], TransactionMode::ReadWrite)?;
        tx.store(OPS)?
            .put(&JsValue::from_str(text), Some(&JsValue::from_str(key)))
            .await?;
        tx.done().await?;
        Ok(())
    }
}
