//! Talking to the server about professionals (docs/professionals.md): enrolling and signing in
//! with a passkey, the account's own plans, and the administrator's calls. Beside `sync.rs`,
//! whose requests it shares; no screen here. Every call with a session takes its token; the
//! caller forgets the session when the server says it ended (`professional::ends_session`).

use koers_core::{MemberId, PlanId, Role};
use serde::{Deserialize, Serialize};

use crate::sync::{self, call, parse, Joined, Session, SyncError};

/// A professional's account as the server describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub account: String,
    pub name: String,
    pub admin: bool,
    pub organisation: Organisation,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    pub organisation: String,
    pub name: String,
}

/// A passkey ceremony begun: its id (to finish it) and the options for the browser.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Ceremony {
    pub ceremony: String,
    /// `{"publicKey": {…}}`: only `publicKey` goes to the browser.
    pub options: serde_json::Value,
}

/// How long a ceremony fetched ahead of the tap is used (ms): the server keeps one five minutes.
pub const FRESH_FOR: f64 = 4.0 * 60.0 * 1000.0;

impl Ceremony {
    pub fn public_key(&self) -> &serde_json::Value {
        self.options.get("publicKey").unwrap_or(&self.options)
    }
}

/// An enrolment link opened: whom it is for, and the ceremony that makes their passkey.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Enrolment {
    #[serde(flatten)]
    pub ceremony: Ceremony,
    pub organisation: Named,
    pub name: String,
    #[serde(default)]
    pub admin: bool,
}

/// A name the server may send bare or as an object with a `name` (the contract does not say
/// which for the enrolment's organisation).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Named {
    Bare(String),
    Object { name: String },
}

impl Named {
    pub fn name(&self) -> &str {
        match self {
            Named::Bare(name) | Named::Object { name } => name,
        }
    }
}

/// A session opened: its token (for `Authorization: Bearer`) and the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub session_token: String,
    pub account: Account,
}

/// Opens an enrolment link (`/inschrijven#<code>`).
pub async fn start_enrolment(code: &str) -> Result<Enrolment, SyncError> {
    let body = serde_json::json!({ "code": code }).to_string();
    parse(&call("POST", "/api/enrolments/start", None, Some(body)).await?)
}

pub async fn finish_enrolment(
    ceremony: &str,
    credential: &serde_json::Value,
) -> Result<Opened, SyncError> {
    finish("/api/enrolments/finish", ceremony, credential).await
}

/// Begins a sign-in: no name is asked, the phone offers its passkeys for this site.
pub async fn start_session() -> Result<Ceremony, SyncError> {
    parse(&call("POST", "/api/sessions/start", None, Some("{}".into())).await?)
}

pub async fn finish_session(
    ceremony: &str,
    credential: &serde_json::Value,
) -> Result<Opened, SyncError> {
    finish("/api/sessions/finish", ceremony, credential).await
}

async fn finish(
    url: &str,
    ceremony: &str,
    credential: &serde_json::Value,
) -> Result<Opened, SyncError> {
    let body = serde_json::json!({ "ceremony": ceremony, "credential": credential }).to_string();
    parse(&call("POST", url, None, Some(body)).await?)
}

/// Signs out on the server: the session token stops working.
pub async fn sign_out(session: &str) -> Result<(), SyncError> {
    call("DELETE", "/api/sessions/me", Some(session), None)
        .await
        .map(drop)
}

/// One of the account's plans: the member it speaks for there.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OwnPlan {
    pub plan: PlanId,
    pub member: MemberId,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Me {
    /// The account (read leniently: the contract names the field but not its form).
    #[serde(default)]
    pub account: serde_json::Value,
    pub plans: Vec<OwnPlan>,
}

impl Me {
    /// The account, when the server sent it whole.
    pub fn account(&self) -> Option<Account> {
        serde_json::from_value(self.account.clone()).ok()
    }
}

pub async fn me(session: &str) -> Result<Me, SyncError> {
    parse(&call("GET", "/api/me", Some(session), None).await?)
}

/// Registers this phone in one of the account's plans: its device token for syncing it.
pub async fn register_device(session: &str, plan: PlanId) -> Result<Session, SyncError> {
    let body = serde_json::json!({ "device_name": sync::device_name() }).to_string();
    let url = format!("/api/me/plans/{plan}/devices");
    let joined: Joined = parse(&call("POST", &url, Some(session), Some(body)).await?)?;
    Ok(joined.into())
}

// The administrator's calls.

/// A professional of the organisation, with how many plans they take part in.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ProfessionalInfo {
    pub account: String,
    pub name: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub deactivated_at: Option<String>,
    #[serde(default)]
    pub plans: u32,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EnrolmentInfo {
    pub enrolment: String,
    pub name: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    pub expires_at: String,
    #[serde(default)]
    pub used_at: Option<String>,
    #[serde(default)]
    pub revoked_at: Option<String>,
}

impl EnrolmentInfo {
    /// Neither used nor revoked (it may have expired: shown so).
    pub fn open(&self) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none()
    }
}

