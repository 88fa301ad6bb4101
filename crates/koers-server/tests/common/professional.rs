//! A signed-in professional for the tests: plans are founded with a professional's session
//! (`POST /api/plans` answers `401 session_missing` without one). A professional enrols as a
//! person does, through the HTTP API with a passkey ([`super::passkey::SoftPasskey`]):
//!
//! 1. the one-time link of the organisation's first administrator, `…/inschrijven#<code>`:
//!    printed by the binary on its first start ([`link_in_line`]), or made in-process by
//!    [`koers_server::first_start`] ([`first_link`]);
//! 2. `POST /api/enrolments/start {code}` → `{ceremony, options}`;
//! 3. the passkey answers the options for the link's origin (the server's public URL);
//! 4. `POST /api/enrolments/finish {ceremony, credential}` → `201 {session_token, account}`.
//!
//! The requests go through whatever the test speaks HTTP with: [`enrol`] takes a blocking
//! `post`, [`enrol_async`] an async one.

use std::future::Future;

use serde_json::{json, Value};

use super::passkey::SoftPasskey;

/// The words the binary prints around the first administrator's link: "Open <link> to set up
/// the first account (an administrator's; the link works once, for 7 days)."
const LINK_LINE_START: &str = "Open ";
const LINK_LINE_END: &str = " to set up the first account";

const START: &str = "/api/enrolments/start";
const FINISH: &str = "/api/enrolments/finish";

/// A professional who enrolled with a software passkey.
pub struct Professional {
    /// The session token (`ks.…`), for `Authorization: Bearer`.
    pub session: String,
    /// `{account, name, admin, organisation: {organisation, name}}`.
    pub account: Value,
    pub passkey: SoftPasskey,
}

/// The first administrator's link if `line` (a line of the binary's stdout) is the one that
/// gives it.
pub fn link_in_line(line: &str) -> Option<String> {
    let start = line.find(LINK_LINE_START)? + LINK_LINE_START.len();
    let end = start + line[start..].find(LINK_LINE_END)?;
    let link = &line[start..end];
    link.contains("/inschrijven#").then(|| link.to_owned())
}

/// The origin (`http://localhost:8080`) and the code of an enrolment link
/// (`http://localhost:8080/inschrijven#<code>`).
pub fn parse_link(link: &str) -> (String, String) {
    let (page, code) = link
        .split_once('#')
        .unwrap_or_else(|| panic!("an enrolment link has its code after '#': {link}"));
    let origin = page
        .strip_suffix("/inschrijven")
        .unwrap_or_else(|| panic!("an enrolment link opens /inschrijven: {link}"));
    assert!(!code.is_empty(), "an enrolment link has a code: {link}");
    (origin.to_owned(), code.to_owned())
}

/// The in-process first start ([`koers_server::first_start`] for [`koers_server::Site::local`],
/// the site of `app_router` and its siblings): the first administrator's link. Panics if the
/// organisation has an account already.
pub async fn first_link(db: &dyn koers_database::Database) -> String {
    koers_server::first_start(db, &koers_server::Site::local())
        .await
        .expect("the first start")
        .expect("a first start before any account gives the first administrator's link")
}

/// Step 2's body.
fn start_body(code: &str) -> Value {
    json!({ "code": code })
}

/// Step 3: the passkey made for `origin`, and step 4's body, from step 2's answer.
fn answer(origin: &str, (status, started): (u16, Value)) -> (SoftPasskey, Value) {
    assert_eq!(status, 200, "POST /api/enrolments/start: {started}");
    let options = started["options"].to_string();
    let (passkey, credential) = SoftPasskey::register(&options, origin);
    let credential: Value = serde_json::from_str(&credential).expect("the credential is JSON");
    let body = json!({ "ceremony": started["ceremony"], "credential": credential });
    (passkey, body)
}

/// The professional, from step 4's answer.
fn signed_in(passkey: SoftPasskey, (status, finished): (u16, Value)) -> Professional {
    assert_eq!(status, 201, "POST /api/enrolments/finish: {finished}");
    let session = finished["session_token"]
        .as_str()
        .unwrap_or_else(|| panic!("a session token: {finished}"))
        .to_owned();
    assert!(session.starts_with("ks."), "a session token: {session}");
    Professional {
        session,
        account: finished["account"].clone(),
        passkey,
    }
}

/// Enrols with `link`; `post(path, body)` sends `POST path` with the JSON `body` to the server
/// and answers its status and JSON.
pub fn enrol(link: &str, post: impl FnMut(&str, &Value) -> (u16, Value)) -> Professional {
    try_enrol(link, post)
        .unwrap_or_else(|(path, status, json)| panic!("POST {path}: {status} {json}"))
}

/// [`enrol`], answering the refused request (its path, status and JSON) instead of panicking.
pub fn try_enrol(
    link: &str,
    mut post: impl FnMut(&str, &Value) -> (u16, Value),
) -> Result<Professional, (&'static str, u16, Value)> {
    let (origin, code) = parse_link(link);
    let started = post(START, &start_body(&code));
    if started.0 != 200 {
        return Err((START, started.0, started.1));
    }
    let (passkey, body) = answer(&origin, started);
    let finished = post(FINISH, &body);
    if finished.0 != 201 {
        return Err((FINISH, finished.0, finished.1));
    }
    Ok(signed_in(passkey, finished))
}

/// [`enrol`] with an async `post`.
pub async fn enrol_async<F, Fut>(link: &str, mut post: F) -> Professional
where
    F: FnMut(&'static str, Value) -> Fut,
    Fut: Future<Output = (u16, Value)>,
{
    let (origin, code) = parse_link(link);
    let started = post(START, start_body(&code)).await;
    let (passkey, body) = answer(&origin, started);
    let finished = post(FINISH, body).await;
    signed_in(passkey, finished)
}
