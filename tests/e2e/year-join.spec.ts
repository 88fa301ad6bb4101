import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { test, expect, newContext, tab, monthName, workerSession, TEST_NOW_TEXT } from "./helpers";

// A new phone joining a plan that has been in use for a year: about 5,000 changes, more than one
// page of the server's answers. The plan is the generated year plan (koers_core::year), put on the
// server by crates/koers-server/examples/seed_year_plan.rs the way its twelve members' phones
// would have sent it; the year ends about two weeks before the tests' "now".

const seedBin = process.env.KOERS_SEED_BIN ?? "target/debug/examples/seed_year_plan";

/** What seed_year_plan prints. */
interface Seeded {
  plan: string;
  ops: number;
  founder_token: string;
  invite_link: string;
  child_name: string;
  goals: number;
  goals_done: number;
  last_goal: string;
  contacts: number;
  contact_months: { year: number; month: number; planned: number; happened: number; cancelled: number; no_show: number }[];
  evaluations: number;
  network: number;
  interventions: number;
}

test.beforeAll(async () => {
  // `cargo test -p koers-server` builds the example too; build it here when it is missing.
  if (!process.env.KOERS_SEED_BIN && !existsSync(seedBin)) {
    test.setTimeout(900_000);
    execFileSync("cargo", ["build", "-p", "koers-server", "--example", "seed_year_plan", "--quiet"], { stdio: "inherit" });
  }
});

test("a parent's phone joins a year-long plan of 5,000 changes by invite, holds every change and shows the whole plan", async ({ browser, request, baseURL }) => {
  test.setTimeout(240_000);
  // The plan is founded by a signed-in professional (POST /api/plans wants a session).
  const founder = await workerSession(request);
  const out = execFileSync(seedBin, [baseURL!, TEST_NOW_TEXT], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 180_000,
    env: { ...process.env, KOERS_SESSION_TOKEN: founder.token },
  });
  const seeded: Seeded = JSON.parse(out);
  expect(seeded.ops).toBeGreaterThan(4_500);

  // What the server holds, read page by page after the last operation of each page.
  const serverIds = new Set<string>();
  for (let after = 0; ; ) {
    const answer = await request.get(`/api/plans/${seeded.plan}/ops?after=${after}`, { headers: { Authorization: `Bearer ${seeded.founder_token}` } });
    expect(answer.status(), await answer.text()).toBe(200);
    const page = await answer.json();
    for (const o of page.ops) serverIds.add(o.op.id);
    if (!page.more) break;
    after = page.ops[page.ops.length - 1].seq;
  }
  expect(serverIds.size).toBe(seeded.ops);

  const context = await newContext(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phone = await context.newPage();
  await phone.goto(seeded.invite_link);
  await expect(phone.getByTestId("child-name")).toHaveText(`Plan van ${seeded.child_name}`, { timeout: 60_000 });
  await expect(phone.getByTestId("current-role")).toHaveText("Ouder");
  await expect(phone.getByTestId("example-badge")).toHaveCount(0);
  await expect(phone.getByTestId("sync-status")).toContainText("Online");

  // Every goal, and which are done (ticks made all through the year).
  await tab(phone, "Doelen");
  const goals = phone.getByTestId("all-goals").locator(":scope > li");
  await expect(goals).toHaveCount(seeded.goals, { timeout: 60_000 });
  await expect(phone.getByTestId("all-goals").locator(":scope > li.is-done")).toHaveCount(seeded.goals_done);
  await expect(goals.last()).toContainText(seeded.last_goal);

  // Every contact moment, and each month's counts as the plan has them.
  await tab(phone, "Contact");
  await expect(phone.getByTestId("months").locator("li.contact")).toHaveCount(seeded.contacts);
  const months = phone.getByTestId("months").locator(":scope > section");
  await expect(months).toHaveCount(seeded.contact_months.length);
  for (const m of seeded.contact_months) {
    const name = monthName(`${m.year}-${String(m.month).padStart(2, "0")}-15`);
    await expect(phone.getByTestId("months").getByRole("region", { name, exact: true }).getByTestId("month-counts")).toHaveText(
      `${m.planned} gepland · ${m.happened} geweest · ${m.cancelled} afgezegd · ${m.no_show} niet gekomen`,
    );
  }

  await tab(phone, "Evaluaties");
  await expect(phone.getByTestId("evaluation-list").locator(":scope > li")).toHaveCount(seeded.evaluations);
  await tab(phone, "Netwerk");
  await expect(phone.getByTestId("network").locator(":scope > li")).toHaveCount(seeded.network);
  await expect(phone.getByTestId("interventions").locator(":scope > li")).toHaveCount(seeded.interventions);

  // What the phone stored: the plan saved as a file holds exactly the server's operations.
  await tab(phone, "Meer");
  const [download] = await Promise.all([phone.waitForEvent("download"), phone.getByTestId("export").click()]);
  const saved = JSON.parse(readFileSync((await download.path())!, "utf8"));
  const phoneIds = new Set<string>(saved.ops.map((o: { id: string }) => o.id));
  expect(saved.ops).toHaveLength(seeded.ops);
  expect([...serverIds].filter((id) => !phoneIds.has(id))).toEqual([]);
  expect(phoneIds.size).toBe(serverIds.size);
  await context.close();
});
