import type { Page, Route } from "@playwright/test";
import { test, expect, expectAccessible, tab, workerPlan } from "./helpers";

// Home is first drawn by the first module (src/glance.rs); the Leptos app, in a chunk fetched
// meanwhile, then takes over. Without the service worker's copy, so the chunk can be held back.
test.use({ serviceWorkers: "block" });
const appChunk = /\/split_koers_app-[0-9a-f]{16}\.wasm$/;

/**
 * The top of home as markup, the parts both the first paint and the app draw: each element with
 * its tag, attributes (sorted) and text, comments and blank text left out, a checkbox with its
 * state. Normalised so that two renderers of the same markup compare equal, and nothing else does.
 */
async function topOfHome(page: Page) {
  return page.evaluate(() => {
    const markup = (node: Node): string => {
      if (node.nodeType === Node.TEXT_NODE) return (node.textContent ?? "").replace(/\s+/g, " ");
      if (node.nodeType !== Node.ELEMENT_NODE) return "";
      const el = node as HTMLElement;
      // `data-glance` marks the first paint's own event hooks: the app listens on the element itself.
      const attrs = [...el.attributes].filter((a) => a.name !== "data-glance").map((a) => `${a.name}="${a.value}"`);
      if (el instanceof HTMLInputElement && el.type === "checkbox") {
        attrs.splice(0, attrs.length, ...attrs.filter((a) => !a.startsWith("checked=")), `checked="${el.checked}"`);
      }
      const inner = [...el.childNodes].map(markup).join("").replace(/\s+/g, " ");
      return `<${el.localName}${attrs.sort().map((a) => " " + a).join("")}>${inner}</${el.localName}>`;
    };
    const parts = [
      "header.topbar", '[data-testid="sync-status"]', "nav.tabs", '[data-testid="example-badge"]', '[data-testid="child-name"]',
      '[data-testid="own-actions"]', "section.reminders", "section:has(> h2#phase-title)", '[data-testid="deadline"]',
      "section:has(> h2#next-title)", '[data-testid="role-intro"]', "section:has(> h2#goals-title)", '[data-testid="log-contact"]',
    ];
    return Object.fromEntries(parts.map((css) => [css, [...document.querySelectorAll(css)].map(markup)]));
  });
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

test("a connection that drops while the app is fetched and is back before the fetch has failed: the app still arrives by itself", async ({ page, context }) => {
  // The page's `online` events, counted from before any of the app's code runs.
  await page.addInitScript(() => addEventListener("online", () => ((window as any).onlines = ((window as any).onlines ?? 0) + 1)));
  let held: Route | undefined;
  await page.route(appChunk, (route) => (held ? route.continue() : void (held = route)));
  await page.goto("/");
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
  await expect.poll(() => held).toBeDefined();
  await context.setOffline(true);
  await context.setOffline(false);
  await page.waitForFunction(() => (window as any).onlines >= 1);
  // Its failure arrives only after the `online` event (as it can on a busy phone): no later
  // event or tap is needed to fetch it again.
  await held!.abort("internetdisconnected");
  await expect(page.getByTestId("progress")).toBeVisible();
  await expect(page.getByTestId("chunk-unavailable")).toHaveCount(0);
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
  expect(drawnFirst['[data-testid="log-contact"]']).toHaveLength(1);
  // A keyboard user on a goal keeps their place when the app draws the page anew.
  await page.getByTestId("my-goals").getByRole("checkbox").nth(1).focus();

  release();
  await expect(page.getByRole("heading", { name: "Progress per party" })).toBeVisible();
  expect(await topOfHome(page)).toEqual(drawnFirst);
  await expect(page.getByTestId("my-goals").getByRole("checkbox").nth(1)).toBeFocused();
});

test("a shared plan's home, with the parent's own open action and the plan switcher, is drawn alike by both", async ({ page, request }) => {
  const w = await workerPlan(request);
  await page.goto(`/uitnodiging#${w.parentCode}`);
  await expect(page.getByTestId("child-name")).toHaveText("Plan van Sam");
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(appChunk, async (route) => {
    await held;
    await route.continue();
  });
  await page.reload();
  await expect(page.getByTestId("own-actions")).toContainText("Geef je toestemming om samen te beginnen");
  await expect(page.getByTestId("plan-switch")).toHaveText(/Sam$/);
  await expect(page.getByTestId("progress")).toHaveCount(0);
  const drawnFirst = await topOfHome(page);
  expect(drawnFirst['[data-testid="own-actions"]']).toHaveLength(1);
  release();
  await expect(page.getByTestId("progress")).toBeVisible();
  expect(await topOfHome(page)).toEqual(drawnFirst);
  // The consent given on home reaches the server.
  await page.getByTestId("give-consent").click();
  await expect(page.getByTestId("own-actions")).toHaveCount(0);
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd");
  await expect.poll(async () => (await w.serverOps()).filter((o) => o.entity === `consent:${w.parent}`).length).toBe(1);
});
