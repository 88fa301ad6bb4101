import type { Browser } from "@playwright/test";
import { test, expect, expectAccessible, openAs, tab, waitForServiceWorker, newContext, workerPlan } from "./helpers";

async function phone(browser: Browser, baseURL: string | undefined, code: string, serviceWorkers: "allow" | "block" = "allow") {
  const context = await newContext(browser, { baseURL, viewport: { width: 390, height: 844 }, isMobile: true, serviceWorkers });
  const page = await context.newPage();
  await page.goto(`/uitnodiging#${code}`);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(page.getByTestId("sync-status")).toContainText("Online");
  return { context, page };
}

test("two phones share one plan: an offline visit and ticks from both sides converge within seconds", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  const foster = await phone(browser, baseURL, w.fosterCode);
  const parent = await phone(browser, baseURL, w.parentCode);
  await expect(foster.page.getByTestId("current-role")).toHaveText("Pleegouder");
  await expect(parent.page.getByTestId("current-role")).toHaveText("Ouder");

  // The foster parent is offline at a visit: ticks a goal and logs the visit.
  await foster.context.setOffline(true);
  await expect(foster.page.getByTestId("sync-status")).toContainText("Offline");
  await foster.page.getByRole("checkbox", { name: /Bezoeken voorbereiden/ }).check();
  await foster.page.getByTestId("log-contact").click();
  await foster.page.getByLabel("Notitie").fill("Bezoek in het park, zonder bereik.");
  await foster.page.getByTestId("save-contact").click();
  await expect(foster.page.getByText("Het contactmoment is bewaard.")).toBeVisible();
  await expect(foster.page.getByTestId("sync-pending")).toHaveText("2 wijzigingen wachten");

  // Meanwhile the parent, online, ticks one of their goals.
  await parent.page.getByRole("checkbox", { name: /Samen ontbijten/ }).check();
  await expect(parent.page.getByTestId("sync-pending")).toHaveText("alles verstuurd");

  // Back online: both phones show the same plan within seconds, without a reload.
  await foster.context.setOffline(false);
  await expect(foster.page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 5_000 });
  // Others' changes arrive through the server's event stream within 2 seconds.
  await expect(parent.page.getByTestId("contact-list")).toContainText("Bezoek in het park", { timeout: 2_000 });
  for (const { page } of [foster, parent]) {
    await expect(page.locator('[data-testid="progress"] [data-role="parent"]')).toContainText("1 van 2 gedaan", { timeout: 3_000 });
    await expect(page.locator('[data-testid="progress"] [data-role="foster_parent"]')).toContainText("1 van 1 gedaan");
  }

  // The worker gives the budget goal to the foster parent while the parent, offline, ticks it:
  // the server refuses the tick, the parent's phone rolls it back and says so.
  await parent.context.setOffline(true);
  await parent.page.getByRole("checkbox", { name: /budgetcoach/ }).check();
  expect((await w.push(`goal:${w.goal.budget}`, "owner", "foster_parent")).status()).toBe(200);
  await parent.context.setOffline(false);
  await expect(parent.page.getByRole("alert")).toContainText("niet doorgegaan", { timeout: 5_000 });
  await expect(parent.page.getByRole("checkbox", { name: /budgetcoach/ })).toHaveCount(0);
  await expect(parent.page.locator('[data-testid="progress"] [data-role="parent"]')).toContainText("1 van 1 gedaan");
  await expect(foster.page.locator('[data-testid="progress"] [data-role="foster_parent"]')).toContainText("1 van 2 gedaan", { timeout: 3_000 });

  // Changes survive a reload on both phones.
  for (const { page } of [foster, parent]) {
    await page.reload();
    await expect(page.getByTestId("contact-list")).toContainText("Bezoek in het park");
  }
});

test("an invite is single use, and a removed phone loses the plan", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  const parent = await phone(browser, baseURL, w.parentCode);

  const second = await newContext(browser);
  const again = await second.newPage();
  await again.goto(`/uitnodiging#${w.parentCode}`);
  await expect(again.getByTestId("join-problem")).toContainText("al gebruikt");

  const devices = await (await request.get(`/api/plans/${w.plan}/devices`, { headers: w.auth })).json();
  const phoneOfParent = devices.devices.find((d: any) => d.role === "parent");
  expect((await request.delete(`/api/plans/${w.plan}/devices/${phoneOfParent.device}`, { headers: w.auth })).status()).toBe(204);
  // The server ends the phone's event stream; its next contact is refused, and the plan is
  // wiped from the phone, which says so, without the parent having to do anything.
  await expect(parent.page.getByRole("alert")).toContainText("geen toegang meer", { timeout: 10_000 });
  await expect(parent.page.getByTestId("child-name")).toHaveText("Plan van Noa");
  await parent.page.reload();
  await expect(parent.page.getByText("Plan van Sam")).toHaveCount(0);
});

