import type { Page } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import { extractText, getDocumentProxy } from "unpdf";
import { test, expect, openAs, waitForServiceWorker, expectAccessible, tab, startPlanForDaan, day, monthName, newPage } from "./helpers";

async function planVisitTomorrow(page: Page, place: string) {
  await tab(page, "Contact");
  await page.getByTestId("plan-contact").click();
  await expect(page.getByRole("heading", { name: "Contact plannen" })).toBeVisible();
  await page.getByLabel("Datum").fill(day(1));
  await page.getByLabel("Tijd").fill("15:00");
  await page.getByLabel("Waar").fill(place);
  await page.getByTestId("save-contact").click();
  await expect(page.getByText("Het contactmoment is bewaard.")).toBeVisible();
}

test("a foster parent plans a visit, sees it coming up at home, and records how it went; filters and month counts follow", async ({ page }) => {
  await openAs(page, "Pleegouder");
  await tab(page, "Contact");
  // The month the visit will fall in (tomorrow's: on the last day of a month, the next one),
  // found by its name; it has no section yet when nothing happens in it.
  const visitMonth = page.getByTestId("months").getByRole("region", { name: monthName(day(1)), exact: true });
  await expect(page.getByTestId("months").locator("section").first()).toBeVisible();
  const planned = (await visitMonth.count()) === 0 ? 0 : Number((await visitMonth.getByTestId("month-counts").textContent())!.match(/(\d+) gepland/)![1]);
  await expectAccessible(page);

  await page.getByTestId("filter-status").selectOption({ label: "Afgezegd" });
  await expect(page.getByTestId("months").locator("li.contact")).toHaveCount(1);
  await expect(page.getByTestId("months").locator("li.contact")).toContainText("Verbinding lukte niet");
  await page.getByTestId("filter-status").selectOption({ label: "Alle" });

  await planVisitTomorrow(page, "Speeltuin De Kleine Wereld");
  const visit = visitMonth.locator("li.contact", { hasText: "Speeltuin De Kleine Wereld" });
  await expect(visit).toContainText("Gepland");
  await expect(visitMonth.getByTestId("month-counts")).toContainText(`${planned + 1} gepland`);

  await tab(page, "Start");
  await expect(page.getByTestId("reminders")).toContainText("Bezoek:");
  await expect(page.getByTestId("next-contact")).toContainText("Speeltuin De Kleine Wereld");

  await tab(page, "Contact");
  await visit.getByText("Hoe ging het? Vastleggen").click();
  await visit.getByRole("button", { name: "Geweest" }).click();
  // The status line, not the button of the same name.
  await expect(visit.locator(".contact-status")).toContainText("Geweest");
  await page.reload();
  await expect(visit.locator(".contact-status")).toContainText("Geweest");
  // Who changed what, and when, for this one visit.
  await visit.getByText("Geschiedenis").click();
  const history = visit.getByTestId("history").locator("li");
  await expect(history.first()).toContainText("Status: Geweest");
  await expect(history.first()).toContainText("Anouk en Peter Bakker (Pleegouder)");
  await expect(visit.getByTestId("history")).toContainText("Waar: Speeltuin De Kleine Wereld");
  await expect(visit.getByTestId("history").locator("li.overwritten")).toContainText(["Status: Gepland"]);
});

test("a foster parent logs a visit from home in two taps", async ({ page }) => {
  await openAs(page, "Pleegouder");
  await page.getByTestId("log-contact").click();
  await page.getByTestId("save-contact").click();
  await expect(page.getByText("Het contactmoment is bewaard.")).toBeVisible();
  await expect(page.getByTestId("contact-list").locator("li").first()).toContainText("Bezoek");
});

test("a parent adds their own view of a visit, offline; the child says how a visit and an evaluation felt", async ({ page, context }) => {
  await openAs(page, "Ouder");
  await expect(page.getByTestId("role-intro")).toContainText("zodat Noa weer thuis kan wonen");
  await waitForServiceWorker(page);
  await context.setOffline(true);
  await tab(page, "Contact");
  await expect(page.getByTestId("plan-contact")).toHaveCount(0);
  const visit = page.getByTestId("months").locator("li.contact", { hasText: "Pannenkoeken" });
  await visit.getByText("Mijn kijk op dit contact").click();
  await visit.getByLabel("Zo zag de ouder het").fill("Noa wilde niet weg, dat deed pijn maar was ook fijn.");
  await visit.getByRole("button", { name: "Opslaan" }).click();
  await expect(visit).toContainText("Zo zag de ouder het: Noa wilde niet weg");
  await page.reload();
  await expect(visit).toContainText("Zo zag de ouder het: Noa wilde niet weg");
  await context.setOffline(false);

  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Jongere", exact: true }).click();
  await expect(page.getByTestId("role-intro")).toContainText("Dit is jouw plan");
  await tab(page, "Contact");
  await visit.getByText("Hoe vond jij het?").click();
  await visit.getByLabel("Wat het kind ervan vond").fill("Leuk, maar afscheid is stom.");
  await visit.getByRole("button", { name: "Opslaan" }).click();
  await expect(visit).toContainText("Wat het kind ervan vond: Leuk, maar afscheid is stom.");
  await tab(page, "Evaluaties");
  const last = page.getByTestId("evaluation-list").locator("li").first();
  await last.getByText("Hoe vond jij het?").click();
  await last.getByLabel("Wat het kind ervan vond").fill("Ik mocht zelf ook iets zeggen.");
  await last.getByRole("button", { name: "Opslaan" }).click();
  await expect(last).toContainText("Wat het kind ervan vond: Ik mocht zelf ook iets zeggen.");
  await expect(page.getByTestId("evaluation-form")).toHaveCount(0);
  await expectAccessible(page);
});

