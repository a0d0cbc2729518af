#!/usr/bin/env node
// Signing out in Better Auth signs out of the API at once, in both of the example app's setups
// (Better Auth's key pairs read from its jwks table; HS256 under a key derived from
// BETTER_AUTH_SECRET). auth.mjs puts the session's id into Better Auth's tokens as sid, next to
// the claims it signs by default, and setup.sql has taskauth follow Better Auth's session table
// (taskauth.follow_issuer_sessions): a session row deleted revokes, from the commit on, every
// token whose sid names it. Before, a token from /api/auth/token kept working at /graphql for
// its whole 15 minutes after "Sign out". Over HTTP: POST /api/auth/sign-out refuses that
// session's token with 401 "token revoked" on every connection of the app's pool, while another
// session of the same user keeps working; revoke-other-sessions and change-password with
// revokeOtherSessions end the others. What Better Auth does on its own: an expired session row
// stays until Better Auth sees it (its tokens work until then) and is deleted when its cookie
// comes back, which revokes them; this app does not offer /delete-user (404), and a user row
// deleted in the database takes its sessions along (ON DELETE CASCADE), which revokes their
// tokens. Emits TAP.
import { tap, done } from '../interop/lib/tap.mjs';
import {
  admin, createAppDatabase, dropAppDatabase, freePort, getToken, graphql, newSecret, scenario, signUp, startApp,
} from './lib/app.mjs';

const json = (x) => JSON.stringify(x);
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PASSWORD = 'carol better auth password';

// f, run at most once (at the end of its setup, or by the scenario's cleanup when interrupted).
const once = (f) => { let p; return () => (p ??= f()); };