test("a server killed with SIGKILL and restarted loses nothing; the phone's retry completes", async ({ browser, playwright }) => {
  // A server of this test's own, so it can be killed.
  const { spawn } = await import("node:child_process");
  const { closeSync, mkdtempSync, openSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const port = 8097;
  const baseURL = `http://localhost:${port}`;
  const data = mkdtempSync(join(tmpdir(), "koers-kill-"));
  const start = async () => {
    // Its stdout (the first administrator's link, for workerPlan's founder) goes to data/server.log.
    const log = openSync(join(data, "server.log"), "a");
    const server = spawn(process.env.KOERS_SERVER_BIN ?? "target/debug/koers-server", [], {
      env: { ...process.env, KOERS_ADDR: `127.0.0.1:${port}`, KOERS_DATA: data, KOERS_DIST: `${process.env.KOERS_E2E_ROOT}/dist`, KOERS_PUBLIC_URL: baseURL },
      stdio: ["ignore", log, "ignore"],
    });
    closeSync(log);
    await expect.poll(async () => (await fetch(`${baseURL}/healthz`).catch(() => null))?.status, { timeout: 10_000 }).toBe(200);
    // The answer must come from this server, not from another one already on the port.
    expect(server.exitCode, `port ${port} is taken by another process`).toBeNull();
    return server;
  };
  let server = await start();
  const request = await playwright.request.newContext({ baseURL });
  try {
    const w = await workerPlan(request, { root: data });
    const foster = await phone(browser, baseURL, w.fosterCode);
    await foster.context.setOffline(true);
    for (const note of ["Eerste bezoek", "Tweede bezoek", "Derde bezoek"]) {
      await foster.page.getByTestId("log-contact").click();
      await foster.page.getByLabel("Notitie").fill(note);
      await foster.page.getByTestId("save-contact").click();
      await expect(foster.page.getByText("Het contactmoment is bewaard.")).toBeVisible();
    }
    server.kill("SIGKILL");
    await foster.context.setOffline(false);
    await expect(foster.page.getByTestId("sync-status")).toContainText("Offline", { timeout: 5_000 });
    await expect(foster.page.getByTestId("sync-pending")).toHaveText("3 wijzigingen wachten");

    server = await start();
    // Back: the next round (on reconnect, or the periodic one) sends everything.
    await foster.context.setOffline(true);
    await foster.context.setOffline(false);
    await expect(foster.page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 20_000 });
    const pulled = await (await request.get(`/api/plans/${w.plan}/ops?after=0`, { headers: w.auth })).json();
    const notes = pulled.ops.filter((o: any) => o.op.field === "note").map((o: any) => o.op.value);
    expect(notes.sort()).toEqual(["Derde bezoek", "Eerste bezoek", "Tweede bezoek"]);
  } finally {
    server.kill("SIGKILL");
    await request.dispose();
  }
});

test("a goal changed by two people at once shows it, and keeps both versions", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  const parent = await phone(browser, baseURL, w.parentCode);
  const breakfast = parent.page.getByRole("checkbox", { name: /Samen ontbijten/ });
  await parent.context.setOffline(true);
  await breakfast.check();
  // Meanwhile the worker, who has not seen the tick, sets the same goal's status (later in time).
  expect((await w.push(`goal:${w.goal.breakfast}`, "status", "open")).status()).toBe(200);
  await parent.context.setOffline(false);
  const goal = parent.page.getByTestId("my-goals").locator("li", { hasText: "Samen ontbijten" });
  await expect(goal.getByTestId("changed-by-two")).toBeVisible({ timeout: 5_000 });
  await expect(breakfast).not.toBeChecked();
  // The parent's "done" is not lost: it is in the plan's history on the server.
  const pulled = await (await request.get(`/api/plans/${w.plan}/ops?after=0`, { headers: w.auth })).json();
  const statuses = pulled.ops.filter((o: any) => o.op.entity === `goal:${w.goal.breakfast}` && o.op.field === "status").map((o: any) => o.op.value);
  expect(statuses.sort()).toEqual(["done", "open", "open"]);
});