test("a plan saved as a file is read into a fresh install; a damaged file changes nothing", async ({ page, browser }, testInfo) => {
  // A real plan of its own (not the example), shared through the server.
  await startPlanForDaan(page);
  await tab(page, "Doelen");
  await page.getByText("Nieuw doel").click();
  await page.getByTestId("new-goal").getByLabel("Doel", { exact: true }).fill("Samen naar de tandarts");
  await page.getByTestId("new-goal").getByRole("button", { name: "Opslaan" }).click();
  await expect(page.getByText("Het doel is toegevoegd.")).toBeVisible();

  await tab(page, "Meer");
  await expectAccessible(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export").click()]);
  expect(download.suggestedFilename()).toMatch(/^koers-daan-\d{4}-\d{2}-\d{2}\.json$/);
  const file = testInfo.outputPath("plan.json");
  await download.saveAs(file);
  const text = readFileSync(file, "utf8");
  expect(JSON.parse(text).format).toBe("koers-plan");

  const fresh = await newPage(browser);
  await openAs(fresh, "Ouder");
  await tab(fresh, "Meer");
  const damaged = testInfo.outputPath("damaged.json");
  writeFileSync(damaged, text.slice(0, Math.floor(text.length / 2)));
  await fresh.getByTestId("import").setInputFiles(damaged);
  await expect(fresh.getByRole("alert")).toContainText("beschadigd of onvolledig");
  await tab(fresh, "Start");
  await expect(fresh.getByTestId("child-name")).toHaveText("Plan van Noa");

  await tab(fresh, "Meer");
  await fresh.getByTestId("import").setInputFiles(file);
  await expect(fresh.getByText("Het plan van Daan is ingelezen.")).toBeVisible();
  await fresh.reload();
  await tab(fresh, "Doelen");
  await expect(fresh.getByTestId("all-goals")).toContainText("Samen naar de tandarts");
  await tab(fresh, "Start");
  await expect(fresh.getByTestId("child-name")).toHaveText("Plan van Daan");
  await expect(fresh.getByTestId("example-badge")).toHaveCount(0);
});

test("planned visits download as a calendar file the phone can read", async ({ page }) => {
  await openAs(page, "Ouder");
  await tab(page, "Meer");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("calendar").click()]);
  expect(download.suggestedFilename()).toMatch(/\.ics$/);
  const ics = readFileSync((await download.path())!, "utf8");
  expect(ics.startsWith("BEGIN:VCALENDAR\r\n")).toBe(true);
  expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(1);
  expect(ics).toContain("SUMMARY:Bezoek · Plan van Noa");
  expect(ics).toContain("LOCATION:Bij Mirjam thuis");
  expect(ics).toContain(`DTSTART:${day(5).replaceAll("-", "")}T140000`);
});

test("with notifications allowed, a visit tomorrow is notified once", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["notifications"], { origin: baseURL });
  await openAs(page, "Pleegzorgbegeleider");
  await waitForServiceWorker(page);
  await tab(page, "Meer");
  await expect(page.getByTestId("notifications-on")).toBeVisible();
  await planVisitTomorrow(page, "Bij oma Riet");
  await tab(page, "Start");
  await expect(page.getByTestId("reminders")).toContainText("Bezoek:");
  const shown = async () =>
    page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => n.body);
    });
  await expect.poll(shown).toEqual([expect.stringContaining("Bezoek:")]);
  await page.reload();
  await expect(page.getByTestId("reminders")).toContainText("Bezoek:");
  await expect.poll(shown).toHaveLength(1);
});

test("the summary prints on A4 with the phase, goals, contact moments per month and evaluations", async ({ page }) => {
  await openAs(page, "Gezinsvoogd");
  await tab(page, "Meer");
  await page.getByTestId("summary-link").click();
  await expect(page.getByTestId("summary")).toContainText("Contactmomenten per maand");
  await expectAccessible(page);
  await page.emulateMedia({ media: "print" });
  const pdf = await page.pdf({ format: "A4" });
  const doc = await getDocumentProxy(new Uint8Array(pdf));
  const { totalPages, text: raw } = await extractText(doc, { mergePages: true });
  // A long title may wrap in its table cell.
  const text = raw.replace(/\s+/g, " ");
  expect(totalPages).toBeLessThanOrEqual(3);
  for (const expected of ["Plan van Noa", "Fase 2: Uitvoering", "Elke weekendochtend samen ontbijten", "Mirjam elke week een foto-update sturen", "Contactmomenten per maand", "Evaluaties", "Veiligheid"]) {
    expect(text).toContain(expected);
  }
  // Only the summary: no menus or buttons on paper.
  expect(text).not.toContain("Onderdelen van het plan");
  expect(text).not.toContain("Overzicht afdrukken");
  expect(text).not.toContain("Online");
});

test("the child reads the plan in words meant for them; the parent in their own", async ({ page }) => {
  await openAs(page, "Jongere");
  await expect(page.getByTestId("role-intro")).toContainText("Dit is jouw plan");
  await expect(page.getByTestId("current-phase")).toContainText("Aan het eind wordt besloten waar jij opgroeit");
  await tab(page, "Fasen");
  const phases = page.getByTestId("phases");
  await expect(phases.locator('[data-phase="0"]')).toContainText("De grote mensen om jou heen zeggen ja tegen het plan.");
  await expect(phases.locator('[data-phase="3"]')).toContainText("Je woont weer thuis.");
  await tab(page, "Evaluaties");
  await expect(page.getByTestId("evaluations-intro")).toContainText("hoe het met je gaat: ben je veilig");

  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await expect(page.getByTestId("current-phase")).toContainText("Aan het eind besluiten we of het kind naar huis gaat");
  await expect(page.getByTestId("current-phase")).not.toContainText("jij");
});
