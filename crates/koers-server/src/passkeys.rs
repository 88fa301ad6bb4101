//! Passkeys (WebAuthn) through webauthn-rs: the ceremonies that enrol a professional and sign
//! one in. The server never keeps a ceremony in memory: its state goes into the database
//! ([`koers_database::Database::put_ceremony`]) under a random id the phone sends back, so the
//! answer may reach another instance, and it is taken out when answered, so it counts once.
//!
//! Every ceremony is bound to the server's public origin (`KOERS_PUBLIC_URL`): a passkey made
//! for another site, or an answer signed for another origin, is refused.

use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};

use crate::error::ApiError;
use crate::AppState;
use koers_database::{AccountId, CeremonyId, EnrolmentId};

/// How long a ceremony may take, from the options to the answer.
pub const CEREMONY_TIME: Duration = Duration::from_secs(5 * 60);

/// The relying party: this server, at its public origin.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys").finish_non_exhaustive()
    }
}

/// What the database keeps of a ceremony between its two requests.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ceremony {
    Enrolment {
        enrolment: uuid::Uuid,
        account: uuid::Uuid,
        /// The name the administrator gave: the account's name.
        name: String,
        state: PasskeyRegistration,
    },
    SignIn {
        state: DiscoverableAuthentication,
    },
}

/// What an answer to a sign-in claims to be (see [`Passkeys::identify`]).
pub struct Claim {
    pub account: AccountId,
    /// The credential id, base64url without padding.
    pub credential: String,
    pub answer: PublicKeyCredential,
}

