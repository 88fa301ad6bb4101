// Caseload benchmark (issue 11): one phone holding PLANS (20) generated year plans
// (koers_core::year, ~5,135 operations each, ~100,000 in all), in Debian's Chromium at phone size.
// Prints figures; asserts nothing.
//   node bench/caseload.mjs     (after scripts/build.sh and cargo build --profile server -p koers-server)
//
// 1. Starts the server on a free port with an empty data folder and puts PLANS year plans on it,
//    one after the other, with `cargo run --release -p koers-server --example seed_year_plan`
//    (each a new plan with its own invite for its first parent). The seed runs on the real time
//    (KOERS_TEST_NOW is left out of its environment), as does the phone: no fake clock.
// 2. One phone (a persistent Chromium profile in a temp folder, so its IndexedDB can be measured
//    on disk; 390x844, isMobile, nl-NL, Europe/Amsterdam, service workers allowed) opens every
//    invite link and waits until that plan's home shows its child and "alles verstuurd".
// 3. Measures, unthrottled and with a 4x CPU slowdown (Emulation.setCPUThrottlingRate), medians of
//    RUNS:
//    - open: `/` loaded anew, from navigation start to the PLANS-th row of "Mijn gezinnen" in the
//      DOM, and painted (the first task after the next frame);
//    - switch: a row clicked on the overview (the app has taken over) → that plan's home, its
//      child name in the DOM, and painted; once for a plan not opened since `/` was loaded, and
//      once for one opened before in the same visit (the app keeps it open: no replay);
//    - a sync round with nothing new, on a plan's home: context.setOffline(true) then (false),
//      which fires `online` → one round. Counts the POST /api/sync requests of the round (from the
//      `online` event until 1.5 s after the round's answer) and times the `online` event → request
//      sent → answer received (Resource Timing) → the round done (the answer read and handled: the
//      first task after Response.text() resolved; and any IndexedDB transaction committed or sync
//      bar redrawn after the answer);
//      each round starts right after one of the app's 15 s rounds, so that timer stays out of it;
//    - a tick of a goal in "Mijn doelen" on a year plan's home, TICKS times (on, off, …), from the
//      click event to `koers:change-stored` and to the goal redrawn and painted (as year-scale.mjs).
// 4. IndexedDB size: navigator.storage.estimate() and the profile's IndexedDB folder on disk.
// Errors in the page (console errors, uncaught exceptions) and API answers >= 400 are counted and
// shown at the end, as are the join times.
//
// Environment: PLANS (20), RUNS (5), TICKS (15), CHROMIUM (/usr/bin/chromium),
// KOERS_SERVER_BIN (target/server/koers-server), CARGO_TARGET_DIR (cargo's own default),
// BENCH_PORT (a free one).
import { chromium } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { findServer, startServer } from "./server.mjs";

const PLANS = Number(process.env.PLANS ?? 20);
const RUNS = Number(process.env.RUNS ?? 5);
const TICKS = Number(process.env.TICKS ?? 15);
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];
const began = Date.now();
const loadAtStart = loadavg()[0];