// One setup: its database and app, every way a session ends, all stopped and dropped at the end.
async function check(setup, cleanup) {
  const label = `[${setup}]`;
  const DB = `ta_http_signout_${setup}_${process.pid}`;
  const port = await freePort();
  const stops = [];
  const stopAll = once(async () => { for (const f of stops.reverse()) await f(); });
  cleanup(stopAll);
  try {
    stops.push(() => dropAppDatabase(DB));
    const env = await createAppDatabase(DB, setup === 'jwks'
      ? { appUrl: `http://127.0.0.1:${port}`, signingSecret: newSecret(), authSecret: newSecret() }
      : { hs256: true, authSecret: newSecret() });
    const app = await startApp({ ...env, PORT: String(port), ...(setup === 'hs256' && { AUTH_JWT_SIGNING: 'hs256' }) });
    stops.push(() => app.stop());
    const url = app.url;
    const db = await admin(DB);
    stops.push(() => db.end());

    const post = (path, cookie, body = {}) => fetch(`${url}/api/auth/${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: url, cookie }, body: JSON.stringify(body),
    });
    const cookieOf = (r) => r.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');
    const signIn = async () => {
      const r = await post('sign-in/email', '', { email: 'carol@example.com', password: PASSWORD });
      if (r.status !== 200) throw new Error(`sign-in: HTTP ${r.status} ${await r.text()}`);
      return cookieOf(r);
    };
    const list = (token) => graphql(url, '{ allTasks { nodes { title } } }', {}, token);
    // several requests at once, so that more than one connection of the app's pool answers
    const many = (token) => Promise.all([1, 2, 3, 4].map(() => list(token)));
    const works = (rs) => rs.every((r) => r.status === 200 && json(r.body?.data?.allTasks?.nodes) === json([{ title: 'carol: plan' }]));
    const revoked = (rs, token) => rs.every((r) => r.status === 401 &&
      r.headers.get('www-authenticate') === 'Bearer error="invalid_token"' &&
      r.body?.errors?.[0]?.message === 'token revoked' && !r.text.includes(token));
    const texts = (rs) => rs.map((r) => `${r.status} ${r.text}`).join('\n');
    const sessionIds = async (userId) =>
      (await db.query('SELECT id FROM public.session WHERE "userId" = $1', [userId])).rows.map((r) => r.id);

    const triggers = (await db.query(`SELECT tgname FROM pg_trigger
      WHERE tgrelid = 'public.session'::regclass AND NOT tgisinternal ORDER BY 1`)).rows.map((r) => r.tgname);
    tap(json(triggers) === json(['taskauth_session_ended', 'taskauth_session_expired']),
      `${label} setup.sql had taskauth follow Better Auth's session table (its two triggers)`, json(triggers));

    // Carol's first session (sign-up) and its token: Better Auth's default claims, and sid.
    const carol = await signUp(url, 'carol@example.com', PASSWORD);
    const tokenA = await getToken(url, carol.cookie);
    const a = claims(tokenA);
    const [sessionA] = await sessionIds(carol.id);
    tap(UUID.test(a.sid) && a.sid === sessionA && a.sub === carol.id && a.email === 'carol@example.com' &&
        a.name === 'carol' && a.emailVerified === false && a.id === carol.id && typeof a.exp === 'number',
    `${label} the token carries its session's id as sid, besides Better Auth's default claims (sub, email, name, ...)`,
    json(a));
    let r = await graphql(url, 'mutation { createTask(input: {task: {title: "carol: plan"}}) { task { id } } }', {}, tokenA);
    tap(r.status === 200 && r.body?.data?.createTask?.task?.id && works(await many(tokenA)),
      `${label} with it she creates a task and lists her tasks: 200`, r.text);

    // A second session of hers, then sign-out of the first.
    const cookieB = await signIn();
    const tokenB = await getToken(url, cookieB);
    tap(claims(tokenB).sid !== a.sid && (await sessionIds(carol.id)).includes(claims(tokenB).sid),
      `${label} signing in again starts a second session; its token names it`, json(claims(tokenB)));
    r = await post('sign-out', carol.cookie);
    const afterSignOut = await many(tokenA);
    tap(r.status === 200 && revoked(afterSignOut, tokenA),
      `${label} after POST /api/auth/sign-out, the first session's token gets 401 "token revoked" at /graphql, on every connection`,
      `${r.status}\n${texts(afterSignOut)}`);
    tap(works(await many(tokenB)), `${label} the second session, not signed out, still works`);
    r = await fetch(`${url}/api/auth/token`, { headers: { cookie: carol.cookie } });
    tap(r.status === 401, `${label} and the signed-out session gives no new token (401)`, r.status);

    // revoke-other-sessions, from a third session.
    const cookieC = await signIn();
    const tokenC = await getToken(url, cookieC);
    r = await post('revoke-other-sessions', cookieC);
    const others = await many(tokenB);
    tap(r.status === 200 && revoked(others, tokenB),
      `${label} POST /api/auth/revoke-other-sessions from a third session: the second session's token gets 401 "token revoked"`,
      `${r.status} ${await r.text()}\n${texts(others)}`);
    tap(works(await many(tokenC)), `${label} the session that revoked the others still works`);

    // change-password with revokeOtherSessions ends every session and starts a new one.
    const cookieD = await signIn();
    const tokenD = await getToken(url, cookieD);
    r = await post('change-password', cookieC, { currentPassword: PASSWORD, newPassword: `${PASSWORD} 2`, revokeOtherSessions: true });
    const cookieN = cookieOf(r);
    const changed = [...await many(tokenC), ...await many(tokenD)];
    tap(r.status === 200 && revoked(changed.slice(0, 4), tokenC) && revoked(changed.slice(4), tokenD),
      `${label} change-password with revokeOtherSessions: the tokens of every earlier session get 401 "token revoked"`,
      `${r.status}\n${texts(changed)}`);
    const tokenN = await getToken(url, cookieN);
    tap(works(await many(tokenN)), `${label} and the new session it started works`);

    // Expiry: Better Auth deletes an expired session when its cookie comes back. The expiry is
    // moved to the past with triggers off, as if the time had simply passed: taskauth sees no
    // row change then, and the token still works until Better Auth looks at the session.
    await db.query('BEGIN');
    await db.query("SET LOCAL session_replication_role = 'replica'");
    await db.query(`UPDATE public.session SET "expiresAt" = now() - interval '1 second' WHERE id = $1`, [claims(tokenN).sid]);
    await db.query('COMMIT');
    r = await list(tokenN);
    tap(r.status === 200, `${label} a session that ran out while nobody looked: its token still works (taskauth saw no change)`,
      r.text);
    r = await fetch(`${url}/api/auth/token`, { headers: { cookie: cookieN } });
    const left = await sessionIds(carol.id);
    const expired = await many(tokenN);
    tap(r.status === 401 && !left.includes(claims(tokenN).sid) && revoked(expired, tokenN),
      `${label} its cookie at /api/auth/token: 401, Better Auth deletes the expired row, and its token gets 401 "token revoked"`,
      `${r.status} ${json(left)}\n${texts(expired)}`);

    // The user deleted: not offered over HTTP here, done in the database by an administrator.
    const cookieE = await (async () => {
      const s = await post('sign-in/email', '', { email: 'carol@example.com', password: `${PASSWORD} 2` });
      return cookieOf(s);
    })();
    const tokenE = await getToken(url, cookieE);
    r = await post('delete-user', cookieE, { password: `${PASSWORD} 2` });
    tap(r.status === 404 && (await list(tokenE)).status === 200,
      `${label} this app does not offer POST /api/auth/delete-user (404); the session goes on`, `${r.status} ${await r.text()}`);
    const dave = await signUp(url, 'dave@example.com', 'dave better auth password');
    const daveToken = await getToken(url, dave.cookie);
    await db.query('DELETE FROM public."user" WHERE id = $1', [carol.id]);
    const deleted = await many(tokenE);
    tap((await sessionIds(carol.id)).length === 0 && revoked(deleted, tokenE),
      `${label} her user row deleted in the database takes her sessions along, and her token gets 401 "token revoked"`,
      texts(deleted));
    r = await graphql(url, '{ currentUserId }', {}, daveToken);
    tap(r.status === 200 && r.body?.data?.currentUserId === dave.id, `${label} another user's token is untouched`, r.text);
    const reasons = (await db.query(`SELECT reason, count(*)::int AS n FROM taskauth.revocations
      GROUP BY reason ORDER BY reason`)).rows;
    tap(json(reasons) === json([{ reason: 'issuer_session_ended', n: 6 }]),
      `${label} taskauth recorded one revocation per ended session (6), as issuer_session_ended`, json(reasons));
  } finally {
    await stopAll();
  }
}

await scenario(async (cleanup) => {
  await check('jwks', cleanup);
  await check('hs256', cleanup);
}, { tap, done });
