import { test, expect, openAs, expectAccessible, startPlanForDaan, newPage, signInAsProfessional } from "./helpers";

test("the worker starts a plan and invites a parent by link and QR code; the parent's phone joins and can be removed", async ({ page, browser }) => {
  // Without signing in, the new-plan screen asks for it.
  await openAs(page, "Pleegzorgbegeleider");
  await page.getByTestId("new-plan-link").click();
  await expect(page.getByTestId("sign-in-first")).toBeVisible();
  await signInAsProfessional(page);
  await page.getByTestId("new-plan-link").click();
  await expectAccessible(page);
  await page.getByTestId("create-plan").click();
  await expect(page.getByRole("alert")).toContainText("Vul de voornaam van het kind");
  await page.getByLabel("Voornaam van het kind").fill("Daan");
  await page.getByLabel("Je eigen naam").fill("Lotte de Vries");
  const names = page.getByLabel("Naam", { exact: true });
  await names.nth(0).fill("Mirjam");
  await names.nth(1).fill("Fam. Bakker");
  await page.getByTestId("create-plan").click();

  await expect(page.getByRole("heading", { name: "Deelnemers en telefoons" })).toBeVisible();
  await expect(page.getByTestId("sync-status")).toContainText("Online");
  const member = (name: string) => page.getByTestId("members").locator("li.member", { hasText: name });
  await expect(member("Lotte de Vries")).not.toContainText("Nog geen telefoon");
  await expect(member("Mirjam")).toContainText("Nog geen telefoon");
  // Only named people take part: the empty guardian row was skipped.
  await expect(page.getByTestId("members").locator("li.member")).toHaveCount(3);

  await member("Mirjam").getByTestId("invite").click();
  const link = (await member("Mirjam").getByTestId("invite-link").textContent())!;
  expect(link).toMatch(/^http:\/\/localhost:\d+\/uitnodiging#[A-Za-z0-9_-]{20,}$/);
  await expect(member("Mirjam").locator(".qr svg")).toBeVisible();
  await expectAccessible(page);

  await expect(member("Mirjam").getByTestId("open-invite")).toHaveCount(1);

  // An invite can be withdrawn: its link then no longer works.
  await member("Fam. Bakker").getByTestId("invite").click();
  const withdrawn = (await member("Fam. Bakker").getByTestId("invite-link").textContent())!;
  await member("Fam. Bakker").getByTestId("withdraw-invite").click();
  await expect(member("Fam. Bakker").getByTestId("open-invite")).toHaveCount(0);
  const stranger = await newPage(browser);
  await stranger.goto(withdrawn);
  await expect(stranger.getByTestId("join-problem")).toContainText("ingetrokken");

  const phone = await newPage(browser);
  await phone.goto(link);
  await expect(phone.getByTestId("child-name")).toHaveText("Plan van Daan");
  await expect(phone.getByTestId("current-role")).toHaveText("Ouder");
  await expect(phone.getByTestId("current-phase")).toContainText("Fase 0: Mandaat");

  await page.reload();
  await expect(member("Mirjam").getByTestId("revoke-device")).toBeVisible();
  await expect(member("Mirjam").getByTestId("open-invite")).toHaveCount(0);
  await member("Mirjam").getByTestId("revoke-device").click();
  await expect(member("Mirjam")).toContainText("Nog geen telefoon");
});

test("a new foster family joins later; a parent taken out of the plan loses it on her phone", async ({ page, browser }) => {
  await startPlanForDaan(page);
  const member = (name: string) => page.getByTestId("members").locator("li.member", { hasText: name });
  await member("Mirjam").getByTestId("invite").click();
  const link = (await member("Mirjam").getByTestId("invite-link").textContent())!;
  const mirjam = await newPage(browser);
  await mirjam.goto(link);
  await expect(mirjam.getByTestId("child-name")).toHaveText("Plan van Daan");
  await mirjam.goto("/fasen");
  await mirjam.getByRole("button", { name: "Ik geef toestemming" }).click();
  await expect(mirjam.getByTestId("sync-pending")).toHaveText("alles verstuurd");

  // The worker adds the new foster family: they can be invited like anyone else.
  await page.reload();
  await page.getByTestId("add-member").locator("summary").click();
  await page.getByTestId("add-member").getByLabel("Naam", { exact: true }).fill("Fam. Yilmaz");
  await page.getByTestId("add-member").getByLabel("Rol").selectOption({ label: "Pleegouder" });
  await page.getByTestId("add-member").getByRole("button", { name: "Iemand toevoegen" }).click();
  await expect(page.getByText("Toegevoegd.")).toBeVisible();
  await expect(member("Fam. Yilmaz")).toContainText("Pleegouder");
  await expect(member("Fam. Yilmaz").getByTestId("invite")).toBeVisible();
  // The worker cannot take herself out.
  await expect(member("Lotte de Vries").getByTestId("take-out")).toHaveCount(0);

  await member("Mirjam").getByTestId("take-out").click();
  await expect(member("Mirjam").getByTestId("take-out-confirm")).toContainText("Mirjam doet dan niet meer mee");
  await expectAccessible(page);
  await member("Mirjam").getByRole("button", { name: "Ja, uit het plan halen" }).click();
  await expect(page.getByText("Deze persoon doet niet meer mee aan het plan.")).toBeVisible();
  await expect(member("Mirjam")).toHaveCount(0);
  await expect(page.getByTestId("former-members")).toContainText("Mirjam · Ouder");
  // Everyone can see who took her out, and when.
  await page.getByTestId("former-members").getByText("Geschiedenis").click();
  await expect(page.getByTestId("former-members")).toContainText("Uit het plan gehaald");
  await expect(page.getByTestId("former-members")).toContainText("Lotte de Vries (Pleegzorgbegeleider)");
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd");

  // Her phone is told, and the plan leaves it.
  await expect(mirjam.getByRole("alert")).toContainText("geen toegang meer", { timeout: 10_000 });
  await mirjam.reload();
  await expect(mirjam.getByText("Plan van Daan")).toHaveCount(0);
  // Phase 0 no longer waits for her consent.
  await page.goto("/fasen");
  await expect(page.getByTestId("phases").locator('[data-phase="0"]')).toContainText("Lotte de Vries");
  await expect(page.getByTestId("phases").locator('[data-phase="0"]')).not.toContainText("Mirjam");
});

test("the worker keeps names, phone numbers and the fixed contact person up to date; home shows who to call", async ({ page }) => {
  await startPlanForDaan(page);
  const member = (name: string) => page.getByTestId("members").locator("li.member", { hasText: name });
  // A new guardian joins, with her number.
  await page.getByTestId("add-member").locator("summary").click();
  await page.getByTestId("add-member").getByLabel("Naam", { exact: true }).fill("Sanne Jansen");
  await page.getByTestId("add-member").getByLabel("Rol").selectOption({ label: "Gezinsvoogd" });
  await page.getByTestId("add-member").getByLabel("Telefoon").fill("06 1234 5678");
  await page.getByTestId("add-member").getByRole("button", { name: "Iemand toevoegen" }).click();
  await expect(member("Sanne Jansen")).toContainText("Gezinsvoogd");

  // Mirjam's name was misspelt.
  await member("Mirjam").getByTestId("edit-member").locator("summary").click();
  await member("Mirjam").getByTestId("edit-member").getByLabel("Naam", { exact: true }).fill("Miriam");
  await member("Mirjam").getByTestId("edit-member").getByRole("button", { name: "Opslaan" }).click();
  await expect(page.getByText("De gegevens zijn bewaard.")).toBeVisible();
  await expect(member("Miriam")).toHaveCount(1);

  const choice = page.getByRole("group", { name: "Vaste contactpersoon" });
  await expect(choice.getByRole("radio", { name: "Lotte de Vries · Pleegzorgbegeleider" })).toBeChecked();
  await choice.getByRole("radio", { name: "Sanne Jansen · Gezinsvoogd" }).check();
  await expect(page.getByText("De vaste contactpersoon is bewaard.")).toBeVisible();
  await expect(choice.getByRole("radio", { name: "Sanne Jansen · Gezinsvoogd" })).toBeChecked();
  await expect(choice.getByRole("radio", { checked: true })).toHaveCount(1);
  await expectAccessible(page);

  await page.goto("/");
  const card = page.getByRole("region", { name: "Vaste contactpersoon" });
  await expect(card).toContainText("Sanne Jansen (Gezinsvoogd)");
  await expect(card.getByRole("link", { name: "Bel 06 1234 5678" })).toHaveAttribute("href", "tel:0612345678");
});
