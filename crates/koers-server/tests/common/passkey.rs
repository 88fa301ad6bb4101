//! A software passkey for the tests: it answers the server's WebAuthn options as a browser with a
//! platform authenticator would, and gives its answers as the JSON that Chromium's
//! `PublicKeyCredential.prototype.toJSON()` produces (all binary as base64url without padding).
//!
//! ES256 (COSE alg -7) on P-256, attestation format "none", flags UP|UV (and AT on
//! registration), a signature counter that goes up with every sign-in, and the user handle
//! stored at registration (so discoverable sign-in works). The same in TypeScript:
//! tests/e2e/soft-passkey.ts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// Authenticator data flags.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

/// DER SubjectPublicKeyInfo of a P-256 key, up to the 65-byte uncompressed point (what
/// `response.publicKey` holds in toJSON()).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

pub struct SoftPasskey {
    key: SigningKey,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    sign_count: u32,
    rp_id: String,
    origin: String,
}

impl SoftPasskey {
    /// Answers `navigator.credentials.create`: takes the server's creation options JSON (the whole
    /// `{"publicKey":{...}}` object as text) and the origin (e.g. "http://localhost:8093");
    /// returns the passkey and the credential JSON as Chromium's toJSON() would give it.
    pub fn register(options_json: &str, origin: &str) -> (SoftPasskey, String) {
        let options = public_key_options(options_json);
        let rp_id = options["rp"]["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| host_of(origin));
        let algorithms: Vec<i64> = options["pubKeyCredParams"]
            .as_array()
            .expect("publicKey.pubKeyCredParams")
            .iter()
            .filter_map(|p| p["alg"].as_i64())
            .collect();
        assert!(
            algorithms.contains(&-7),
            "the server does not offer ES256 (-7): {algorithms:?}"
        );
        let user_handle = b64_decode(options["user"]["id"].as_str().expect("publicKey.user.id"));
        let challenge = challenge_of(&options);

        let passkey = SoftPasskey {
            key: random_key(),
            credential_id: random_bytes(32),
            user_handle,
            sign_count: 0,
            rp_id,
            origin: origin.to_owned(),
        };
        let client_data = client_data_json("webauthn.create", &challenge, origin);

        let point = passkey.key.verifying_key().to_sec1_point(false);
        let point = point.as_bytes();
        assert_eq!(point.len(), 65);
        let mut cose_key = Vec::new();
        cbor_map_header(&mut cose_key, 5);
        cbor_int(&mut cose_key, 1); // kty
        cbor_int(&mut cose_key, 2); // EC2
        cbor_int(&mut cose_key, 3); // alg
        cbor_int(&mut cose_key, -7); // ES256
        cbor_int(&mut cose_key, -1); // crv
        cbor_int(&mut cose_key, 1); // P-256
        cbor_int(&mut cose_key, -2); // x
        cbor_bytes(&mut cose_key, &point[1..33]);
        cbor_int(&mut cose_key, -3); // y
        cbor_bytes(&mut cose_key, &point[33..65]);

        let mut auth_data = passkey.auth_data_head(UP | UV | AT);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        auth_data.extend_from_slice(&(passkey.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&passkey.credential_id);
        auth_data.extend_from_slice(&cose_key);

        // {"fmt": "none", "attStmt": {}, "authData": ...}, keys in CTAP canonical order.
        let mut attestation_object = Vec::new();
        cbor_map_header(&mut attestation_object, 3);
        cbor_text(&mut attestation_object, "fmt");
        cbor_text(&mut attestation_object, "none");
        cbor_text(&mut attestation_object, "attStmt");
        cbor_map_header(&mut attestation_object, 0);
        cbor_text(&mut attestation_object, "authData");
        cbor_bytes(&mut attestation_object, &auth_data);

        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(point);

        let mut extensions = json!({});
        if options["extensions"]["credProps"].as_bool() == Some(true) {
            extensions["credProps"] = json!({ "rk": true });
        }
        let id = B64.encode(&passkey.credential_id);
        let credential = json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": B64.encode(client_data.as_bytes()),
                "attestationObject": B64.encode(&attestation_object),
                "transports": ["internal"],
                "publicKeyAlgorithm": -7,
                "publicKey": B64.encode(&spki),
                "authenticatorData": B64.encode(&auth_data),
            },
            "clientExtensionResults": extensions,
        });
        (passkey, credential.to_string())
    }

    /// Answers `navigator.credentials.get` for a discoverable sign-in (request options JSON as
    /// text): the assertion JSON as toJSON() gives it (userHandle included).
    pub fn sign_in(&mut self, options_json: &str) -> String {
        let origin = self.origin.clone();
        self.sign_in_from(options_json, &origin)
    }

    /// The same with another origin in clientDataJSON (for the "bound to the origin" test).
    pub fn sign_in_from(&mut self, options_json: &str, origin: &str) -> String {
        let options = public_key_options(options_json);
        if let Some(rp_id) = options["rpId"].as_str() {
            assert_eq!(rp_id, self.rp_id, "no passkey for this rpId");
        }
        if let Some(allowed) = options["allowCredentials"].as_array() {
            let ours = B64.encode(&self.credential_id);
            let listed = |c: &Value| {
                c["id"]
                    .as_str()
                    .is_some_and(|id| B64.encode(b64_decode(id)) == ours)
            };
            assert!(
                allowed.is_empty() || allowed.iter().any(listed),
                "this passkey is not among allowCredentials"
            );
        }
        let challenge = challenge_of(&options);
        let client_data = client_data_json("webauthn.get", &challenge, origin);

        self.sign_count += 1;
        let auth_data = self.auth_data_head(UP | UV);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        let signature: Signature = self.key.sign(&signed);

        let id = B64.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": B64.encode(client_data.as_bytes()),
                "authenticatorData": B64.encode(&auth_data),
                "signature": B64.encode(signature.to_der().as_bytes()),
                "userHandle": B64.encode(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// A passkey with the same credential id, user handle and counter but another private key:
    /// its signatures must be refused (a forged assertion).
    pub fn with_other_key(&self) -> SoftPasskey {
        SoftPasskey {
            key: random_key(),
            credential_id: self.credential_id.clone(),
            user_handle: self.user_handle.clone(),
            sign_count: self.sign_count,
            rp_id: self.rp_id.clone(),
            origin: self.origin.clone(),
        }
    }

    /// The credential id as toJSON() gives it (`id`, base64url).
    pub fn credential_id(&self) -> String {
        B64.encode(&self.credential_id)
    }

    /// The user handle stored at registration (`publicKey.user.id`, decoded).
    pub fn user_handle(&self) -> &[u8] {
        &self.user_handle
    }

    /// The signature counter of the last answer (0 after registration).
    pub fn sign_count(&self) -> u32 {
        self.sign_count
    }

    /// rpIdHash | flags | signCount.
    fn auth_data_head(&self, flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&self.sign_count.to_be_bytes());
        data
    }
}

