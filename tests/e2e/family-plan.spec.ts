import { chromium } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, expect, openAs, waitForServiceWorker, expectAccessible, pinClock } from "./helpers";

test("a foster parent ticks a goal and logs a visit; both survive reload and work offline", async ({ page, context }) => {
  await openAs(page, "Pleegouder");
  await expect(page.getByTestId("example-badge")).toContainText("Voorbeeld");
  await expect(page.getByTestId("sync-status")).toContainText("alleen op deze telefoon");
  await expect(page.getByTestId("current-phase")).toContainText("Fase 2: Uitvoering");
  await expect(page.getByTestId("timeline").locator('[aria-current="step"]')).toContainText("2");
  // The demo plan started 140 days ago; the perspective is due one year after the start.
  await expect(page.getByTestId("days-left")).toHaveText("225");

  const goal = page.getByRole("checkbox", { name: /foto-update/ });
  await expect(page.getByTestId("goal-progress")).toHaveText("0 van 2 gedaan");
  await goal.check();
  await expect(page.getByTestId("goal-progress")).toHaveText("1 van 2 gedaan");

  await page.getByTestId("log-contact").click();
  await page.getByText("Telefoon", { exact: true }).click();
  await page.getByLabel("Duur (minuten)").fill("25");
  await page.getByText("Goed", { exact: true }).click();
  await page.getByLabel("Notitie").fill("Noa belde over haar zwemdiploma.");
  await page.getByTestId("save-contact").click();
  await expect(page.getByText("Het contactmoment is bewaard.")).toBeVisible();
  const logged = page.getByTestId("contact-list").locator("li", { hasText: "zwemdiploma" });
  await expect(logged).toContainText("Telefoon");
  await expect(logged).toContainText("25 min");
  await expect(logged).toContainText("Goed");

  await page.reload();
  await expect(goal).toBeChecked();
  await expect(logged).toBeVisible();
  await expect(page.getByTestId("current-role")).toHaveText("Pleegouder");

  await waitForServiceWorker(page);
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
  await expect(goal).toBeChecked();
  await expect(logged).toBeVisible();

  // Changes made offline are kept too.
  await goal.uncheck();
  await expect(page.getByTestId("goal-progress")).toHaveText("0 van 2 gedaan");
  await page.getByTestId("log-contact").click();
  await page.getByLabel("Notitie").fill("Bezoek in de speeltuin, zonder netwerk vastgelegd.");
  await page.getByTestId("save-contact").click();
  await expect(page.getByText("Het contactmoment is bewaard.")).toBeVisible();
  await page.reload();
  await expect(goal).not.toBeChecked();
  await expect(page.getByTestId("contact-list")).toContainText("zonder netwerk");
  await context.setOffline(false);
});

test("a parent sees their own goals, and cannot log contact moments for others", async ({ page }) => {
  await openAs(page, "Ouder");
  const goals = page.getByTestId("my-goals").locator("li");
  await expect(goals).toHaveCount(4);
  await expect(goals.first()).toContainText("Elke weekendochtend samen ontbijten");
  await expect(page.getByTestId("goal-progress")).toHaveText("1 van 4 gedaan");
  await expect(page.getByTestId("log-contact")).toHaveCount(0);
  // Tap-to-call the fixed contact person.
  await expect(page.getByRole("link", { name: /Bel 06 12 34 56 78/ })).toHaveAttribute("href", "tel:0612345678");
  // Switching role is remembered, and so is the language.
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Gezinsvoogd", exact: true }).click();
  await expect(page.getByTestId("my-goals")).toContainText("Veiligheidsplan");
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.getByRole("heading", { name: "My goals" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "My goals" })).toBeVisible();
  await expect(page.getByTestId("current-role")).toHaveText("Guardian");
});

