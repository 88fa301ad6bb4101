// Nothing a phone holds is lost, whatever the server answers (issue 10): a plan larger than one
// page arrives whole; a refused id, a refused timestamp or one of the server's limits keeps the
// change; only an explicit removal takes the plan off the phone, and then only after the user has
// seen what could not be sent and could save it; an unknown token keeps everything.
import type { Browser, BrowserContext, Route } from "@playwright/test";
import { readFileSync } from "node:fs";
import { test, expect, expectAccessible, newContext, testNow, workerPlan } from "./helpers";

const DAY = 24 * 3600_000;

/** A parent's phone that joined through the invite. Without a service worker, so that every API
 *  call passes the test's routes. */
async function phone(browser: Browser, code: string, routes?: (context: BrowserContext) => Promise<void>) {
  const context = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true, serviceWorkers: "block" });
  if (routes) await routes(context);
  const page = await context.newPage();
  await page.goto(`/uitnodiging#${code}`);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  return { context, page };
}

const isOps = (url: URL) => /^\/api\/plans\/[^/]+\/ops$/.test(url.pathname);
/** The phone's sync round: one request for all its plans. */
const isSync = (url: URL) => url.pathname === "/api/sync";
/** The tick of `goal` ("done") among the operations a plan's entry pushes, if it is there. */
const tickIn = (entry: any, goal: string): { id: string; hlc: string } | undefined =>
  (entry.ops as any[]).find((o) => o.entity === `goal:${goal}` && o.field === "status" && o.value === "done");
const dailyLimit = { status: 429, error: "daily_limit", message: "This member sent the most changes a day allows; try again tomorrow." };
const json = (status: number, body: unknown) => ({ status, contentType: "application/json", body: JSON.stringify(body) });

/**
 * Routes the phone's sync rounds through `edit`, which sees each plan's entry before the real
 * server does (and may change it: take operations out of its push, say) and may return a change
 * to that plan's answer, made before the phone sees it.
 */
const syncThrough = (edit: (entry: any) => ((answer: any) => any) | void) => async (route: Route) => {
  const body = route.request().postDataJSON();
  const after = body.plans.map((entry: any) => edit(entry));
  const response = await route.fetch({ postData: JSON.stringify(body) });
  const answer = await response.json();
  answer.plans = answer.plans.map((a: any, i: number) => after[i]?.(a) ?? a);
  await route.fulfill({ response, body: JSON.stringify(answer) });
};

/**
 * Takes every route off the phone. A round a route is answering just now still gets that
 * route's answer: a plain `unroute` would send it on to the server unchanged instead, and the
 * route's answer would then fail the test ("Route is already handled").
 */
const liftRoutes = (context: BrowserContext) => context.unrouteAll({ behavior: "wait" });

/** Takes the tick of `goal` out of a plan's push; the real server never sees it. */
function takeOut(entry: any, goal: string) {
  const tick = tickIn(entry, goal);
  entry.ops = entry.ops.filter((o: any) => o !== tick);
  return tick;
}

