import { test as base, expect, type APIRequestContext, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { SoftPasskey } from "./soft-passkey";

// ---------------------------------------------------------------------------------------------
// The tests' clock. No test may depend on the date or time it runs: every browser context starts
// at one pinned instant (KOERS_TEST_NOW, or DEFAULT_NOW), and time then flows as usual, so the
// app's timers, IndexedDB and sync keep working (`clock.install`, not `setFixedTime`, which would
// freeze Date and with it every clock-based ordering in the app).
//
// The server's clock stays real: it refuses changes stamped more than five minutes ahead of it
// (`clock_ahead`) and, for a shared plan, changes stamped before the plan was founded
// (`before_plan`). So the pinned instant must lie in the past, and whatever a test sends to the
// server itself (an HLC, a start date) must come from `testNow()`, not from `Date.now()`.

/** The family's time zone: the browser's (playwright.config.ts), and the one test dates are read in. */
export const TIME_ZONE = "Europe/Amsterdam";

/** An ordinary weekday in the middle of a month, far from a summer-time change. */
const DEFAULT_NOW = "2026-11-18T10:30:00+01:00";

/** The pinned instant as given (ISO 8601 with its offset): KOERS_TEST_NOW, or a fixed default. */
export const TEST_NOW_TEXT = process.env.KOERS_TEST_NOW || DEFAULT_NOW;

function pinnedInstant(): number {
  const text = TEST_NOW_TEXT;
  // Without an offset the instant would depend on the machine's time zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    throw new Error(`KOERS_TEST_NOW=${text}: give an ISO date and time with its offset, e.g. 2026-10-31T23:40:00+01:00.`);
  }
  const instant = Date.parse(text);
  if (Number.isNaN(instant)) throw new Error(`KOERS_TEST_NOW=${text} is not a valid date and time.`);
  if (instant > Date.now()) {
    throw new Error(`KOERS_TEST_NOW=${text} lies in the future: the server keeps the real time and would refuse every change made then; choose an instant in the past.`);
  }
  return instant;
}

/** The instant (epoch milliseconds) every test starts at. */
export const TEST_NOW = pinnedInstant();

let testStartedAt = Date.now();

/** Now, in the tests' time: the pinned instant plus however long the current test has run. */
export function testNow(): number {
  return TEST_NOW + (Date.now() - testStartedAt);
}

/** Puts a context (every page in it) on the tests' clock. Call before its first page loads the app. */
export async function pinClock(context: BrowserContext, at: number = testNow()) {
  await context.clock.install({ time: at });
}

/**
 * Playwright's `test`, with every test's clock pinned: the timeline starts when the test does,
 * and the test's own `context` (so `page`) runs on it. Import `test` and `expect` from here, never
 * from "@playwright/test". Contexts a test makes itself: `newContext` / `newPage` below, or
 * `pinClock` (a persistent context).
 */
export const test = base.extend<{ now: () => number }>({
  now: [
    async ({}, use) => {
      testStartedAt = Date.now();
      await use(testNow);
    },
    { auto: true },
  ],
  context: async ({ context, now }, use) => {
    await pinClock(context, now());
    await use(context);
  },
});

export { expect };

/**
 * Another phone: a fresh context on the tests' clock, with the project's address, language and
 * time zone unless `options` says otherwise.
 */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const project = test.info().project.use;
  const context = await browser.newContext({ baseURL: project.baseURL, locale: project.locale, timezoneId: project.timezoneId, ...options });
  await pinClock(context);
  return context;
}

/** A page in a fresh context of its own (see `newContext`). */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  return (await newContext(browser, options)).newPage();
}

/** YYYY-MM-DD in the family's time zone, `days` calendar days after the tests' today. */
export function day(days = 0): string {
  const [y, m, d] = new Intl.DateTimeFormat("sv-SE", { timeZone: TIME_ZONE }).format(testNow()).split("-").map(Number);
  // Calendar days, not 24-hour steps: a summer-time change day has 23 or 25 hours.
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A month as the app names it above its contact moments ("november 2026"), from YYYY-MM-DD or year and month. */
export function monthName(isoDay: string, locale = "nl-NL"): string {
  const [y, m] = isoDay.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }).format(Date.UTC(y, m - 1, 15));
}