/// An account named in a plan or the access log.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AccountRef {
    pub account: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PlanProfessional {
    pub account: String,
    pub name: String,
    pub role: Option<Role>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OrganisationPlan {
    pub plan: PlanId,
    #[serde(default)]
    pub child_name: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    /// The account behind the plan's contact person.
    #[serde(default)]
    pub worker: Option<AccountRef>,
    #[serde(default)]
    pub professionals: Vec<PlanProfessional>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OrganisationView {
    pub professionals: Vec<ProfessionalInfo>,
    pub enrolments: Vec<EnrolmentInfo>,
    pub plans: Vec<OrganisationPlan>,
}

pub async fn organisation(session: &str) -> Result<OrganisationView, SyncError> {
    parse(&call("GET", "/api/organisation", Some(session), None).await?)
}

/// A one-time link for a new professional.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NewEnrolment {
    pub enrolment: String,
    pub code: String,
    #[serde(default)]
    pub link: Option<String>,
    pub expires_at: String,
}

impl NewEnrolment {
    /// The link to send: the server's, or made here from the code.
    pub fn link(&self) -> String {
        self.link.clone().unwrap_or_else(|| {
            let origin = leptos::prelude::window()
                .location()
                .origin()
                .unwrap_or_default();
            format!("{origin}/inschrijven#{}", self.code)
        })
    }
}

pub async fn invite(session: &str, name: &str, admin: bool) -> Result<NewEnrolment, SyncError> {
    let body = serde_json::json!({ "name": name, "admin": admin }).to_string();
    parse(
        &call(
            "POST",
            "/api/organisation/enrolments",
            Some(session),
            Some(body),
        )
        .await?,
    )
}

pub async fn revoke_enrolment(session: &str, enrolment: &str) -> Result<(), SyncError> {
    let url = format!("/api/organisation/enrolments/{enrolment}");
    call("DELETE", &url, Some(session), None).await.map(drop)
}

#[derive(Deserialize)]
struct Deactivated {
    #[serde(default)]
    devices_revoked: u32,
}

/// Deactivates a professional: how many of their phones were signed out.
pub async fn deactivate(session: &str, account: &str) -> Result<u32, SyncError> {
    let url = format!("/api/organisation/professionals/{account}/deactivate");
    let answer: Deactivated = parse(&call("POST", &url, Some(session), None).await?)?;
    Ok(answer.devices_revoked)
}

/// Hands a plan over to another professional (`to`, an account), who becomes its worker.
pub async fn hand_over(session: &str, plan: PlanId, to: &str) -> Result<(), SyncError> {
    let url = format!("/api/organisation/plans/{plan}/hand-over");
    let body = serde_json::json!({ "to": to }).to_string();
    call("POST", &url, Some(session), Some(body))
        .await
        .map(drop)
}

/// One line of the access log.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AccessEntry {
    pub at: String,
    #[serde(default)]
    pub account: Option<AccountRef>,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub plan: Option<PlanId>,
    pub action: String,
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Deserialize)]
struct AccessLog {
    entries: Vec<AccessEntry>,
}

/// How many lines of the access log one page holds.
pub const LOG_PAGE: usize = 50;

/// The access log, newest first: the lines before `before` (the time of the last line shown).
pub async fn access_log(
    session: &str,
    before: Option<&str>,
) -> Result<Vec<AccessEntry>, SyncError> {
    let mut url = format!("/api/organisation/access-log?limit={LOG_PAGE}");
    if let Some(before) = before {
        url.push_str("&before=");
        url.push_str(&query_value(before));
    }
    Ok(parse::<AccessLog>(&call("GET", &url, Some(session), None).await?)?.entries)
}

/// `text` as a query value: a time's `+01:00` would otherwise arrive as a space.
fn query_value(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' | ':' => c.to_string(),
            c => {
                let mut bytes = [0; 4];
                c.encode_utf8(&mut bytes)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_goes_into_the_query_intact() {
        assert_eq!(
            query_value("2026-11-29T10:00:00.5+01:00"),
            "2026-11-29T10:00:00.5%2B01:00"
        );
        assert_eq!(query_value("a b"), "a%20b");
    }

    #[test]
    fn an_enrolment_names_its_organisation_bare_or_as_an_object() {
        let bare: Enrolment = serde_json::from_str(
            r#"{"ceremony":"c","options":{"publicKey":{"rp":{}}},"organisation":"Pleegzorg Oost","name":"Sanne","admin":true}"#,
        )
        .expect("an enrolment");
        assert_eq!(bare.organisation.name(), "Pleegzorg Oost");
        assert_eq!(bare.ceremony.public_key(), &serde_json::json!({"rp": {}}));
        assert!(bare.admin);
        let object: Enrolment = serde_json::from_str(
            r#"{"ceremony":"c","options":{"publicKey":{}},"organisation":{"organisation":"o","name":"Pleegzorg Oost"},"name":"Sanne","admin":false}"#,
        )
        .expect("an enrolment");
        assert_eq!(object.organisation.name(), "Pleegzorg Oost");
    }

    #[test]
    fn me_reads_its_plans_and_the_account_when_whole() {
        let plan = uuid::Uuid::from_u128(1);
        let member = uuid::Uuid::from_u128(2);
        let me: Me = serde_json::from_str(&format!(
            r#"{{"account":{{"account":"a","name":"Sanne","admin":false,"organisation":{{"organisation":"o","name":"Oost"}}}},"plans":[{{"plan":"{plan}","member":"{member}","role":"foster_care_worker"}}]}}"#
        ))
        .expect("me");
        assert_eq!(me.plans.len(), 1);
        assert_eq!(me.plans[0].role, Role::FosterCareWorker);
        assert_eq!(me.account().map(|a| a.name), Some("Sanne".into()));
        let bare: Me = serde_json::from_str(r#"{"account":"a","plans":[]}"#).expect("me");
        assert_eq!(bare.account(), None);
    }
}
