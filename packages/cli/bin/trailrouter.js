#!/usr/bin/env node
// Entry point kept outside dist/ so the package manager can link it before the first build.
import { main } from "../dist/main.js";

process.exitCode = await main(process.argv);
