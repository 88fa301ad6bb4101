// Phone-size screenshots of each screen for the README (docs/*.png).
//   node scripts/screenshots.mjs [base-url]   (a running server, e.g. scripts/run.sh)
import { chromium } from "@playwright/test";

const base = process.argv[2] ?? "http://127.0.0.1:8080";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, locale: "nl-NL" });
const page = await context.newPage();
await page.goto(base);
await page.getByRole("heading", { name: "Wie ben jij in dit plan?" }).waitFor();
await page.screenshot({ path: "docs/choose-role.png" });
await page.getByRole("button", { name: "Ouder", exact: true }).click();
await page.getByTestId("my-goals").waitFor();
await page.screenshot({ path: "docs/home-parent.png", fullPage: true });
await page.getByTestId("current-role").click();
await page.getByRole("button", { name: "Pleegouder", exact: true }).click();
await page.getByTestId("log-contact").click();
await page.getByTestId("contact-form").waitFor();
await page.screenshot({ path: "docs/log-contact.png", fullPage: true });
// The worker starts a shared plan and invites the parent.
await page.goto(`${base}/rol`);
await page.getByRole("button", { name: "Pleegzorgbegeleider", exact: true }).click();
await page.getByTestId("new-plan-link").click();
await page.getByLabel("Voornaam van het kind").fill("Daan");
await page.getByLabel("Je eigen naam").fill("Lotte de Vries");
await page.getByLabel("Naam", { exact: true }).nth(0).fill("Mirjam");
await page.getByLabel("Naam", { exact: true }).nth(1).fill("Anouk Bakker");
await page.screenshot({ path: "docs/new-plan.png", fullPage: true });
await page.getByTestId("create-plan").click();
const mirjam = page.getByTestId("members").locator("li.member", { hasText: "Mirjam" });
await mirjam.getByTestId("invite").click();
await mirjam.locator(".qr svg").waitFor();
await page.screenshot({ path: "docs/members.png", fullPage: true });
await browser.close();
