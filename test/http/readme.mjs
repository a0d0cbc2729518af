#!/usr/bin/env node
// examples/task-app/README.md shows code as it is: every JavaScript and SQL block is a verbatim
// part of the app's files. (Its GraphQL and shell blocks are run by api_graphql.mjs and
// postgraphile_cli.mjs.) Emits TAP.
import { readFile } from 'node:fs/promises';
import { tap, done } from '../interop/lib/tap.mjs';
import { APP_DIR, readmeBlocks } from './lib/app.mjs';

const files = ['api.mjs', 'auth.mjs', 'config.mjs', 'server.mjs', 'setup.sql'];
const sources = await Promise.all(files.map((f) => readFile(`${APP_DIR}${f}`, 'utf8')));
for (const lang of ['js', 'sql']) {
  const blocks = await readmeBlocks(lang);
  tap(blocks.length > 0, `the README has ${lang} blocks (${blocks.length})`);
  for (const block of blocks) {
    const i = sources.findIndex((s) => s.includes(block));
    tap(i >= 0, `README ${lang} block "${block.split('\n').find((l) => l.trim() && !l.startsWith('//')).trim()}" is in ${files[i] ?? '(nowhere)'}`, block);
  }
}
done();
