// Year-scale benchmark: the app holding a generated one-year plan (koers_core::year: 12 members,
// 50 goals, 600 contact moments, 8 evaluations, ~5,100 operations), in Debian's Chromium at phone
// size, no network or CPU throttling. Prints figures; asserts nothing.
//   node bench/year-scale.mjs      (after scripts/build.sh and cargo build --profile server -p koers-server)
//
// 1. Generates the year plan's export file (cargo run --release -p koers-core --example year_export),
//    starts the server on a free port with an empty data folder, picks the parent's role and reads
//    the file in on "Meer" (/meer), as a person moving their plan to a new phone would.
// 2. open: reloads the app RUNS times and times, from navigation start, the first module started
//    (`koers:open-start`: wasm fetched, compiled, started), the home screen with the year plan's
//    goals in the DOM and painted (drawn by the first module, src/glance.rs, after the IndexedDB
//    read, replay and plan derived), and the `koers:plan-shown` mark (the Leptos app, fetched
//    meanwhile, has taken over). Then the
//    same with a 4x CPU slowdown (roughly a mid-range phone). The files come from the service
//    worker, as on an installed PWA.
// 3. tick: ticks a goal in "Mijn doelen" TICKS times (on, off, on, ...) and times, from the click
//    event's timestamp, the `koers:change-stored` mark (authored and committed to IndexedDB) and
//    the screen showing it (the goal redrawn, painted).
// 4. Yardsticks without the app's code, in the same page: a plain-JS IndexedDB read of the same
//    records, and a plain-JS write of one record from a real click and from a script.
// 5. Where the time goes: Chromium traces of a few more opens and ticks, split at the app's
//    IndexedDB requests (see tracePhases and traceTick).
//
// Environment: RUNS (7), TICKS (15), ROLE (parent), CHROMIUM (/usr/bin/chromium),
// KOERS_SERVER_BIN (target/server/koers-server), CARGO_TARGET_DIR (cargo's own default),
// YEAR_FILE (use this export file instead of generating one), YEAR_START (YYYY-MM-DD; default
// 200 days ago, so the plan is mid-year).
import { chromium } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { findServer, startServer } from "./server.mjs";

const RUNS = Number(process.env.RUNS ?? 7);
const TICKS = Number(process.env.TICKS ?? 15);
const ROLE = process.env.ROLE ?? "parent";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

// Stops with a clear sentence; inside the run it throws, so that the server and browser are
// stopped first (the finally blocks below).
class BenchError extends Error {}
const fail = (message) => {
  throw new BenchError(message);
};
const stop = (e) => {
  console.error(e instanceof BenchError ? `year-scale: ${e.message}` : e);
  process.exit(2);
};
process.on("uncaughtException", stop);
process.on("unhandledRejection", stop);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => (x == null || Number.isNaN(x) ? "–" : x.toFixed(1));

