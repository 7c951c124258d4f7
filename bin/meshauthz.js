#!/usr/bin/env node
// The installed CLI runs the compiled JavaScript in dist/ (`npm run build`, also run by `prepare`
// on `npm ci`/`npm install`). A checkout that was never built, or MESHAUTHZ_FROM_SOURCE=1, runs the
// TypeScript sources through tsx instead (slower to start, same behaviour).
import { existsSync } from "node:fs";

const dist = new URL("../dist/cli/main.js", import.meta.url);
let main;
if (process.env.MESHAUTHZ_FROM_SOURCE !== "1" && existsSync(dist)) {
  main = await import(dist.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  main = await import("../tools/cli/main.ts");
}
await main.run(process.argv.slice(2));
