#!/usr/bin/env node
// `git mgit ...` finds this on PATH. The work happens in dist/src/cli.js (built by `npm run build`).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