// ---------------------------------------------------------------------------------------------

/** Opens the app as a new user and picks a role on the first screen. */
export async function openAs(page: Page, role: string) {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Wie ben jij in dit plan?" })).toBeVisible();
  await page.getByRole("button", { name: role, exact: true }).click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
}

/** Waits until the service worker controls the page, so a reload can be served offline. */
export async function waitForServiceWorker(page: Page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
    }
  });
}

/** No serious or critical WCAG 2.1 AA violation on the current page. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)).toEqual([]);
}

/** The screens the bottom bar has no room for, and the tab (*Meer*) they are reached from. */
export const UNDER_MORE: Record<string, string> = { Evaluaties: "Meer", Netwerk: "Meer", Evaluations: "More", Network: "More" };

/** The bottom bar, in either language. */
export const tabBar = (page: Page) => page.getByRole("navigation", { name: /^(Onderdelen van het plan|Parts of the plan)$/ });

/**
 * Opens one of the plan's screens as a user does: from the bottom bar, or through *Meer* for the
 * screens under it (Dutch or English labels).
 */
export async function tab(page: Page, name: string) {
  const more = UNDER_MORE[name];
  if (more) {
    await tabBar(page).getByRole("link", { name: more, exact: true }).click();
    await page.getByTestId("more-screens").getByRole("link", { name, exact: true }).click();
  } else {
    await tabBar(page).getByRole("link", { name, exact: true }).click();
  }
}

/**
 * Signs `page`'s phone in as a new professional (`name`) of the run's organisation, through the
 * sign-in screen: the professional is enrolled through the API with a software passkey, which is
 * then put in the page's virtual passkey device (Chromium's DevTools protocol), as a phone's
 * platform brings a passkey made on another phone. Ends on "Mijn gezinnen".
 */
export async function signInAsProfessional(page: Page, name = "Lotte de Vries"): Promise<Professional> {
  const professional = await professionalSession(page.request, name);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  await cdp.send("WebAuthn.addCredential", { authenticatorId, credential: professional.passkey!.virtualCredential() });
  await page.goto("/aanmelden");
  await page.getByTestId("sign-in-passkey").click();
  await expect(page.getByRole("heading", { name: "Mijn gezinnen" })).toBeVisible();
  return professional;
}

/** As a signed-in worker, starts a real (shared) plan for Daan with one parent, Mirjam. */
export async function startPlanForDaan(page: Page) {
  await signInAsProfessional(page);
  await page.getByTestId("new-plan-link").click();
  await page.getByLabel("Voornaam van het kind").fill("Daan");
  await page.getByLabel("Je eigen naam").fill("Lotte de Vries");
  await page.getByLabel("Naam", { exact: true }).nth(0).fill("Mirjam");
  await page.getByTestId("create-plan").click();
  await expect(page.getByRole("heading", { name: "Deelnemers en telefoons" })).toBeVisible();
}

// ---------------------------------------------------------------------------------------------
// Professionals, through the API with a software passkey (tests/e2e/soft-passkey.ts). The first
// administrator is enrolled from the one-time link the server prints on its first start
// (serve.sh keeps its stdout in <root>/server.log); that link works once per database, so the
// session is kept in a file under the server's folder (KOERS_E2E_ROOT, wiped by serve.sh on every
// run), not only in this module: Playwright may start a new worker process after a failure.

/** A signed-in professional: the session token, the account as the server gave it, the passkey. */
export interface Professional {
  token: string;
  account: { account: string; name: string; admin: boolean; organisation: { organisation: string; name: string } };
  /** The professional's passkey (not kept for the cached sessions of `adminSession` and `workerSession`). */
  passkey?: SoftPasskey;
}

/** Where a server's files are: `root` (the kill test's own server), else the run's KOERS_E2E_ROOT. */
export interface ServerFolder {
  /** The folder with the server's `server.log` and the cached sessions (default: KOERS_E2E_ROOT). */
  root?: string;
}