test("a tab closed in the middle of a sync loses nothing; the next visit finishes it", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  // Without a service worker: a request that passes through one can escape page.route, and the
  // push would then go out instead of hanging (it failed so once, in CI).
  const foster = await phone(browser, baseURL, w.fosterCode, "block");
  // Hold every push in the air, then close the tab while it hangs.
  let held = 0;
  await foster.page.route("**/api/sync", async (route) => {
    if (route.request().postDataJSON().plans.some((entry: any) => entry.ops.length > 0)) {
      held++;
      return; // never answered
    }
    await route.continue();
  });
  await foster.page.getByTestId("log-contact").click();
  await foster.page.getByLabel("Notitie").fill("Bezoek dat de sync niet afmaakte.");
  await foster.page.getByTestId("save-contact").click();
  await expect(foster.page.getByText("Het contactmoment is bewaard.")).toBeVisible();
  await expect.poll(() => held).toBeGreaterThan(0);
  await foster.page.close();

  const again = await foster.context.newPage();
  await again.goto("/");
  await expect(again.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 10_000 });
  await expect(again.getByTestId("contact-list")).toContainText("Bezoek dat de sync niet afmaakte.");
  const pulled = await (await request.get(`/api/plans/${w.plan}/ops?after=0`, { headers: w.auth })).json();
  const notes = pulled.ops.filter((o: any) => o.op.field === "note").map((o: any) => o.op.value);
  expect(notes).toEqual(["Bezoek dat de sync niet afmaakte."]);
});

test("a phone whose clock runs a day ahead is told so, keeps its visit, and sends it as soon as the clock is right", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  // The one phone not on the tests' clock: "ahead" means ahead of the server's real clock.
  const context = await browser.newContext({ baseURL, locale: "nl-NL", timezoneId: "Europe/Amsterdam", viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.clock.install({ time: Date.now() + 24 * 3600_000 });
  await page.goto(`/uitnodiging#${w.fosterCode}`);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");

  await page.getByTestId("log-contact").click();
  await page.getByLabel("Notitie").fill("Bezoek met een klok die voorloopt");
  await page.getByTestId("save-contact").click();
  await expect(page.getByRole("alert")).toContainText("De datum of tijd van deze telefoon staat te ver vooruit");
  // One visit is one change to the user, however many fields it has.
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");

  // Not rolled back: still on the phone after a reload, still waiting, and not on the server.
  await page.reload();
  await expect(page.getByRole("alert")).toContainText("te ver vooruit");
  await page.getByRole("navigation", { name: "Onderdelen van het plan" }).getByRole("link", { name: "Contact", exact: true }).click();
  await expect(page.getByText("Bezoek met een klok die voorloopt")).toBeVisible();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");
  const pulled = await (await request.get(`/api/plans/${w.plan}/ops?after=0`, { headers: w.auth })).json();
  expect(pulled.ops.filter((o: any) => o.op.value === "Bezoek met een klok die voorloopt")).toEqual([]);

  // The clock is set right: the visit gets a timestamp from now and goes out at the next round
  // (here: on reconnecting), instead of a day later.
  await page.clock.setSystemTime(Date.now());
  await tab(page, "Start");
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(page.getByText("De datum en tijd van je telefoon kloppen weer")).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 10_000 });
  const sent = await (await request.get(`/api/plans/${w.plan}/ops?after=0`, { headers: w.auth })).json();
  const note = sent.ops.filter((o: any) => o.op.value === "Bezoek met een klok die voorloopt");
  expect(note).toHaveLength(1);
  expect(Math.abs(Number(note[0].op.hlc.slice(0, 18)) - Date.now())).toBeLessThan(5 * 60_000);
  // And what the phone changes next goes out at once, not after the visit's old timestamp.
  await page.getByRole("checkbox", { name: /Bezoeken voorbereiden/ }).check();
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 10_000 });
  await context.close();
});

test("the sync code comes with the first round; while it cannot be fetched, a tick waits and goes out later", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  // No service worker copy, so the reload below must fetch the sync code from the network.
  const { context, page } = await phone(browser, baseURL, w.parentCode, "block");
  const syncCode = /\/split_koers_sync-[0-9a-f]{16}\.wasm$/;
  const fetched: string[] = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await context.route(syncCode, (route) => route.abort("internetdisconnected"));
  await page.reload();

  // The plan opens from the phone; rounds fail as if offline, and the tick waits.
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(page.getByTestId("sync-status")).toContainText("Offline");
  expect(fetched.some((p) => syncCode.test(p))).toBe(true);
  await page.getByRole("checkbox", { name: /Samen ontbijten/ }).check();
  await expect(page.getByTestId("sync-pending")).toHaveText("1 wijziging wacht");

  // Once it can be fetched, the next round (here: the worker's change arriving) sends the tick.
  await context.unroute(syncCode);
  expect((await w.push("plan", "child_name", "Sam Jansen")).status()).toBe(200);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 20_000 });
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam Jansen");
  const pulled = await (await request.get(`/api/plans/${w.plan}/ops?after=0`, { headers: w.auth })).json();
  const statuses = pulled.ops.filter((o: any) => o.op.entity === `goal:${w.goal.breakfast}` && o.op.field === "status").map((o: any) => o.op.value);
  expect(statuses.sort()).toEqual(["done", "open"]);
  await context.close();
});

