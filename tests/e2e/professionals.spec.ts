// Organisations and professionals (issue 13), in the browser with Chromium's virtual passkey
// device (DevTools protocol `WebAuthn.addVirtualAuthenticator`): the first administrator sets up
// from the link the server printed on its first start; a worker is invited, enrols, founds a plan
// and invites a parent; she signs in on a second phone and finds the plan there; the plan is
// handed over to a second worker, which the parent's phone shows; deactivating the first worker
// ends her phones within seconds.
//
// The journey needs a server on its first start (its one-time link unused), so it starts one of
// its own on another port, with its own database, serving the run's build.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, CDPSession, Page } from "@playwright/test";
import { test, expect, newContext, expectAccessible } from "./helpers";

const port = Number(process.env.KOERS_E2E_PORT ?? 8091) + 20;
const base = `http://localhost:${port}`;
let server: ChildProcess | undefined;
let firstLink = "";

test.beforeAll(async () => {
  const root = process.env.KOERS_E2E_ROOT!;
  server = spawn(process.env.KOERS_SERVER_BIN ?? "target/debug/koers-server", [], {
    env: {
      ...process.env,
      KOERS_ADDR: `127.0.0.1:${port}`,
      KOERS_PUBLIC_URL: base,
      KOERS_DATA: mkdtempSync(join(tmpdir(), "koers-professionals-")),
      KOERS_DIST: join(root, "dist"),
      KOERS_ORGANISATION: "Pleegzorg Oost",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // The link comes on stdout before "Koers is running".
  firstLink = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no first-account link within 20 s: ${out}`)), 20_000);
    server!.stdout!.on("data", (chunk) => {
      out += chunk;
      const link = out.match(/Open (\S+\/inschrijven#\S+) to set up the first account/);
      if (link && out.includes("Koers is running")) {
        clearTimeout(timer);
        resolve(link[1]);
      }
    });
    server!.on("exit", (code) => reject(new Error(`the server stopped (${code}): ${out}`)));
  });
});

test.afterAll(async () => {
  server?.kill();
});

/** A phone with a platform passkey device that says yes to every prompt, on the journey's server. */
async function phone(browser: import("@playwright/test").Browser): Promise<{ context: BrowserContext; page: Page; cdp: CDPSession; authenticator: string }> {
  const context = await newContext(browser, { baseURL: base });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page, cdp, authenticator: authenticatorId };
}

/**
 * Enrols from an enrolment link on `page` (a passkey made on its device): an administrator is
 * offered the admin screen, a worker lands on "Mijn gezinnen".
 */
async function enrol(page: Page, link: string, { admin = false } = {}) {
  await page.goto(link);
  // Every link of this journey is of the one organisation the first start made.
  await expect(page.getByTestId("enrol-for")).toContainText("Pleegzorg Oost");
  await page.getByTestId("enrol-passkey").click();
  if (admin) await expect(page.getByTestId("enrol-done")).toBeVisible();
  else await expect(page.getByRole("heading", { name: "Mijn gezinnen" })).toBeVisible();
}

test("an organisation: administrator, a worker on two phones, a hand-over and a deactivation", async ({ browser }) => {
  test.setTimeout(180_000);
  expect(firstLink.startsWith(`${base}/inschrijven#`), firstLink).toBe(true);

  // The administrator sets up from the printed link and invites the foster-care worker.
  const admin = await phone(browser);
  await enrol(admin.page, firstLink, { admin: true });
  await admin.page.getByTestId("admin-link").click();
  await expect(admin.page.getByTestId("admin-professionals")).toBeVisible();
  await expectAccessible(admin.page);
  const shown = admin.page.getByTestId("admin-invite-link");
  const invite = async (name: string) => {
    // The link of the previous invitation stays on screen until the new one replaces it.
    const before = (await shown.count()) ? await shown.textContent() : null;
    await admin.page.getByTestId("admin-invite-name").fill(name);
    await admin.page.getByTestId("admin-invite-submit").click();
    if (before) await expect(shown).not.toHaveText(before);
    const link = (await shown.textContent())!;
    expect(link).toMatch(new RegExp(`^${base}/inschrijven#[A-Za-z0-9_-]{20,}$`));
    return link;
  };
  const lotteLink = await invite("Lotte de Vries");
  // The printed link worked once.
  const stranger = await phone(browser);
  await stranger.page.goto(firstLink);
  await expect(stranger.page.getByTestId("enrol-problem")).toBeVisible();

  // Lotte enrols on her phone, founds a plan and invites the parent.
  const lotte = await phone(browser);
  await enrol(lotte.page, lotteLink);
  await lotte.page.goto("/plan/nieuw");
  await lotte.page.getByLabel("Voornaam van het kind").fill("Daan");
  await lotte.page.getByLabel("Je eigen naam").fill("Lotte de Vries");
  await lotte.page.getByLabel("Naam", { exact: true }).nth(0).fill("Mirjam");
  await lotte.page.getByTestId("create-plan").click();
  await expect(lotte.page.getByRole("heading", { name: "Deelnemers en telefoons" })).toBeVisible();
  const member = (page: Page, name: string) => page.getByTestId("members").locator("li.member", { hasText: name });
  await member(lotte.page, "Mirjam").getByTestId("invite").click();
  const parentLink = (await member(lotte.page, "Mirjam").getByTestId("invite-link").textContent())!;
  const mirjam = await newContext(browser, { baseURL: base }).then((c) => c.newPage());
  await mirjam.goto(parentLink);
  await expect(mirjam.getByTestId("child-name")).toHaveText("Plan van Daan");
  const contact = mirjam.getByRole("region", { name: "Vaste contactpersoon" });
  await expect(contact).toContainText("Lotte de Vries");

  // A second phone of Lotte's: the passkey is there (her phone's platform syncs it), the plan
  // not yet. Signing in brings it.
  const second = await phone(browser);
  const { credentials } = await lotte.cdp.send("WebAuthn.getCredentials", { authenticatorId: lotte.authenticator });
  expect(credentials).toHaveLength(1);
  await second.cdp.send("WebAuthn.addCredential", { authenticatorId: second.authenticator, credential: credentials[0] });
  await second.page.goto("/aanmelden");
  await second.page.getByTestId("sign-in-passkey").click();
  const daan = second.page.getByTestId("plan-row").filter({ hasText: "Daan" });
  await expect(daan).toHaveCount(1);
  await daan.getByTestId("plan-row-child").click();
  await expect(second.page.getByTestId("child-name")).toHaveText("Plan van Daan");

  // The administrator hands the plan over to Sanne, who enrolled meanwhile.
  const sanne = await phone(browser);
  await enrol(sanne.page, await invite("Sanne Jansen"));
  await admin.page.reload();
  const plan = admin.page.getByTestId("admin-plan").filter({ hasText: "Daan" });
  await expect(plan.getByTestId("admin-plan-worker")).toContainText("Lotte de Vries");
  await plan.getByTestId("admin-hand-over").click();
  await plan.getByTestId("admin-hand-over-to").selectOption({ label: "Sanne Jansen" });
  await plan.getByTestId("admin-hand-over-yes").click();
  await expect(plan.getByTestId("admin-plan-worker")).toContainText("Sanne Jansen");
  // The parent's phone shows the new contact person (its next round, or the event stream).
  await expect(contact).toContainText("Sanne Jansen", { timeout: 20_000 });
  // Lotte's phones are out of the plan.
  await expect(second.page.getByText("Deze telefoon heeft geen toegang meer tot het plan").first()).toBeVisible({ timeout: 20_000 });

  // Sanne's caseload has it: her signed-in phone brings what it lacks.
  await sanne.page.goto("/aanmelden");
  await sanne.page.getByTestId("sign-in-bring").click();
  await expect(sanne.page.getByTestId("plan-row").filter({ hasText: "Daan" })).toHaveCount(1);

  // Lotte founds another plan; then she is deactivated: her phones stop within seconds.
  await lotte.page.goto("/plan/nieuw");
  await lotte.page.getByLabel("Voornaam van het kind").fill("Fenna");
  await lotte.page.getByLabel("Je eigen naam").fill("Lotte de Vries");
  await lotte.page.getByLabel("Naam", { exact: true }).nth(0).fill("Bas");
  await lotte.page.getByTestId("create-plan").click();
  await expect(lotte.page.getByRole("heading", { name: "Deelnemers en telefoons" })).toBeVisible();
  await lotte.page.goto("/");
  await admin.page.reload();
  const row = admin.page.getByTestId("admin-professional").filter({ hasText: "Lotte de Vries" });
  await row.getByTestId("admin-deactivate").click();
  await row.getByTestId("admin-deactivate-yes").click();
  const started = Date.now();
  await expect(lotte.page.getByText("Deze telefoon heeft geen toegang meer tot het plan").first()).toBeVisible({ timeout: 10_000 });
  expect(Date.now() - started).toBeLessThan(10_000);
  // And she cannot sign in again, on any phone.
  // (Her passkey as the last phone left it: a virtual passkey counts its uses, and an older count
  // would be refused as a cloned passkey.)
  const latest = await second.cdp.send("WebAuthn.getCredentials", { authenticatorId: second.authenticator });
  const third = await phone(browser);
  await third.cdp.send("WebAuthn.addCredential", { authenticatorId: third.authenticator, credential: latest.credentials[0] });
  await third.page.goto("/aanmelden");
  await third.page.getByTestId("sign-in-passkey").click();
  await expect(third.page.getByTestId("sign-in-problem")).toContainText("gedeactiveerd");

  // The access log names who did what.
  await admin.page.reload();
  const log = admin.page.getByTestId("admin-access-log");
  await expect(log.getByTestId("admin-log-entry").filter({ hasText: "Lotte de Vries" }).first()).toBeVisible();
  await expectAccessible(admin.page);
});
