#!/usr/bin/env node
// Sessions and revocation over HTTP through the example app's PostGraphile API. Better Auth owns
// the app's accounts and sessions, so the API role has grant_api_access('web', accounts => false)
// (security review 2, finding 5): the schema has no signIn, refresh, logout or logoutEverywhere
// mutation and no sessions to list, and a user signs out in Better Auth. What taskauth still does
// for the app is refuse a revoked token at once on every server connection of the app's pool
// (the app's pool holds several, with the token cached on more than one, which the test reads
// from backend_stats() in each request's own transaction): the owner's
// revoke_user refuses a Better Auth user's tokens with 401 "token revoked", and sessions that the
// owner starts with taskauth.sign_in (a service's, say) are refreshed, replayed and revoked
// through SQL on the test's admin connection while the app answers. Before, this file drove
// signIn, refresh, logout and allSessions as GraphQL mutations and queries, the app README's
// session operations, and throttled wrong passwords at signIn (PT429): none of that is part of
// the app any more; test/pgtap/sessions.sql, test/interop/sessions_multisession.py and
// login_throttle.py test those functions themselves. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const DB = `ta_http_sessions_${process.pid}`;
const json = (x) => JSON.stringify(x);
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));

await scenario(async (cleanup) => {
  const port = await freePort();
  cleanup(() => dropAppDatabase(DB));
  const env = await createAppDatabase(DB, { appUrl: `http://127.0.0.1:${port}`, signingSecret: newSecret(), authSecret: newSecret() });
  const db = await admin(DB);
  cleanup(() => db.end());
  // So that each request can say which server connection ran it and what its cache did: the API
  // role may run backend_stats() here, and PostGraphile then offers it as a query.
  await db.query('GRANT EXECUTE ON FUNCTION taskauth.backend_stats() TO web');
  const app = await startApp({ ...env, PORT: String(port) });
  cleanup(() => app.stop());
  const url = app.url;

  const me = (token) => graphql(url, '{ currentUserId }', {}, token);
  // several requests at once, so that the app's pool has the token cached on more than one connection
  const many = (token) => Promise.all([1, 2, 3, 4].map(() => me(token)));
  const revoked = (a, token) => a.status === 401 && a.headers.get('www-authenticate') === 'Bearer error="invalid_token"' &&
    a.body?.errors?.[0]?.message === 'token revoked' && !a.text.includes(token);
  // The owner's SQL; an error is returned, not thrown.
  const sql = (text, params) => db.query(text, params).then((r) => r.rows, (e) => e);

  // No session operation in the schema, and none runs.
  let r = await graphql(url, '{ __schema { queryType { fields { name } } mutationType { fields { name } } } }');
  const fields = ['queryType', 'mutationType'].flatMap((t) => r.body?.data?.__schema?.[t]?.fields?.map((f) => f.name) ?? []);
  tap(fields.includes('currentUserId') &&
      !['signIn', 'refresh', 'logout', 'logoutEverywhere', 'allSessions', 'sessionById'].some((f) => fields.includes(f)),
  'the schema has no signIn, refresh, logout, logoutEverywhere mutation and no sessions', json(fields));

  // A Better Auth user's token, refused everywhere once the owner revokes the user.
  const carol = await signUp(url, 'carol@example.com', 'carol better auth password');
  const carolJwt = await getToken(url, carol.cookie);
  let all = await many(carolJwt);
  tap(all.every((a) => a.status === 200 && a.body?.data?.currentUserId === carol.id),
    "Carol's Better Auth token authenticates her requests", all.map((a) => a.text).join('\n'));
  // The pool: which server connections ran her requests, and whether they had her token cached
  // (backend_stats is VOLATILE, so PostGraphile offers it as a mutation; its payload's query
  // runs in the same transaction, on the same connection).
  const stats = (token) => Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => graphql(url,
    'mutation { backendStats(input: {}) { result { pid tokenCacheHits } query { currentUserId } } }', {}, token)));
  const seen = new Map();
  for (let round = 0; round < 3; round++) {
    for (const a of await stats(carolJwt)) {
      const p = a.body?.data?.backendStats;
      if (p?.query?.currentUserId === carol.id && p.result) seen.set(p.result.pid, Number(p.result.tokenCacheHits));
    }
  }
  const hitOn = [...seen.values()].filter((h) => h > 0).length;
  tap(seen.size > 1 && hitOn > 1,
    `the app's pool ran her requests on ${seen.size} server connections, ${hitOn} of them with her token cached (cache hits)`,
    json([...seen]));
  r = await graphql(url, '{ allSessions { nodes { id } } }', {}, carolJwt);
  tap(r.status === 400 && r.body?.errors?.[0]?.message === 'Cannot query field "allSessions" on type "Query".',
    'a query of allSessions is refused: 400, no such field', r.text);
  r = await graphql(url, 'mutation { logout(input: {}) { clientMutationId } }', {}, carolJwt);
  tap(r.status === 400 && r.body?.errors?.[0]?.message === 'Cannot query field "logout" on type "Mutation".',
    'so is a logout mutation: she signs out in Better Auth', r.text);
  let rows = await sql('SELECT taskauth.revoke_user($1)', [carol.id]);
  all = await many(carolJwt);
  tap(!(rows instanceof Error) && all.every((a) => revoked(a, carolJwt)),
    'after the owner\'s revoke_user, every request with her token is refused: 401, WWW-Authenticate, "token revoked"',
    `${rows}\n${all.map((a) => `${a.status} ${a.text}`).join('\n')}`);
  // revoke_user refuses the tokens issued up to its second; Better Auth's next ones are later
  await new Promise((res) => setTimeout(res, 1000 - (Date.now() % 1000) + 100));
  const later = await getToken(url, carol.cookie);
  r = await me(later);
  tap(claims(later).iat > claims(carolJwt).iat && r.status === 200 && r.body?.data?.currentUserId === carol.id,
    'a token Better Auth issues in a later second works', r.text);

  // A session of taskauth's own, started, refreshed and ended by the owner.
  await sql("SELECT taskauth.register('service@example.com', 'service-password-1')");
  const signIn = async () => (await sql("SELECT * FROM taskauth.sign_in('service@example.com', 'service-password-1')"))[0];
  const refresh = async (rt) => {
    const x = await sql('SELECT * FROM taskauth.refresh($1)', [rt]);
    return x instanceof Error ? x : x[0];
  };
  const first = await signIn();
  const service = claims(first.access_token).sub;
  r = await me(first.access_token);
  tap(first.expires_in === 900 && /^[A-Za-z0-9_-]{76}$/.test(first.refresh_token) && r.status === 200 &&
      r.body?.data?.currentUserId === service,
  "the owner's taskauth.sign_in: an access token that authenticates a request at /graphql, a refresh token", r.text);
  const second = await refresh(first.refresh_token);
  all = await many(second.access_token);
  tap(second.refresh_token !== first.refresh_token && all.every((a) => a.body?.data?.currentUserId === service),
    "taskauth.refresh: a new pair whose access token works", all.map((a) => a.text).join('\n'));
  rows = await sql('SELECT taskauth.revoke_session($1) AS ended', [claims(second.access_token).sid]);
  all = await many(second.access_token);
  tap(json(rows) === json([{ ended: true }]) && all.every((a) => revoked(a, second.access_token)),
    'after the owner\'s revoke_session, every request with its token is refused: 401, WWW-Authenticate, "token revoked"',
    `${json(rows)}\n${all.map((a) => `${a.status} ${a.text}`).join('\n')}`);
  r = await me(first.access_token);
  tap(revoked(r, first.access_token), "the session's earlier access token is refused too", r.text);
  const spent = await refresh(second.refresh_token);
  tap(spent instanceof Error && spent.message === 'session has ended', 'and its refresh token no longer refreshes',
    spent.message ?? json(spent));

  // a replayed refresh token ends its session
  const s3 = await signIn();
  const s4 = await refresh(s3.refresh_token);
  const replay = await refresh(s3.refresh_token);
  tap(replay instanceof Error && replay.message === 'refresh token is not valid',
    'a spent refresh token presented again is refused', replay.message ?? json(replay));
  r = await me(s4.access_token);
  tap(revoked(r, s4.access_token), 'and the replay ended the session: its newest access token gets 401 "token revoked"',
    r.text);
  rows = await sql("SELECT count(*)::int AS n FROM taskauth.sessions WHERE end_reason = 'revoked'");
  tap(json(rows) === json([{ n: 1 }]), 'the server recorded the one revoked session', json(rows));
}, { tap, done });
