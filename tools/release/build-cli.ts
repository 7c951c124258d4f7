// `npm run build:cli`: the installed CLI is plain JavaScript, bundled so that a command loads a few
// files instead of ~50 modules and never transpiles at run time (startup is most of a seed run).
// One chunk per command (main.ts imports them lazily), dependencies bundled in, so dist/ runs
// without node_modules. dist/cli/ has the same depth as tools/cli/, so `new URL("../../build/...",
// import.meta.url)` finds build/meshauthz.wasm from both.
import { rmSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("../../", import.meta.url);
// --readable: no minification, for profiles (node --cpu-prof) that name lines.
const readable = process.argv.includes("--readable");
rmSync(new URL("dist/", root), { recursive: true, force: true });
await build({
  absWorkingDir: root.pathname,
  entryPoints: ["tools/cli/main.ts"],
  outdir: "dist/cli",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Smaller text parses faster; names are kept so an internal error's stack stays readable.
  minifyWhitespace: !readable,
  minifySyntax: !readable,
  legalComments: "eof",
  logLevel: "warning",
});
