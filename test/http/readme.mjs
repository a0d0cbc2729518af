#!/usr/bin/env node
// examples/task-app/README.md shows code as it is: every JavaScript and SQL block is a verbatim
// part of the app's files. (Its GraphQL and shell blocks are run by api_graphql.mjs,
// postgraphile_cli.mjs, and the HS256 setup's command by betterauth_hs256.mjs and
// issuer_accounts.mjs through lib/app.mjs.) The docs pages' PostGraphile and Better Auth blocks
// claimed below ("readme-blocks:") are blocks of that README, verbatim, and the Better Auth options
// block of docs/issuers.md is evaluated with Better Auth itself. Emits TAP.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
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
// Blocks of the docs pages claimed below are the app README's: each is, verbatim and in the same
// language, one of its blocks, which the checks above and the other files of this suite run.
// readme-blocks: docs/sessions.md define-payload
// readme-blocks: docs/frontends.md graphql-operations postgraphile-hook postgraphile-options postgraphile-cli postgraphile-authenticate
const appReadme = await readFile(`${APP_DIR}README.md`, 'utf8');
const evaluated = new Set(['docs/issuers.md better-auth-options']);
const claims = [...(await readFile(new URL(import.meta.url), 'utf8')).matchAll(/^\/\/ readme-blocks: (\S+) (.+)$/gm)]
  .flatMap(([, page, names]) => names.trim().split(/\s+/).map((name) => [page, name]));
for (const [page, name] of claims.filter(([p, n]) => !evaluated.has(`${p} ${n}`))) {
  const text = await readFile(new URL(`../../${page}`, import.meta.url), 'utf8');
  const m = text.match(new RegExp(`^<!-- readme-test: ${name.replace(/[.-]/g, '\\$&')} -->\n\`\`\`(\\w*)\n([\\s\\S]*?)^\`\`\`$`, 'm'));
  tap(m !== null, `${page} has a block marked readme-test: ${name}`);
  if (m === null) continue;
  tap(appReadme.includes('```' + m[1] + '\n' + m[2] + '```'), `${page} ${name} (${m[1]}) is a block of the app README`, m[2]);
}
// The Better Auth options docs/issuers.md shows are run as they stand: the block is evaluated with
// Better Auth's betterAuth and jwt and pg's Pool from the app's modules, and the instance holds
// what the page relies on (its base URL, uuid ids, the jwt plugin with getToken).
// readme-blocks: docs/issuers.md better-auth-options
{
  const text = await readFile(new URL('../../docs/issuers.md', import.meta.url), 'utf8');
  const m = text.match(/^<!-- readme-test: better-auth-options -->\n```js\n([\s\S]*?)^```$/m);
  tap(m !== null, 'docs/issuers.md has a block marked readme-test: better-auth-options');
  const req = createRequire(`${APP_DIR}package.json`);
  const { betterAuth } = await import(pathToFileURL(req.resolve('better-auth')));
  const { jwt } = await import(pathToFileURL(req.resolve('better-auth/plugins')));
  const pg = (await import(pathToFileURL(req.resolve('pg')))).default;
  let auth;
  try {
    auth = new Function('betterAuth', 'pg', 'jwt', `return ${m?.[1] ?? 'null'}`)(betterAuth, pg, jwt);
  } catch (e) {
    tap(false, 'the Better Auth options block evaluates', e.stack);
  }
  if (auth) {
    const o = auth.options;
    tap(o.baseURL === 'https://app.example' && o.advanced?.database?.generateId === 'uuid' &&
        o.plugins.map((p) => p.id).join() === 'jwt' && typeof auth.api.getToken === 'function',
      'the options block makes a Better Auth with baseURL https://app.example, uuid ids and the jwt plugin (auth.api.getToken)',
      JSON.stringify({ baseURL: o.baseURL, advanced: o.advanced, plugins: o.plugins.map((p) => p.id) }));
    await o.database.end();
  }
}
done();
