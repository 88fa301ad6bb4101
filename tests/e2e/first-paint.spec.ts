import type { Page } from "@playwright/test";
import { test, expect, expectAccessible, tab } from "./helpers";

// Home is first drawn by the first module (src/glance.rs); the Leptos app, in a chunk fetched
// meanwhile, then takes over. Without the service worker's copy, so the chunk can be held back.
test.use({ serviceWorkers: "block" });
const appChunk = /\/split_koers_app-[0-9a-f]{16}\.wasm$/;

/** What the top of home says: the parts that both the first paint and the app draw. */
async function topOfHome(page: Page) {
  const texts = (testid: string) => page.getByTestId(testid).allInnerTexts();
  const card = (title: string) => page.locator(`section:has(> h2#${title})`).allInnerTexts();
  return {
    header: await page.locator("header.topbar").allInnerTexts(),
    sync: await texts("sync-status"),
    tabs: await page.getByRole("navigation", { name: /Onderdelen van het plan|Parts of the plan/ }).allInnerTexts(),
    badge: await texts("example-badge"),
    child: await texts("child-name"),
    reminders: await texts("reminders"),
    phase: await card("phase-title"),
    deadline: await texts("deadline"),
    next: await card("next-title"),
    intro: await texts("role-intro"),
    goals: await card("goals-title"),
    ticked: await page.getByTestId("my-goals").getByRole("checkbox").evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).checked)),
    logContact: await texts("log-contact"),
  };
}

test("home is drawn and ticked before the app has arrived; the app then takes over as it was", async ({ page }) => {
  await page.route(appChunk, (route) => route.abort("internetdisconnected"));
  await page.goto("/");
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
  // Only the first module runs: the rest of home is missing, and the page says so.
  await expect(page.getByTestId("chunk-unavailable")).toContainText("Je doelen afvinken kan wel");
  await expect(page.getByTestId("progress")).toHaveCount(0);
  await expectAccessible(page);

  await expect(page.getByTestId("goal-progress")).toHaveText("1 van 4 gedaan");
  const first = page.getByTestId("my-goals").getByRole("checkbox").first();
  await first.check();
  await expect(page.getByTestId("goal-progress")).toHaveText("2 van 4 gedaan");
  await expect(first).toBeFocused();
  const drawnFirst = await topOfHome(page);

  // A tab followed before the app is there changes the address; the app opens that screen.
  await tab(page, "Doelen");
  await expect(page).toHaveURL(/\/doelen$/);
  await page.unroute(appChunk);
  await page.getByRole("button", { name: "Opnieuw proberen" }).click();
  await expect(page.getByRole("heading", { name: "Doelen", level: 1 })).toBeVisible();
  await expect(page.getByTestId("chunk-unavailable")).toHaveCount(0);
  await tab(page, "Start");
  await expect(page.getByTestId("progress")).toBeVisible();
  expect(await topOfHome(page)).toEqual(drawnFirst);

  await page.reload();
  await expect(page.getByTestId("progress")).toBeVisible();
  await expect(page.getByTestId("goal-progress")).toHaveText("2 van 4 gedaan");
});

test("a language and role chosen before the app has arrived carry over, and both draw home alike", async ({ page }) => {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(appChunk, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/");
  await page.getByRole("button", { name: "English" }).click();
  await page.getByRole("button", { name: "Foster-care worker", exact: true }).click();
  await expect(page.getByTestId("child-name")).toHaveText("Noa's plan");
  await expect(page.getByTestId("progress")).toHaveCount(0);
  const drawnFirst = await topOfHome(page);
  expect(drawnFirst.logContact).toHaveLength(1);
  // A keyboard user on a goal keeps their place when the app draws the page anew.
  await page.getByTestId("my-goals").getByRole("checkbox").nth(1).focus();

  release();
  await expect(page.getByRole("heading", { name: "Progress per party" })).toBeVisible();
  expect(await topOfHome(page)).toEqual(drawnFirst);
  await expect(page.getByTestId("my-goals").getByRole("checkbox").nth(1)).toBeFocused();
});