function e2eRoot(root?: string): string {
  const folder = root ?? process.env.KOERS_E2E_ROOT;
  if (!folder) throw new Error("KOERS_E2E_ROOT is not set: run the tests through playwright.config.ts.");
  return folder;
}

/** An `Authorization` header for a session or device token. */
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** POSTs, waiting out `429` answers (the server limits enrolment attempts per address). */
async function postRetrying(request: APIRequestContext, path: string, data: unknown, headers: Record<string, string> = {}) {
  for (let attempt = 0; ; attempt++) {
    const answer = await request.post(path, { data, headers });
    if (answer.status() !== 429 || attempt >= 10) return answer;
    const wait = Number(answer.headers()["retry-after"] ?? "3");
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(wait, 1), 15) * 1000));
  }
}

/**
 * Enrols with an enrolment link (`…/inschrijven#<code>`): a new passkey for the link's origin (the
 * server's public address, to which passkeys are bound), and the session the server answers with.
 */
async function enrol(request: APIRequestContext, link: string): Promise<Professional> {
  const url = new URL(link);
  const code = url.hash.slice(1);
  const started = await postRetrying(request, "/api/enrolments/start", { code });
  expect(started.status(), `POST /api/enrolments/start: ${await started.text()}`).toBe(200);
  const { ceremony, options } = await started.json();
  const { passkey, credential } = SoftPasskey.register(options, url.origin);
  const finished = await postRetrying(request, "/api/enrolments/finish", { ceremony, credential });
  expect(finished.status(), `POST /api/enrolments/finish: ${await finished.text()}`).toBe(201);
  const { session_token: token, account } = await finished.json();
  return { token, account, passkey };
}

/** A session kept in `<root>/<file>`, or made by `make` and kept there. */
async function cachedSession(root: string, file: string, make: () => Promise<Professional>): Promise<Professional> {
  const path = join(root, file);
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8"));
  const { token, account } = await make();
  writeFileSync(path, JSON.stringify({ token, account }));
  return { token, account };
}

/**
 * The session of the organisation's first administrator, enrolled once per server (database)
 * from the link in `<root>/server.log`, and kept in `<root>/admin-session.json`.
 */
