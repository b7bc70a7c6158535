// Bundles the browser code into console/web/static, where the hub serves it from.
// The bundles are committed so that `pip install` alone gives a working hub; the test
// suite rebuilds them and fails when a committed bundle differs from its sources.
//   node build.mjs            build into console/web/static
//   node build.mjs --outdir D build into D (the freshness test)
import * as esbuild from "esbuild";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf("--outdir");
const outdir = at >= 0 ? resolve(args[at + 1]) : join(here, "..", "console", "web", "static");

const common = {
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2019", "chrome90", "firefox90", "safari14"],
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
};

const bundles = [
  { entryPoints: [join(here, "widget", "index.ts")], outfile: join(outdir, "widget.js") },
  { entryPoints: [join(here, "console", "index.tsx")], outfile: join(outdir, "console.js") },
];

for (const bundle of bundles) {
  const result = await esbuild.build({ ...common, ...bundle, metafile: true });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`${bundle.outfile}: ${bytes} bytes`);
}
