// Trunk post_build hook (see Trunk.toml); runs in the staging folder before it becomes dist/.
// 1. Writes the build id and the precache list (every built file) into sw.js.
// 2. Pre-compresses text and wasm files (.gz, .br) for the server to send as they are.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("TRUNK_STAGING_DIR is not set: run this through `trunk build`");

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
