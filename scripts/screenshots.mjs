// Phone-size screenshots of each screen for the README (docs/*.png), 390×844 at 1×.
//   node scripts/screenshots.mjs [base-url]   (a running server, e.g. scripts/run.sh)
// Each run starts with empty phones (new browser contexts), so the example plan is untouched; the
// sharing screens make a new plan on the server (best a fresh KOERS_DATA folder).
import { chromium } from "@playwright/test";

const base = (process.argv[2] ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  // Date and time fields follow the browser's own language: dd-mm-jjjj and 24 hours, as on a Dutch
  // phone (needs Debian's chromium-l10n; without it they show the US format).
  env: { ...process.env, LANG: "nl_NL.UTF-8", LANGUAGE: "nl" },
});
const phone = () =>
  browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale: "nl-NL",
    timezoneId: "Europe/Amsterdam",
    reducedMotion: "reduce",
  });

const written = [];
/** One screen into docs/<name>.png: from the top, or scrolled so `from` (its card) sits just below the top
 *  bar; `full` for screens longer than the phone (never wider than it, even where the page is). */
async function shot(page, name, full = false, from = null) {
  // The app, not the first paint that comes before it (src/glance.rs), which draws only the top of home.
  await page.waitForFunction(() => performance.getEntriesByName("koers:plan-shown").length);
  const element = from ? await from.elementHandle() : null;
  const height = await page.evaluate(async (element) => {
    await document.fonts.ready;
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    const bar = document.querySelector("header")?.getBoundingClientRect().height ?? 0;
    const target = element?.closest(".card") ?? element;
    window.scrollTo(0, target ? target.getBoundingClientRect().top + window.scrollY - bar - 16 : 0);
    return document.documentElement.scrollHeight;
  }, element);
  const path = `docs/${name}.png`;
  const clip = full ? { x: 0, y: 0, width: 390, height } : undefined;
  // A whole page is shot as on a phone as tall as the page: the bottom bar at its bottom, not
  // stitched in where the phone's screen ended.
  if (full) await page.setViewportSize({ width: 390, height });
  await page.screenshot({ path, fullPage: full, clip, animations: "disabled", caret: "hide" });
  if (full) await page.setViewportSize({ width: 390, height: 844 });
  written.push(path);
}
/** Closes the "saved" message, which stays until closed. */
async function dismiss(page) {
  const close = page.getByTestId("notice").getByRole("button");
  if (await close.count()) await close.first().click();
}
/** A screen from the bottom bar, or through *Meer* for those under it. */
async function tab(page, name) {
  const bar = page.getByRole("navigation", { name: "Onderdelen van het plan" });
  if (name === "Evaluaties" || name === "Netwerk") {
    await bar.getByRole("link", { name: "Meer", exact: true }).click();
    await page.getByTestId("more-screens").getByRole("link", { name, exact: true }).click();
  } else {
    await bar.getByRole("link", { name, exact: true }).click();
  }
}
async function becomes(page, role) {
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: role, exact: true }).click();
  await page.getByTestId("child-name").waitFor();
}

