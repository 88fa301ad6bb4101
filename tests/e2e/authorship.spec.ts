import type { Browser, Page } from "@playwright/test";
import { test, expect, expectAccessible, openAs, tab, newContext, workerPlan } from "./helpers";

// What someone writes in their own name (a comment on a goal) is theirs: nobody else changes or
// removes it. The foster-care worker may hide it; the others' phones then no longer show it, and
// the history keeps who hid it and when.

async function phone(browser: Browser, baseURL: string | undefined, code: string, role: string) {
  const context = await newContext(browser, { baseURL, viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(`/uitnodiging#${code}`);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  await expect(page.getByTestId("current-role")).toHaveText(role);
  await expect(page.getByTestId("sync-status")).toContainText("Online");
  return page;
}

async function openGoal(page: Page) {
  await tab(page, "Doelen");
  await page.getByTestId("all-goals").getByRole("link", { name: /Samen ontbijten/ }).click();
  await expect(page.getByTestId("goal-title")).toHaveText("Samen ontbijten in het weekend");
}

const WORDS = "Ik kan alleen op zaterdag, zondag werk ik.";

test("the worker hides a parent's comment: the others' phones no longer show it, history shows who hid it, and nobody else can change it", async ({ browser, request, baseURL }) => {
  const w = await workerPlan(request);
  const parent = await phone(browser, baseURL, w.parentCode, "Ouder");
  const foster = await phone(browser, baseURL, w.fosterCode, "Pleegouder");
  const worker = await phone(browser, baseURL, w.workerCode, "Pleegzorgbegeleider");
  for (const page of [parent, foster, worker]) await openGoal(page);

  // The parent comments; only the parent gets a button to remove it.
  await parent.getByTestId("comment-text").fill(WORDS);
  await parent.getByRole("button", { name: "Reactie plaatsen" }).click();
  const own = parent.getByTestId("comments").getByTestId("comment");
  await expect(own).toContainText(`Mirjam: ${WORDS}`);
  await expect(own.getByRole("button", { name: "Verwijderen" })).toBeVisible();
  await expect(own.getByTestId("hide")).toHaveCount(0);
  await expect(parent.getByTestId("sync-pending")).toHaveText("alles verstuurd", { timeout: 5_000 });

  // The foster parent sees it, with nothing to change or remove it by.
  const seen = foster.getByTestId("comments").getByTestId("comment");
  await expect(seen).toContainText(`Mirjam: ${WORDS}`, { timeout: 5_000 });
  await expect(seen.getByRole("button", { name: /Verwijderen|Verbergen/ })).toHaveCount(0);

  // Nor can anyone else change it by going round the app: the server refuses the worker's edit.
  const comment = (await w.serverOps()).find((o: any) => o.entity.startsWith("goal_comment:") && o.field === "text").entity;
  const pushed = async (entity: string, field: string, value: unknown) => {
    const r = await w.push(entity, field, value);
    expect(r.status(), await r.text()).toBe(200);
    return r.json();
  };
  const edited = await pushed(comment, "text", "Zaterdag en zondag lukt.");
  expect(edited.accepted).toEqual([]);
  expect(edited.refused[0].message).toContain("only its writer may change this comment");
  const removed = await pushed(comment, "deleted", true);
  expect(removed.refused[0].message).toContain("only its writer may change this comment");

  // The worker hides it.
  const shown = worker.getByTestId("comments").getByTestId("comment");
  await expect(shown).toContainText(WORDS, { timeout: 5_000 });
  await expect(shown.getByRole("button", { name: "Verwijderen" })).toHaveCount(0);
  await shown.getByRole("button", { name: "Verbergen: Reactie van Mirjam" }).click();
  await expect(worker.getByTestId("notice")).toContainText("Verborgen.");
  const hidden = worker.getByTestId("hidden-comment");
  await expect(hidden).toContainText("Reactie van Mirjam");
  await expect(hidden).toContainText("Verborgen door Lotte de Vries op");
  await expect(worker.getByTestId("comments")).not.toContainText(WORDS);

  // The parent's and the foster parent's phones no longer show it, without a reload, nor a trace of it.
  for (const page of [parent, foster]) {
    await expect(page.getByTestId("comments")).not.toContainText(WORDS, { timeout: 5_000 });
    await expect(page.getByTestId("hidden-comment")).toHaveCount(0);
  }
  await parent.reload();
  await expect(parent.getByTestId("goal-title")).toHaveText("Samen ontbijten in het weekend");
  await expect(parent.getByTestId("comments")).not.toContainText(WORDS);

  // The history shows the hide, by whom, and keeps the words.
  await hidden.getByText("Geschiedenis").click();
  const history = hidden.getByTestId("history").locator("li");
  await expect(history.first()).toContainText("Verborgen: ja");
  await expect(history.first()).toContainText("Lotte de Vries (Pleegzorgbegeleider)");
  await expect(hidden.getByTestId("history")).toContainText(`Mirjam (Ouder)`);
  await expect(hidden.getByTestId("history")).toContainText(WORDS);
  await expectAccessible(worker);

  // Shown again, it is back on the parent's phone.
  await hidden.getByRole("button", { name: "Weer tonen: Reactie van Mirjam" }).click();
  await expect(parent.getByTestId("comments")).toContainText(`Mirjam: ${WORDS}`, { timeout: 5_000 });

  // Its writer may remove it; then it is gone from every phone.
  await parent.getByRole("button", { name: "Verwijderen: Reactie van Mirjam" }).click();
  await expect(parent.getByTestId("notice")).toContainText("Je reactie is verwijderd.");
  for (const page of [parent, foster, worker]) {
    await expect(page.getByTestId("comments")).not.toContainText(WORDS, { timeout: 5_000 });
  }
});

test("the worker hides a parent's view of a visit: the parent no longer sees it nor a box to overwrite it, and history shows the hide", async ({ page }) => {
  const VIEW = "Fijne middag, Noa lachte veel.";
  // The parent has a box for their own view on every visit that happened, this one too.
  await openAs(page, "Ouder");
  await tab(page, "Contact");
  await expect(page.getByTestId("months")).toContainText(VIEW);
  const boxes = await page.getByText("Mijn kijk op dit contact").count();
  expect(boxes).toBeGreaterThan(0);
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Pleegzorgbegeleider", exact: true }).click();
  await tab(page, "Contact");
  const visit = page.getByTestId("months").locator("li.contact", { hasText: VIEW });
  await visit.getByRole("button", { name: "Verbergen: Zo zag de ouder het" }).click();
  await expect(page.getByTestId("notice")).toContainText("Verborgen.");
  await expect(page.getByTestId("months")).not.toContainText(VIEW);
  const hidden = page.getByTestId("months").locator("li.contact", { has: page.getByTestId("hidden-view") });
  await expect(hidden.getByTestId("hidden-view")).toContainText("Zo zag de ouder het: Verborgen door Lotte de Vries op");
  await hidden.getByText("Geschiedenis").click();
  await expect(hidden.getByTestId("history").locator("li").first()).toContainText("Kijk van de ouder verborgen: ja");
  await expect(hidden.getByTestId("history").locator("li").first()).toContainText("Lotte de Vries (Pleegzorgbegeleider)");
  await expectAccessible(page);

  // The parent who wrote it no longer sees it, nor a trace of the hide.
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await tab(page, "Contact");
  await expect(page.getByTestId("months")).not.toContainText(VIEW);
  await expect(page.getByTestId("hidden-view")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Verbergen/ })).toHaveCount(0);
  await expect(page.getByText("Mijn kijk op dit contact")).toHaveCount(boxes - 1);
  // Not in any visit's history either: there the hidden words read "Verborgen".
  const toggles = page.getByTestId("months").locator("summary", { hasText: "Geschiedenis" });
  const count = await toggles.count();
  for (let i = 0; i < count; i++) await toggles.nth(i).click();
  await expect(page.getByTestId("history")).toHaveCount(count);
  await expect(page.getByTestId("months")).not.toContainText(VIEW);
  await expect(page.getByTestId("months").getByTestId("history")).toContainText(["Zo zag de ouder het: Verborgen"]);

  // Shown again by the worker, it is back for the parent.
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Pleegzorgbegeleider", exact: true }).click();
  await tab(page, "Contact");
  await page.getByRole("button", { name: "Weer tonen: Zo zag de ouder het" }).click();
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await tab(page, "Contact");
  await expect(page.getByTestId("months")).toContainText(`Zo zag de ouder het: ${VIEW}`);
});
