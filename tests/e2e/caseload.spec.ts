// Many families on one phone (issue 11): a foster-care worker's phone joins several plans by invite;
// "Mijn gezinnen" puts what needs attention first, computed on the phone; one request syncs every
// plan and one event stream follows them all; each plan's change, removal or departure touches
// only that plan.
import type { APIRequestContext, Browser, Page } from "@playwright/test";
import { test, expect, day, expectAccessible, newContext, tab, waitForServiceWorker, workerPlan } from "./helpers";

type Plan = Awaited<ReturnType<typeof workerPlan>>;

/** The worker's three families: Sam (calm), Lina (the decision within 60 days), Milan (her own consent missing). */
async function threeFamilies(request: APIRequestContext) {
  const sam = await workerPlan(request, { child: "Sam", workerConsent: true });
  const lina = await workerPlan(request, { child: "Lina", startDay: -320, workerConsent: true });
  const milan = await workerPlan(request, { child: "Milan", startDay: -10 });
  return { sam, lina, milan };
}

/** A phone (without a service worker, so every request is seen) that joined `plans` by invite, as their worker. */
async function workersPhone(browser: Browser, plans: Plan[]) {
  const context = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true, serviceWorkers: "block" });
  const page = await context.newPage();
  const requests: { path: string; url: URL; body: any }[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith("/api/")) requests.push({ path: url.pathname, url, body: r.postDataJSON() });
  });
  for (const w of plans) {
    await page.goto(`/uitnodiging#${w.workerCode}`);
    await expect(page.getByTestId("child-name")).toHaveText(`Plan van ${w.child}`);
    await expect(page.getByTestId("sync-status")).toContainText("Online");
  }
  return { context, page, requests };
}

const rows = (page: Page) => page.getByTestId("plan-row");
const row = (page: Page, child: string) => rows(page).filter({ has: page.getByTestId("plan-row-child").getByText(child, { exact: true }) });

