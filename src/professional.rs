//! The professional signed in on this phone (a foster-care worker, a guardian, a care worker):
//! their session token and account, kept in IndexedDB (`device::PROFESSIONAL`) so that it
//! survives a reload and works offline, and shared with every screen as a context. Families
//! never sign in: their phones hold a device token per plan only.
//!
//! The shell provides it and reads it from the phone; everything else here (signing out, bringing
//! the caseload to a new phone) is called from the lazily loaded screens only, so it stays out
//! of the first download.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accounts::{self, Account, OwnPlan};
use crate::device;
use crate::plans::{AccessProblem, PlanEntry, Plans};
use crate::sync::SyncError;

/// A signed-in professional: the token for `Authorization: Bearer`, and who they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub token: String,
    pub account: Account,
}

#[derive(Clone, Copy)]
pub struct Professional {
    /// Who is signed in; `None` when nobody is (or before it was read: see `read`).
    pub signed_in: RwSignal<Option<SignedIn>>,
    /// Whether the phone's stored session was read: until then a screen cannot tell "signed
    /// out" from "not known yet".
    pub read: RwSignal<bool>,
    plans: Plans,
}

/// The professional context, as the shell provides it.
pub fn use_professional() -> Professional {
    expect_context()
}

impl Professional {
    /// Provides the context to every screen and reads the stored session.
    pub fn provide(plans: Plans) -> Professional {
        let professional = Professional {
            signed_in: RwSignal::new(None),
            read: RwSignal::new(false),
            plans,
        };
        provide_context(professional);
        leptos::task::spawn_local(async move {
            let stored = match plans.log() {
                Some(log) => log
                    .meta::<SignedIn>(device::PROFESSIONAL)
                    .await
                    .ok()
                    .flatten(),
                None => None,
            };
            // Signed in or out meanwhile: that is newer than what was stored.
            if !professional.read.get_untracked() {
                professional.signed_in.set(stored);
                professional.read.set(true);
            }
        });
        professional
    }

