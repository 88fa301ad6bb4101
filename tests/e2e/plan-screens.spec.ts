import { test, expect, openAs, waitForServiceWorker, expectAccessible, tab, tabBar, UNDER_MORE, startPlanForDaan } from "./helpers";

test("the worker adds a goal for the parents, puts it first and edits it; the parent works on it and everyone sees its history", async ({ page }) => {
  await openAs(page, "Pleegzorgbegeleider");
  await tab(page, "Doelen");
  await expect(page.getByRole("heading", { name: "Doelen", level: 1 })).toBeVisible();
  const list = page.getByTestId("all-goals").locator("li");
  const before = await list.count();

  await page.getByText("Nieuw doel").click();
  const form = page.getByTestId("new-goal");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(form.getByRole("alert")).toContainText("Geef het doel een titel");
  await form.getByLabel("Doel", { exact: true }).fill("Elke avond om acht uur naar bed");
  await form.getByLabel("Uitleg").fill("Een vast avondritueel als Noa thuis slaapt.");
  await form.getByLabel("Voor wie").selectOption({ label: "Ouder" });
  await form.getByLabel("Klaar op").fill("2027-02-01");
  await form.getByLabel("Hulp die erbij hoort").selectOption({ label: "Video-hometraining (VIB)" });
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(page.getByText("Het doel is toegevoegd.")).toBeVisible();
  await expect(list).toHaveCount(before + 1);
  // New goals come last; two taps put it first.
  await expect(list.last()).toContainText("Elke avond om acht uur naar bed");
  await expect(list.last()).toContainText("Ouder · Nog bezig");
  for (let i = before - 1; i >= 0; i--) {
    await page.getByRole("button", { name: "Elke avond om acht uur naar bed hoger zetten" }).click();
    await expect(list.nth(i)).toContainText("Elke avond om acht uur naar bed");
  }
  await expect(list.first()).toContainText("Elke avond om acht uur naar bed");
  await expect(page.getByRole("button", { name: "Elke avond om acht uur naar bed hoger zetten" })).toBeDisabled();
  await expectAccessible(page);

  await list.first().getByRole("link").click();
  await expect(page.getByTestId("goal-title")).toHaveText("Elke avond om acht uur naar bed");
  await expect(page.locator(".facts")).toContainText("1 feb 2027");
  await expect(page.locator(".facts")).toContainText("Video-hometraining (VIB)");
  await page.getByText("Doel aanpassen").click();
  await page.getByTestId("edit-goal").getByLabel("Doel", { exact: true }).fill("Elke avond om half negen naar bed");
  await page.getByTestId("edit-goal").getByRole("button", { name: "Opslaan" }).click();
  await expect(page.getByTestId("goal-title")).toHaveText("Elke avond om half negen naar bed");
  await page.getByTestId("comment-text").fill("Lukt dit ook in het weekend?");
  await page.getByRole("button", { name: "Reactie plaatsen" }).click();
  await expect(page.getByTestId("comments")).toContainText("Lotte de Vries: Lukt dit ook in het weekend?");
  // History: the old title stays visible, with who changed it.
  const history = page.getByTestId("history");
  await expect(history.locator("li").first()).toContainText("Doel: Elke avond om half negen naar bed");
  await expect(history.locator("li.overwritten")).toContainText(["Doel: Elke avond om acht uur naar bed"]);
  await expect(history).toContainText("Lotte de Vries (Pleegzorgbegeleider)");
  await expectAccessible(page);
  const address = page.url();

  // The parent: the goal is first in "Mijn doelen", and it can be ticked off from its page, offline.
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await expect(page.getByTestId("my-goals").locator("li").first()).toContainText("Elke avond om half negen naar bed");
  await waitForServiceWorker(page);
  await page.context().setOffline(true);
  await page.goto(address);
  await expect(page.getByTestId("goal-title")).toHaveText("Elke avond om half negen naar bed");
  await expect(page.getByTestId("edit-goal")).toHaveCount(0);
  await page.getByTestId("goal-toggle").click();
  await expect(page.getByTestId("goal-status")).toHaveText("Gedaan");
  await page.reload();
  await expect(page.getByTestId("goal-status")).toHaveText("Gedaan");
  await expect(page.getByTestId("history").locator("li").first()).toContainText("Status: Gedaan");
  await expect(page.getByTestId("history").locator("li").first()).toContainText("(Ouder)");
  await page.context().setOffline(false);
});