test("a phone the server no longer knows keeps its plan and its unsent change, and says it must be invited again, also after a reload", async ({ browser, request }) => {
  const w = await workerPlan(request);
  const { context, page } = await phone(browser, w.parentCode);
  const breakfast = page.getByRole("checkbox", { name: /Samen ontbijten/ });

  // The server no longer knows this phone's token (say its database came back from last night's backup).
  let calls = 0;
  const refusal = { status: 401, error: "token_unknown", message: "This device token is not known; accept a new invite to register this device." };
  const unknown = syncThrough((entry) => {
    calls++;
    entry.ops = [];
    return (answer) => ({ plan: answer.plan, error: refusal });
  });
  const noStream = (route: Route) => route.fulfill(json(401, { error: refusal.error, message: refusal.message }));
  await context.route(isSync, unknown);
  await context.route("**/api/events?**", noStream);
  await breakfast.check();
  const told = page.getByTestId("access-unknown");
  await expect(told).toHaveText("Deze telefoon is niet meer bekend bij de server. Vraag de pleegzorgbegeleider om een nieuwe uitnodiging; je wijzigingen blijven op deze telefoon.", { timeout: 10_000 });
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(breakfast).toBeChecked();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  await expectAccessible(page);
  // It does not keep knocking: a minute brings only the rounds of its 15 s timer (it keeps
  // trying, so it recovers by itself once the server knows it again).
  const before = calls;
  await page.clock.runFor(60_000);
  await expect.poll(() => calls - before).toBeGreaterThanOrEqual(1);
  expect(calls - before).toBeLessThanOrEqual(5);

  // A reload (or a closed tab) changes nothing: the plan, the tick and the message stay.
  await page.reload();
  await expect(told).toBeVisible();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(breakfast).toBeChecked();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  await page.getByRole("button", { name: "English" }).click();
  await expect(told).toHaveText("The server no longer knows this phone. Ask the foster-care worker for a new invite; your changes stay on this phone.");
  await page.getByRole("button", { name: "Nederlands" }).click();
  expect((await w.serverOps()).filter((o) => o.entity === `goal:${w.goal.breakfast}` && o.value === "done")).toEqual([]);

  // Known again (the server's data back): the next round sends the tick, and the message goes.
  await liftRoutes(context);
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 20_000 });
  await expect(told).toHaveCount(0);
  await expect.poll(async () => (await w.serverOps()).filter((o) => o.entity === `goal:${w.goal.breakfast}` && o.value === "done").length).toBe(1);
  await context.close();
});

