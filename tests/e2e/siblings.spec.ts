// Two siblings in one foster home (issue 11): the foster family's phone holds both children's
// plans; a goal ticked in each reaches that plan's other phones, and only those.
import type { Browser } from "@playwright/test";
import { test, expect, newContext, workerPlan } from "./helpers";

async function phoneFor(browser: Browser, code: string, child: string) {
  const context = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(`/uitnodiging#${code}`);
  await expect(page.getByTestId("child-name")).toHaveText(`Plan van ${child}`);
  return { context, page };
}

test("a foster family with two siblings' plans ticks a goal in each; each plan's other phones see only their own plan's change", async ({ browser, request }) => {
  const sam = await workerPlan(request, { child: "Sam" });
  const sara = await workerPlan(request, { child: "Sara" });
  const samsMother = await phoneFor(browser, sam.parentCode, "Sam");
  const sarasMother = await phoneFor(browser, sara.parentCode, "Sara");
  const foster = await phoneFor(browser, sam.fosterCode, "Sam");
  await foster.page.goto(`/uitnodiging#${sara.fosterCode}`);
  await expect(foster.page.getByTestId("child-name")).toHaveText("Plan van Sara");
  // The foster family's start: both children.
  await foster.page.goto("/");
  await expect(foster.page.getByTestId("plan-row-child")).toHaveText(["Sam", "Sara", "Noa"]);

  // In Sam's plan they tick their goal; then in Sara's.
  const fosterGoal = (page = foster.page) => page.getByTestId("my-goals").getByRole("checkbox").first();
  const fosterProgress = (page: typeof foster.page) => page.locator('[data-testid="progress"] [data-role="foster_parent"]');
  const syncs: string[] = [];
  foster.page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/sync") syncs.push(r.url());
  });
  for (const w of [sam, sara]) {
    await foster.page.goto(`/p/${w.plan}`);
    await expect(foster.page.getByTestId("child-name")).toHaveText(`Plan van ${w.child}`);
    await expect(foster.page.getByTestId("sync-status")).toContainText("Online");
    // The 15 s timer's round now, so that none falls in the second that follows.
    await foster.page.clock.runFor(15_000);
    await foster.page.waitForTimeout(500);
    const before = syncs.length;
    await fosterGoal().check();
    await expect(foster.page.getByTestId("sync-pending")).toHaveText("alles verstuurd");
    // One round for the tick: the server's event about it starts no second one.
    await foster.page.waitForTimeout(1_500);
    expect(syncs.length - before).toBe(1);
  }

  // Each mother sees the tick in her own child's plan, through its event stream.
  await expect(fosterProgress(samsMother.page)).toContainText("1 van 1 gedaan", { timeout: 5_000 });
  await expect(fosterProgress(sarasMother.page)).toContainText("1 van 1 gedaan", { timeout: 5_000 });
  // And nothing of the other plan: one tick in each plan, each in its own.
  for (const w of [sam, sara]) {
    const ticks = (await w.serverOps()).filter((o) => o.entity === `goal:${w.goal.visits}` && o.field === "status" && o.value === "done");
    expect(ticks.map((o) => o.plan)).toEqual([w.plan]);
  }
  for (const [mother, w, other] of [[samsMother, sam, sara], [sarasMother, sara, sam]] as const) {
    await mother.page.goto("/gezinnen");
    await expect(mother.page.getByTestId("plan-row-child")).toHaveText([w.child, "Noa"]);
    await expect(mother.page.getByText(other.child, { exact: true })).toHaveCount(0);
  }
  // The foster phone shows each plan with its own tick.
  for (const w of [sam, sara]) {
    await foster.page.goto(`/p/${w.plan}`);
    await expect(fosterGoal()).toBeChecked();
    await expect(fosterProgress(foster.page)).toContainText("1 van 1 gedaan");
  }
  for (const p of [samsMother, sarasMother, foster]) await p.context.close();
});