test("a parent cannot add goals, reorder them or tick off another party's goal", async ({ page }) => {
  await openAs(page, "Ouder");
  await tab(page, "Doelen");
  await expect(page.getByTestId("all-goals").locator("li").first()).toBeVisible();
  await expect(page.getByTestId("new-goal")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /hoger zetten/ })).toHaveCount(0);
  await page.getByTestId("all-goals").getByRole("link", { name: /foto-update/ }).click();
  await expect(page.getByTestId("goal-title")).toContainText("foto-update");
  await expect(page.getByTestId("goal-toggle")).toHaveCount(0);
});

test("phases: the decision is recorded before phase 3, and everyone sees it", async ({ page }) => {
  await openAs(page, "Gezinsvoogd");
  await tab(page, "Fasen");
  await expect(page.locator('[data-phase="2"]')).toHaveAttribute("aria-current", "step");
  await expect(page.getByTestId("consents").locator("li")).toHaveCount(5);
  await expect(page.getByTestId("consents")).not.toContainText("Nog geen toestemming");
  await expect(page.getByTestId("decision")).toHaveText("Het besluit is nog niet genomen.");
  await expectAccessible(page);

  // Phase 2 ends with the decision: not before.
  await page.getByTestId("next-phase").click();
  await expect(page.getByRole("alert")).toContainText("Leg dat eerst vast");
  await expect(page.locator('[data-phase="2"]')).toHaveAttribute("aria-current", "step");

  await page.getByText("Besluit vastleggen").click();
  const form = page.getByTestId("decision-form");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(form.getByRole("alert")).toContainText("Kies waar het kind opgroeit");
  await form.getByText("Het kind gaat naar huis").click();
  await form.getByLabel("Waarom (de redenen)").fill("Mirjam heeft de doelen gehaald; het netwerk helpt mee.");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(page.getByTestId("decision")).toContainText("Het kind gaat naar huis");
  await expect(page.getByTestId("decision")).toContainText("het netwerk helpt mee");

  // The guardian plans when phase 3 starts; the plan then moves on.
  const three = page.locator('[data-phase="3"]');
  await three.getByText("Planning aanpassen").click();
  await three.getByLabel("Geplande start van deze fase").fill("2027-01-15");
  await three.getByRole("button", { name: "Opslaan" }).click();
  await expect(three).toContainText("Gepland vanaf 15 jan 2027");
  await page.getByTestId("next-phase").click();
  await expect(page.locator('[data-phase="3"]')).toHaveAttribute("aria-current", "step");
  await expect(page.locator('[data-phase="3"]')).toContainText("Begonnen op");
  // The plan's own history shows the move, and who made it.
  await page.getByTestId("phases").locator("xpath=following-sibling::details").getByText("Geschiedenis").click();
  await expect(page.getByTestId("history").locator("li").first()).toContainText("Fase: 3 Thuis versterken");
  await expect(page.getByTestId("history").locator("li").first()).toContainText("(Gezinsvoogd)");
  await tab(page, "Start");
  await expect(page.getByTestId("current-phase")).toContainText("Fase 3: Thuis versterken");

  // The parent sees the decision, but cannot record one or move the plan.
  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Ouder", exact: true }).click();
  await tab(page, "Fasen");
  await expect(page.getByTestId("decision")).toContainText("Het kind gaat naar huis");
  await expect(page.getByTestId("decision-form")).toHaveCount(0);
  await expect(page.getByTestId("next-phase")).toHaveCount(0);
});

