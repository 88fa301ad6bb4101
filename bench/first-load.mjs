// First-load benchmark: transfer size, cold first visit on a Lighthouse-like mobile profile, and a
// repeat visit offline through the service worker. Prints figures; asserts nothing.
//   node bench/first-load.mjs            (after scripts/build.sh and a server build)
// Profile (DevTools protocol): 150 ms RTT, 1.6 Mbps down, 750 Kbps up, 4x CPU slowdown.
import { chromium } from "@playwright/test";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

// Lets Playwright report the service worker's own requests (read when the browser starts).
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = "1";
const RUNS = Number(process.env.RUNS ?? 5);
const port = Number(process.env.BENCH_PORT ?? 8093);
const base = `http://127.0.0.1:${port}`;
const server = process.env.KOERS_SERVER_BIN ?? "target/server/koers-server";
const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => (n / 1024).toFixed(1);

// 1. First-load transfer: index.html and what it pulls in, gzip -9: the first module, which draws
// home (src/glance.rs). Not the chunks: the Leptos app is fetched once home is drawn, and the
// service worker fetches the other screens' in the background.
const html = readFileSync(join("dist", "index.html"), "utf8");
const first = ["index.html", ...[...html.matchAll(/(?:href|src)="\/([^"\/]+-[0-9a-f]{12,16}(?:_bg)?\.(?:js|wasm|css))"/g)].map((m) => m[1])];
const later = readdirSync("dist").filter((f) => /-[0-9a-f]{12,16}(_bg)?\.(js|wasm|css)$/.test(f) && !first.includes(f));
const sizes = Object.fromEntries(first.map((f) => [f, gzipSync(readFileSync(join("dist", f)), { level: 9 }).length]));
const totalGzip = Object.values(sizes).reduce((a, b) => a + b, 0);

const proc = spawn(server, [], {
  env: { ...process.env, KOERS_ADDR: `127.0.0.1:${port}`, KOERS_DATA: mkdtempSync(join(tmpdir(), "koers-bench-")), KOERS_DIST: "dist" },
  stdio: "ignore",
});
let exited = null;
proc.on("exit", (code) => (exited = code));
for (let i = 0; ; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
  if (exited !== null || i > 100) throw new Error(`the server at ${server} did not start (exit code ${exited})`);
  await new Promise((r) => setTimeout(r, 100));
}
// Another server already on the port would answer instead of ours (and serve other files).
await new Promise((r) => setTimeout(r, 300));
if (exited !== null) throw new Error(`the server at ${server} stopped (exit code ${exited}): is port ${port} taken? Set BENCH_PORT.`);

// Records when the home screen with the plan's goals is on screen (time since navigation start).
const markReady = () => {
  const check = () => {
    if (!window.__koersReady && document.querySelector('[data-testid="my-goals"] input')) window.__koersReady = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
};
// gloo-storage keeps values as JSON.
const asParent = () => localStorage.setItem("koers.role", JSON.stringify("parent"));

async function mobileProfile(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  return cdp;
}

// When the Leptos app has taken over from the first paint (its store shows the plan).
async function appTime(page) {
  await page.waitForFunction(() => performance.getEntriesByName("koers:plan-shown").length, null, { timeout: 60_000 });
  return page.evaluate(() => performance.getEntriesByName("koers:plan-shown")[0].startTime);
}

async function readyTime(page) {
  await page.waitForFunction(() => window.__koersReady, null, { timeout: 60_000 });
  return page.evaluate(() => window.__koersReady);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args });
const cold = [], coldApp = [], transferred = [], offline = [], offlineApp = [], offlineFast = [];
let firstVisitTotal = 0;
try {
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: "nl-NL" });
    await context.addInitScript(markReady);
    await context.addInitScript(asParent);
    const page = await context.newPage();
    const cdp = await mobileProfile(context, page);
    let bytes = 0;
    cdp.on("Network.loadingFinished", (e) => (bytes += e.encodedDataLength));
    await page.goto(base);
    cold.push(await readyTime(page));
    transferred.push(bytes);
    coldApp.push(await appTime(page));
    await context.close();
  }
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: "nl-NL" });
  await context.addInitScript(markReady);
  await context.addInitScript(asParent);
  // Everything the first visit downloads, the service worker's offline copy included.
  const sizes = [];
  // (A request still finishing when the context closes has no sizes left to read.)
  context.on("requestfinished", (r) => sizes.push(r.sizes().then((s) => Math.max(0, s.responseBodySize) + s.responseHeadersSize, () => 0)));
  const page = await context.newPage();
  await page.goto(base);
  await readyTime(page);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller)
      await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
  });
  firstVisitTotal = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
  await context.setOffline(true);
  for (let i = 0; i < RUNS; i++) {
    await page.reload();
    offlineFast.push(await readyTime(page));
    await appTime(page); // the next visit starts with this one's work done
  }
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  for (let i = 0; i < RUNS; i++) {
    await page.reload();
    offline.push(await readyTime(page));
    offlineApp.push(await appTime(page));
  }
  await context.close();
} finally {
  await browser.close();
  proc.kill();
}

const row = (name, value, budget, aim, unit) =>
  console.log(`${name.padEnd(58)} ${String(value).padStart(8)} ${unit.padEnd(3)} budget ${budget} ${unit}, aim ${aim} ${unit}  ${Number(value) <= budget ? "OK" : "OVER BUDGET"}`);
console.log("\nKoers first-load benchmark (median of %d runs)\n", RUNS);
for (const [f, s] of Object.entries(sizes)) console.log(`  ${f.padEnd(56)} ${kb(s).padStart(8)} KB gzip`);
row("First-load transfer, gzip (wasm + js + css + html)", kb(totalGzip), 150, 100, "KB");
for (const f of later) {
  const gz = gzipSync(readFileSync(join("dist", f)), { level: 9 }).length;
  console.log(`  later, in the background: ${f.padEnd(30)} ${kb(gz).padStart(8)} KB gzip`);
}
console.log(`${"  as actually sent (brotli, headers included)".padEnd(58)} ${kb(median(transferred)).padStart(8)} KB`);
console.log(`${"  whole first visit, offline copy included (brotli)".padEnd(58)} ${kb(firstVisitTotal).padStart(8)} KB`);
row("Cold first visit to home with the plan, mobile profile", Math.round(median(cold)), 1500, 1000, "ms");
console.log(`${"  the app taken over from the first paint".padEnd(58)} ${String(Math.round(median(coldApp))).padStart(8)} ms`);
row("Repeat visit offline via service worker, 4x CPU slowdown", Math.round(median(offline)), 400, 200, "ms");
console.log(`${"  the app taken over from the first paint".padEnd(58)} ${String(Math.round(median(offlineApp))).padStart(8)} ms`);
console.log(`${"  the same, no CPU slowdown".padEnd(58)} ${String(Math.round(median(offlineFast))).padStart(8)} ms`);
console.log(`\nruns (ms): cold ${cold.map(Math.round).join(", ")}; app ${coldApp.map(Math.round).join(", ")}; offline ${offline.map(Math.round).join(", ")}`);
