// Trunk post_build hook (see Trunk.toml); runs in the staging folder before it becomes dist/.
// 1. Writes the script that starts the app (built by scripts/build-wasm.mjs) into index.html.
// 2. Writes the build id and the precache list (every built file) into sw.js.
// 3. Pre-compresses text and wasm files (.gz, .br) for the server to send as they are.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("TRUNK_STAGING_DIR is not set: run this through `trunk build`");

// 1. The start-up script, and preloads so the first module downloads alongside index.html.
const named = (pattern) => {
  const found = readdirSync(dir).filter((f) => pattern.test(f));
  if (found.length !== 1) throw new Error(`expected one ${pattern} in ${dir}, found ${found.join(", ") || "none"}: run scripts/build-wasm.mjs`);
  return found[0];
};
const js = named(/^koers-app-[0-9a-f]{16}\.js$/);
const wasm = named(/^koers-app-[0-9a-f]{16}_bg\.wasm$/);
const loader = named(/^__wasm_split-[0-9a-f]{16}\.js$/);
const sri = (f) => "sha384-" + createHash("sha384").update(readFileSync(join(dir, f))).digest("base64");
const preload = (f, extra) => `<link rel="${extra ? "preload" : "modulepreload"}" href="/${f}" crossorigin="anonymous" integrity="${sri(f)}"${extra ?? ""}>`;
const indexPath = join(dir, "index.html");
const index = readFileSync(indexPath, "utf8");
if (index.includes("koers-app-")) throw new Error("index.html already starts the app");
writeFileSync(
  indexPath,
  index.replace(
    "</head>",
    `<script type="module">import init from "/${js}"; await init({ module_or_path: "/${wasm}" });</script>\n` +
      `${preload(js)}${preload(loader)}${preload(wasm, ' as="fetch" type="application/wasm"')}\n</head>`,
  ),
);

// 2. The service worker's build id and precache list.
const walk = (d) =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
const urlOf = (file) => "/" + relative(dir, file).split(sep).join("/");

const files = walk(dir)
  .map(urlOf)
  .filter((url) => url !== "/sw.js" && !/\.(gz|br)$/.test(url))
  .sort();

const hash = createHash("sha256");
for (const url of files) hash.update(url).update(readFileSync(join(dir, url)));
const build = hash.digest("hex").slice(0, 16);

const swPath = join(dir, "sw.js");
const template = readFileSync(swPath, "utf8");
if (!template.includes("__BUILD__") || !template.includes("/*__PRECACHE__*/")) {
  throw new Error("sw.js has lost its __BUILD__ or /*__PRECACHE__*/ placeholder");
}
writeFileSync(
  swPath,
  template.replace("__BUILD__", build).replace("/*__PRECACHE__*/", files.map((f) => JSON.stringify(f)).join(", ")),
);

// 3. Pre-compressed copies.
let compressed = 0;
for (const url of [...files, "/sw.js"]) {
  if (!/\.(html|js|css|wasm|json|webmanifest|svg)$/.test(url)) continue;
  const path = join(dir, url);
  const body = readFileSync(path);
  writeFileSync(path + ".gz", gzipSync(body, { level: 9 }));
  writeFileSync(
    path + ".br",
    brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
  );
  compressed++;
}
console.log(`koers post-build: build ${build}, ${files.length} files precached, ${compressed} pre-compressed`);
