// A real Better Auth (npm better-auth, its pg adapter, its jwt plugin) over the database of
// the PG* environment, one step per run, for tests written in Python:
//   node betterauth_cli.mjs BASE_URL migrate                    its tables (user, session, jwks, ...)
//   node betterauth_cli.mjs BASE_URL sign-up EMAIL PASSWORD     prints {"id", "token", "cookie"}
//   node betterauth_cli.mjs BASE_URL sign-out COOKIE            ends that session
// The token is the one GET /api/auth/token gives: EdDSA, signed with a key of Better Auth's jwks
// table, sub the user id, sid the session id (as the example app's definePayload has it), iss
// and aud BASE_URL.
import './webcrypto-global.mjs';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { jwt } from 'better-auth/plugins';
import pg from 'pg';

const [baseURL, step, ...args] = process.argv.slice(2);
const usage = 'usage: betterauth_cli.mjs BASE_URL migrate | sign-up EMAIL PASSWORD | sign-out COOKIE';
const arity = { migrate: 0, 'sign-up': 2, 'sign-out': 1 };
if (!baseURL || !(step in arity) || args.length !== arity[step]) {
  console.error(usage);
  process.exit(2);
}

const pool = new pg.Pool({ max: 2 });
const auth = betterAuth({
  database: pool,
  baseURL,
  secret: 'better-auth-secret-for-the-taskauth-interop-tests',
  emailAndPassword: { enabled: true },
  advanced: { database: { generateId: 'uuid' } },
  telemetry: { enabled: false },
  logger: { level: 'error' },
  plugins: [jwt({ jwt: { definePayload: ({ user, session }) => ({ ...user, sid: session.id }) } })],
});

try {
  if (step === 'migrate') {
    await (await getMigrations(auth.options)).runMigrations();
  } else if (step === 'sign-up') {
    const [email, password] = args;
    const r = await auth.api.signUpEmail({ body: { email, password, name: email }, returnHeaders: true });
    const cookie = r.headers.get('set-cookie');
    const { token } = await auth.api.getToken({ headers: new Headers({ cookie }) });
    console.log(JSON.stringify({ id: r.response.user.id, token, cookie }));
  } else {
    await auth.api.signOut({ headers: new Headers({ cookie: args[0] }) });
  }
} finally {
  await pool.end();
}
