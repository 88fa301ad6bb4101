// Sign-in benchmark: a professional signs in on a new phone and her caseload of PLANS (20)
// generated year plans (koers_core::year, ~5,135 operations each) comes to it, in Debian's
// Chromium at phone size. Prints figures; asserts nothing.
//   node bench/sign-in.mjs     (after scripts/build.sh and
//                               cargo build --profile server -p koers-server --example seed_year_plan)
//
// 1. Starts the server (target/server/koers-server) on a free port with an empty data folder and
//    KOERS_PUBLIC_URL=http://localhost:<port> (the passkeys' origin), and reads the first
//    account's link from its stdout. Enrols the administrator with the software passkey of the
//    end-to-end tests (tests/e2e/soft-passkey.ts, bundled here with esbuild), invites one worker
//    (POST /api/organisation/enrolments) and enrols her with a passkey of her own, all through the
//    API. Then puts PLANS year plans on the server founded with her session, one after the other,
//    with the example seed_year_plan (KOERS_SESSION_TOKEN; its server-profile build, run as is, so
//    that nothing is rebuilt during the run), on the real clock. Seeding takes about 10 minutes:
//    each plan's 11 other authors accept an invite, and the server's rate limit lets one address
//    accept one every 3 s after the first 20.
// 2. RUNS (3) new phones, one after the other: each a fresh Chromium (a persistent profile in a new
//    temp folder, so IndexedDB is on disk as on a phone; 390x844, isMobile, nl-NL,
//    Europe/Amsterdam, service workers allowed, no throttling) with a virtual platform
//    authenticator (DevTools WebAuthn: ctap2, internal, resident keys, user verification) holding
//    her passkey: the soft passkey's key for the first phone, then the credential as the last
//    phone left it (WebAuthn.getCredentials: its signature counter went up, and the server
//    refuses a counter that goes back).
// 3. Per phone:
//    - first load: `/aanmelden` opened (navigation start) → the sign-in button in the DOM and
//      painted (the app has taken over and read that nobody is signed in); then the bench waits
//      until the service worker is active and nothing is downloading any more (a person reads
//      the screen) — reported apart, with what it downloaded;
//    - sign-in: the click on [data-testid=sign-in-passkey] (its event time) →
//      - the passkey answered (the first POST /api/sessions/finish answered),
//      - "Mijn gezinnen" with PLANS rows, one for each seeded plan, in the DOM and painted (the
//        first task after the next frame),
//      - every plan synced: the app's round of all PLANS plans at once (the first POST /api/sync
//        after the last device was registered that names every plan, and whose answer brings no
//        operation, no "more" and no error for any of them) read and handled (the first task
//        after Response.text() resolved), and the IndexedDB transactions committed in the 1.5 s
//        after it;
//      the sign-in is done when the rows are painted and every plan is synced.
//    - requests by kind from the click until done (Playwright's request events, the service
//      worker's own included): /api/sessions/*, /api/me, /api/me/plans/*/devices, /api/sync,
//      /api/plans/*/ops, /api/events, other /api, app files (from the network, or answered by
//      the service worker);
//    - bytes downloaded from the network (Playwright's Request.sizes(): response headers and
//      encoded body, i.e. as sent, compressed), API apart from app files; a page request that the
//      service worker answered counts only if the worker fetched it.
// Medians of RUNS, and every run. Errors in the page and API answers >= 400 are counted and
// shown at the end; the load average at the start and at the end.
//
// Environment: PLANS (20), RUNS (3), CHROMIUM (/usr/bin/chromium), KOERS_SERVER_BIN
// (target/server/koers-server), SEED_BIN (<target>/server/examples/seed_year_plan),
// CARGO_TARGET_DIR (cargo's own default), BENCH_PORT (a free one), TRACE (set: also prints the
// first phone's API requests after the click, each sent → answered → handled, and when its
// IndexedDB transactions committed).
import { chromium } from "@playwright/test";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { findServer } from "./server.mjs";

const PLANS = Number(process.env.PLANS ?? 20);
const RUNS = Number(process.env.RUNS ?? 3);
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TARGET = process.env.CARGO_TARGET_DIR ?? "target";
const SEED = process.env.SEED_BIN ?? join(TARGET, "server/examples/seed_year_plan");
const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];
const began = Date.now();
const loadAtStart = loadavg();