test("a worker's phone joins three families by invite; Mijn gezinnen puts what needs attention first, and one request syncs them all", async ({ browser, request }) => {
  const { sam, lina, milan } = await threeFamilies(request);
  const { page, requests, context } = await workersPhone(browser, [sam, lina, milan]);

  // A second and a third invite added their plans: nothing of the first went.
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Mijn gezinnen", level: 1 })).toBeVisible();
  // What she must do first: Lina's evaluation is overdue with the decision near, Milan waits for
  // her consent; then the calm one; the example last.
  await expect(rows(page).getByTestId("plan-row-child")).toHaveText(["Lina", "Milan", "Sam", "Noa"]);
  await expect(row(page, "Milan").getByTestId("plan-row-actions")).toHaveText("Geef je toestemming om samen te beginnen");
  await expect(row(page, "Lina").getByTestId("plan-row-actions")).toHaveText(/^Bereid de evaluatie voor \(uiterlijk .+\)$/);
  await expect(row(page, "Lina").getByTestId("plan-row-evaluation")).toHaveText(/^Evaluatie te laat/);
  await expect(row(page, "Lina").getByTestId("plan-row-evaluation")).toHaveClass(/warn/);
  await expect(row(page, "Lina").getByTestId("plan-row-days-left")).toHaveText(/^Nog \d\d dagen tot het besluit$/);
  await expect(row(page, "Lina").getByTestId("plan-row-days-left")).toHaveClass(/warn/);
  await expect(row(page, "Sam").getByTestId("plan-row-days-left")).toHaveText(/^Nog 3\d\d dagen tot het besluit$/);
  await expect(row(page, "Sam").getByTestId("plan-row-days-left")).not.toHaveClass(/warn/);
  await expect(row(page, "Sam").getByTestId("plan-row-consents-missing")).toHaveText("Nog zonder toestemming: 2");
  await expect(row(page, "Sam").getByTestId("plan-row-phase")).toHaveText("Fase 0: Mandaat");
  await expect(row(page, "Sam").getByTestId("plan-row-last-contact")).toHaveText("Nog geen contact geweest");
  await expect(row(page, "Sam")).toContainText("Volgende evaluatie: uiterlijk");
  await expectAccessible(page);
  await page.getByTestId("caseload-filter").selectOption({ label: "Heeft aandacht nodig" });
  await expect(rows(page).getByTestId("plan-row-child")).toHaveText(["Lina", "Milan"]);
  await page.getByTestId("caseload-filter").selectOption({ label: "Alle plannen" });

  // One event stream for every plan; no plan has one of its own.
  const streams = requests.filter((r) => r.path === "/api/events");
  expect(streams.at(-1)!.url.searchParams.get("tokens")!.split(",")).toHaveLength(3);
  expect(requests.filter((r) => /^\/api\/plans\/[^/]+\/events$/.test(r.path))).toEqual([]);

  // A round with nothing new: one request for the three plans, nothing else.
  const before = requests.length;
  await page.clock.runFor(15_000);
  await expect.poll(() => requests.slice(before).filter((r) => r.path === "/api/sync").length).toBe(1);
  await page.waitForTimeout(500);
  const round = requests.slice(before);
  expect(round.map((r) => r.path)).toEqual(["/api/sync"]);
  expect(round[0].body.plans.map((e: any) => e.plan).sort()).toEqual([sam.plan, lina.plan, milan.plan].sort());

  // Changes others make in a plan not shown are counted on its row until it is opened.
  expect((await sam.push("plan", "child_name", "Sam Jansen")).status()).toBe(200);
  await expect(row(page, "Sam Jansen").getByTestId("plan-row-unseen")).toHaveText("1 wijziging van anderen sinds je het plan opende", { timeout: 10_000 });
  await row(page, "Sam Jansen").getByRole("link").click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam Jansen");
  await page.getByTestId("plan-switch").click();
  await expect(row(page, "Sam Jansen")).toBeVisible();
  await expect(row(page, "Sam Jansen").getByTestId("plan-row-unseen")).toHaveCount(0);

  // A plan opens from its row, at its own address; the header says whose plan it is.
  await row(page, "Lina").getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/p/${lina.plan}$`));
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Lina");
  await expect(page.getByTestId("plan-switch")).toHaveText(/Lina$/);
  await tab(page, "Doelen");
  await expect(page).toHaveURL(new RegExp(`/p/${lina.plan}/doelen$`));
  // The back button goes back through the plans' screens.
  await page.goBack();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Lina");
  await page.goBack();
  await expect(page.getByRole("heading", { name: "Mijn gezinnen", level: 1 })).toBeVisible();
  // A link to another plan's screen opens that plan.
  await page.goto(`/p/${sam.plan}/doelen`);
  await expect(page.getByRole("heading", { name: "Doelen", level: 1 })).toBeVisible();
  await expect(page.getByTestId("plan-switch")).toHaveText(/Sam Jansen$/);
  await expect(page.getByText("Bezoeken voorbereiden met Sam")).toBeVisible();

  // Sam's plan, once opened, is kept open on the phone while Lina's is shown: what others change
  // in it meanwhile is counted on its row and shown when she switches back.
  await page.getByTestId("plan-switch").click();
  await row(page, "Lina").getByRole("link").click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Lina");
  expect((await sam.push("plan", "child_name", "Sam de Boer")).status()).toBe(200);
  await page.getByTestId("plan-switch").click();
  await expect(row(page, "Sam de Boer").getByTestId("plan-row-unseen")).toHaveText("1 wijziging van anderen sinds je het plan opende", { timeout: 10_000 });
  await row(page, "Sam de Boer").getByRole("link").click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam de Boer");
  await expect(page).toHaveURL(new RegExp(`/p/${sam.plan}$`));
  await context.close();
});

test("a change made offline in one plan syncs to that plan only; a plan removed by its worker, or left, goes alone", async ({ browser, request }) => {
  const { sam, lina, milan } = await threeFamilies(request);
  const devices = async (w: Plan) => (await (await request.get(`/api/plans/${w.plan}/devices`, { headers: w.auth })).json()).devices as any[];
  const workersOwn = (await devices(sam)).map((d) => d.device);
  const { page, requests, context } = await workersPhone(browser, [sam, lina, milan]);
  const counts = async () => [(await sam.serverOps()).length, (await lina.serverOps()).length];
  const [samOps, linaOps] = await counts();

  // Milan's home puts her own open action first; she gives her consent there, offline.
  await page.goto(`/p/${milan.plan}`);
  const actions = page.getByTestId("own-actions");
  await expect(actions).toContainText("Geef je toestemming om samen te beginnen");
  await context.setOffline(true);
  await actions.getByRole("button", { name: "Ik geef toestemming" }).click();
  await expect(page.getByText("De toestemming is bewaard.")).toBeVisible();
  await expect(actions).toHaveCount(0);
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  const sent = requests.length;
  await context.setOffline(false);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 10_000 });
  // Only Milan's entry carried a change; Sam's and Lina's plans are as they were.
  const pushes = requests.slice(sent).filter((r) => r.path === "/api/sync").flatMap((r) => r.body.plans).filter((e: any) => e.ops.length > 0);
  // (Also the attempts made while offline: the same change, in the same plan.)
  expect([...new Set(pushes.map((e: any) => e.plan))]).toEqual([milan.plan]);
  expect((await milan.serverOps()).filter((o) => o.entity === `consent:${milan.worker}`)).toHaveLength(1);
  expect(await counts()).toEqual([samOps, linaOps]);

  // Sam's worker takes this phone out of Sam's plan: it leaves this phone, and only it.
  const thisPhone = (await devices(sam)).find((d) => !workersOwn.includes(d.device));
  expect((await request.delete(`/api/plans/${sam.plan}/devices/${thisPhone.device}`, { headers: sam.auth })).status()).toBe(204);
  await page.goto("/");
  await expect(rows(page).getByTestId("plan-row-child")).toHaveText(["Lina", "Milan", "Noa"], { timeout: 15_000 });
  await expect(page.getByTestId("child-name")).toHaveCount(0);

  // She leaves Lina's plan herself, from Meer: the phone signs out of it, the others stay.
  await row(page, "Lina").getByRole("link").click();
  await tab(page, "Meer");
  await page.getByTestId("leave-start").click();
  await expect(page.getByTestId("leave-confirm")).toBeVisible();
  await expectAccessible(page);
  await page.getByTestId("leave-confirm-button").click();
  await expect(page.getByText("Het plan is van deze telefoon gehaald.")).toBeVisible();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Milan");
  expect((await devices(lina)).map((d) => d.revoked)).toEqual([false, true]);
  await page.reload();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Milan");
  await page.goto("/gezinnen");
  await expect(rows(page).getByTestId("plan-row-child")).toHaveText(["Milan", "Noa"]);
  await context.close();
});

test("with notifications allowed, a reminder of the second plan names its child and opens that plan", async ({ browser, request, baseURL }) => {
  const sam = await workerPlan(request, { child: "Sam", workerConsent: true });
  const lina = await workerPlan(request, { child: "Lina", workerConsent: true });
  // Lina's foster family is visited tomorrow.
  const visit = "a7d0c5a2-6c2b-4f4e-9d7e-3f1c2b4a5d6e";
  for (const [field, value] of [["at", `${day(1)}T14:00:00`], ["kind", "visit"], ["status", "planned"], ["attendees", ["parent", "foster_parent"]]] as const) {
    expect((await lina.push(`contact_moment:${visit}`, field, value)).status()).toBe(200);
  }
  const context = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await context.grantPermissions(["notifications"], { origin: baseURL });
  const page = await context.newPage();
  for (const w of [sam, lina]) {
    await page.goto(`/uitnodiging#${w.workerCode}`);
    await expect(page.getByTestId("child-name")).toHaveText(`Plan van ${w.child}`);
  }
  await page.goto(`/p/${sam.plan}`);
  const shown = async () =>
    page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, data: n.data }));
    });
  await expect.poll(shown, { timeout: 10_000 }).toContainEqual({ title: "Koers · Plan van Lina", body: expect.stringMatching(/^Bezoek: .*14:00$/), data: `/p/${lina.plan}/contact` });
  // Tapping it opens the address it carries (the service worker's notificationclick): Lina's contact moments.
  const [notified] = (await shown()).filter((n) => n.title === "Koers · Plan van Lina");
  await page.goto(notified.data);
  await expect(page.getByRole("heading", { name: "Contactmomenten", level: 1 })).toBeVisible();
  await expect(page.getByTestId("plan-switch")).toHaveText(/Lina$/);
  await context.close();
});

