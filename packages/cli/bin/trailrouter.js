#!/usr/bin/env node
// Entry point kept outside dist/ so the package manager can link it before the first build.
import { main } from "../dist/main.js";

process.exitCode = await main(process.argv);
// A plugin still closing when the run gave up waiting (it was logged) must not keep the process alive.
setTimeout(() => process.exit(), 1_000).unref();