/// `publicKey` of `{"publicKey": {...}}` (or the options themselves when given bare).
fn public_key_options(options_json: &str) -> Value {
    let mut options: Value = serde_json::from_str(options_json).expect("options are JSON");
    match options.get_mut("publicKey") {
        Some(inner) => inner.take(),
        None => options,
    }
}

/// The challenge as the browser puts it in clientDataJSON: base64url without padding.
fn challenge_of(options: &Value) -> String {
    B64.encode(b64_decode(
        options["challenge"].as_str().expect("publicKey.challenge"),
    ))
}

/// clientDataJSON, with its members in the order Chromium writes them.
fn client_data_json(kind: &str, challenge: &str, origin: &str) -> String {
    format!(
        r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":false}}"#,
        Value::from(kind),
        Value::from(challenge),
        Value::from(origin)
    )
}

/// The host of an origin such as "http://localhost:8093" (the default rp id).
fn host_of(origin: &str) -> String {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = rest.split('/').next().unwrap_or(rest);
    host.rsplit_once(':')
        .map_or(host, |(host, _)| host)
        .to_owned()
}

/// base64url, with or without padding (also standard base64, as parseCreationOptionsFromJSON
/// would not accept it but some servers send it).
fn b64_decode(text: &str) -> Vec<u8> {
    let text = text
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    B64.decode(text).expect("base64url")
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).expect("random bytes");
    bytes
}

fn random_key() -> SigningKey {
    loop {
        if let Ok(key) = SigningKey::from_slice(&random_bytes(32)) {
            return key;
        }
    }
}

// A minimal CBOR encoder: what an attestation object and a COSE key need.

fn cbor_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        cbor_head(out, 0, value as u64);
    } else {
        cbor_head(out, 1, (-1 - value) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn cbor_map_header(out: &mut Vec<u8>, entries: u64) {
    cbor_head(out, 5, entries);
}