class BenchError extends Error {}
const fail = (message) => {
  throw new BenchError(message);
};
const stop = (e) => {
  console.error(e instanceof BenchError ? `caseload: ${e.message}` : e);
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
const p95 = (xs) => {
  const s = sorted(xs);
  return s.length ? s[Math.ceil(0.95 * s.length) - 1] : null;
};
const ms = (x) => (x == null || Number.isNaN(x) ? "–" : x.toFixed(1));
const progress = (text) => console.error(`caseload: ${text}`);

// What must be there before anything runs.
const server = findServer(fail);
if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set CHROMIUM`);

const work = mkdtempSync(join(tmpdir(), "koers-caseload-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// 1. The server, on a free port, with an empty data folder.
const { base, stop: stopServer } = await startServer(server, work, fail);

// The year plans, one after the other, on the real clock.
const seedEnv = { ...process.env };
delete seedEnv.KOERS_TEST_NOW;
const seeded = [];
const seedStarted = Date.now();
for (let i = 0; i < PLANS; i++) {
  progress(`seeding year plan ${i + 1}/${PLANS} (cargo run --release -p koers-server --example seed_year_plan) …`);
  const made = spawnSync("cargo", ["run", "--release", "-q", "-p", "koers-server", "--example", "seed_year_plan", "--", base],
    { env: seedEnv, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 });
  if (made.error) fail(`cannot run cargo: ${made.error.message}`);
  if (made.status !== 0) fail(`seeding year plan ${i + 1} failed (see above)`);
  seeded.push(JSON.parse(made.stdout));
}
const seedSeconds = (Date.now() - seedStarted) / 1000;
const totalOps = seeded.reduce((n, s) => n + s.ops, 0);

// In every page: when the overview's rows and a plan's home are in the DOM and painted (the first
// task after the next frame), on performance.now()'s clock (0 = navigation start); the `online`
// event; every redraw of the sync bar; clicks keep their event timestamp.
const observe = () => {
  const t = (window.__koers = { bars: [] });
  performance.setResourceTimingBufferSize(100_000);
  const paintedAfter = (key) => requestAnimationFrame(() => setTimeout(() => (t[key] = performance.now()), 0));
  let bar = null;
  let barText = null;
  const check = () => {
    const want = window.__koersRows;
    if (want && t.rows == null && document.querySelectorAll('[data-testid="plan-row"]').length >= want) {
      t.rows = performance.now();
      paintedAfter("rowsPainted");
    }
    const now = document.querySelector('[data-testid="sync-status"]');
    if (now !== bar || (now && now.textContent !== barText)) {
      bar = now;
      barText = now?.textContent;
      t.bars.push(performance.now());
    }
    if (t.watch) t.watch();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["class"] });
  addEventListener("click", (e) => (t.click = e.timeStamp), true);
  addEventListener("online", () => (t.online = performance.now()), true);
  // When the app has read a sync answer and handled it (the first task after the read: the app's
  // synchronous work on it is done), and when each IndexedDB transaction commits.
  t.handled = [];
  t.committed = [];
  const text = Response.prototype.text;
  Response.prototype.text = function () {
    const sync = new URL(this.url, location.href).pathname === "/api/sync";
    return text.call(this).then((body) => {
      if (sync) setTimeout(() => t.handled.push(performance.now()), 0);
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

const userDir = join(work, "profile");
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM, args, viewport: { width: 390, height: 844 }, isMobile: true,
  locale: "nl-NL", timezoneId: "Europe/Amsterdam", serviceWorkers: "allow",
});
const version = context.browser()?.version() ?? spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).stdout.trim();
await context.addInitScript(observe);

// What goes wrong in the page, and every API request.
const problems = [];
const apiErrors = [];
const requests = [];
context.on("request", (r) => {
  const url = new URL(r.url());
  if (url.pathname.startsWith("/api/")) requests.push({ at: Date.now(), method: r.method(), path: url.pathname });
});
context.on("response", (r) => {
  const url = new URL(r.url());
  if (url.pathname.startsWith("/api/") && r.status() >= 400) apiErrors.push(`${r.request().method()} ${url.pathname} → ${r.status()}`);
});
const syncRequests = (from, to = Infinity) => requests.filter((r) => r.path === "/api/sync" && r.at >= from && r.at <= to);

const page = context.pages()[0] ?? await context.newPage();
page.setDefaultTimeout(120_000);
page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));

const joins = [];
const results = {};
let rowsShown = 0;
let homeGoals = 0;
let storage = null;
let records = null;
let idbFolderOpen = null;
try {
  // 2. The phone joins every plan by its invite link.
  for (const [i, s] of seeded.entries()) {
    const t0 = Date.now();
    try {
      await page.goto(s.invite_link);
      await page.waitForURL(`${base}/p/${s.plan}`);
      await page.locator('[data-testid="child-name"]').filter({ hasText: `Plan van ${s.child_name}` }).waitFor();
      await page.locator('[data-testid="sync-pending"]').filter({ hasText: "alles verstuurd" }).waitFor();
      await page.locator('[data-testid="my-goals"] input').first().waitFor();
    } catch (e) {
      // Say what the phone showed and asked, then stop.
      const shown = await page.evaluate(() => document.body.innerText).catch(() => "?");
      console.error(`caseload: joining plan ${i + 1} failed after ${((Date.now() - t0) / 1000).toFixed(0)} s at ${page.url()}`);
      console.error(`  the page says: ${shown.replace(/\s+/g, " ").slice(0, 600)}`);
      console.error(`  API requests since the link was opened: ${requests.filter((r) => r.at >= t0).map((r) => `${r.method} ${r.path}`).join(", ")}`);
      console.error(`  API answers >= 400 so far: ${apiErrors.join(", ") || "none"}; page errors: ${problems.join(" | ") || "none"}`);
      throw e;
    }
    joins.push((Date.now() - t0) / 1000);
    progress(`joined plan ${i + 1}/${PLANS} in ${joins.at(-1).toFixed(1)} s`);
  }
  // The service worker serves the app from here on, as on an installed phone.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller)
      await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
  });

  // How many rows the overview shows (the example plan may be one of them).
  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Mijn gezinnen", level: 1 }).waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="plan-row"]').length >= n, PLANS);
  await page.waitForTimeout(1000);
  rowsShown = await page.locator('[data-testid="plan-row"]').count();
  await context.addInitScript((n) => (window.__koersRows = n), PLANS);

  const cdp = await context.newCDPSession(page);
  const appReady = () => page.waitForFunction(() => performance.getEntriesByName("koers:plan-shown").length);

  const openOnce = async () => {
    await page.goto(`${base}/`);
    await page.waitForFunction(() => window.__koers.rowsPainted != null);
    await appReady();
    return page.evaluate(() => {
      const t = window.__koers;
      const mark = (n) => performance.getEntriesByName(n)[0]?.startTime;
      return { opening: mark("koers:open-start"), first: mark("koers:first-paint"), shown: mark("koers:plan-shown"), rows: t.rows, painted: t.rowsPainted };
    });
  };

  let target = null;
  let turn = 0;
  const nextPlan = async () => {
    const ids = await page.locator('[data-testid="plan-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.plan));
    const mine = ids.filter((id) => seeded.some((s) => s.plan === id));
    return mine[turn++ % mine.length];
  };
  // From "Mijn gezinnen" (the app has taken over), a click on `plan`'s row → its home, timed.
  const openRow = async (plan) => {
    await page.evaluate((plan) => {
      const t = window.__koers;
      t.click = t.home = t.homePainted = t.goals = null;
      t.watch = () => {
        if (location.pathname !== `/p/${plan}`) return;
        if (t.home == null && document.querySelector('[data-testid="child-name"]')) {
          t.home = performance.now();
          requestAnimationFrame(() => setTimeout(() => (t.homePainted = performance.now()), 0));
        }
        if (t.goals == null && document.querySelector('[data-testid="my-goals"] input')) t.goals = performance.now();
      };
    }, plan);
    await page.locator(`[data-testid="plan-row"][data-plan="${plan}"] a`).first().click();
    await page.waitForFunction(() => window.__koers.homePainted != null && window.__koers.goals != null);
    const r = await page.evaluate(() => {
      const t = window.__koers;
      return { home: t.home - t.click, painted: t.homePainted - t.click, goals: t.goals - t.click, path: location.pathname };
    });
    if (r.path !== `/p/${plan}`) fail(`the switch ended on ${r.path}, not /p/${plan}`);
    return r;
  };
  // Back to "Mijn gezinnen" through the header's plan switcher, as a user goes.
  const toOverview = async () => {
    await page.getByTestId("plan-switch").click();
    await page.locator('[data-testid="plan-row"]').nth(PLANS - 1).waitFor();
    await page.waitForTimeout(300);
  };
  // A plan not opened since the page was loaded: read from IndexedDB and replayed.
  const switchOnce = async () => {
    await page.goto(`${base}/`);
    await page.waitForFunction(() => window.__koers.rowsPainted != null);
    await appReady();
    await page.waitForTimeout(300);
    // Another plan each time than the one opened last (which the overview's open already replayed).
    target = await nextPlan();
    return openRow(target);
  };
  // Back to a plan opened before in this visit, with another opened in between: kept in memory.
  const switchBackOnce = async () => {
    await switchOnce();
    const first = target;
    await toOverview();
    await openRow(await nextPlan());
    await toOverview();
    target = first;
    return openRow(first);
  };

  // One round with nothing new, on the plan's home, started by `online`.
  const roundOnce = async () => {
    // Right after one of the app's own 15 s rounds, so its timer cannot fall inside this one.
    const since = Date.now();
    for (let i = 0; i < 170 && !syncRequests(since).length; i++) await page.waitForTimeout(100);
    await page.waitForTimeout(1000);
    await page.evaluate(() => {
      performance.clearResourceTimings();
      window.__koers.online = null;
      window.__koers.bars = [];
      window.__koers.handled = [];
      window.__koers.committed = [];
    });
    await context.setOffline(true);
    await page.waitForTimeout(300);
    const from = Date.now();
    await context.setOffline(false);
    await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => new URL(e.name).pathname === "/api/sync" && e.responseEnd > 0), null, { timeout: 30_000 });
    await page.waitForTimeout(1500);
    const r = await page.evaluate(() => {
      const t = window.__koers;
      const sync = performance.getEntriesByType("resource").filter((e) => new URL(e.name).pathname === "/api/sync");
      const first = sync[0];
      const last = sync.at(-1);
      // Done: the answer handled, and whatever the round then wrote or redrew.
      const after = (xs) => xs.filter((x) => x >= last.responseEnd);
      const handled = after(t.handled).at(-1);
      const done = handled == null ? null : Math.max(handled, ...after(t.committed), ...after(t.bars));
      return {
        entries: sync.length,
        beforeRequest: first.startTime - t.online,
        request: first.responseEnd - first.startTime,
        afterAnswer: done != null ? done - last.responseEnd : null,
        writes: after(t.committed).length,
        round: done != null ? done - t.online : null,
        bytes: first.encodedBodySize,
      };
    });
    r.requests = syncRequests(from).length;
    return r;
  };

  // Tick the first goal of "Mijn doelen" on the shown plan's home, as year-scale.mjs does.
  const tickOnce = async (title) => {
    const item = () => page.locator('[data-testid="my-goals"] li', { has: page.locator(".goal-title", { hasText: title }) });
    const wasDone = await item().evaluate((li) => li.classList.contains("is-done"));
    await page.evaluate((titleText) => {
      performance.clearMarks("koers:change-stored");
      const t = window.__koers;
      t.click = t.shown = t.painted = null;
      const li = () => [...document.querySelectorAll('[data-testid="my-goals"] li')]
        .find((l) => l.querySelector(".goal-title")?.textContent.trim() === titleText);
      const before = li().classList.contains("is-done");
      t.watch = () => {
        const now = li();
        if (t.shown == null && now && now.classList.contains("is-done") !== before) {
          t.shown = performance.now();
          t.watch = null;
          requestAnimationFrame(() => setTimeout(() => (t.painted = performance.now()), 0));
        }
      };
    }, title);
    const from = Date.now();
    await item().locator("input[type=checkbox]").click();
    await page.waitForFunction(() => window.__koers.painted != null && performance.getEntriesByName("koers:change-stored").length);
    const r = await page.evaluate(() => {
      const t = window.__koers;
      const stored = performance.getEntriesByName("koers:change-stored")[0].startTime;
      return { stored: stored - t.click, shown: t.shown - t.click, painted: t.painted - t.click };
    });
    const isDone = await item().evaluate((li) => li.classList.contains("is-done"));
    if (isDone === wasDone) fail("the tick did not change the goal on screen");
    await page.waitForTimeout(400);
    r.requests = syncRequests(from).length;
    return r;
  };

  for (const rate of [1, 4]) {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate });
    const res = (results[rate] = { open: [], switch: [], back: [], round: [], tick: [] });
    progress(`${rate}x: opening the overview ${RUNS} times …`);
    await openOnce(); // warm-up
    for (let i = 0; i < RUNS; i++) res.open.push(await openOnce());
    progress(`${rate}x: switching to a plan ${RUNS} times …`);
    await switchOnce(); // warm-up
    for (let i = 0; i < RUNS; i++) res.switch.push(await switchOnce());
    progress(`${rate}x: switching back to a plan opened before ${RUNS} times …`);
    for (let i = 0; i < RUNS; i++) res.back.push(await switchBackOnce());
    homeGoals = await page.locator('[data-testid="my-goals"] input').count();
    progress(`${rate}x: ${RUNS} sync rounds with nothing new (each waits for the app's 15 s round) …`);
    for (let i = 0; i < RUNS; i++) res.round.push(await roundOnce());
    progress(`${rate}x: ticking a goal ${TICKS} times …`);
    const title = (await page.locator('[data-testid="my-goals"] .goal-title').first().textContent()).trim();
    await tickOnce(title); // warm-up
    for (let i = 0; i < TICKS; i++) res.tick.push(await tickOnce(title));
  }
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });

  // 4. What the 20 plans take in the browser's storage.
  storage = await page.evaluate(async () => {
    const e = await navigator.storage.estimate();
    return { usage: e.usage, details: e.usageDetails ?? {} };
  });
  records = await page.evaluate(async () => {
    const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const db = await req(indexedDB.open("koers"));
    const out = {};
    for (const name of db.objectStoreNames) {
      const all = await req(db.transaction(name, "readonly").objectStore(name).getAll());
      out[name] = { records: all.length, chars: all.reduce((n, v) => n + (typeof v === "string" ? v.length : JSON.stringify(v)?.length ?? 0), 0) };
    }
    db.close();
    return out;
  });
  idbFolderOpen = folderSize(join(userDir, "Default", "IndexedDB"));
} finally {
  await context.close().catch(() => {});
  stopServer();
}
const idbFolderClosed = folderSize(join(userDir, "Default", "IndexedDB"));