test("a bad date or duration in the contact form gets a clear message and nothing is lost", async ({ page }) => {
  await openAs(page, "Pleegouder");
  await page.getByTestId("log-contact").click();
  await page.getByLabel("Notitie").fill("Mijn tekst blijft staan.");
  await page.getByLabel("Duur (minuten)").fill("9999");
  await page.getByTestId("save-contact").click();
  await expect(page.getByRole("alert")).toContainText("Vul de duur in minuten in");
  await expect(page.getByLabel("Notitie")).toHaveValue("Mijn tekst blijft staan.");
  // The phone's back button leads home.
  await page.goBack();
  await expect(page.getByTestId("my-goals")).toBeVisible();
  await expect(page.getByTestId("contact-list")).not.toContainText("Mijn tekst blijft staan.");
});

test("data survives closing and restarting the browser", async ({ baseURL }, testInfo) => {
  const profile = mkdtempSync(join(tmpdir(), "koers-profile-"));
  const launch = () =>
    chromium.launchPersistentContext(profile, {
      ...testInfo.project.use.launchOptions,
      baseURL,
      locale: "nl-NL",
      timezoneId: testInfo.project.use.timezoneId,
      viewport: { width: 390, height: 844 },
    });
  try {
    let browser = await launch();
    await pinClock(browser);
    let page = browser.pages()[0] ?? (await browser.newPage());
    await openAs(page, "Pleegouder");
    await page.getByRole("checkbox", { name: /Bezoeken voorbereiden/ }).check();
    await expect(page.getByTestId("goal-progress")).toHaveText("1 van 2 gedaan");
    await browser.close();

    browser = await launch();
    await pinClock(browser);
    page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto("/");
    await expect(page.getByRole("checkbox", { name: /Bezoeken voorbereiden/ })).toBeChecked();
    await expect(page.getByTestId("current-role")).toHaveText("Pleegouder");
    await browser.close();
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});

test("no serious or critical accessibility violation, light and dark", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Wie ben jij in dit plan?" })).toBeVisible();
  await expectAccessible(page);
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await expect(page.getByTestId("child-name")).toBeVisible();
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto("/");
    await expect(page.getByTestId("my-goals")).toBeVisible();
    await expectAccessible(page);
  }
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Pleegouder", exact: true }).click();
  await page.getByTestId("log-contact").click();
  await expect(page.getByTestId("contact-form")).toBeVisible();
  await expectAccessible(page);
});

test.describe("with an English-language browser", () => {
  test.use({ locale: "en-US" });
  test("Koers still opens in Dutch until the user switches", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "Wie ben jij in dit plan?" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "nl");
  });
});

test("when the phone's storage is full, a change is refused with a clear message and nothing is half-saved", async ({ page }) => {
  await openAs(page, "Pleegouder");
  const goal = page.getByRole("checkbox", { name: /foto-update/ });
  await expect(goal).not.toBeChecked();
  // A full phone: IndexedDB refuses writes with a QuotaExceededError, as browsers do. (Chromium's
  // DevTools quota override does not refuse small writes, so the refusal is made here.)
  await page.evaluate(() => {
    (window as any).__put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    };
  });
  await goal.check({ force: true }).catch(() => {});
  await expect(page.getByRole("alert")).toContainText("de opslag van je telefoon is vol");
  await expect(goal).not.toBeChecked();
  await expect(page.getByTestId("goal-progress")).toHaveText("0 van 2 gedaan");

  await page.getByTestId("log-contact").click();
  await page.getByLabel("Notitie").fill("Dit mag niet verloren gaan.");
  await page.getByTestId("save-contact").click();
  await expect(page.getByRole("alert")).toContainText("de opslag van je telefoon is vol");
  await expect(page.getByLabel("Notitie")).toHaveValue("Dit mag niet verloren gaan.");

  // Room again: the same form saves.
  await page.evaluate(() => (IDBObjectStore.prototype.put = (window as any).__put));
  await page.getByTestId("save-contact").click();
  await expect(page.getByText("Het contactmoment is bewaard.")).toBeVisible();
  await expect(page.getByTestId("contact-list")).toContainText("Dit mag niet verloren gaan.");
});