/// A credential id as the database keys passkeys: base64url without padding.
fn credential_text(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// The answer without `clientExtensionResults`: they are not signed, and a browser's unknown
/// extension output of an unexpected type would otherwise fail the whole answer.
fn unsigned_removed(mut credential: Value) -> Value {
    if let Some(fields) = credential.as_object_mut() {
        fields.remove("clientExtensionResults");
    }
    credential
}

/// A passkey that was just made: its credential id (base64url) and its state as JSON.
pub struct NewPasskey {
    pub credential: String,
    pub passkey: String,
}

impl Passkeys {
    /// The relying party for `public_url` (its host is the passkeys' RP id). A URL without a
    /// domain name (an IP address) cannot carry passkeys: browsers refuse IP addresses as RP ids.
    pub fn new(public_url: &Url) -> Result<Passkeys, String> {
        let rp_id = public_url
            .domain()
            .ok_or_else(|| format!("{public_url} has no domain name (passkeys need one, such as localhost or koers.example.org)"))?;
        let webauthn = WebauthnBuilder::new(rp_id, public_url)
            .and_then(|builder| builder.rp_name("Koers").build())
            .map_err(|err| format!("{public_url} cannot carry passkeys: {err}"))?;
        Ok(Passkeys { webauthn })
    }

    /// Starts enrolling `account` (not yet created) with the enrolment `enrolment`: the
    /// options for the browser and the ceremony to keep.
    pub fn start_enrolment(
        &self,
        enrolment: EnrolmentId,
        account: AccountId,
        name: &str,
    ) -> Result<(Value, Ceremony), ApiError> {
        let (options, state) = self
            .webauthn
            .start_passkey_registration(account.0, name, name, None)
            .map_err(|err| refused(&err))?;
        let mut options = serde_json::to_value(options).map_err(|_| broken())?;
        // A discoverable credential (a "passkey" in the full sense): signing in on a new phone
        // then needs no name, the passkey says whose it is.
        if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
            selection["residentKey"] = "required".into();
            selection["requireResidentKey"] = true.into();
        }
        let ceremony = Ceremony::Enrolment {
            enrolment: enrolment.0,
            account: account.0,
            name: name.to_owned(),
            state,
        };
        Ok((options, ceremony))
    }

    /// Checks the browser's answer to an enrolment.
    pub fn finish_enrolment(
        &self,
        state: &PasskeyRegistration,
        credential: Value,
    ) -> Result<NewPasskey, ApiError> {
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(unsigned_removed(credential)).map_err(|err| malformed(&err))?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, state)
            .map_err(|err| refused(&err))?;
        Ok(NewPasskey {
            // The id inside the signed attestation, not the answer's `id` (which nothing signs).
            credential: credential_text(passkey.cred_id().as_ref()),
            passkey: serde_json::to_string(&passkey).map_err(|_| broken())?,
        })
    }

    /// Starts a sign-in with whichever passkey of this site the phone holds.
    pub fn start_sign_in(&self) -> Result<(Value, Ceremony), ApiError> {
        let (options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|err| refused(&err))?;
        let mut options = serde_json::to_value(options).map_err(|_| broken())?;
        // webauthn-rs asks for conditional mediation (the passkey offered in a name field's
        // autofill); the app signs in from a button, with the browser's own dialog.
        if let Some(options) = options.as_object_mut() {
            options.remove("mediation");
        }
        Ok((options, Ceremony::SignIn { state }))
    }

    /// The account (the answer's user handle) and credential id (its raw id) an answer to a
    /// sign-in claims. Neither is signed: the caller finds the passkey by the credential id and
    /// refuses it unless it belongs to that account, then [`Passkeys::finish_sign_in`] checks the
    /// signature with it.
    pub fn identify(&self, credential: Value) -> Result<Claim, ApiError> {
        let credential: PublicKeyCredential =
            serde_json::from_value(unsigned_removed(credential)).map_err(|err| malformed(&err))?;
        let (account, id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|err| refused(&err))?;
        Ok(Claim {
            account: AccountId(account),
            credential: credential_text(id),
            answer: credential,
        })
    }

    /// Checks an answer to a sign-in against the stored passkey; returns the passkey's new
    /// state (its counter moved on) as JSON.
    pub fn finish_sign_in(
        &self,
        state: DiscoverableAuthentication,
        credential: &PublicKeyCredential,
        stored: &str,
    ) -> Result<String, ApiError> {
        let mut passkey: Passkey = serde_json::from_str(stored).map_err(|_| broken())?;
        let result = self
            .webauthn
            .finish_discoverable_authentication(
                credential,
                state,
                &[DiscoverableKey::from(&passkey)],
            )
            .map_err(|err| refused(&err))?;
        passkey.update_credential(&result);
        serde_json::to_string(&passkey).map_err(|_| broken())
    }
}

/// Keeps a ceremony for [`CEREMONY_TIME`] and returns its id.
pub async fn keep(state: &AppState, ceremony: &Ceremony) -> Result<CeremonyId, ApiError> {
    let id = CeremonyId::new();
    let text = serde_json::to_string(ceremony).map_err(|_| broken())?;
    let expires = koers_database::now()
        + chrono::Duration::from_std(CEREMONY_TIME).expect("five minutes fit");
    state.db.put_ceremony(id, &text, expires).await?;
    Ok(id)
}

/// Takes a kept ceremony: once, and only before it expires (410 `ceremony_expired`).
pub async fn take(state: &AppState, id: CeremonyId) -> Result<Ceremony, ApiError> {
    let text = state
        .db
        .take_ceremony(id, koers_database::now())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::GONE,
                "ceremony_expired",
                "This passkey request is unknown, answered before or older than five minutes; start again.",
            )
        })?;
    serde_json::from_str(&text).map_err(|_| broken())
}

fn refused(err: &dyn std::fmt::Display) -> ApiError {
    tracing::info!(error = %err, "a passkey was refused");
    ApiError::bad_request(
        "passkey_refused",
        "The passkey's answer was not accepted (made for another site, or not signed by a known passkey); try again on this site's own address.",
    )
}

fn malformed(err: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "invalid_credential",
        format!("`credential` is not a passkey answer (PublicKeyCredential.toJSON()): {err}"),
    )
}

fn broken() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "The server could not read its own passkey records; try again in a minute.",
    )
}