function folderSize(dir) {
  if (!existsSync(dir)) return null;
  let bytes = 0;
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = lstatSync(p);
      if (s.isDirectory()) walk(p);
      else bytes += s.size;
    }
  };
  walk(dir);
  const du = spawnSync("du", ["-sk", dir], { encoding: "utf8" });
  return { bytes, disk: du.status === 0 ? Number(du.stdout.split(/\s/)[0]) * 1024 : null };
}

// The figures.
const mib = (n) => (n == null ? "–" : `${(n / 1024 / 1024).toFixed(1)} MiB`);
const pick = (runs, f) => median(runs.map(f));
const line = (name, value, note = "") => console.log(`  ${name.padEnd(66)} ${ms(value).padStart(8)} ms  ${note}`);
const budget = (value, limit, aim) =>
  value == null ? "" : `budget ${limit} ms${aim ? `, aim ${aim} ms` : ""}: ${value <= limit ? "OK" : "OVER"}${aim && value <= aim ? " (aim met)" : ""}`;

console.log(`\nKoers caseload benchmark — Chromium ${version}, 390x844, ${PLANS} year plans on one phone, ` +
  `${RUNS} runs, ${TICKS} ticks (medians)\n`);
console.log(`  ${PLANS} plans seeded in ${seedSeconds.toFixed(0)} s: ${totalOps.toLocaleString("en")} operations ` +
  `(${seeded[0].ops} each, child "${seeded[0].child_name}", ${seeded[0].goals} goals); joins took ` +
  `${median(joins).toFixed(1)} s median, ${Math.max(...joins).toFixed(1)} s max; the overview shows ${rowsShown} rows; ` +
  `home shows ${homeGoals} goals for the parent`);