test("a phone given away is wiped: signed out of the shared plan, told what is lost, and starts afresh", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  const { context, page } = await phone(browser, baseURL, w.parentCode);

  // Asked while a change waits: the phone says it would be lost, and nothing happens on cancel.
  await context.setOffline(true);
  await page.getByRole("checkbox", { name: /Samen ontbijten/ }).check();
  await tab(page, "Meer");
  await page.getByTestId("wipe").getByRole("button", { name: "Alles van deze telefoon wissen" }).click();
  const confirm = page.getByTestId("wipe-confirm");
  await expect(confirm).toContainText("Het plan blijft bestaan voor de anderen");
  await expect(confirm).toContainText("1 wijziging is nog niet verstuurd en gaat verloren.");
  await expectAccessible(page);
  // Offline the phone cannot be signed out: it asks again, and cancelling leaves the plan syncing.
  await confirm.getByRole("button", { name: "Ja, alles wissen" }).click();
  await expect(confirm).toContainText("Deze telefoon kon niet worden afgemeld");
  await expect(confirm.getByRole("button", { name: "Toch wissen" })).toBeVisible();
  await confirm.getByRole("button", { name: "Annuleren" }).click();
  await context.setOffline(false);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 10_000 });

  await page.getByTestId("wipe").getByRole("button", { name: "Alles van deze telefoon wissen" }).click();
  await expect(confirm).not.toContainText("verloren");
  await confirm.getByRole("button", { name: "Ja, alles wissen" }).click();

  // A fresh start, as on a new phone: no role, no shared plan, no settings.
  await expect(page.getByRole("heading", { name: "Wie ben jij in dit plan?" })).toBeVisible();
  // Nothing is left but the language, which the app writes again at every start.
  expect((await page.evaluate(() => Object.keys(localStorage))).filter((key) => key !== "koers.locale")).toEqual([]);
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
  await expect(page.getByTestId("example-badge")).toBeVisible();
  // Signed out on the server: the worker sees this phone revoked; the tick it sent stays.
  const devices = await (await request.get(`/api/plans/${w.plan}/devices`, { headers: w.auth })).json();
  expect(devices.devices.filter((d: any) => d.revoked).map((d: any) => d.role)).toEqual(["parent"]);
  const pulled = await (await request.get(`/api/plans/${w.plan}/ops?after=0`, { headers: w.auth })).json();
  expect(pulled.ops.some((o: any) => o.op.entity === `goal:${w.goal.breakfast}` && o.op.value === "done")).toBe(true);
  await context.close();

  // The foster parent wipes offline anyway: the phone starts afresh; the server still lists it.
  const foster = await phone(browser, baseURL, w.fosterCode);
  await waitForServiceWorker(foster.page);
  await foster.context.setOffline(true);
  await tab(foster.page, "Meer");
  await foster.page.getByTestId("wipe").getByRole("button", { name: "Alles van deze telefoon wissen" }).click();
  await foster.page.getByTestId("wipe-confirm").getByRole("button", { name: "Ja, alles wissen" }).click();
  await foster.page.getByTestId("wipe-confirm").getByRole("button", { name: "Toch wissen" }).click();
  await expect(foster.page.getByRole("heading", { name: "Wie ben jij in dit plan?" })).toBeVisible();
  const still = await (await request.get(`/api/plans/${w.plan}/devices`, { headers: w.auth })).json();
  expect(still.devices.filter((d: any) => !d.revoked).map((d: any) => d.role).sort()).toEqual(["foster_care_worker", "foster_parent"]);
  await foster.context.close();
});

test("wiping the example plan says it is only on this phone, and undoes what was done in it", async ({ page }) => {
  await openAs(page, "Ouder");
  const first = page.getByTestId("my-goals").getByRole("checkbox").first();
  await first.check();
  // Stored (the count follows the stored plan), and then reloaded: a plan that never syncs has
  // nothing "not yet sent".
  await expect(page.getByTestId("goal-progress")).toHaveText("2 van 4 gedaan");
  await page.reload();
  await expect(first).toBeChecked();
  await tab(page, "Meer");
  await page.getByTestId("wipe").getByRole("button", { name: "Alles van deze telefoon wissen" }).click();
  const confirm = page.getByTestId("wipe-confirm");
  await expect(confirm).toContainText("Dit plan staat alleen op deze telefoon");
  await expect(confirm).not.toContainText("niet verstuurd");
  await confirm.getByRole("button", { name: "Ja, alles wissen" }).click();
  await expect(page.getByRole("heading", { name: "Wie ben jij in dit plan?" })).toBeVisible();
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
  await expect(page.getByTestId("my-goals").getByRole("checkbox").first()).not.toBeChecked();
});
