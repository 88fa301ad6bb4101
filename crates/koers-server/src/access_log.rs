//! The access log an administrator reads: which account or device read or changed which plan,
//! and when. Every change is a line; reads are one line per device and plan per
//! [`READ_INTERVAL`] (a phone pulls every few seconds while a plan is open: a line per pull
//! would bury the changes, and cost a write per read). A line that cannot be written is logged
//! and dropped: the log must never make a phone's sync fail.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::AppState;
use koers_database::{AccessEntry, AccountRecord, DeviceId, OrganisationId, PlanId};

/// A device's reads of one plan count once in this time.
pub const READ_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// What the log remembers in memory: when each device's read was last written, and each plan's
/// organisation (a plan never changes organisation).
#[derive(Default)]
pub struct AccessLog {
    reads: Mutex<HashMap<(DeviceId, PlanId), Instant>>,
    organisations: Mutex<HashMap<PlanId, Option<OrganisationId>>>,
}

impl AccessLog {
    /// True if a read by `device` of `plan` is due a line now (and notes it).
    fn read_due(&self, device: DeviceId, plan: PlanId) -> bool {
        let now = Instant::now();
        let mut reads = self.reads.lock().unwrap_or_else(|e| e.into_inner());
        if reads.len() > 100_000 {
            reads.retain(|_, at| now.duration_since(*at) < READ_INTERVAL);
        }
        match reads.get(&(device, plan)) {
            Some(at) if now.duration_since(*at) < READ_INTERVAL => false,
            _ => {
                reads.insert((device, plan), now);
                true
            }
        }
    }
}

async fn organisation_of(state: &AppState, plan: PlanId) -> Option<OrganisationId> {
    let known = state
        .access_log
        .organisations
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&plan)
        .copied();
    if let Some(organisation) = known {
        return organisation;
    }
    let organisation = state.db.plan_organisation(plan).await.ok()?;
    state
        .access_log
        .organisations
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(plan, organisation);
    organisation
}

async fn write(state: &AppState, entry: AccessEntry) {
    if entry.organisation.is_none() {
        // A plan from before organisations: no administrator to read it.
        return;
    }
    if let Err(err) = state.db.log_access(std::slice::from_ref(&entry)).await {
        tracing::warn!(error = %err, action = entry.action, "an access log line was lost");
    }
}

/// A line for something a professional did (in their organisation's log, or in the plan's
/// organisation's when it is about a plan).
pub async fn log_account(
    state: &AppState,
    account: &AccountRecord,
    plan: Option<PlanId>,
    action: &str,
    detail: &str,
) {
    let organisation = match plan {
        Some(plan) => organisation_of(state, plan)
            .await
            .or(Some(account.organisation)),
        None => Some(account.organisation),
    };
    write(
        state,
        AccessEntry {
            at: koers_database::now(),
            organisation,
            account: Some(account.account),
            device: None,
            plan,
            action: action.into(),
            detail: detail.into(),
        },
    )
    .await;
}

/// The line for a device's change to a plan, to store with the change itself
/// ([`koers_database::Append::access`]): no commit of its own on a push's path. `None` for a
/// plan of no organisation.
pub async fn change_entry(
    state: &AppState,
    device: &koers_database::DeviceRecord,
    detail: &str,
) -> Option<AccessEntry> {
    device_entry(state, device, "changed", detail)
        .await
        .filter(|entry| entry.organisation.is_some())
}

/// A line for a device's read of a plan, at most once per [`READ_INTERVAL`].
pub async fn log_read(state: &AppState, device: &koers_database::DeviceRecord) {
    if state.access_log.read_due(device.device, device.plan) {
        write_for_device(state, device, "read", "").await;
    }
}

async fn write_for_device(
    state: &AppState,
    device: &koers_database::DeviceRecord,
    action: &str,
    detail: &str,
) {
    if let Some(entry) = device_entry(state, device, action, detail).await {
        write(state, entry).await;
    }
}

async fn device_entry(
    state: &AppState,
    device: &koers_database::DeviceRecord,
    action: &str,
    detail: &str,
) -> Option<AccessEntry> {
    Some(AccessEntry {
        at: koers_database::now(),
        organisation: organisation_of(state, device.plan).await,
        account: device.account,
        device: Some(device.device),
        plan: Some(device.plan),
        action: action.into(),
        detail: detail.into(),
    })
}