console.log(`  load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end\n`);
for (const rate of [1, 4]) {
  const r = results[rate];
  if (!r) continue;
  const label = rate === 1 ? "no throttling" : "4x CPU slowdown";
  console.log(` ${label}`);
  line("open: koers:open-start (from navigation start)", pick(r.open, (x) => x.opening));
  line("open: koers:first-paint", pick(r.open, (x) => x.first));
  line("open: koers:plan-shown (the app has taken over)", pick(r.open, (x) => x.shown));
  line(`open: ${PLANS} rows of "Mijn gezinnen" in the DOM`, pick(r.open, (x) => x.rows));
  const open = pick(r.open, (x) => x.painted);
  line(`open → "Mijn gezinnen" painted with ${PLANS} rows`, open, budget(open, 300, 100));
  console.log(`    runs: ${r.open.map((x) => Math.round(x.painted)).join(", ")}`);
  line("switch: click a row → child name in the DOM", pick(r.switch, (x) => x.home));
  const sw = pick(r.switch, (x) => x.painted);
  line("switch: click a row → that plan's home painted", sw, rate === 1 ? budget(sw, 150) : "");
  line("switch: click a row → its goals in the DOM", pick(r.switch, (x) => x.goals));
  console.log(`    runs: ${r.switch.map((x) => Math.round(x.painted)).join(", ")}`);
  line("switch back to a plan opened before (kept open) → its home painted", pick(r.back, (x) => x.painted));
  const counts = r.round.map((x) => x.requests);
  console.log(`  ${"sync round, nothing new: POST /api/sync requests per round".padEnd(66)} ${counts.join(", ").padStart(8)}     ` +
    `must be 1: ${counts.every((c) => c === 1) ? "OK" : "OVER"}`);
  line("sync round: `online` → request sent", pick(r.round, (x) => x.beforeRequest));
  line("sync round: request → answer (Resource Timing)", pick(r.round, (x) => x.request));
  line("sync round: answer → round done (handled, IndexedDB, redraw)", pick(r.round, (x) => x.afterAnswer));
  line("sync round: `online` → round done", pick(r.round, (x) => x.round));
  console.log(`    answer size ${pick(r.round, (x) => x.bytes)} bytes; IndexedDB transactions after the answer: ${r.round.map((x) => x.writes).join(", ")}; runs, whole round: ${r.round.map((x) => ms(x.round)).join(", ")}`);
  line("tick: click → koers:change-stored", pick(r.tick, (x) => x.stored));
  line("tick: click → goal redrawn in the DOM", pick(r.tick, (x) => x.shown));
  const tick = pick(r.tick, (x) => x.painted);
  line("tick: click → goal repainted (median)", tick, rate === 1 ? `aim 16 ms (today ~30 ms at one plan): ${tick <= 16 ? "met" : "not met"}` : "");
  line("tick: click → goal repainted (p95)", p95(r.tick.map((x) => x.painted)));
  console.log(`    runs, painted: ${r.tick.map((x) => Math.round(x.painted)).join(", ")}; /api/sync requests within 0.4 s of each tick: ${r.tick.map((x) => x.requests).join(", ")}\n`);
}
console.log(" storage for the phone's plans");
const details = storage ? Object.entries(storage.details).map(([k, v]) => `${k} ${mib(v)}`).join(", ") : "";
console.log(`  navigator.storage.estimate() usage: ${mib(storage?.usage)}${details ? ` (${details})` : ""}`);
console.log(`  profile's IndexedDB folder, browser running: ${mib(idbFolderOpen?.bytes)} (du ${mib(idbFolderOpen?.disk)}); ` +
  `after closing: ${mib(idbFolderClosed?.bytes)} (du ${mib(idbFolderClosed?.disk)})`);
if (records)
  console.log(`  IndexedDB "koers": ${Object.entries(records).map(([k, v]) => `${k} ${v.records} records, ${mib(v.chars * 2)} as UTF-16`).join("; ")}`);
console.log(`\n problems seen: ${problems.length} in the page, ${apiErrors.length} API answers >= 400`);
const tally = (xs) => [...xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map())];
for (const [text, n] of tally(problems).slice(0, 8)) console.log(`  ${n}x ${text.slice(0, 220)}`);
for (const [text, n] of tally(apiErrors).slice(0, 8)) console.log(`  ${n}x ${text}`);
console.log(`\n total run time ${((Date.now() - began) / 1000).toFixed(0)} s`);
