//! The browser's passkey ceremonies (WebAuthn), in their JSON form: the server's options in,
//! the credential out as `PublicKeyCredential.toJSON()` gives it. No screen here.
//!
//! Reached through `js_sys::Reflect` rather than web-sys' typed bindings: those would need a
//! dozen more web-sys features, and every binding adds its glue to the first download's script
//! (`koers-app.js`), whichever chunk calls it. `Reflect.get` and `Function.call` are in that
//! script already.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Clone, Debug, PartialEq)]
pub enum PasskeyError {
    /// This browser has no passkeys, or not the JSON form of them
    /// (`PublicKeyCredential.parseCreationOptionsFromJSON`): an update, or another browser.
    Unsupported,
    /// The person cancelled, or the phone refused (no screen lock, timed out): try again.
    Cancelled,
    /// A passkey for this account is on this phone already (`InvalidStateError`).
    AlreadyHere,
    /// Anything else the browser said (its `DOMException` name), or an answer it could not read.
    Failed(String),
}

/// Makes a new passkey from `options` (the server's `options.publicKey`): the credential to
/// send back to the server, as JSON.
pub async fn create(options: &serde_json::Value) -> Result<serde_json::Value, PasskeyError> {
    ceremony("parseCreationOptionsFromJSON", "create", options).await
}

/// Signs in with a passkey on this phone (a discoverable one: the phone offers the accounts it
/// has a passkey for).
pub async fn get(options: &serde_json::Value) -> Result<serde_json::Value, PasskeyError> {
    ceremony("parseRequestOptionsFromJSON", "get", options).await
}

async fn ceremony(
    parse: &str,
    call: &str,
    options: &serde_json::Value,
) -> Result<serde_json::Value, PasskeyError> {
    let window: JsValue = leptos::prelude::window().into();
    let class = property(&window, "PublicKeyCredential").ok_or(PasskeyError::Unsupported)?;
    let parse = method(&class, parse).ok_or(PasskeyError::Unsupported)?;
    let json = property(&window, "JSON").ok_or(PasskeyError::Unsupported)?;
    let options = method(&json, "parse")
        .ok_or(PasskeyError::Unsupported)?
        .call1(&json, &JsValue::from_str(&options.to_string()))
        .map_err(|_| PasskeyError::Failed("options".into()))?;
    // Parsing throws on options this browser cannot take (say, an algorithm it does not know).
    let public_key = parse.call1(&class, &options).map_err(failure)?;
    let request = js_sys::Object::new();
    let _ = Reflect::set(&request, &"publicKey".into(), &public_key);
    let navigator: JsValue = leptos::prelude::window().navigator().into();
    let credentials = property(&navigator, "credentials").ok_or(PasskeyError::Unsupported)?;
    let promise = method(&credentials, call)
        .ok_or(PasskeyError::Unsupported)?
        .call1(&credentials, &request)
        .map_err(failure)?;
    let credential = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .map_err(failure)?;
    // Cancelled in some browsers resolves with null rather than rejecting.
    if credential.is_null() || credential.is_undefined() {
        return Err(PasskeyError::Cancelled);
    }
    let to_json = method(&credential, "toJSON").ok_or(PasskeyError::Unsupported)?;
    let plain = to_json.call0(&credential).map_err(failure)?;
    let text = method(&json, "stringify")
        .and_then(|stringify| stringify.call1(&json, &plain).ok())
        .and_then(|t| t.as_string())
        .ok_or_else(|| PasskeyError::Failed("credential".into()))?;
    serde_json::from_str(&text).map_err(|_| PasskeyError::Failed("credential".into()))
}

fn property(target: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    property(target, name)?.dyn_into::<Function>().ok()
}

/// What a rejected ceremony means, by the `DOMException`'s name.
fn failure(e: JsValue) -> PasskeyError {
    let name = property(&e, "name")
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    classify(&name)
}

/// WebAuthn's `NotAllowedError` covers both "cancelled" and "not allowed now" (timed out, no
/// user gesture): either way the person can simply try again.
pub fn classify(name: &str) -> PasskeyError {
    match name {
        "NotAllowedError" | "AbortError" => PasskeyError::Cancelled,
        "InvalidStateError" => PasskeyError::AlreadyHere,
        "NotSupportedError" => PasskeyError::Unsupported,
        other => PasskeyError::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_ceremony_is_its_own_error() {
        assert_eq!(classify("NotAllowedError"), PasskeyError::Cancelled);
        assert_eq!(classify("AbortError"), PasskeyError::Cancelled);
        assert_eq!(classify("InvalidStateError"), PasskeyError::AlreadyHere);
        assert_eq!(classify("NotSupportedError"), PasskeyError::Unsupported);
        assert_eq!(
            classify("SecurityError"),
            PasskeyError::Failed("SecurityError".into())
        );
    }
}