export async function adminSession(request: APIRequestContext, { root }: ServerFolder = {}): Promise<Professional> {
  const folder = e2eRoot(root);
  return cachedSession(folder, "admin-session.json", async () => {
    const log = join(folder, "server.log");
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    // A new link on every start until one is used: the last one is this start's.
    const links = [...text.matchAll(/Open (\S+\/inschrijven#\S+) to set up the first account/g)].map((m) => m[1]);
    if (links.length === 0) {
      throw new Error(`${log} has no first-account link ("Open …/inschrijven#… to set up the first account"): the server's stdout goes there through serve.sh, and it prints the link only while its organisation has no account.`);
    }
    return enrol(request, links[links.length - 1]);
  });
}

/** A new professional (not an administrator) named `name`, enrolled through an administrator's invitation. */
export async function professionalSession(request: APIRequestContext, name: string, folder: ServerFolder = {}): Promise<Professional> {
  const admin = await adminSession(request, folder);
  const invited = await request.post("/api/organisation/enrolments", { headers: bearer(admin.token), data: { name, admin: false } });
  expect(invited.status(), `POST /api/organisation/enrolments: ${await invited.text()}`).toBe(201);
  return enrol(request, (await invited.json()).link);
}

/**
 * The foster-care worker Lotte de Vries, a professional who founds the plans of `workerPlan`: one
 * for the whole run (her caseload), kept in `<root>/worker-session.json`.
 */
export async function workerSession(request: APIRequestContext, folder: ServerFolder = {}): Promise<Professional> {
  return cachedSession(e2eRoot(folder.root), "worker-session.json", () => professionalSession(request, "Lotte de Vries", folder));
}

// The foster-care worker's plan for Sam, made through the API (the worker's own screens for this
// come later), in the tests' time like the phones that join it.
const WORKER_NODE = "00000000000000bb";
let tick = 0;
const hlc = (at: number) => `${String(at).padStart(18, "0")}-${String(tick++).padStart(7, "0")}-${WORKER_NODE}`;

/**
 * The worker's plan for a child (Sam unless `child` says otherwise), made through the API, with
 * invites for the worker's own phone, a parent (Mirjam) and a foster family; three goals, and
 * `moreGoals` further goals for the parent. It starts `startDay` days from the tests' today; with
 * `workerConsent` the worker has given her consent. Its changes are stamped at `writtenAt`.
 * Founded with the session of `professional` (default: `workerSession`, the run's Lotte de Vries);
 * `root`: the server's folder when it is not the run's (see `adminSession`).
 */
export async function workerPlan(
  request: APIRequestContext,
  { moreGoals = 0, writtenAt = testNow(), child = "Sam", startDay = 0, workerConsent = false, professional = undefined as Professional | undefined, root = undefined as string | undefined } = {},
) {
  const founder = professional ?? (await workerSession(request, { root }));
  const plan = randomUUID(), worker = randomUUID(), parent = randomUUID(), foster = randomUUID();
  const goal = { breakfast: randomUUID(), budget: randomUUID(), visits: randomUUID() };
  const op = (entity: string, field: string, value: unknown, at = writtenAt) =>
    ({ id: randomUUID(), plan, hlc: hlc(at), author: worker, entity, field, value });
  const ops = [
    op(`member:${worker}`, "name", "Lotte de Vries"), op(`member:${worker}`, "role", "foster_care_worker"),
    op(`member:${parent}`, "name", "Mirjam"), op(`member:${parent}`, "role", "parent"),
    op(`member:${foster}`, "name", "Fam. Bakker"), op(`member:${foster}`, "role", "foster_parent"),
    op("plan", "child_name", child), op("plan", "start_date", day(startDay)),
  ];
  if (workerConsent) ops.push(op(`consent:${worker}`, "given_at", `${day(0)}T09:00:00`));
  const goals: [string, string, string, number][] = [
    [goal.breakfast, "Samen ontbijten in het weekend", "parent", 1],
    [goal.budget, "Afspraak met de budgetcoach", "parent", 2],
    [goal.visits, "Bezoeken voorbereiden met Sam", "foster_parent", 3],
  ];
  for (let i = 0; i < moreGoals; i++) goals.push([randomUUID(), `Extra doel ${i + 1}`, "parent", 4 + i]);
  for (const [id, title, owner, priority] of goals) {
    ops.push(op(`goal:${id}`, "title", title), op(`goal:${id}`, "owner", owner), op(`goal:${id}`, "priority", priority), op(`goal:${id}`, "status", "open"));
  }
  const created = await request.post("/api/plans", { headers: bearer(founder.token), data: { ops } });
  expect(created.status(), await created.text()).toBe(201);
  const { device_token: token } = await created.json();
  const auth = { Authorization: `Bearer ${token}` };
  const invite = async (member: string) => {
    const r = await request.post(`/api/plans/${plan}/invites`, { headers: auth, data: { member } });
    expect(r.status(), await r.text()).toBe(201);
    return (await r.json()).code as string;
  };
  return {
    plan, goal, parent, worker, auth, child, professional: founder,
    workerCode: await invite(worker), parentCode: await invite(parent), fosterCode: await invite(foster),
    /** One change by the worker, stamped now in the tests' time unless `at` says otherwise. */
    push: (entity: string, field: string, value: unknown, at = testNow()) =>
      request.post(`/api/plans/${plan}/ops`, { headers: auth, data: { ops: [op(entity, field, value, at)] } }),
    /** The same, under an id of the test's choosing. */
    pushWithId: (id: string, entity: string, field: string, value: unknown) =>
      request.post(`/api/plans/${plan}/ops`, { headers: auth, data: { ops: [{ ...op(entity, field, value), id }] } }),
    /** Every operation the server holds for the plan. */
    serverOps: async () => {
      const all: any[] = [];
      for (let after = 0; ; ) {
        const page = await (await request.get(`/api/plans/${plan}/ops?after=${after}`, { headers: auth })).json();
        all.push(...page.ops);
        if (!page.more) return all.map((o: any) => o.op);
        after = page.cursor ?? page.ops[page.ops.length - 1].seq;
      }
    },
  };
}
