// Signs professionals in through the API for run-schemathesis.sh, with the software passkey of the
// end-to-end tests (tests/e2e/soft-passkey.ts). Node only; the script bundles it with esbuild:
//   node professionals.mjs <base-url> <server.log>
// Enrols the organisation's first administrator from the one-time link the server printed on its
// first start (in <server.log>), signs the same administrator in once more (a second session, for
// the sign-out operation), invites and enrols a colleague (a professional who is not an
// administrator) and opens one more enrolment link. Prints one line:
//   <admin session> <second admin session> <colleague's account> <open enrolment>
import { readFileSync } from "node:fs";
import { SoftPasskey } from "../e2e/soft-passkey";

const [base, log] = process.argv.slice(2);
if (!base || !log) {
  console.error("usage: node professionals.mjs <base-url> <server.log>");
  process.exit(2);
}

async function call(method: string, path: string, body?: unknown, token?: string, expected = 200): Promise<any> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await answer.text();
  if (answer.status !== expected) throw new Error(`${method} ${path}: ${answer.status} (expected ${expected}): ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Enrols with a link (`…/inschrijven#<code>`); the passkey is bound to the link's origin. */
async function enrol(link: string): Promise<{ token: string; account: any; passkey: SoftPasskey }> {
  const url = new URL(link);
  const { ceremony, options } = await call("POST", "/api/enrolments/start", { code: url.hash.slice(1) });
  const { passkey, credential } = SoftPasskey.register(options, url.origin);
  const { session_token: token, account } = await call("POST", "/api/enrolments/finish", { ceremony, credential }, undefined, 201);
  return { token, account, passkey };
}

const links = [...readFileSync(log, "utf8").matchAll(/Open (\S+\/inschrijven#\S+) to set up the first account/g)].map((m) => m[1]);
if (links.length === 0) throw new Error(`${log} has no first-account link ("Open …/inschrijven#… to set up the first account")`);
const admin = await enrol(links[links.length - 1]);
if (!admin.account.admin) throw new Error(`the first account is not an administrator: ${JSON.stringify(admin.account)}`);

// A second session of the administrator: a discoverable sign-in with the same passkey.
const signIn = await call("POST", "/api/sessions/start", {});
const again = await call("POST", "/api/sessions/finish", { ceremony: signIn.ceremony, credential: admin.passkey.signIn(signIn.options) }, undefined, 201);

const invited = await call("POST", "/api/organisation/enrolments", { name: "Schemathesis Collega", admin: false }, admin.token, 201);
const colleague = await enrol(invited.link);
const open = await call("POST", "/api/organisation/enrolments", { name: "Schemathesis Open", admin: false }, admin.token, 201);

console.log(admin.token, again.session_token, colleague.account.account, open.enrolment);
