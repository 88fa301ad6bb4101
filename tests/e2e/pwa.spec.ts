import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { test, expect, openAs, tab, waitForServiceWorker } from "./helpers";

const served = `${process.env.KOERS_E2E_ROOT}/dist`;

function pngSize(buffer: Buffer) {
  return [buffer.readUInt32BE(16), buffer.readUInt32BE(20)];
}

test("the app is installable: manifest fields and icons", async ({ page, request }) => {
  await page.goto("/");
  const href = await page.locator('link[rel="manifest"]').getAttribute("href");
  const response = await request.get(href!);
  expect(response.headers()["content-type"]).toContain("application/manifest+json");
  const manifest = await response.json();
  expect(manifest).toMatchObject({
    short_name: "Koers",
    start_url: "/",
    display: "standalone",
    lang: "nl",
    theme_color: expect.stringMatching(/^#[0-9a-f]{6}$/),
    background_color: expect.stringMatching(/^#[0-9a-f]{6}$/),
  });
  expect(manifest.name).toContain("Koers");
  for (const [size, purpose] of [["192x192", "any"], ["512x512", "any"], ["512x512", "maskable"]]) {
    const icon = manifest.icons.find((i: any) => i.sizes === size && i.purpose === purpose);
    expect(icon, `${size} ${purpose} icon`).toBeTruthy();
    const png = await request.get(icon.src);
    expect(png.ok()).toBe(true);
    expect(pngSize(await png.body()).join("x")).toBe(size);
  }
});

test("the service worker precaches every built file", async ({ page }) => {
  // From the requests, not the page's performance entries: the tests' clock replaces `performance`.
  const fetched: string[] = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await openAs(page, "Ouder");
  await waitForServiceWorker(page);
  const cached = await page.evaluate(async () => {
    const keys = (await caches.keys()).filter((k) => k.startsWith("koers-"));
    const cache = await caches.open(keys[0]);
    return { keys, urls: (await cache.keys()).map((r) => new URL(r.url).pathname) };
  });
  expect(cached.keys).toHaveLength(1);
  const wasm = fetched.find((p) => p.endsWith(".wasm"));
  for (const file of ["/index.html", "/manifest.webmanifest", "/icons/icon-192.png", wasm!]) {
    expect(cached.urls).toContain(file);
  }
  // The screens home did not need, and the sync code, are cached too, so they work offline later.
  for (const chunk of [/^\/split_koers_other_screens-[0-9a-f]{16}\.wasm$/, /^\/split_koers_sync-[0-9a-f]{16}\.wasm$/]) {
    expect(cached.urls.filter((url) => chunk.test(url))).toHaveLength(1);
  }
});

test.describe("without the service worker's copy", () => {
  test.use({ serviceWorkers: "block" });

  test("home opens without the other screens; one that cannot be fetched says so and opens on retry", async ({ page }) => {
    const chunk = /\/split_koers_other_screens-[0-9a-f]{16}\.wasm$/;
    const fetched: string[] = [];
    page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
    await openAs(page, "Ouder");
    await expect(page.getByTestId("my-goals").getByRole("checkbox").first()).toBeVisible();
    // Nor the sync code: the example plan is not shared, so it never syncs.
    await page.getByTestId("my-goals").getByRole("checkbox").first().check();
    await expect(page.getByTestId("my-goals").getByRole("checkbox").first()).toBeChecked();
    // The first module and the app (with the code it shares), fetched after home was drawn.
    const wasm = fetched.filter((p) => p.endsWith(".wasm"));
    expect(wasm[0]).toMatch(/^\/koers-app-[0-9a-f]{16}_bg\.wasm$/);
    expect(wasm.filter((p) => /^\/split_koers_app-[0-9a-f]{16}\.wasm$/.test(p))).toHaveLength(1);
    expect(wasm.filter((p) => /split_koers_(other_screens|sync)/.test(p))).toEqual([]);

    // As if the connection dropped before the app was fully on the phone.
    await page.route(chunk, (route) => route.abort("internetdisconnected"));
    await tab(page, "Doelen");
    const alert = page.getByTestId("chunk-unavailable");
    await expect(alert).toContainText("Dit scherm staat nog niet op deze telefoon");
    // The app still runs: home and its plan are there.
    await tab(page, "Start");
    await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
    await tab(page, "Doelen");
    await expect(alert).toBeVisible();

    await page.unroute(chunk);
    await alert.getByRole("button", { name: "Opnieuw proberen" }).click();
    await expect(page.getByRole("heading", { name: "Doelen", level: 1 })).toBeVisible();
    await expect(alert).toHaveCount(0);
  });
});

test("a new deploy is offered as a reload, and old caches are removed", async ({ page }) => {
  await openAs(page, "Ouder");
  await waitForServiceWorker(page);
  const oldCache = await page.evaluate(async () => (await caches.keys()).find((k) => k.startsWith("koers-")));

  // Deploy a "new version": a service worker with another build id.
  const sw = readFileSync(`${served}/sw.js`, "utf8");
  const next = sw.replace(/const BUILD = "([0-9a-f]+)"/, 'const BUILD = "$1next"');
  expect(next).not.toBe(sw);
  writeFileSync(`${served}/sw.js`, next);
  rmSync(`${served}/sw.js.br`, { force: true });
  rmSync(`${served}/sw.js.gz`, { force: true });
  try {
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    const banner = page.getByTestId("update-banner");
    await expect(banner).toBeVisible();
    // Until the user accepts, the old version keeps serving: nothing mixed.
    expect(await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith("koers-")).length)).toBe(2);
    await Promise.all([page.waitForEvent("load"), banner.getByRole("button", { name: "Nu vernieuwen" }).click()]);
    await expect(page.getByTestId("child-name")).toHaveText("Plan van Noa");
    await expect
      .poll(() => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith("koers-"))))
      .toEqual([`${oldCache}next`]);
    await expect(page.getByTestId("update-banner")).toHaveCount(0);
  } finally {
    // The deploy is undone, so the test can run again against the same server (--repeat-each).
    writeFileSync(`${served}/sw.js`, sw);
  }
});