class BenchError extends Error {}
const fail = (message) => {
  throw new BenchError(message);
};
const stop = (e) => {
  console.error(e instanceof BenchError ? `sign-in: ${e.message}` : e);
  process.exit(2);
};
process.on("uncaughtException", stop);
process.on("unhandledRejection", stop);
const sorted = (xs) => [...xs].filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b);
const median = (xs) => {
  const s = sorted(xs);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const progress = (text) => console.error(`sign-in: ${text}`);

// What must be there before anything runs.
const server = findServer(fail);
if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set CHROMIUM`);
if (!existsSync(SEED)) fail(`no ${SEED}: build it with cargo build --profile server -p koers-server --example seed_year_plan`);
for (const [name, path] of [["server", server], ["seed_year_plan", SEED]]) {
  const newest = spawnSync("find", ["crates", "-name", "*.rs", "-newer", path, "-print", "-quit"], { encoding: "utf8" }).stdout.trim();
  if (newest) progress(`note: ${newest} is newer than the ${name} binary ${path}`);
}

const work = mkdtempSync(join(tmpdir(), "koers-sign-in-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// The software passkey of the end-to-end tests, bundled for Node as tests/api does.
const { build } = await import("esbuild");
await build({ entryPoints: ["tests/e2e/soft-passkey.ts"], bundle: true, platform: "node", format: "esm",
  outfile: join(work, "soft-passkey.mjs"), logLevel: "warning" });
const { SoftPasskey } = await import(pathToFileURL(join(work, "soft-passkey.mjs")).href);

// 1. The server, on a free port, with an empty data folder, reached at localhost (the passkeys'
// origin; an IP address cannot be one).
cpSync("dist", join(work, "dist"), { recursive: true });
const port = Number(process.env.BENCH_PORT) || await new Promise((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const origin = `http://localhost:${port}`;
const api = `http://127.0.0.1:${port}`;
const serverOut = [];
const proc = spawn(server, [], {
  env: { ...process.env, KOERS_ADDR: `127.0.0.1:${port}`, KOERS_DATA: join(work, "data"), KOERS_DIST: join(work, "dist"),
    KOERS_LOG: "warn", KOERS_PUBLIC_URL: origin },
  stdio: ["ignore", "pipe", "pipe"],
});
proc.stdout.setEncoding("utf8").on("data", (d) => serverOut.push(d));
proc.stderr.setEncoding("utf8").on("data", (d) => serverOut.push(d));
let exited = null;
proc.on("exit", (code) => (exited = code));
process.on("exit", () => exited === null && proc.kill());
for (let i = 0; ; i++) {
  try { if ((await fetch(`${api}/healthz`)).ok) break; } catch {}
  if (exited !== null || i > 100) fail(`the server at ${server} did not start (exit code ${exited}):\n${serverOut.join("")}`);
  await new Promise((r) => setTimeout(r, 100));
}
let firstLink = null;
for (let i = 0; i < 50 && !firstLink; i++) {
  firstLink = serverOut.join("").match(/Open (\S+\/inschrijven#\S+) to set up the first account/)?.[1];
  if (!firstLink) await new Promise((r) => setTimeout(r, 100));
}
if (!firstLink) fail(`the server printed no first-account link:\n${serverOut.join("")}`);

async function call(method, path, body, token, expected = 200) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let answer;
  for (let attempt = 1; ; attempt++) {
    try {
      answer = await fetch(`${api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      break;
    } catch (e) {
      // A kept-alive connection the server closed meanwhile (the seeding takes minutes): again.
      if (attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const text = await answer.text();
  if (answer.status !== expected) fail(`${method} ${path}: ${answer.status} (expected ${expected}): ${text}`);
  return text ? JSON.parse(text) : undefined;
}
/** Enrols with a link (`…/inschrijven#<code>`): a new passkey for the link's origin. */
async function enrol(link) {
  const url = new URL(link);
  const { ceremony, options } = await call("POST", "/api/enrolments/start", { code: url.hash.slice(1) });
  const { passkey, credential } = SoftPasskey.register(options, url.origin);
  const { session_token: token, account } = await call("POST", "/api/enrolments/finish", { ceremony, credential }, undefined, 201);
  return { token, account, passkey };
}
const admin = await enrol(firstLink);
const invited = await call("POST", "/api/organisation/enrolments", { name: "Lotte de Vries", admin: false }, admin.token, 201);
const worker = await enrol(invited.link);
progress(`enrolled ${admin.account.name} (administrator) and ${worker.account.name} (worker) of ${worker.account.organisation.name}`);

// Her caseload, one plan after the other, on the real clock.
const seedEnv = { ...process.env, KOERS_SESSION_TOKEN: worker.token };
delete seedEnv.KOERS_TEST_NOW;
delete seedEnv.KOERS_ENROLMENT_LINK;
const seeded = [];
const seedStarted = Date.now();
for (let i = 0; i < PLANS; i++) {
  progress(`seeding year plan ${i + 1}/${PLANS} (${SEED}) …`);
  const made = spawnSync(SEED, [api], { env: seedEnv, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 });
  if (made.error) fail(`cannot run ${SEED}: ${made.error.message}`);
  if (made.status !== 0) fail(`seeding year plan ${i + 1} failed (see above)`);
  seeded.push(JSON.parse(made.stdout));
}
const seedSeconds = (Date.now() - seedStarted) / 1000;
const totalOps = seeded.reduce((n, s) => n + s.ops, 0);
const me = await call("GET", "/api/me", undefined, worker.token);
if (me.plans.length !== PLANS) fail(`GET /api/me lists ${me.plans.length} plans for her, not ${PLANS}`);

// In every page, on performance.now()'s clock: the sign-in button and the overview's rows in
// the DOM and painted; the click; every API answer the app read (and, for POST /api/sync, how
// many plans it asked for and what came back); every IndexedDB transaction committed.
const observe = (plans) => {
  const t = (window.__koers = { api: [], committed: [] });
  // The round of all plans once every plan was brought: the first POST /api/sync after the click
  // and after the last device was registered that names every plan and brings nothing.
  t.allSynced = () => {
    const registered = t.api.filter((e) => e.path.startsWith("/api/me/plans/") && e.start > t.click).map((e) => e.answered ?? Infinity);
    const after = Math.max(t.click, ...registered);
    return t.api.find((e) => e.path === "/api/sync" && e.start > after && e.plans >= plans && e.handled != null &&
      e.ops === 0 && e.more === 0 && e.errors === 0);
  };
  performance.setResourceTimingBufferSize(100_000);
  const paintedAfter = (key) => requestAnimationFrame(() => setTimeout(() => (t[key] = performance.now()), 0));
  const check = () => {
    if (t.button == null && document.querySelector('[data-testid="sign-in-passkey"]')) {
      t.button = performance.now();
      paintedAfter("buttonPainted");
    }
    if (t.rows == null && document.querySelectorAll('[data-testid="plan-row"]').length >= plans) {
      t.rows = performance.now();
      paintedAfter("rowsPainted");
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
  addEventListener("click", (e) => {
    if (t.click == null && e.target.closest?.('[data-testid="sign-in-passkey"]')) t.click = e.timeStamp;
  }, true);
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    const request = input instanceof Request ? input : new Request(input, init);
    const path = new URL(request.url, location.href).pathname;
    if (!path.startsWith("/api/")) return fetch.call(this, input, init);
    const entry = { path, method: request.method, start: performance.now() };
    t.api.push(entry);
    if (path === "/api/sync")
      request.clone().text().then((body) => {
        try { entry.plans = JSON.parse(body).plans.length; } catch {}
      });
    return fetch.call(this, request).then((response) => {
      entry.status = response.status;
      entry.answered = performance.now();
      response.__koers = entry;
      return response;
    });
  };
  const text = Response.prototype.text;
  Response.prototype.text = function () {
    const entry = this.__koers;
    return text.call(this).then((body) => {
      if (entry) {
        entry.bytes = body.length;
        if (entry.path === "/api/sync" && entry.plans != null) {
          try {
            const answer = JSON.parse(body);
            entry.ops = answer.plans.reduce((n, p) => n + (p.ops?.length ?? 0), 0);
            entry.errors = answer.plans.filter((p) => p.error || p.push_error).length;
            entry.more = answer.plans.filter((p) => p.more).length;
          } catch {}
        }
        setTimeout(() => (entry.handled = performance.now()), 0);
      }
      return body;
    });
  };
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...a) {
    const tx = transaction.apply(this, a);
    tx.addEventListener("complete", () => t.committed.push(performance.now()));
    return tx;
  };
};

/** What a request is, for the counts. */
const kindOf = (url) => {
  const path = new URL(url).pathname;
  if (path.startsWith("/api/sessions/")) return "/api/sessions/*";
  if (/^\/api\/me\/plans\/[^/]+\/devices$/.test(path)) return "/api/me/plans/*/devices";
  if (path === "/api/me") return "/api/me";
  if (path === "/api/sync") return "/api/sync";
  if (/^\/api\/plans\/[^/]+\/ops$/.test(path)) return "/api/plans/*/ops";
  if (path === "/api/events" || /^\/api\/plans\/[^/]+\/events$/.test(path)) return "events";
  if (path.startsWith("/api/")) return "other /api";
  return "app files";
};
const KINDS = ["/api/sessions/*", "/api/me", "/api/me/plans/*/devices", "/api/sync", "/api/plans/*/ops", "events", "other /api", "app files"];

const problems = [];
const apiErrors = [];
const seededIds = new Set(seeded.map((s) => s.plan));
let version = null;

/** One new phone: first load of /aanmelden, then the sign-in, measured. */
async function phone(credential, n) {
  const profile = mkdtempSync(join(work, `phone-${n}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args, viewport: { width: 390, height: 844 }, isMobile: true,
    locale: "nl-NL", timezoneId: "Europe/Amsterdam", serviceWorkers: "allow",
  });
  version ??= context.browser()?.version() ?? spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).stdout.trim();
  try {
    await context.addInitScript(observe, PLANS);
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(600_000);
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));

    // Every request of the phone (the service worker's own too), by phase, with its size.
    let phase = "load";
    const requests = [];
    const inFlight = new Set();
    context.on("request", (r) => {
      const entry = { phase, at: Date.now(), kind: kindOf(r.url()), byWorker: !!r.serviceWorker(), bytes: 0, done: false };
      requests.push(entry);
      if (entry.kind !== "events") inFlight.add(r);
      r.__entry = entry;
    });
    const finished = (r, ok) => {
      inFlight.delete(r);
      const entry = r.__entry;
      if (!entry) return;
      entry.done = true;
      if (!ok) return;
      entry.sizes = (async () => {
        const response = await r.response();
        entry.fromWorker = response?.fromServiceWorker() ?? false;
        if (response && new URL(r.url()).pathname.startsWith("/api/") && response.status() >= 400)
          apiErrors.push(`${r.method()} ${new URL(r.url()).pathname} → ${response.status()}`);
        if (entry.fromWorker) return;
        const s = await r.sizes();
        entry.bytes = s.responseHeadersSize + s.responseBodySize;
      })().catch(() => {});
    };
    context.on("requestfinished", (r) => finished(r, true));
    context.on("requestfailed", (r) => finished(r, false));
    /** Waits until nothing but event streams has been downloading for `quiet` ms. */
    const settle = async (quiet) => {
      let since = Date.now();
      while (Date.now() - since < quiet) {
        if (inFlight.size) since = Date.now();
        await page.waitForTimeout(50);
      }
    };

    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await cdp.send("WebAuthn.addCredential", { authenticatorId, credential });

    // The first load: /aanmelden until its button is painted; then the service worker and
    // whatever is still downloading (the screens' chunk, the offline copy, the prepared ceremony).
    await page.goto(`${origin}/aanmelden`);
    await page.waitForFunction(() => window.__koers.buttonPainted != null);
    const load = await page.evaluate(() => ({ button: window.__koers.button, painted: window.__koers.buttonPainted }));
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller)
        await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
    });
    await settle(1500);
    await page.locator('[data-testid="sign-in-passkey"]:enabled').waitFor();
    Object.assign(load, await page.evaluate(() => ({
      settled: performance.now(),
      // Cross-check of the page's part (not the service worker's): Resource Timing's transferSize.
      pageTransfer: [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
        .filter((e) => !new URL(e.name).pathname.startsWith("/api/"))
        .reduce((n, e) => n + e.transferSize, 0),
    })));

    // The sign-in.
    phase = "sign-in";
    const clickedAt = Date.now();
    await page.locator('[data-testid="sign-in-passkey"]').click();
    try {
      await page.waitForFunction((plans) => {
        const t = window.__koers;
        return t.rowsPainted != null && t.allSynced() != null;
      }, null, { polling: 20 });
    } catch (e) {
      const shown = await page.evaluate(() => document.body.innerText).catch(() => "?");
      console.error(`sign-in: phone ${n} did not finish after ${((Date.now() - clickedAt) / 1000).toFixed(0)} s at ${page.url()}`);
      console.error(`  the page says: ${shown.replace(/\s+/g, " ").slice(0, 600)}`);
      console.error(`  API answers >= 400: ${apiErrors.join(", ") || "none"}; page errors: ${problems.join(" | ") || "none"}`);
      throw e;
    }
    const doneAt = Date.now();
    // The round's IndexedDB writes, then anything still going on.
    await page.waitForTimeout(1500);
    const r = await page.evaluate(() => {
      const t = window.__koers;
      const all = t.allSynced();
      const committed = t.committed.filter((c) => c >= all.handled && c <= all.handled + 1500);
      const synced = Math.max(all.handled, ...committed);
      const finish = t.api.find((e) => e.path === "/api/sessions/finish" && e.answered != null);
      const ids = [...document.querySelectorAll('[data-testid="plan-row"]')].map((row) => row.dataset.plan);
      const pulls = t.api.filter((e) => e.path === "/api/sync" && e.start > t.click && e.handled != null && e.handled <= all.handled);
      return {
        click: t.click,
        passkey: finish ? finish.answered - t.click : null,
        rows: t.rows - t.click,
        rowsPainted: t.rowsPainted - t.click,
        syncStarted: all.start - t.click,
        syncAnswered: all.answered - t.click,
        syncHandled: all.handled - t.click,
        synced: synced - t.click,
        done: Math.max(t.rowsPainted, synced) - t.click,
        lastRound: { plans: all.plans, ops: all.ops, errors: all.errors, more: all.more, bytes: all.bytes },
        rounds: pulls.map((e) => e.plans),
        ids,
        answered: t.api.filter((e) => e.start > t.click && e.handled != null && e.handled <= all.handled).reduce((n, e) => n + (e.bytes ?? 0), 0),
        timeline: t.api.filter((e) => e.start > t.click).map((e) => ({ path: e.path, plans: e.plans, start: e.start - t.click,
          answered: e.answered - t.click, handled: e.handled - t.click, bytes: e.bytes,
          commits: t.committed.filter((c) => c > e.handled).length })),
        commits: t.committed.filter((c) => c > t.click).map((c) => Math.round(c - t.click)),
        heading: document.querySelector("h1")?.textContent?.trim(),
        path: location.pathname,
      };
    });
    r.load = load;
    const missing = [...seededIds].filter((id) => !r.ids.includes(id));
    if (missing.length) fail(`phone ${n}: the overview lacks ${missing.length} of the seeded plans (shows ${r.ids.length} rows)`);
    // Requests and bytes: the first load (until settled), and the sign-in (until done).
    await Promise.all(requests.map((e) => e.sizes));
    const tally = (list) => {
      const out = { count: Object.fromEntries(KINDS.map((k) => [k, 0])), worker: 0, fromWorker: 0, apiBytes: 0, appBytes: 0, workerBytes: 0 };
      for (const e of list) {
        out.count[e.kind]++;
        if (e.byWorker) out.worker++;
        if (e.fromWorker) out.fromWorker++;
        if (e.kind === "app files") {
          out.appBytes += e.bytes;
          if (e.byWorker) out.workerBytes += e.bytes;
        } else out.apiBytes += e.bytes;
      }
      return out;
    };
    r.loadRequests = tally(requests.filter((e) => e.phase === "load"));
    r.signInRequests = tally(requests.filter((e) => e.phase === "sign-in" && e.at <= doneAt));
    r.after = requests.filter((e) => e.phase === "sign-in" && e.at > doneAt).map((e) => e.kind);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    if (credentials.length !== 1) fail(`phone ${n}: the authenticator holds ${credentials.length} credentials`);
    return { result: r, credential: credentials[0] };
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

const results = [];
let credential = worker.passkey.virtualCredential();
try {
  for (let i = 0; i < RUNS; i++) {
    progress(`phone ${i + 1}/${RUNS}: first load, then sign-in …`);
    const { result, credential: after } = await phone(credential, i + 1);
    credential = after;
    results.push(result);
    progress(`phone ${i + 1}/${RUNS}: done in ${Math.round(result.done)} ms (signature counter ${after.signCount})`);
  }
} finally {
  proc.kill();
}

// The figures.
const kb = (n) => (n == null ? "–" : `${(n / 1024).toFixed(1)} KiB`);
const mb = (n) => (n == null ? "–" : `${(n / 1024 / 1024).toFixed(2)} MiB`);
const ms = (x) => (x == null || Number.isNaN(x) ? "–" : Math.round(x).toLocaleString("en"));
const pick = (f) => median(results.map(f));
const runs = (f, format = ms) => results.map((x) => format(f(x))).join(", ");
const line = (name, f, format = ms, unit = " ms") =>
  console.log(`  ${name.padEnd(72)} ${(format(pick(f)) + unit).padStart(12)}   runs: ${runs(f, format)}`);

const pressure = (l) => l.map((x) => x.toFixed(2)).join(" ");
console.log(`\nKoers sign-in benchmark — Chromium ${version}, 390x844, no throttling, ${PLANS} year plans, ${RUNS} new phones (medians)\n`);
console.log(`  ${PLANS} plans seeded for ${worker.account.name} in ${seedSeconds.toFixed(0)} s: ${totalOps.toLocaleString("en")} operations ` +
  `(${seeded[0].ops} each, child "${seeded[0].child_name}")`);
console.log(`  load average (1, 5, 15 min) ${pressure(loadAtStart)} at the start, ${pressure(loadavg())} at the end\n`);
console.log(" first load of /aanmelden (navigation start →)");
line("the sign-in button in the DOM", (x) => x.load.button);
line("… painted", (x) => x.load.painted);
line("service worker active and nothing downloading any more (1.5 s quiet)", (x) => x.load.settled);
const count = (x, kinds) => kinds.reduce((n, k) => n + x.count[k], 0);
line("requests for app files (page and service worker)", (x) => x.loadRequests.count["app files"], String, "");
line("API requests (the ceremony prepared before the tap)", (x) => count(x.loadRequests, KINDS.filter((k) => k !== "app files")), String, "");
line("downloaded, app files (the service worker's offline copy included)", (x) => x.loadRequests.appBytes, kb, "");
line("… of which the service worker's own requests", (x) => x.loadRequests.workerBytes, kb, "");
line("… the page's part by Resource Timing (transferSize), as a cross-check", (x) => x.load.pageTransfer, kb, "");
line("downloaded, API", (x) => x.loadRequests.apiBytes, kb, "");
console.log("\n sign-in on the new phone (the click →)");
line("the passkey answered: POST /api/sessions/finish answered", (x) => x.passkey);
line(`"Mijn gezinnen" with ${PLANS} rows in the DOM`, (x) => x.rows);
line("… painted", (x) => x.rowsPainted);
line(`the round of all ${PLANS} plans (nothing new) sent`, (x) => x.syncStarted);
line("… answered", (x) => x.syncAnswered);
line("… handled, its IndexedDB writes committed: every plan synced", (x) => x.synced);
line("DONE: rows painted and every plan synced", (x) => x.done);
console.log("  requests from the click until done, by kind (medians; every run the same unless shown):");
for (const kind of KINDS) {
  const counts = results.map((x) => x.signInRequests.count[kind]);
  const same = counts.every((c) => c === counts[0]);
  console.log(`    ${kind.padEnd(28)} ${String(median(counts)).padStart(5)}${same ? "" : `   runs: ${counts.join(", ")}`}`);
}
const total = (x) => count(x.signInRequests, KINDS);
console.log(`    ${"all".padEnd(28)} ${String(pick(total)).padStart(5)}   (app files answered by the service worker: ${runs((x) => x.signInRequests.fromWorker, String)})`);
line("downloaded, API (headers and body as sent)", (x) => x.signInRequests.apiBytes, mb, "");
line("downloaded, app files", (x) => x.signInRequests.appBytes, kb, "");
console.log(`  /api/sync requests' plans (one line per request, first run): ${results[0].rounds.join(" ")}`);
line("the API answers the app read, uncompressed (characters)", (x) => x.answered, mb, "");
if (process.env.TRACE) {
  console.log("  the first run's API requests after the click: start → answered → handled (ms), characters, IndexedDB commits after:");
  for (const e of results[0].timeline)
    console.log(`    ${ms(e.start).padStart(7)} ${ms(e.answered).padStart(7)} ${ms(e.handled).padStart(7)}  ${e.path}${e.plans ? ` (${e.plans} plans)` : ""} ${e.bytes ?? ""} ${e.commits}`);
}
if (process.env.TRACE) console.log(`  IndexedDB transactions committed (ms after the click): ${results[0].commits.join(" ")}`);
const after = results.flatMap((x) => x.after);
if (after.length) console.log(`  requests in the 1.5 s after done (not counted): ${after.join(", ")}`);
console.log(`\n problems seen: ${problems.length} in the page, ${apiErrors.length} API answers >= 400`);
const tally = (xs) => [...xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map())];
for (const [text, n] of tally(problems).slice(0, 8)) console.log(`  ${n}x ${text.slice(0, 220)}`);
for (const [text, n] of tally(apiErrors).slice(0, 8)) console.log(`  ${n}x ${text}`);
console.log(`\n server ${server} (built ${statSync(server).mtime.toISOString().slice(0, 16)}Z); total run time ${((Date.now() - began) / 1000).toFixed(0)} s`);
