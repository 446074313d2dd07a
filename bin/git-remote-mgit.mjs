#!/usr/bin/env node
// What bin/git-remote-mgit starts for `mgit::<url>` remotes (gitremote-helpers). The work happens in
// dist/src/remote/main.js. Exit explicitly: after an error git may still hold our stdin open, waiting
// for an answer. Node 22.1 and later keep compiled code between runs (see git-mgit.mjs).
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('../dist/src/remote/main.js');
process.exit(await main(process.argv.slice(2)));