test("a new plan cannot leave phase 0 before every party has consented", async ({ page }) => {
  await startPlanForDaan(page);

  await tab(page, "Fasen");
  await expect(page.locator('[data-phase="0"]')).toHaveAttribute("aria-current", "step");
  await page.getByTestId("next-phase").click();
  await expect(page.getByRole("alert")).toContainText("Nog zonder toestemming: 2");
  const consents = page.getByTestId("consents");
  await consents.locator("li", { hasText: "Lotte de Vries" }).getByRole("button", { name: "Ik geef toestemming" }).click();
  await consents.locator("li", { hasText: "Mirjam" }).getByRole("button", { name: "Toestemming vastleggen" }).click();
  await expect(consents.locator("li", { hasText: "Mirjam" })).toContainText("Toestemming op");
  await expect(consents.locator("li", { hasText: "Mirjam" })).toContainText("vastgelegd door Lotte de Vries");
  await expect(consents.locator("li", { hasText: "Lotte de Vries (Pleegzorgbegeleider)" })).not.toContainText("vastgelegd door");
  await page.getByTestId("next-phase").click();
  await expect(page.locator('[data-phase="1"]')).toHaveAttribute("aria-current", "step");
  // The server checked every consent and the phase change with the same rules, and took them.
  await expect(page.getByTestId("sync-pending")).toHaveText("alles verstuurd");
  await expect(page.getByRole("alert")).toHaveCount(0);
});

test("evaluations: scores 0–10 with a trend line; a wrong score is refused and nothing is saved", async ({ page }) => {
  await openAs(page, "Pleegzorgbegeleider");
  await tab(page, "Evaluaties");
  await expect(page.getByTestId("evaluation-due")).toContainText("De volgende evaluatie is uiterlijk op");
  const cards = page.getByTestId("evaluation-list").locator("li");
  await expect(cards).toHaveCount(2);
  await expect(page.getByTestId("trend").locator("polyline.safety")).toHaveAttribute("points", /^\d+,\d+ \d+,\d+$/);

  await page.getByText("Evaluatie vastleggen").click();
  const form = page.getByTestId("evaluation-form");
  await form.getByLabel("Veiligheid").fill("11");
  await form.getByLabel("Ontwikkeling").fill("7");
  await form.getByLabel("Welzijn").fill("8");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(form.getByRole("alert")).toContainText("een cijfer van 0 tot 10");
  await expect(cards).toHaveCount(2);

  await form.getByLabel("Veiligheid").fill("8");
  await form.getByLabel("Grote verandering").fill("Noa slaapt nu elk weekend thuis");
  await form.getByLabel("Notitie").fill("Besproken met Mirjam en Noa.");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(page.getByText("De evaluatie is bewaard.")).toBeVisible();
  await expect(cards).toHaveCount(3);
  await expect(cards.first()).toContainText("Veiligheid8");
  await expect(cards.first()).toContainText("Noa slaapt nu elk weekend thuis");
  await expect(cards.first()).toContainText("Het kind deed mee.");
  await expect(page.getByTestId("trend").locator("polyline.safety")).toHaveAttribute("points", /^(\d+,\d+ ){2}\d+,\d+$/);
  // The next one is due three months after this one.
  await expect(page.getByTestId("evaluation-due")).not.toContainText("te laat");
  await expectAccessible(page);

  await page.reload();
  await expect(cards).toHaveCount(3);
});

