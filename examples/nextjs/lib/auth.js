// Better Auth: accounts, sessions and the JWTs that taskauth verifies. Server code only.
// It reads BETTER_AUTH_URL (its base URL: the iss and aud of its tokens), BETTER_AUTH_SECRET and
// BETTER_AUTH_TRUSTED_ORIGINS itself.
import { betterAuth } from 'better-auth';
import { APIError, createAuthMiddleware } from 'better-auth/api';
import { jwt } from 'better-auth/plugins';
import { Pool } from 'pg';

// Better Auth's tables (user, session, account, verification, jwks) in schema public, owned by
// the role of AUTH_DATABASE_URL; `node migrate.mjs` makes them. The sign-in hooks run
// taskauth's throttle functions on this connection too (setup.sql grants them to that role).
const pool = new Pool({ connectionString: process.env.AUTH_DATABASE_URL, application_name: 'nextjs-auth' });
// An idle connection the server closes (a restart, a failover) leaves the pool; unheard, its
// error would end the process.
pool.on('error', (e) => console.error(`database: an idle connection was lost (${e.message})`));

export const auth = betterAuth({
  database: pool,
  emailAndPassword: { enabled: true },
  // taskauth takes the token's sub as the user id, which must be a uuid.
  advanced: { database: { generateId: 'uuid' } },
  hooks: signInThrottleHooks(pool),
  telemetry: { enabled: false },
  plugins: [
    jwt({
      jwt: {
        expirationTime: '15m',
        // The claims Better Auth signs by default (sub, email, name, ...), and the session's id as
        // sid: once the session row goes (sign-out), taskauth refuses every token that names it
        // (setup.sql: taskauth.follow_issuer_sessions).
        definePayload: ({ user, session }) => ({ ...user, sid: session.id }),
      },
    }),
  ],
});

// taskauth's per-email login throttle over Better Auth's sign-ins, besides Better Auth's own rate
// limiter (which counts per client address, as X-Forwarded-For names it, and runs first: a
// request it refuses is not counted here). Every sign-in is counted as a failure before Better
// Auth checks the password, in a statement of its own that commits at once; one that starts a
// session takes its count back. Once an email has failed taskauth.login_throttle_threshold (5)
// times in a row, known or not, its sign-ins get 429 whatever address they claim, the right
// password too, until the lock ends (PT429 from taskauth).
function signInThrottleHooks(pool) {
  // the email taskauth counts: the request's, as Better Auth reads it (not yet validated)
  const emailOf = (ctx) => (ctx.path === '/sign-in/email' && typeof ctx.body?.email === 'string'
    ? ctx.body.email : null);
  return {
    before: createAuthMiddleware(async (ctx) => {
      const email = emailOf(ctx);
      if (email === null) return;
      try {
        await pool.query('SELECT taskauth.count_issuer_login_attempt($1)', [email]);
      } catch (e) {
        if (e.code !== 'PT429') throw e;
        // e.detail: "Try again in N seconds."
        const seconds = /(\d+) seconds/.exec(e.detail ?? '')?.[1] ?? '60';
        throw new APIError('TOO_MANY_REQUESTS', {
          code: 'TOO_MANY_FAILED_SIGN_INS',
          message: `Too many failed sign-ins for this email. Try again in ${seconds} seconds.`,
        }, { 'X-Retry-After': seconds });
      }
    }),
    after: createAuthMiddleware(async (ctx) => {
      const email = emailOf(ctx);
      if (email !== null && ctx.context.newSession)
        await pool.query('SELECT taskauth.issuer_login_succeeded($1)', [email]);
    }),
  };
}
