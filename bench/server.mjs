// The Koers server as the benchmarks run it: the release build (`cargo build --profile server -p
// koers-server`) serving a copy of dist/ with an empty data folder, on a free port.
import { spawn } from "node:child_process";
import { cpSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** The server binary to run, once dist/ and it are known to be there; else `fail` says what to build. */
export function findServer(fail) {
  if (!existsSync("dist/index.html")) fail("dist/ is missing: build the app first with scripts/build.sh");
  const candidates = process.env.KOERS_SERVER_BIN
    ? [process.env.KOERS_SERVER_BIN]
    : ["target/server/koers-server", ...(process.env.CARGO_TARGET_DIR ? [join(process.env.CARGO_TARGET_DIR, "server/koers-server")] : [])];
  const server = candidates.find((p) => existsSync(p));
  if (!server)
    fail(`the server binary is missing (looked for ${candidates.join(", ")}): build it with cargo build --profile server -p koers-server`);
  return server;
}

/**
 * Starts `server` on BENCH_PORT or a free port, serving a copy of dist/ in `work` (so that a rebuild
 * during the run does not change what is measured) and keeping its data there; stopped when the
 * process exits. Resolves once `/healthz` answers, to its base address and a function that stops it.
 */
export async function startServer(server, work, fail) {
  cpSync("dist", join(work, "dist"), { recursive: true });
  const port = Number(process.env.BENCH_PORT) || await new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(server, [], {
    env: { ...process.env, KOERS_ADDR: `127.0.0.1:${port}`, KOERS_DATA: join(work, "data"), KOERS_DIST: join(work, "dist"), KOERS_LOG: "warn" },
    stdio: "ignore",
  });
  let exited = null;
  proc.on("exit", (code) => (exited = code));
  process.on("exit", () => exited === null && proc.kill());
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
    if (exited !== null || i > 100) {
      proc.kill();
      fail(`the server at ${server} did not start (exit code ${exited})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, stop: () => proc.kill() };
}
