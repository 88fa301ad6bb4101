// End-to-end tests against the real server and the release build, in Debian's Chromium.
import { defineConfig } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const port = Number(process.env.KOERS_E2E_PORT ?? 8091);
// The served copy of dist/ and the database, one folder per port: runs on different ports (several
// people testing in one work tree) never wipe each other's. Specs read it from the environment.
process.env.KOERS_E2E_ROOT ??= `target/e2e/${port}`;

// No test may depend on the day it runs: tests/e2e/helpers.ts pins every browser's clock, but only
// for specs that take `test` and `expect` from there. One that takes them from Playwright itself is
// stopped here, before anything runs.
const specs = "tests/e2e";
for (const file of readdirSync(specs).filter((f) => f.endsWith(".spec.ts"))) {
  const names = [...readFileSync(join(specs, file), "utf8").matchAll(/import\s*\{([^}]*)\}\s*from\s*"@playwright\/test"/g)].map((m) => m[1]);
  if (names.some((n) => /\b(test|expect)\b/.test(n))) {
    throw new Error(`${specs}/${file}: import test and expect from "./helpers" (the tests' pinned clock), not from "@playwright/test".`);
  }
}

export default defineConfig({
  testDir: "tests/e2e",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    // localhost, not 127.0.0.1: passkeys need a domain name (the server's KOERS_PUBLIC_URL, set by serve.sh).
    baseURL: `http://localhost:${port}`,
    locale: "nl-NL",
    timezoneId: "Europe/Amsterdam",
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    serviceWorkers: "allow",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
      ],
    },
  },
  webServer: {
    command: `bash tests/e2e/serve.sh ${port} ${process.env.KOERS_E2E_ROOT}`,
    url: `http://localhost:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: "pipe",
  },
});