// The example plan (Noa), seen by each party.
{
  const context = await phone();
  const page = await context.newPage();
  await page.goto(base);
  await page.getByRole("heading", { name: "Wie ben jij in dit plan?" }).waitFor();
  await shot(page, "choose-role");

  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await page.getByTestId("my-goals").waitFor();
  await shot(page, "home-parent", true);
  // The parent says how her goal went, so the goal's page has a conversation.
  await tab(page, "Doelen");
  const firstGoal = page.getByTestId("all-goals").getByRole("link").first();
  const goalAddress = await firstGoal.getAttribute("href");
  await firstGoal.click();
  await page.getByTestId("comment-text").fill("Zaterdag is het gelukt, zondag sliep Noa uit.");
  await page.getByRole("button", { name: "Reactie plaatsen" }).click();
  await page.getByTestId("comments").getByText("zondag sliep Noa uit").waitFor();
  await dismiss(page);

  await becomes(page, "Pleegzorgbegeleider");
  await shot(page, "home-worker", false, page.getByTestId("my-goals"));
  await tab(page, "Doelen");
  await page.getByRole("heading", { name: "Doelen", level: 1 }).waitFor();
  await page.getByText("Nieuw doel").click();
  await page.getByTestId("new-goal").getByLabel("Doel", { exact: true }).waitFor();
  await shot(page, "goals", true);
  await page.goto(`${base}${goalAddress}`);
  await page.getByTestId("comment-text").fill("Mooi! Zullen we de zondag bespreken bij de video-hometraining?");
  await page.getByRole("button", { name: "Reactie plaatsen" }).click();
  await page.getByTestId("comments").getByText("video-hometraining?").waitFor();
  await dismiss(page);
  await page.getByTestId("history").locator("li").first().waitFor();
  await shot(page, "goal", true);

  await becomes(page, "Pleegouder");
  await tab(page, "Contact");
  await page.getByTestId("months").waitFor();
  await shot(page, "contacts");
  await page.getByTestId("log-contact").click();
  await page.getByTestId("contact-form").waitFor();
  await shot(page, "log-contact", true);
  await tab(page, "Contact");
  await page.getByTestId("plan-contact").click();
  await page.getByRole("heading", { name: "Contact plannen" }).waitFor();
  await shot(page, "plan-contact", true);

  await becomes(page, "Gezinsvoogd");
  await tab(page, "Fasen");
  await page.getByTestId("phases").waitFor();
  await shot(page, "phases", true);
  await tab(page, "Evaluaties");
  await page.getByTestId("trend").waitFor();
  await shot(page, "evaluations", true);
  await tab(page, "Netwerk");
  await page.getByTestId("network").waitFor();
  await shot(page, "network", true);
  await tab(page, "Meer");
  await page.getByTestId("summary-link").waitFor();
  await shot(page, "more", true);
  await page.getByTestId("summary-link").click();
  await page.getByTestId("summary").waitFor();
  await shot(page, "summary", true);

  await becomes(page, "Jongere");
  await page.getByTestId("role-intro").waitFor();
  await shot(page, "home-youth", false, page.getByTestId("role-intro"));

  await becomes(page, "Ouder");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, "home-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await page.getByRole("button", { name: "English" }).click();
  await page.locator("html[lang=en]").waitFor({ state: "attached" });
  await shot(page, "home-en");
  await context.close();
}

// Sharing: the worker starts a plan of her own and invites the parent, whose phone joins.
{
  const context = await phone();
  const page = await context.newPage();
  await page.goto(base);
  await page.getByRole("button", { name: "Pleegzorgbegeleider", exact: true }).click();
  await page.getByTestId("new-plan-link").click();
  await page.getByLabel("Voornaam van het kind").fill("Daan");
  await page.getByLabel("Je eigen naam").fill("Lotte de Vries");
  await page.getByLabel("Naam", { exact: true }).nth(0).fill("Mirjam");
  await page.getByLabel("Naam", { exact: true }).nth(1).fill("Anouk Bakker");
  await shot(page, "new-plan", true);
  await page.getByTestId("create-plan").click();
  await page.getByRole("heading", { name: "Deelnemers en telefoons" }).waitFor();
  await page.getByTestId("sync-status").getByText("Online").waitFor();
  const mirjam = page.getByTestId("members").locator("li.member", { hasText: "Mirjam" });
  await mirjam.getByTestId("invite").click();
  await mirjam.locator(".qr svg").waitFor();
  const link = await mirjam.getByTestId("invite-link").textContent();
  await shot(page, "members", true);

  const parent = await (await phone()).newPage();
  await parent.goto(link.trim());
  await parent.getByTestId("child-name").getByText("Plan van Daan").waitFor();
  await shot(parent, "join", true);
  await parent.context().close();

  // A second family on the worker's phone: Mijn gezinnen becomes her start screen.
  await page.goto(`${base}/gezinnen`);
  await page.getByTestId("new-plan-link").click();
  await page.getByLabel("Voornaam van het kind").fill("Sara");
  await page.getByLabel("Je eigen naam").fill("Lotte de Vries");
  await page.getByLabel("Naam", { exact: true }).nth(0).fill("Fatima");
  await page.getByTestId("create-plan").click();
  await page.getByRole("heading", { name: "Deelnemers en telefoons" }).waitFor();
  await page.goto(base);
  await page.getByRole("heading", { name: "Mijn gezinnen" }).waitFor();
  await page.getByTestId("plan-row").nth(2).waitFor();
  await shot(page, "caseload", true);
  await context.close();
}

await browser.close();
console.log(written.join("\n"));
