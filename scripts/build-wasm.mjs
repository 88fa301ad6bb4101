// Trunk `build` hook (see Trunk.toml): builds the app's wasm into the staging folder, split into chunks.
//   cargo (release, std rebuilt for size, --emit-relocs) → wasm-split-cli → wasm-bindgen
//   → binaryen's wasm-opt -Oz per module → one content hash in every file name → esbuild
//   minifies the scripts.
// Trunk's own rust pipeline runs wasm-bindgen right after cargo, leaving no place for the
// split, hence this hook. What comes out (the main module loads a chunk on first use):
//   koers-app-<hash>.js, koers-app-<hash>_bg.wasm            first load: the shell and home
//   __wasm_split-<hash>.js, split_koers_other_screens-<hash>.wasm   every other screen
//   split_koers_sync-<hash>.wasm                              syncing, fetched at the first round
//   chunk_<n>-<hash>.wasm                                     code those two share
// scripts/post-build.mjs then writes the start-up script into index.html.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { transformSync } from "esbuild";

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error("TRUNK_STAGING_DIR is not set: run this through `trunk build`");
const target = resolve(process.env.CARGO_TARGET_DIR ?? "target");
const work = join(target, "koers-wasm");
const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });

rmSync(work, { recursive: true, force: true });
for (const d of ["split", "bindgen", "out"]) mkdirSync(join(work, d), { recursive: true });

// The standard library is rebuilt from source (rustup's rust-src, the same rustc) with panics
// that trap at once instead of formatting a message nobody sees (the app installs no panic
// hook): 21 KB gzip less in the first download. -Zbuild-std and -Cpanic=immediate-abort are
// unstable, hence RUSTC_BOOTSTRAP for this one build only. wasm-split needs the relocations.
execFileSync("cargo", ["build", "--release", "--target", "wasm32-unknown-unknown", "-p", "koers-app", "--bin", "koers-app",
  "-Zbuild-std=std,panic_abort"], {
  stdio: "inherit",
  env: { ...process.env, RUSTC_BOOTSTRAP: "1",
    RUSTFLAGS: "-C link-args=--emit-relocs -Z unstable-options -C panic=immediate-abort" },
});
const raw = join(target, "wasm32-unknown-unknown", "release", "koers-app.wasm");

run("wasm-split-cli", ["--target", "web", "--out-name", "koers-app", raw, join(work, "split")]);
// The chunk calls into the main module through exports that wasm-bindgen would otherwise drop.
run("wasm-bindgen", ["--target", "web", "--keep-lld-exports", "--no-demangle", "--out-name", "koers-app",
  "--out-dir", join(work, "bindgen"), join(work, "split", "koers-app.wasm")]);

const out = join(work, "out");
copyFileSync(join(work, "bindgen", "koers-app.js"), join(out, "koers-app.js"));
copyFileSync(join(work, "split", "__wasm_split.js"), join(out, "__wasm_split.js"));
const modules = [[join(work, "bindgen", "koers-app_bg.wasm"), "koers-app_bg.wasm"]];
for (const f of readdirSync(join(work, "split"))) {
  if (f.endsWith(".wasm") && f !== "koers-app.wasm") modules.push([join(work, "split", f), f]);
}
if (modules.length < 2) throw new Error("wasm-split-cli found no split point: is src/lazy_screens.rs compiled?");
// -Os, not -Oz: here it gives the smaller first download. --low-memory-unused: Rust's stack
// comes first in memory and its data at 1 MiB, so nothing lives in the first KiB and binaryen
// may fold constant offsets into loads and stores (1.1 KB gzip less in the first download).
// --converge repeats the passes until nothing shrinks; the producers and target-features
// sections are build facts no browser reads.
const optimise = ["-Os", "--low-memory-unused", "--converge", "--strip-producers", "--strip-target-features"];
for (const [from, name] of modules) run("wasm-opt", [...optimise, from, "-o", join(out, name)]);

// One hash for the whole set: a chunk only works with the main module it was cut from, and the
// two scripts import each other, so no file's hash could include another's name.
const files = readdirSync(out).sort();
const hash = createHash("sha256");
for (const f of files) hash.update(f).update(readFileSync(join(out, f)));
const build = hash.digest("hex").slice(0, 16);
const hashed = Object.fromEntries(files.map((f) => [f, f.replace(/(_bg)?\.(wasm|js)$/, (end) => `-${build}${end}`)]));
for (const f of files) {
  let body = readFileSync(join(out, f));
  if (f.endsWith(".js")) {
    // Only import specifiers and fetched URLs: the import-object keys ("./__wasm_split.js") are
    // the wasm's own import module names and must stay as they are.
    let text = body.toString("utf8");
    for (const [from, to] of Object.entries(hashed)) {
      text = text.replaceAll(`from "./${from}"`, `from "./${to}"`).replaceAll(`new URL("./${from}"`, `new URL("./${to}"`);
    }
    // wasm-bindgen's glue comes readable: minified (esbuild, after the renaming above, which
    // reads its spacing) it is 2.7 KB gzip less of the first download. Property names stay: the
    // wasm imports its functions by them.
    text = transformSync(text, { minify: true, format: "esm", target: "es2020" }).code;
    body = Buffer.from(text);
  }
  writeFileSync(join(staging, hashed[f]), body);
}
console.log(`koers build-wasm: ${Object.values(hashed).join(", ")}`);
