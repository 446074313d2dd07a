#!/usr/bin/env node
// What bin/git-mgit starts (it runs this with node). The work happens in dist/src/cli.js (built by
// `npm run build`). Node 22.1 and later keep compiled code between runs: the filter, hooks and
// drivers that git starts again and again then skip most of their start-up compilation.
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('../dist/src/cli.js');
process.exitCode = await main(process.argv.slice(2));