for (const scheme of ["light", "dark"] as const) {
  for (const lang of ["nl", "en"] as const) {
    test(`every plan screen passes axe in ${lang === "nl" ? "Dutch" : "English"}, ${scheme}`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await openAs(page, "Pleegzorgbegeleider");
      if (lang === "en") {
        await page.getByRole("button", { name: "English" }).click();
        await expect(page.locator("html")).toHaveAttribute("lang", "en");
      }
      const names = lang === "nl" ? ["Start", "Doelen", "Contact", "Fasen", "Evaluaties", "Netwerk", "Meer"] : ["Home", "Goals", "Contact", "Phases", "Evaluations", "Network", "More"];
      for (const name of names) {
        await tab(page, name);
        await expect(tabBar(page).getByRole("link", { name: UNDER_MORE[name] ?? name, exact: true })).toHaveAttribute("aria-current", "page");
        await expectAccessible(page);
      }
      await tab(page, names[1]);
      await page.getByTestId("all-goals").getByRole("link").first().click();
      await expect(page.getByTestId("goal-title")).toBeVisible();
      await expectAccessible(page);
    });
  }
}

test("network and help: a parent adds someone who helps; the worker records an intervention and its hours", async ({ page }) => {
  await openAs(page, "Ouder");
  await tab(page, "Netwerk");
  const people = page.getByTestId("network");
  await expect(people).toContainText("Oma Riet");
  await expect(page.getByTestId("new-intervention")).toHaveCount(0);
  await page.getByText("Iemand toevoegen").click();
  const form = page.getByTestId("new-person");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(form.getByRole("alert")).toHaveText("Vul een naam in.");
  await form.getByLabel("Naam").fill("Tante Els");
  await form.getByLabel("Wie is het voor het gezin?").fill("zus van Mirjam");
  await form.getByLabel("Helpt met").fill("Haalt Noa op van school op vrijdag");
  await form.getByLabel("Telefoon").fill("06 98 76 54 32");
  await form.getByRole("button", { name: "Opslaan" }).click();
  const els = people.locator("li", { hasText: "Tante Els" });
  await expect(els).toContainText("zus van Mirjam · Haalt Noa op van school op vrijdag");
  await expect(els.getByRole("link", { name: "06 98 76 54 32" })).toHaveAttribute("href", "tel:0698765432");
  await expectAccessible(page);
  // The form stays open for the next person, who is added beside Tante Els, not over her.
  await form.getByLabel("Naam").fill("Buurvrouw Ans");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await expect(people).toContainText("Buurvrouw Ans");
  await expect(els).toContainText("zus van Mirjam");

  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Pleegouder", exact: true }).click();
  await tab(page, "Netwerk");
  await expect(people).toContainText("Tante Els");
  await expect(page.getByTestId("new-person")).toHaveCount(0);

  await page.getByTestId("current-role").click();
  await page.getByRole("button", { name: "Pleegzorgbegeleider", exact: true }).click();
  await tab(page, "Netwerk");
  await page.getByText("Hulp toevoegen").click();
  const help = page.getByTestId("new-intervention");
  await help.getByLabel("Soort").selectOption({ label: "PMTO" });
  await help.getByLabel("Status").selectOption({ label: "Loopt" });
  await help.getByLabel("Uren per week").fill("80");
  await help.getByRole("button", { name: "Opslaan" }).click();
  await expect(help.getByRole("alert")).toContainText("een getal van 0 tot 60");
  await help.getByLabel("Uren per week").fill("1,5");
  await help.getByRole("button", { name: "Opslaan" }).click();
  await expect(page.getByTestId("interventions").locator("li", { has: page.locator("strong", { hasText: "PMTO" }) })).toContainText("Loopt · 1,5 uur per week");
  // A second one from the open form is added beside PMTO (the example's "Video-hometraining (VIB)" stays too).
  await help.getByLabel("Soort").selectOption({ label: "VIB" });
  await help.getByRole("button", { name: "Opslaan" }).click();
  const interventions = page.getByTestId("interventions").locator(":scope > li");
  await expect(interventions.filter({ has: page.locator("strong", { hasText: /^VIB$/ }) })).toContainText("VIB · Loopt · 0 uur per week");
  await expect(interventions).toHaveCount(3);
  await page.reload();
  await expect(page.getByTestId("interventions").locator("li", { has: page.locator("strong", { hasText: "PMTO" }) })).toContainText("Loopt · 1,5 uur per week");
});