test("a parent taken out of the plan with an unsent change is told, can save it as a file, and the plan goes only when she says so", async ({ browser, request }) => {
  const w = await workerPlan(request);
  const { context, page } = await phone(browser, w.parentCode);
  const breakfast = page.getByRole("checkbox", { name: /Samen ontbijten/ });
  await context.setOffline(true);
  await breakfast.check();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");

  // Meanwhile the worker takes her out of the plan.
  expect((await w.push(`member:${w.parent}`, "deleted", true)).status()).toBe(200);
  await context.setOffline(false);
  const alert = page.getByTestId("access-revoked");
  await expect(alert).toContainText("Deze telefoon heeft geen toegang meer tot het plan", { timeout: 15_000 });
  await expect(alert.getByTestId("unsent-count")).toHaveText("1 wijziging kon niet meer worden verstuurd.");
  // Nothing is gone yet.
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(breakfast).toBeChecked();
  await expectAccessible(page);

  // A reload (or a closed tab) asks again; it never drops the change silently.
  await page.reload();
  await expect(alert.getByTestId("unsent-count")).toHaveText("1 wijziging kon niet meer worden verstuurd.");
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(breakfast).toBeChecked();

  // The file holds the change that could not be sent.
  const [download] = await Promise.all([page.waitForEvent("download"), alert.getByRole("button", { name: "Wijzigingen bewaren als bestand" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^koers-sam-\d{4}-\d{2}-\d{2}\.json$/);
  const file = JSON.parse(readFileSync((await download.path())!, "utf8"));
  expect(file.plan).toBe(w.plan);
  expect(file.ops.filter((o: any) => o.entity === `goal:${w.goal.breakfast}` && o.field === "status").map((o: any) => o.value).sort()).toEqual(["done", "open"]);

  // Only now, asked, does the plan leave the phone.
  await alert.getByRole("button", { name: "Plan van deze telefoon halen" }).click();
  await expect(page.getByText("De gegevens van het plan zijn van deze telefoon verwijderd")).toBeVisible();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
  await expect(alert).toHaveCount(0);
  await page.reload();
  await expect(page.getByText("Plan van Sam")).toHaveCount(0);
  await expect(alert).toHaveCount(0);
  await context.close();
});

test("a phone joining a plan that takes many pages to pull shows every change", async ({ browser, request }) => {
  const w = await workerPlan(request, { moreGoals: 12 });
  // 68 operations, answered five at a time (the app asks for a thousand).
  let pages = 0;
  const { page, context } = await phone(browser, w.parentCode, async (context) => {
    // The round's first page, then the rest plan by plan.
    await context.route(isSync, syncThrough((entry) => {
      entry.limit = 5;
      pages++;
    }));
    await context.route(
      (url) => isOps(url) && url.searchParams.has("after"),
      async (route) => {
        const url = new URL(route.request().url());
        url.searchParams.set("limit", "5");
        pages++;
        await route.fulfill({ response: await route.fetch({ url: url.toString() }) });
      },
    );
  });
  await expect(page.locator('[data-testid="progress"] [data-role="parent"]')).toContainText("0 van 14 gedaan");
  await expect(page.locator('[data-testid="progress"] [data-role="foster_parent"]')).toContainText("0 van 1 gedaan");
  expect(pages).toBeGreaterThanOrEqual(14);
  await page.goto("/doelen");
  for (let i = 1; i <= 12; i++) await expect(page.getByText(`Extra doel ${i}`, { exact: true }).first()).toBeVisible();
  // A change made later arrives too, on the next page after the cursor.
  await page.goto("/");
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  expect((await w.push("plan", "child_name", "Sam Jansen")).status()).toBe(200);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam Jansen", { timeout: 20_000 });
  // A round still in the air must not fetch through a closed context.
  await context.unrouteAll({ behavior: "ignoreErrors" });
  await context.close();
});

test("a change refused because the server holds another one under its id is kept, and reaches the server under a new id", async ({ browser, request }) => {
  const w = await workerPlan(request);
  let refusedId: string | undefined;
  const { page, context } = await phone(browser, w.parentCode, (context) =>
    context.route(isSync, syncThrough((entry) => {
      const tick = !refusedId && takeOut(entry, w.goal.breakfast);
      if (!tick) return;
      refusedId = tick.id;
      const refused = { op: tick.id, reason: "op_id_reused", message: "This operation id is already stored with other content; send the change under a new id." };
      return (answer) => ({ ...answer, push: { accepted: answer.push?.accepted ?? [], refused: [...(answer.push?.refused ?? []), refused], last_seq: answer.last_seq } });
    })),
  );
  const breakfast = page.getByRole("checkbox", { name: /Samen ontbijten/ });
  await breakfast.check();
  await expect.poll(() => refusedId).toBeDefined();
  await expect.poll(async () => (await w.serverOps()).filter((o) => o.entity === `goal:${w.goal.breakfast}` && o.value === "done").map((o) => o.id), { timeout: 10_000 })
    .toEqual([expect.not.stringMatching(refusedId!)]);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd");
  await expect(breakfast).toBeChecked();
  await expect(page.getByText("niet doorgegaan")).toHaveCount(0);
  expect((await w.serverOps()).some((o) => o.id === refusedId)).toBe(false);
  await page.reload();
  await expect(breakfast).toBeChecked();
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd");
  await context.unrouteAll({ behavior: "ignoreErrors" });
  await context.close();
});

test("the real server holds another change under the id of a waiting one: the phone's change reaches it once, under a new id, and the other arrives too", async ({ browser, request }) => {
  const w = await workerPlan(request);
  let taken: string | undefined;
  const { page, context } = await phone(browser, w.parentCode, (context) =>
    context.route(isSync, async (route) => {
      const tick = !taken && route.request().postDataJSON().plans.map((e: any) => tickIn(e, w.goal.breakfast)).find(Boolean);
      if (tick) {
        // Just before the phone's push lands, the worker stores another change under its id.
        taken = tick.id;
        const other = await w.pushWithId(tick.id, `goal:${w.goal.budget}`, "title", "Budgetcoach, elke dinsdag");
        expect(other.status(), await other.text()).toBe(200);
      }
      return route.continue();
    }),
  );
  const breakfast = page.getByRole("checkbox", { name: /Samen ontbijten/ });
  await breakfast.check();
  await expect.poll(() => taken).toBeDefined();
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 15_000 });
  await expect(page.getByText("Budgetcoach, elke dinsdag")).toBeVisible();
  // Exactly one tick on the server (never the same change twice under two new ids), and the
  // worker's change keeps the id it was stored under.
  const ops = await w.serverOps();
  const ticks = ops.filter((o) => o.entity === `goal:${w.goal.breakfast}` && o.value === "done");
  expect(ticks.map((o) => o.id)).toEqual([expect.not.stringMatching(taken!)]);
  expect(ops.find((o) => o.id === taken)?.value).toBe("Budgetcoach, elke dinsdag");
  await page.reload();
  await expect(breakfast).toBeChecked();
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd");
  await context.unrouteAll({ behavior: "ignoreErrors" });
  await context.close();
});

test("a phone that finds the server holding less than it pulled (restored from a backup) pulls the plan again from the start and misses nothing", async ({ browser, request }) => {
  const w = await workerPlan(request);
  let fromStart = 0;
  // The restored server from the phone's first pull on: its plan now ends at seq 3, so the seqs
  // it hands out anew lie below the phone's cursor, and going on from the cursor finds nothing.
  // (Faked from the start, so no pull already under way can slip a real answer past it.)
  const { page, context } = await phone(browser, w.parentCode, async (context) => {
    await context.route(isSync, syncThrough((entry) => {
      const after = entry.after;
      if (after === 0) {
        fromStart++;
        return;
      }
      return (answer) => ({ plan: answer.plan, ops: [], last_seq: 3, cursor: after, more: false });
    }));
    await context.route(isOps, async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      const after = Number(new URL(route.request().url()).searchParams.get("after"));
      if (after === 0) {
        fromStart++;
        return route.continue();
      }
      return route.fulfill(json(200, { ops: [], last_seq: 3, cursor: after, more: false }));
    });
  });
  const joined = fromStart;
  expect((await w.push(`goal:${w.goal.budget}`, "title", "Budgetcoach na de back-up")).status()).toBe(200);
  await expect(page.getByText("Budgetcoach na de back-up")).toBeVisible({ timeout: 20_000 });
  expect(fromStart).toBeGreaterThan(joined);
  await context.unrouteAll({ behavior: "ignoreErrors" });
  await context.close();
});