// What must be there before anything runs.
const server = findServer(fail);
if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set CHROMIUM`);

const work = mkdtempSync(join(tmpdir(), "koers-year-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// 1. The year plan as an export file.
let yearFile = process.env.YEAR_FILE;
if (!yearFile) {
  yearFile = join(work, "year.json");
  const extra = process.env.YEAR_START ? ["--start", process.env.YEAR_START] : [];
  console.error("generating the year plan (cargo run --release -p koers-core --example year_export) …");
  const made = spawnSync("cargo", ["run", "--release", "-q", "-p", "koers-core", "--example", "year_export", "--", yearFile, ...extra],
    { stdio: ["ignore", "inherit", "inherit"] });
  if (made.error) fail(`cannot run cargo: ${made.error.message}`);
  if (made.status !== 0) fail("generating the year plan failed (see above)");
}
const yearText = readFileSync(yearFile, "utf8");
const yearOps = JSON.parse(yearText).ops.length;
const yearBytes = statSync(yearFile).size;
const yearGzip = gzipSync(yearText, { level: 9 }).length;

// 2. The server, on a free port, with an empty data folder.
const { base, stop: stopServer } = await startServer(server, work, fail);

// In every page: when the home screen with the year plan is in the DOM
// and when that was painted (the first task after the next frame), on performance.now()'s clock
// (0 = navigation start). Clicks keep their event timestamp, for the tick.
const observe = () => {
  const t = (window.__koers = {});
  const check = () => {
    if (t.home == null && document.querySelector('[data-testid="my-goals"] input')
        && !document.querySelector('[data-testid="example-badge"]')) {
      t.home = performance.now();
      requestAnimationFrame(() => setTimeout(() => (t.painted = performance.now()), 0));
    }
    if (t.watch) t.watch();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
  addEventListener("click", (e) => (t.click = e.timeStamp), true);
};

// From one open's trace: the phases of device::open and the first paint on the renderer's main
// thread, in ms from koers:open-start.
// Names are Chromium's trace events; if a version lacks them, the breakdown is left out.
function tracePhases(ev) {
  const find = (name, from = -Infinity, to = Infinity) =>
    ev.filter((e) => e.name === name && e.ph !== "E" && e.ts >= from && e.ts <= to).sort((x, y) => x.ts - y.ts);
  const opening = find("koers:open-start")[0];
  const shown = find("koers:first-paint")[0];
  if (!opening || !shown) return null;
  const onMain = (e) => e.pid === shown.pid && e.tid === shown.tid;
  const start = opening.ts;
  const openSetup = find("IDBFactory::openRequestSetup", start, shown.ts).filter(onMain).at(-1);
  const opened = openSetup && find("IDBOpenDBRequest::onSuccess(database)", openSetup.ts, shown.ts).filter(onMain)[0];
  const getAll = find("IDBObjectStore::getAllRequestSetup", start, shown.ts).filter(onMain).at(-1);
  const result = getAll && find("IDBRequest::SendResult", getAll.ts, shown.ts).filter(onMain)[0];
  const complete = result && find("IDBTransaction::onComplete", result.ts, shown.ts).filter(onMain)[0];
  if (!openSetup || !opened || !getAll || !result || !complete) return null;
  const rel = (ts) => (ts - opening.ts) / 1000;
  return {
    open: (opened.ts - openSetup.ts) / 1000,
    meta: (getAll.ts - opened.ts) / 1000,
    getAll: (result.ts + (result.dur ?? 0) - getAll.ts) / 1000,
    wasm: (shown.ts - complete.ts) / 1000,
    total: rel(shown.ts),
  };
}

// From one tick's trace: the wasm before the write, the IndexedDB write until committed, and the
// rest of the task that continues after the `koers:change-stored` mark (apply, Plan derived,
// home re-rendered), in ms.
function traceTick(ev) {
  const stored = ev.find((e) => e.name === "koers:change-stored" && e.ph !== "E");
  if (!stored) return null;
  const onMain = (e) => e.pid === stored.pid && e.tid === stored.tid && e.ph === "X";
  const click = ev.filter((e) => onMain(e) && e.name === "EventDispatch" && e.args?.data?.type === "click" && e.ts <= stored.ts).at(-1);
  const put = click && ev.filter((e) => onMain(e) && e.name === "IDBObjectStore::putRequestSetup" && e.ts >= click.ts && e.ts <= stored.ts)[0];
  const done = put && ev.filter((e) => onMain(e) && e.name === "IDBTransaction::onComplete" && e.ts >= put.ts && e.ts <= stored.ts).at(-1);
  if (!put || !done) return null;
  return {
    before: (put.ts - click.ts) / 1000,
    write: (done.ts - put.ts) / 1000,
    after: (done.ts + done.dur - stored.ts) / 1000,
  };
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args });
const version = browser.version();
const open = { fast: [], slow: [] };
const ticks = [];
let idb = [];
const idbWrite = { click: [], script: [] };
const traced = [];
const tracedTicks = [];
let homeGoals = 0;
let records = 0;
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: "nl-NL" });
  await context.addInitScript(observe);
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);

  // Pick a role, then read the year plan in on "Meer".
  await page.goto(base);
  await page.getByText("Wie ben jij in dit plan?").waitFor();
  await page.locator(`button.role-button[data-role="${ROLE}"]`).click();
  await page.locator('[data-testid="child-name"]').waitFor();
  await page.goto(`${base}/meer`);
  await page.locator('[data-testid="import"]').setInputFiles(yearFile);
  await page.getByText("is ingelezen").waitFor({ timeout: 120_000 });
  // The service worker serves the app from here on, as on an installed phone.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller)
      await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
  });
  await page.goto(base);

  const openOnce = async () => {
    await page.reload();
    // Home painted, and the app taken over (so every later step works in the app).
    await page.waitForFunction(() => window.__koers.painted != null && performance.getEntriesByName("koers:plan-shown").length);
    return page.evaluate(() => {
      const t = window.__koers;
      const shown = performance.getEntriesByName("koers:plan-shown")[0]?.startTime;
      const opening = performance.getEntriesByName("koers:open-start")[0]?.startTime;
      const wasm = performance.getEntriesByType("resource").find((r) => r.name.endsWith("_bg.wasm"));
      const goals = document.querySelectorAll('[data-testid="my-goals"] input').length;
      return { wasm: wasm?.responseEnd, opening, shown, home: t.home, painted: t.painted, goals };
    });
  };
  await openOnce(); // warm-up: the first open after the import compiles the wasm into the cache
  for (let i = 0; i < RUNS; i++) open.fast.push(await openOnce());
  homeGoals = open.fast.at(-1).goals;

  // 4. The IndexedDB read alone, in plain JS: open, the three small reads device::open makes, get all
  //    operation records, and JSON.parse them (serde_json does that work in the app).
  for (let i = 0; i < RUNS; i++) {
    idb.push(await page.evaluate(async () => {
      const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const t0 = performance.now();
      const db = await req(indexedDB.open("koers"));
      const t1 = performance.now();
      for (const key of ["node", "session", "local_plan"])
        await req(db.transaction("meta", "readonly").objectStore("meta").get(key));
      const t2 = performance.now();
      const all = await req(db.transaction("ops", "readonly").objectStore("ops").getAll());
      const t3 = performance.now();
      let chars = 0;
      for (const s of all) { JSON.parse(s); chars += s.length; }
      const t4 = performance.now();
      db.close();
      return { open: t1 - t0, meta: t2 - t1, getAll: t3 - t2, parse: t4 - t3, records: all.length, chars };
    }));
  }
  records = idb[0].records;
  // 5. Where the open goes, from Chromium traces of RUNS more opens (tracing slows them a little):
  //    the app's IndexedDB requests and the long task after the read (wasm: records parsed,
  //    replayed, Plan derived, home drawn), timed on the trace's clock from koers:open-start.
  for (let i = 0; i < RUNS; i++) {
    await browser.startTracing(page, { categories: ["devtools.timeline", "blink.user_timing", "IndexedDB"] });
    await page.reload();
    await page.waitForFunction(() => window.__koers.painted != null && performance.getEntriesByName("koers:plan-shown").length);
    const ev = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
    const phases = tracePhases(ev);
    if (phases) traced.push(phases);
  }

  // 3. Tick a goal on and off, timing from the click.
  const title = (await page.locator('[data-testid="my-goals"] .goal-title').first().textContent()).trim();
  const item = () => page.locator('[data-testid="my-goals"] li', { has: page.locator(".goal-title", { hasText: title }) });
  const tick = async () => {
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
    await item().locator("input[type=checkbox]").click();
    await page.waitForFunction(() => window.__koers.painted != null && performance.getEntriesByName("koers:change-stored").length);
    const r = await page.evaluate(() => {
      const t = window.__koers;
      const stored = performance.getEntriesByName("koers:change-stored")[0].startTime;
      return { stored: stored - t.click, shown: t.shown - t.click, painted: t.painted - t.click };
    });
    const isDone = await item().evaluate((li) => li.classList.contains("is-done"));
    if (isDone === wasDone) fail("the tick did not change the goal on screen");
    await page.waitForTimeout(150);
    return r;
  };
  await tick(); // warm-up
  for (let i = 0; i < TICKS; i++) ticks.push(await tick());
  // Where a tick goes, from Chromium traces of a few more.
  for (let i = 0; i < Math.min(TICKS, 7); i++) {
    await browser.startTracing(page, { categories: ["devtools.timeline", "blink.user_timing", "IndexedDB"] });
    await tick();
    const phases = traceTick(JSON.parse((await browser.stopTracing()).toString()).traceEvents);
    if (phases) tracedTicks.push(phases);
  }

  // The same write without the app, as a yardstick: one ~700-character record put in a scratch
  // database (not the app's) by a plain checkbox's change listener, from a real click and from a
  // script (no click, no frame to draw).
  await page.evaluate(async () => {
    const open = indexedDB.open("koers-bench-scratch", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("ops");
    const db = await new Promise((res, rej) => { open.onsuccess = () => res(open.result); open.onerror = () => rej(open.error); });
    const box = Object.assign(document.createElement("input"), { type: "checkbox", id: "bench-probe" });
    box.style = "position:fixed;top:0;left:0;width:44px;height:44px;z-index:9999";
    document.body.append(box);
    window.__probe = { db, times: [] };
    box.addEventListener("change", (e) => {
      const t0 = e.isTrusted ? e.timeStamp : performance.now();
      const tx = db.transaction("ops", "readwrite");
      tx.objectStore("ops").put("x".repeat(700), `k${window.__probe.times.length}`);
      tx.oncomplete = () => window.__probe.times.push(performance.now() - t0);
    });
  });
  for (const viaClick of [true, false]) {
    await page.evaluate(() => (window.__probe.times = []));
    for (let i = 0; i < TICKS; i++) {
      if (viaClick) await page.locator("#bench-probe").click();
      else await page.evaluate(() => document.getElementById("bench-probe").dispatchEvent(new Event("change")));
      await page.waitForFunction((n) => window.__probe.times.length > n, i);
      await page.waitForTimeout(150);
    }
    (viaClick ? idbWrite.click : idbWrite.script).push(...await page.evaluate(() => window.__probe.times));
  }
  await page.evaluate(() => new Promise((res) => {
    window.__probe.db.close();
    document.getElementById("bench-probe").remove();
    const r = indexedDB.deleteDatabase("koers-bench-scratch");
    r.onsuccess = r.onerror = res;
  }));

  // The open again, with a 4x CPU slowdown.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  for (let i = 0; i < RUNS; i++) open.slow.push(await openOnce());
  await context.close();
} finally {
  await browser.close();
  stopServer();
}

// The figures.
const pick = (runs, f) => median(runs.map(f));
const verdict = (value, budget) => (value <= budget ? "within budget" : "OVER");
const line = (name, value, note = "") => console.log(`  ${name.padEnd(72)} ${ms(value).padStart(7)} ms  ${note}`);
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;

console.log(`\nKoers year-scale benchmark — Chromium ${version}, 390x844, ${RUNS} opens, ${TICKS} ticks (medians)\n`);
console.log(`  year plan: ${yearOps} operations, export ${kb(yearBytes)} (${kb(yearGzip)} gzip); ` +
  `IndexedDB holds ${records} records (the example plan's too), ${kb(idb[0].chars * 2)} as UTF-16; home shows ${homeGoals} goals for the ${ROLE}\n`);
for (const [label, runs] of [["open, no throttling", open.fast], ["open, 4x CPU slowdown", open.slow]]) {
  console.log(` ${label} (from navigation start)`);
  line("wasm fetched (from the service worker)", pick(runs, (r) => r.wasm));
  line("first module started (koers:open-start)", pick(runs, (r) => r.opening));
  line("home screen with the year plan in the DOM (first module)", pick(runs, (r) => r.home));
  const painted = pick(runs, (r) => r.painted);
  line("home screen painted", painted);
  line("the app taken over (koers:plan-shown)", pick(runs, (r) => r.shown));
  // The figure: "opening from IndexedDB to a rendered home screen".
  const fromDb = pick(runs, (r) => r.painted - r.opening);
  line("opening IndexedDB → home screen painted", fromDb, label.includes("no throttling") ? `budget 150 ms, aim 50 ms: ${verdict(fromDb, 150)}${fromDb <= 50 ? " (aim met)" : ""}` : "");
  console.log(`    runs, painted: ${runs.map((r) => Math.round(r.painted)).join(", ")}\n`);
}
console.log(" IndexedDB alone, plain JS in the same page");
line("open the database", pick(idb, (r) => r.open));
line("three meta reads (node, session, local_plan)", pick(idb, (r) => r.meta));
line(`getAll of ${records} operation records`, pick(idb, (r) => r.getAll));
line("JSON.parse of every record (JS)", pick(idb, (r) => r.parse));
if (traced.length) {
  console.log(`\n where open-start → first paint goes (Chromium traces of ${traced.length} more opens, no throttling)`);
  line("IndexedDB open (request → success)", pick(traced, (r) => r.open));
  line("meta reads (node, session, local_plan)", pick(traced, (r) => r.meta));
  line(`getAll of ${records} records (request → result delivered)`, pick(traced, (r) => r.getAll));
  line("wasm after the read: parse records, replay, Plan derived, home drawn", pick(traced, (r) => r.wasm));
  line("open-start → koers:first-paint, traced", pick(traced, (r) => r.total));
} else {
  console.log("\n (no breakdown: this Chromium's traces lack the IndexedDB events looked for)");
}
console.log("\n tick a goal (from the click event)");
const stored = pick(ticks, (r) => r.stored);
line("koers:change-stored (authored, committed to IndexedDB)", stored, `budget 16 ms: ${verdict(stored, 16)}`);
line("goal redrawn in the DOM (apply, Plan derived, home re-rendered)", pick(ticks, (r) => r.shown));
line("goal redrawn, painted", pick(ticks, (r) => r.painted));
console.log(`    runs, stored: ${ticks.map((r) => r.stored.toFixed(1)).join(", ")}`);
line("yardstick: plain-JS write of one record on a real click (no app code)", median(idbWrite.click));
line("yardstick: the same write started by a script (no click)", median(idbWrite.script));
if (tracedTicks.length) {
  console.log(`\n where a tick goes (Chromium traces of ${tracedTicks.length} more ticks)`);
  line("click → IndexedDB put requested (wasm: Plan cloned, change authored)", pick(tracedTicks, (r) => r.before));
  line("put requested → transaction complete (IndexedDB write + commit)", pick(tracedTicks, (r) => r.write));
  line("after koers:change-stored, same task (apply, Plan derived, re-render)", pick(tracedTicks, (r) => r.after));
}
