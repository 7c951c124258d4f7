#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a checkout works without a build step.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../tools/cli/main.ts");
await run(process.argv.slice(2));
