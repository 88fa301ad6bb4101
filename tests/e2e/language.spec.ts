import { test, expect, openAs, tab } from "./helpers";

// A language switch redraws the whole page; on no screen may it break the app (a trap in the
// wasm shows as a page error and leaves the app unusable).
test("switching the language on any screen redraws it in that language, and back", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await openAs(page, "Pleegzorgbegeleider");
  const screens: [string, string, string][] = [
    ["Start", "Plan van Noa", "Noa's plan"],
    ["Doelen", "Doelen", "Goals"],
    ["Contact", "Contactmomenten", "Contact moments"],
    ["Fasen", "Fasen", "Phases"],
    ["Evaluaties", "Evaluaties", "Evaluations"],
    ["Netwerk", "Netwerk en hulp", "Network and help"],
    ["Meer", "Meer", "More"],
  ];
  for (const [name, dutch, english] of screens) {
    await tab(page, name);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(dutch);
    await page.getByRole("button", { name: "English" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(english);
    await page.getByRole("button", { name: "Nederlands" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(dutch);
  }
  expect(errors).toEqual([]);
});
