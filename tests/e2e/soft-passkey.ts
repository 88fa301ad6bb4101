// A software passkey for API tests (no browser): it answers the server's WebAuthn options as a
// browser with a platform authenticator would, and gives its answers as the JSON that Chromium's
// `PublicKeyCredential.prototype.toJSON()` produces (all binary as base64url without padding).
//
// ES256 (COSE alg -7) on P-256, attestation format "none", flags UP|UV (and AT on registration),
// a signature counter that goes up with every sign-in, and the user handle stored at
// registration (so discoverable sign-in works). Only node:crypto and the small CBOR encoder
// below. The same in Rust: crates/koers-server/tests/common/passkey.rs.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

/** Authenticator data flags. */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export class SoftPasskey {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    private readonly credentialId: Buffer,
    private readonly userHandle: Buffer,
    private signCount: number,
    private readonly rpId: string,
    private readonly origin: string,
  ) {}

  /**
   * Answers `navigator.credentials.create`: takes the server's creation options (the whole
   * `{"publicKey": {...}}` object, parsed or as text) and the origin (e.g. "http://localhost:8091");
   * returns the passkey and the credential as Chromium's toJSON() gives it.
   */
  static register(optionsJson: any, origin: string): { passkey: SoftPasskey; credential: any } {
    const options = publicKeyOptions(optionsJson);
    const rpId: string = options.rp?.id ?? new URL(origin).hostname;
    const algorithms: number[] = (options.pubKeyCredParams ?? []).map((p: any) => p.alg);
    if (!algorithms.includes(-7)) throw new Error(`the server does not offer ES256 (-7): ${JSON.stringify(algorithms)}`);
    const userHandle = fromBase64url(options.user.id);
    const challenge = challengeOf(options);

    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const passkey = new SoftPasskey(privateKey, publicKey, randomBytes(32), userHandle, 0, rpId, origin);
    const clientData = clientDataJson("webauthn.create", challenge, origin);

    const jwk = publicKey.export({ format: "jwk" });
    const coseKey = cbor(
      new Map<number, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, fromBase64url(jwk.x!)],
        [-3, fromBase64url(jwk.y!)],
      ]),
    );
    const credentialIdLength = Buffer.alloc(2);
    credentialIdLength.writeUInt16BE(passkey.credentialId.length);
    const authData = Buffer.concat([
      passkey.authDataHead(UP | UV | AT),
      Buffer.alloc(16), // AAGUID: none
      credentialIdLength,
      passkey.credentialId,
      coseKey,
    ]);
    // Keys in CTAP canonical order (shorter first).
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );

    const id = base64url(passkey.credentialId);
    const credential = {
      id,
      rawId: id,
      type: "public-key",
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: base64url(Buffer.from(clientData)),
        attestationObject: base64url(attestationObject),
        transports: ["internal"],
        publicKeyAlgorithm: -7,
        publicKey: base64url(publicKey.export({ format: "der", type: "spki" })),
        authenticatorData: base64url(authData),
      },
      clientExtensionResults: options.extensions?.credProps === true ? { credProps: { rk: true } } : {},
    };
    return { passkey, credential };
  }

  /**
   * Answers `navigator.credentials.get` for a discoverable sign-in (the request options, parsed or
   * as text): the assertion as toJSON() gives it (userHandle included).
   */
  signIn(optionsJson: any): any {
    return this.signInFrom(optionsJson, this.origin);
  }

  /** The same with another origin in clientDataJSON (for the "bound to the origin" test). */
  signInFrom(optionsJson: any, origin: string): any {
    const options = publicKeyOptions(optionsJson);
    if (options.rpId !== undefined && options.rpId !== this.rpId) {
      throw new Error(`no passkey for rpId ${options.rpId} (this one is for ${this.rpId})`);
    }
    const allowed: any[] = options.allowCredentials ?? [];
    const ours = base64url(this.credentialId);
    if (allowed.length > 0 && !allowed.some((c) => base64url(fromBase64url(c.id)) === ours)) {
      throw new Error("this passkey is not among allowCredentials");
    }
    const clientData = clientDataJson("webauthn.get", challengeOf(options), origin);

    this.signCount += 1;
    const authData = this.authDataHead(UP | UV);
    const clientDataHash = createHash("sha256").update(clientData).digest();
    // An EC key signs with DER-encoded (r, s), as WebAuthn's ES256 wants.
    const signature = sign("sha256", Buffer.concat([authData, clientDataHash]), this.privateKey);

    return {
      id: ours,
      rawId: ours,
      type: "public-key",
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: base64url(Buffer.from(clientData)),
        authenticatorData: base64url(authData),
        signature: base64url(signature),
        userHandle: base64url(this.userHandle),
      },
      clientExtensionResults: {},
    };
  }

  /**
   * A passkey with the same credential id, user handle and counter but another private key: its
   * signatures must be refused (a forged assertion).
   */
  withOtherKey(): SoftPasskey {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    return new SoftPasskey(privateKey, publicKey, this.credentialId, this.userHandle, this.signCount, this.rpId, this.origin);
  }

  /**
   * The passkey as Chromium's virtual authenticator takes it (DevTools protocol
   * `WebAuthn.addCredential`): the same key, so a browser can sign in with a passkey made here, as
   * a phone signs in with a passkey its platform synced from another phone.
   */
  virtualCredential() {
    return {
      credentialId: this.credentialId.toString("base64"),
      isResidentCredential: true,
      rpId: this.rpId,
      privateKey: this.privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
      userHandle: this.userHandle.toString("base64"),
      signCount: this.signCount,
    };
  }

  /** The credential id as toJSON() gives it (`id`, base64url). */
  get id(): string {
    return base64url(this.credentialId);
  }

  /** The user handle stored at registration (`publicKey.user.id`, as base64url). */
  get userHandleBase64url(): string {
    return base64url(this.userHandle);
  }

  /** The signature counter of the last answer (0 after registration). */
  get counter(): number {
    return this.signCount;
  }

  /** rpIdHash | flags | signCount. */
  private authDataHead(flags: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.signCount);
    return Buffer.concat([createHash("sha256").update(this.rpId).digest(), Buffer.from([flags]), count]);
  }
}