    /// The session token, once read (waits for the read: a screen opened at once after a
    /// reload must not take a signed-in professional for a family member).
    pub async fn token(self) -> Option<String> {
        for _ in 0..250 {
            if self.read.get_untracked() {
                break;
            }
            device::pause(20).await;
        }
        self.signed_in
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// Keeps a new session (after enrolling or signing in): stored first, then shown.
    pub async fn keep(self, opened: accounts::Opened) -> Result<SignedIn, SyncError> {
        let signed_in = SignedIn {
            token: opened.session_token,
            account: opened.account,
        };
        let log = self.plans.log().ok_or(SyncError::Malformed)?;
        log.set_meta(device::PROFESSIONAL, &signed_in).await?;
        self.read.set(true);
        self.signed_in.set(Some(signed_in.clone()));
        Ok(signed_in)
    }

    /// Forgets the session on this phone (its plans stay).
    pub async fn forget(self) {
        if let Some(log) = self.plans.log() {
            let _ = log.delete_meta(device::PROFESSIONAL).await;
        }
        self.read.set(true);
        self.signed_in.set(None);
    }

    /// Passes a call's result on, forgetting the session when the server says it has ended.
    pub async fn checked<T>(self, result: Result<T, SyncError>) -> Result<T, SyncError> {
        if let Err(e) = &result {
            if ends_session(e) {
                self.forget().await;
            }
        }
        result
    }

    /// Signs out: the server revokes the session, then the phone forgets it. Offline, nothing
    /// changes (the caller may `forget` anyway); a session the server no longer knows is
    /// forgotten all the same.
    pub async fn sign_out(self) -> Result<(), SyncError> {
        let Some(token) = self.token().await else {
            return Ok(());
        };
        match accounts::sign_out(&token).await {
            Ok(()) => {
                self.forget().await;
                Ok(())
            }
            Err(e) => self.checked::<()>(Err(e)).await,
        }
    }

    /// Brings the account's plans to this phone after signing in: every plan of `GET /api/me`
    /// that the phone does not hold gets a device (`POST /api/me/plans/{plan}/devices`) and is
    /// added as a joined plan is, one after the other (a caseload can be twenty year plans).
    /// A plan the phone holds already keeps what it has. `progress(done, of)` follows along.
    /// How many plans came.
    pub async fn bring_caseload(self, progress: impl Fn(usize, usize)) -> Result<usize, SyncError> {
        let token = self.token().await.ok_or(SyncError::Rejected {
            status: 401,
            code: "session_missing".into(),
        })?;
        let me = self.checked(accounts::me(&token).await).await?;
        // The name or the administrator's right may have changed since signing in.
        if let Some(account) = me.account() {
            let changed = self
                .signed_in
                .with_untracked(|s| s.as_ref().is_some_and(|s| s.account != account));
            if changed {
                let _ = self
                    .keep(accounts::Opened {
                        session_token: token.clone(),
                        account,
                    })
                    .await;
            }
        }
        let wanted = self
            .plans
            .entries
            .with_untracked(|held| needs_device(&me.plans, held));
        let mut added = 0;
        progress(0, wanted.len());
        for (done, own) in wanted.iter().enumerate() {
            match self
                .checked(accounts::register_device(&token, own.plan).await)
                .await
            {
                Ok(session) => {
                    self.plans.add_to_caseload(session).await?;
                    added += 1;
                }
                // Taken out of the plan since `GET /api/me`: nothing to bring.
                Err(SyncError::Rejected { status: 403, .. }) => {}
                Err(e) => {
                    self.plans.follow();
                    return Err(e);
                }
            }
            progress(done + 1, wanted.len());
        }
        if added > 0 {
            self.plans.follow();
        }
        Ok(added)
    }
}

/// Whether the server's answer means the professional's session has ended (expired, revoked,
/// unknown, or the account deactivated): the phone forgets it.
pub fn ends_session(e: &SyncError) -> bool {
    matches!(e, SyncError::Rejected { status: 401, code }
        if code.starts_with("session_") || code == "account_deactivated")
}

/// The account's plans this phone still needs a device for: those it does not hold, and those
/// whose device token the server no longer knows (renewed, keeping the phone's changes). A plan
/// held and syncing is never touched; one the phone was taken out of waits for its user
/// (`AccessProblem::Revoked`), and one held only on the phone (an imported copy) stays so.
pub fn needs_device(own: &[OwnPlan], held: &[PlanEntry]) -> Vec<OwnPlan> {
    own.iter()
        .filter(
            |p| match held.iter().find(|e| e.membership.plan == p.plan) {
                None => true,
                Some(e) => {
                    e.membership.session.is_some() && e.access == Some(AccessProblem::Unknown)
                }
            },
        )
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Membership;
    use crate::sync::Session;
    use koers_core::{MemberId, PlanId, Role};
    use uuid::Uuid;

    fn plan(n: u128) -> PlanId {
        PlanId(Uuid::from_u128(n))
    }

    fn own(n: u128) -> OwnPlan {
        OwnPlan {
            plan: plan(n),
            member: MemberId(Uuid::from_u128(100 + n)),
            role: Role::FosterCareWorker,
        }
    }

    fn held(n: u128, shared: bool, access: Option<AccessProblem>) -> PlanEntry {
        PlanEntry {
            membership: Membership {
                plan: plan(n),
                session: shared.then(|| Session {
                    plan: plan(n),
                    member: MemberId(Uuid::from_u128(100 + n)),
                    role: Role::FosterCareWorker,
                    token: format!("token-{n}"),
                }),
            },
            overview: None,
            access,
        }
    }

    #[test]
    fn only_plans_the_phone_lacks_get_a_device() {
        let phone = [
            held(1, true, None),
            held(2, true, Some(AccessProblem::Unknown)),
            held(3, true, Some(AccessProblem::Revoked)),
            held(4, false, None),
            held(9, true, None),
        ];
        let wanted: Vec<PlanId> = needs_device(&[own(1), own(2), own(3), own(4), own(5)], &phone)
            .into_iter()
            .map(|p| p.plan)
            .collect();
        assert_eq!(wanted, vec![plan(2), plan(5)]);
    }

    #[test]
    fn a_new_phone_needs_a_device_for_every_plan_in_order() {
        let wanted = needs_device(&[own(3), own(1), own(2)], &[]);
        assert_eq!(
            wanted.iter().map(|p| p.plan).collect::<Vec<_>>(),
            vec![plan(3), plan(1), plan(2)]
        );
    }

    #[test]
    fn only_an_ended_session_is_forgotten() {
        let rejected = |status, code: &str| SyncError::Rejected {
            status,
            code: code.into(),
        };
        assert!(ends_session(&rejected(401, "session_expired")));
        assert!(ends_session(&rejected(401, "session_missing")));
        assert!(ends_session(&rejected(401, "account_deactivated")));
        assert!(!ends_session(&rejected(403, "not_an_administrator")));
        assert!(!ends_session(&rejected(401, "passkey_unknown")));
        assert!(!ends_session(&SyncError::Offline));
    }
}
