// Builds atelier's pages: one minified ES-module bundle per page (shared code and three.js
// split into chunks that load only where used), one stylesheet, content-hashed names and a
// manifest the gateway serves them by. Deterministic: the same lock file and sources give
// the same bytes, which tests/web/test_bundle.py checks against the committed build.
//
//   npm ci && node build.mjs               # writes static/ (commit it)
//   node build.mjs --outdir /tmp/x         # a build elsewhere (the freshness test)
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outFlag = process.argv.indexOf("--outdir");
const outdir = outFlag > 0 ? process.argv[outFlag + 1] : join(here, "static");
const pages = ["signin", "preview", "design", "chat"];

// What the build depends on; its hash goes into the manifest so a test can tell a stale
// committed bundle without node (sha256 over "path\0bytes\0" of each file, sorted by path).
function sourceFiles() {
  const files = ["build.mjs", "package.json", "package-lock.json", "tsconfig.json"];
  const walk = (dir) => {
    for (const name of readdirSync(join(here, dir)).sort()) {
      const path = join(dir, name);
      if (statSync(join(here, path)).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk("src");
  return files.sort();
}

function sourceHash() {
  const hash = createHash("sha256");
  for (const path of sourceFiles()) {
    hash.update(path + "\0");
    hash.update(readFileSync(join(here, path)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: [...pages.map((p) => `src/${p}.ts`), "src/style.css"],
  bundle: true,
  minify: true,
  splitting: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  outdir,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
});

const manifest = { sourceHash: sourceHash(), entries: {}, files: {} };
for (const [path, info] of Object.entries(result.metafile.outputs).sort()) {
  const name = relative(outdir, join(here, path));
  const bytes = readFileSync(join(outdir, name));
  manifest.files[name] = { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  // Pages and the stylesheet only: a dynamic import (the 3D viewer) is a chunk, not a page.
  const entry = info.entryPoint?.replace(/^src\//, "").replace(/\.(ts|css)$/, "");
  if (entry && (pages.includes(entry) || entry === "style")) manifest.entries[entry] = name;
}
writeFileSync(join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
for (const [name, size] of Object.entries(manifest.files)) {
  console.log(`${name.padEnd(28)} ${String(size.bytes).padStart(8)} B  ${String(size.gzip).padStart(7)} B gzip`);
}