test("a change refused as stamped before the plan was founded is kept, and sent again with a new timestamp", async ({ browser, request }) => {
  const w = await workerPlan(request);
  let refused: { id: string; hlc: string } | undefined;
  const { page, context } = await phone(browser, w.parentCode, (context) =>
    context.route(isSync, syncThrough((entry) => {
      const tick = !refused && takeOut(entry, w.goal.breakfast);
      if (!tick) return;
      refused = tick;
      const refusal = { op: tick.id, reason: "before_plan", message: "This change is dated before the plan was founded." };
      return (answer) => ({ ...answer, push: { accepted: answer.push?.accepted ?? [], refused: [...(answer.push?.refused ?? []), refusal], last_seq: answer.last_seq } });
    })),
  );
  const breakfast = page.getByRole("checkbox", { name: /Samen ontbijten/ });
  await breakfast.check();
  await expect.poll(() => refused).toBeDefined();
  await expect.poll(async () => (await w.serverOps()).filter((o) => o.entity === `goal:${w.goal.breakfast}` && o.value === "done").length, { timeout: 10_000 }).toBe(1);
  const sent = (await w.serverOps()).find((o) => o.entity === `goal:${w.goal.breakfast}` && o.value === "done");
  expect(sent.id).toBe(refused!.id);
  expect(sent.hlc).not.toBe(refused!.hlc);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd");
  await expect(breakfast).toBeChecked();
  await expect(page.getByText("niet doorgegaan")).toHaveCount(0);
  await context.unrouteAll({ behavior: "ignoreErrors" });
  await context.close();
});

