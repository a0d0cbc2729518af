#!/usr/bin/env node
// Sessions over HTTP through the example app's PostGraphile API: signIn gives an access and a
// refresh token; refresh rotates them; logout through the access token makes the next request
// with it answer 401 "token revoked" (the app's pool holds other server connections, which must
// refuse it as well); a replayed refresh token ends the session; a user sees only their own
// sessions; repeated wrong passwords end in 429-style PT429 errors. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, graphql, newSecret, readmeBlocks, scenario, startApp,
} from './lib/app.mjs';

const DB = `ta_http_sessions_${process.pid}`;

await scenario(async (cleanup) => {
  const port = await freePort();
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl: `http://127.0.0.1:${port}`, signingSecret: newSecret(), authSecret: newSecret() });
  const app = await startApp({ ...env, PORT: String(port) });
  cleanup(() => app.stop());
  const url = app.url;
  const db = await admin(DB);
  cleanup(() => db.end());

  const signIn = (email, password) => graphql(url,
    'mutation ($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { results { accessToken refreshToken expiresIn } } }',
    { e: email, p: password });
  const refresh = (rt) => graphql(url,
    'mutation ($r: String!) { refresh(input: {refreshToken: $r}) { results { accessToken refreshToken expiresIn } } }',
    { r: rt });
  const me = (token) => graphql(url, '{ currentUserId }', {}, token);

  const reg = await graphql(url, 'mutation ($e: String!, $p: String!) { register(input: {email: $e, password: $p}) { uuid } }',
    { e: 'carol@example.com', p: 'carol-password-1' });
  const carol = reg.body?.data?.register?.uuid;
  let r = await signIn('carol@example.com', 'carol-password-1');
  const first = r.body?.data?.signIn?.results?.[0];
  tap(first && first.accessToken.split('.').length === 3 && /^[A-Za-z0-9_-]{43}$/.test(first.refreshToken) && first.expiresIn === 900,
    'signIn mutation: an access token, a 43-character refresh token and expiresIn 900', r.text);
  r = await me(first.accessToken);
  tap(r.status === 200 && r.body.data.currentUserId === carol, 'the access token authenticates a request', r.text);

  r = await refresh(first.refreshToken);
  const second = r.body?.data?.refresh?.results?.[0];
  tap(second && second.refreshToken !== first.refreshToken && (await me(second.accessToken)).body.data.currentUserId === carol,
    'refresh mutation (no Authorization header): a new pair that works', r.text);

  // several requests, so that the app's pool has the token cached on more than one connection
  await Promise.all([1, 2, 3, 4].map(() => me(second.accessToken)));
  r = await graphql(url, 'mutation { logout(input: {}) { clientMutationId } }', {}, second.accessToken);
  tap(r.status === 200 && !r.body.errors, 'logout mutation with the access token', r.text);
  const after = await Promise.all([1, 2, 3, 4].map(() => me(second.accessToken)));
  tap(after.every((a) => a.status === 401 && a.headers.get('www-authenticate') === 'Bearer error="invalid_token"' &&
                         a.text.includes('token revoked') && !a.text.includes(second.accessToken)),
    'after logout, every request with that token is refused: 401, WWW-Authenticate, "token revoked"',
    after.map((a) => `${a.status} ${a.text}`).join('\n'));
  r = await me(first.accessToken);
  tap(r.status === 401 && r.text.includes('token revoked'), 'the session\'s earlier access token is refused too', r.text);
  r = await refresh(second.refreshToken);
  tap(r.body?.errors?.[0]?.message === 'session has ended', 'and its refresh token no longer refreshes', r.text);

  // a replayed refresh token ends its session
  r = await signIn('carol@example.com', 'carol-password-1');
  const s3 = r.body.data.signIn.results[0];
  const s4 = (await refresh(s3.refreshToken)).body.data.refresh.results[0];
  r = await refresh(s3.refreshToken);
  tap(r.body?.errors?.[0]?.message === 'refresh token is not valid', 'a spent refresh token presented again is refused', r.text);
  r = await me(s4.accessToken);
  tap(r.status === 401 && r.text.includes('token revoked'), 'and the replay ended the session: its newest access token is refused', r.text);

  // a user sees their own sessions
  r = await signIn('carol@example.com', 'carol-password-1');
  const s5 = r.body.data.signIn.results[0];
  await graphql(url, 'mutation ($e: String!, $p: String!) { register(input: {email: $e, password: $p}) { uuid } }',
    { e: 'dan@example.com', p: 'dan password 12' });
  await signIn('dan@example.com', 'dan password 12');
  r = await graphql(url, '{ allSessions { nodes { userId endReason } } }', {}, s5.accessToken);
  const nodes = r.body?.data?.allSessions?.nodes ?? [];
  tap(nodes.length === 3 && nodes.every((n) => n.userId === carol),
    'allSessions shows carol her own 3 sessions (logout, refresh_token_reused, open) only, none of dan\'s', r.text);

  // repeated wrong passwords: throttled
  const wrong = [];
  for (let i = 0; i < 6; i++) wrong.push((await signIn('dan@example.com', 'not his password')).body?.errors?.[0]);
  tap(wrong.slice(0, 5).every((e) => e?.errcode === '28P01') && wrong[5]?.errcode === 'PT429' &&
      wrong[5]?.message === 'too many failed logins',
    'five wrong passwords are 28P01, the sixth attempt is throttled: PT429 "too many failed logins"',
    JSON.stringify(wrong));
  const sessions = (await db.query("SELECT count(*)::int AS n FROM taskauth.sessions WHERE end_reason = 'logout'")).rows[0].n;
  tap(sessions === 1, 'the server recorded the one logout', sessions);

  // The session operations examples/task-app/README.md shows, one a line, in order.
  const block = (await readmeBlocks('graphql')).find((b) => b.includes('signIn(input'));
  const ops = (block ?? '').split('\n').filter((l) => /^(query|mutation) /.test(l));
  tap(ops.length === 4, 'the app README shows four session operations', block);
  let pair = null;
  let bearer = null;
  for (const op of ops) {
    const vars = op.includes('$refreshToken') ? { refreshToken: pair?.refreshToken } : {};
    r = await graphql(url, op, vars, /^mutation \{ (signIn)|^mutation \(\$refreshToken/.test(op) ? null : bearer);
    const got = r.body?.data && Object.values(r.body.data)[0];
    if (got?.results) { pair = got.results[0]; bearer = pair.accessToken; }
    tap(r.status === 200 && !r.body.errors && got !== null && got !== undefined,
      `README operation runs: ${op.slice(0, 70)}`, r.text);
  }
  r = await me(bearer);
  tap(r.status === 401 && r.text.includes('token revoked'), 'after the README\'s logout its token is refused', r.text);
}, { tap, done });