test("a phone from before several plans keeps its shared plan, its unsent change and the example when it updates", async ({ browser, request }) => {
  const sam = await workerPlan(request, { child: "Sam" });
  const context = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(`/uitnodiging#${sam.parentCode}`);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  // Offline from here on, so the change waits (the service worker serves the app's files).
  await waitForServiceWorker(page);
  await context.setOffline(true);
  await page.getByRole("checkbox", { name: /Samen ontbijten/ }).check();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");

  // The device facts as the version before several plans left them: one `session`, no list.
  const facts = await page.evaluate(async () => {
    const db: IDBDatabase = await new Promise((resolve, reject) => {
      const open = indexedDB.open("koers");
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const meta = db.transaction("meta", "readwrite").objectStore("meta");
    const get = (key: string) => new Promise<any>((resolve) => { const r = meta.get(key); r.onsuccess = () => resolve(r.result); });
    const plans = JSON.parse(await get("plans"));
    const shared = plans.find((m: any) => m.session);
    meta.put(JSON.stringify(shared.session), "session");
    meta.delete("plans");
    meta.delete("current");
    await new Promise((resolve) => (meta.transaction.oncomplete = resolve));
    const keys: string[] = await new Promise((resolve) => { const r = db.transaction("meta").objectStore("meta").getAllKeys(); r.onsuccess = () => resolve(r.result as string[]); });
    db.close();
    return keys;
  });
  expect(facts).toContain("session");
  expect(facts).not.toContain("plans");

  // The new version opens it: the plan, the waiting tick and the example plan are all there.
  await page.reload();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(page.getByRole("checkbox", { name: /Samen ontbijten/ })).toBeChecked();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  await context.setOffline(false);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 10_000 });
  expect((await sam.serverOps()).filter((o) => o.entity === `goal:${sam.goal.breakfast}` && o.value === "done")).toHaveLength(1);
  await page.getByTestId("plan-switch").click();
  await expect(rows(page).getByTestId("plan-row-child")).toHaveText(["Sam", "Noa"]);
  // And stored in the new form: the old fact is gone, a reload changes nothing.
  const keys = await page.evaluate(async () => {
    const db: IDBDatabase = await new Promise((resolve) => { const open = indexedDB.open("koers"); open.onsuccess = () => resolve(open.result); });
    const all: string[] = await new Promise((resolve) => { const r = db.transaction("meta").objectStore("meta").getAllKeys(); r.onsuccess = () => resolve(r.result as string[]); });
    db.close();
    return all;
  });
  expect(keys).toContain("plans");
  expect(keys).not.toContain("session");
  await page.reload();
  await expect(rows(page).getByTestId("plan-row-child")).toHaveText(["Sam", "Noa"]);
  await context.close();
});