test("a push refused for one of the server's limits keeps the change waiting, says why, and still brings in the others' changes", async ({ browser, request }) => {
  const w = await workerPlan(request);
  const limit = syncThrough((entry) => {
    if (entry.ops.length === 0) return;
    entry.ops = [];
    return (answer) => ({ ...answer, push: undefined, push_error: dailyLimit });
  });
  const { page, context } = await phone(browser, w.parentCode, (context) => context.route(isSync, limit));
  const breakfast = page.getByRole("checkbox", { name: /Samen ontbijten/ });
  await breakfast.check();
  await expect(page.getByText("De server neemt vandaag geen wijzigingen meer van je aan")).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  await expect(breakfast).toBeChecked();
  // What the others change still comes in.
  expect((await w.push("plan", "child_name", "Sam Jansen")).status()).toBe(200);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam Jansen", { timeout: 20_000 });
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  // The next day (here: the limit lifted), the tick goes out.
  await liftRoutes(context);
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 20_000 });
  await context.close();
});

test("history shows when a change was written and when the server received it, where those lie more than a day apart", async ({ browser, request }) => {
  // Written three days before the server received it (a phone that was offline, or set back).
  const w = await workerPlan(request, { writtenAt: testNow() - 3 * DAY });
  // A change the server receives as it is written.
  expect((await w.push(`goal:${w.goal.breakfast}`, "title", "Samen ontbijten op zaterdag", Date.now())).status()).toBe(200);
  const { page, context } = await phone(browser, w.parentCode);
  await page.goto(`/doelen/${w.goal.breakfast}`);
  const rows = page.getByTestId("history").locator("li");
  await expect(rows.first()).toContainText("Doel: Samen ontbijten op zaterdag");
  await expect(rows.first()).not.toContainText("ontvangen op");
  const old = page.getByTestId("history").locator("li", { hasText: "Doel: Samen ontbijten in het weekend" });
  await expect(old).toContainText(/geschreven op .+, ontvangen op .+/);
  // Also after a reload (kept on the phone), and in English.
  await page.reload();
  await expect(old).toContainText(/geschreven op .+, ontvangen op .+/);
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.getByTestId("history").locator("li", { hasText: "Samen ontbijten in het weekend" })).toContainText(/written on .+, received on .+/);
  await context.close();
});

test("another change arriving under the id of one still waiting on the phone does not overwrite it", async ({ browser, request }) => {
  const w = await workerPlan(request);
  // The server refuses every push for now (one of its limits), so the tick waits on the phone.
  let waiting: { id: string } | undefined;
  const limit = syncThrough((entry) => {
    if (entry.ops.length === 0) return;
    waiting ??= tickIn(entry, w.goal.breakfast);
    entry.ops = [];
    return (answer) => ({ ...answer, push: undefined, push_error: dailyLimit });
  });
  const { page, context } = await phone(browser, w.parentCode, (context) => context.route(isSync, limit));
  const breakfast = page.getByRole("checkbox", { name: /Samen ontbijten/ });
  await breakfast.check();
  await expect.poll(() => waiting).toBeDefined();
  // Meanwhile the server stores another change under the same id (a faulty or hostile client).
  expect((await w.pushWithId(waiting!.id, "plan", "child_name", "Sam Jansen")).status()).toBe(200);
  // The phone pulls it, and keeps its own tick.
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam Jansen", { timeout: 20_000 });
  await page.reload();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam Jansen");
  await expect(breakfast).toBeChecked();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  // Once the server takes changes again, the tick reaches it under a new id.
  await liftRoutes(context);
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 20_000 });
  const done = (await w.serverOps()).filter((o) => o.entity === `goal:${w.goal.breakfast}` && o.value === "done");
  expect(done).toHaveLength(1);
  expect(done[0].id).not.toBe(waiting!.id);
  await context.close();
});
