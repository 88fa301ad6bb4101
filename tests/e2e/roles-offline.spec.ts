import type { Page } from "@playwright/test";
import { test, expect, openAs, tab, waitForServiceWorker } from "./helpers";

/** Every screen opens offline: the bottom bar's, and those under *Meer*. */
async function visitEveryScreen(page: Page) {
  for (const [name, heading] of [["Doelen", "Doelen"], ["Contact", "Contactmomenten"], ["Fasen", "Fasen"], ["Evaluaties", "Evaluaties"], ["Netwerk", "Netwerk en hulp"], ["Meer", "Meer"], ["Start", "Plan van Noa"]]) {
    await tab(page, name);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
  }
}

// What each role typically does, done with no network, and still there after a reload.
const journeys: [string, (page: Page) => Promise<void>, (page: Page) => Promise<void>][] = [
  [
    "Ouder",
    async (page) => {
      await page.getByRole("checkbox", { name: /samen ontbijten/ }).check();
      // The example's parent had done one of four already.
      await expect(page.getByTestId("goal-progress")).toHaveText("2 van 4 gedaan");
    },
    async (page) => expect(page.getByRole("checkbox", { name: /samen ontbijten/ })).toBeChecked(),
  ],
  [
    "Pleegouder",
    async (page) => {
      await page.getByTestId("log-contact").click();
      await page.getByLabel("Notitie").fill("Offline bezoek van de pleegouder");
      await page.getByTestId("save-contact").click();
      await expect(page.getByText("Het contactmoment is bewaard.")).toBeVisible();
    },
    async (page) => expect(page.getByTestId("contact-list")).toContainText("Offline bezoek van de pleegouder"),
  ],
  [
    "Gezinsvoogd",
    async (page) => {
      await page.goto("/evaluaties");
      await page.getByText("Evaluatie vastleggen").click();
      for (const [label, score] of [["Veiligheid", "7"], ["Ontwikkeling", "6"], ["Welzijn", "8"]]) {
        await page.getByTestId("evaluation-form").getByLabel(label).fill(score);
      }
      await page.getByTestId("evaluation-form").getByLabel("Notitie").fill("Offline evaluatie");
      await page.getByTestId("evaluation-form").getByRole("button", { name: "Opslaan" }).click();
      await expect(page.getByText("De evaluatie is bewaard.")).toBeVisible();
    },
    async (page) => {
      await page.goto("/evaluaties");
      await expect(page.getByTestId("evaluation-list")).toContainText("Offline evaluatie");
    },
  ],
  [
    "Pleegzorgbegeleider",
    async (page) => {
      await page.goto("/doelen");
      await page.getByText("Nieuw doel").click();
      await page.getByTestId("new-goal").getByLabel("Doel", { exact: true }).fill("Offline toegevoegd doel");
      await page.getByTestId("new-goal").getByRole("button", { name: "Opslaan" }).click();
      await expect(page.getByText("Het doel is toegevoegd.")).toBeVisible();
    },
    async (page) => {
      await page.goto("/doelen");
      await expect(page.getByTestId("all-goals")).toContainText("Offline toegevoegd doel");
    },
  ],
  [
    "Jongere",
    async (page) => {
      await page.goto("/contact");
      const visit = page.getByTestId("months").locator("li.contact", { hasText: "Pannenkoeken" });
      await visit.getByText("Hoe vond jij het?").click();
      await visit.getByLabel("Wat het kind ervan vond").fill("Offline gezegd door Noa");
      await visit.getByRole("button", { name: "Opslaan" }).click();
      await expect(visit).toContainText("Offline gezegd door Noa");
    },
    async (page) => {
      await page.goto("/contact");
      await expect(page.getByTestId("months")).toContainText("Offline gezegd door Noa");
    },
  ],
];

for (const [role, act, check] of journeys) {
  test(`${role}: every screen works offline, and what they do offline is kept`, async ({ page, context }) => {
    await openAs(page, role);
    await visitEveryScreen(page);
    await waitForServiceWorker(page);
    await context.setOffline(true);
    await page.reload();
    await visitEveryScreen(page);
    await act(page);
    await page.reload();
    await check(page);
    await context.setOffline(false);
  });
}