/** `publicKey` of `{"publicKey": {...}}` (or the options themselves when given bare). */
function publicKeyOptions(optionsJson: any): any {
  const options = typeof optionsJson === "string" ? JSON.parse(optionsJson) : optionsJson;
  return options.publicKey ?? options;
}

/** The challenge as the browser puts it in clientDataJSON: base64url without padding. */
function challengeOf(options: any): string {
  return base64url(fromBase64url(options.challenge));
}

/** clientDataJSON, with its members in the order Chromium writes them. */
function clientDataJson(type: string, challenge: string, origin: string): string {
  return JSON.stringify({ type, challenge, origin, crossOrigin: false });
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** base64url, with or without padding (Node's decoder also takes standard base64). */
function fromBase64url(text: string): Buffer {
  return Buffer.from(text, "base64url");
}

// A minimal CBOR encoder: what an attestation object and a COSE key need (integers, text,
// byte strings, maps with integer or text keys).

type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function cbor(value: Cbor): Buffer {
  const out: number[] = [];
  encode(value, out);
  return Buffer.from(out);
}

function head(major: number, value: number, out: number[]) {
  const m = major << 5;
  if (value < 24) out.push(m | value);
  else if (value < 0x100) out.push(m | 24, value);
  else if (value < 0x10000) out.push(m | 25, value >> 8, value & 0xff);
  else if (value < 0x100000000) out.push(m | 26, (value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
  else throw new Error(`CBOR: ${value} is too large for this encoder`);
}

function encode(value: Cbor, out: number[]) {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`CBOR: ${value} is not an integer`);
    if (value >= 0) head(0, value, out);
    else head(1, -1 - value, out);
  } else if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    head(3, bytes.length, out);
    for (const b of bytes) out.push(b);
  } else if (value instanceof Uint8Array) {
    head(2, value.length, out);
    for (const b of value) out.push(b);
  } else {
    head(5, value.size, out);
    for (const [k, v] of value) {
      encode(k, out);
      encode(v, out);
    }
  }
}
