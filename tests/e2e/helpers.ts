import { expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

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

/** Opens one of the plan's main screens from the tab bar (Dutch labels). */
export async function tab(page: Page, name: string) {
  await page.getByRole("navigation", { name: "Onderdelen van het plan" }).getByRole("link", { name, exact: true }).click();
}

/** As the worker, starts a real (shared) plan for Daan with one parent, Mirjam. */
export async function startPlanForDaan(page: Page) {
  await openAs(page, "Pleegzorgbegeleider");
  await page.getByTestId("new-plan-link").click();
  await page.getByLabel("Voornaam van het kind").fill("Daan");
  await page.getByLabel("Je eigen naam").fill("Lotte de Vries");
  await page.getByLabel("Naam", { exact: true }).nth(0).fill("Mirjam");
  await page.getByTestId("create-plan").click();
  await expect(page.getByRole("heading", { name: "Deelnemers en telefoons" })).toBeVisible();
}
