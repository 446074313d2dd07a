#!/usr/bin/env node
// git runs this for `mgit::<url>` remotes (gitremote-helpers). The work happens in dist/src/remote/main.js.
// Exit explicitly: after an error git may still hold our stdin open, waiting for an answer.
import { main } from '../dist/src/remote/main.js';

process.exit(await main(process.argv.slice(2)));
