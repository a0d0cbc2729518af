// Better Auth: accounts, sessions and the JWTs the API accepts, served at /api/auth/*.
import { createHmac } from 'node:crypto';
import { betterAuth } from 'better-auth';
import { APIError, createAuthMiddleware } from 'better-auth/api';
import { getMigrations } from 'better-auth/db/migration';
import { jwt } from 'better-auth/plugins';
import { apiTokenKey } from './config.mjs';

// The header server.mjs sets on every request to Better Auth: the address of the client's own
// connection, which Better Auth's rate limiter counts by. A header of that name from the client
// is overwritten, and X-Forwarded-For, which any client can send, is not read.
export const CLIENT_ADDRESS_HEADER = 'x-task-app-client-address';

// The Better Auth instance over pool (its tables in schema public of the taskauth database).
export function createAuth(pool, config) {
  const hs256 = config.signing === 'hs256';
  return betterAuth({
    database: pool,
    baseURL: config.baseURL,
    trustedOrigins: config.trustedOrigins,
    secret: config.secret,
    emailAndPassword: { enabled: true },
    advanced: {
      // taskauth takes the token's sub as the user id, which must be a uuid.
      database: { generateId: 'uuid' },
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    rateLimit: rateLimitOptions(config),
    hooks: signInThrottleHooks(pool),
    telemetry: { enabled: false },
    logger: { level: 'error' },
    plugins: [jwt(hs256 ? hs256Options(config) : jwksOptions(config))],
    // With HS256 tokens taskauth checks them with its own signing keys, which create no user
    // rows on first sight as an issuer's keys can: Better Auth creates the row itself.
    ...(hs256 && {
      databaseHooks: {
        user: { create: { after: (user) => createTaskauthUser(pool, user) } },
      },
    }),
  });
}

// Better Auth's rate limiter, on in every mode (by default it runs in production only). It
// counts requests per client address and path, in its rateLimit table (migrate.mjs creates it),
// so that a restart forgets no count. Sign-ins and sign-ups: at most rateLimitMax in a row less
// than rateLimitWindow seconds apart, then 429 until that long has passed since the last one let
// through; other paths keep Better Auth's own rules.
function rateLimitOptions(config) {
  const rule = { window: config.rateLimitWindow, max: config.rateLimitMax };
  return {
    enabled: true,
    storage: 'database',
    customRules: { '/sign-in/email': rule, '/sign-up/email': rule },
  };
}

// taskauth's per-email login throttle over Better Auth's sign-ins, besides its rate limiter
// (which counts per client address, and runs first: a request it refuses is not counted here).
// Every sign-in is counted as a failure before Better Auth checks the password, in a statement
// of its own that commits at once; one that starts a session takes its count back. Once an
// email has failed taskauth.login_throttle_threshold (5) times in a row, its sign-ins get 429
// from every address, the right password too, until the lock ends (PT429 from taskauth).
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

// The claims of Better Auth's tokens: what it signs by default (the user's fields: sub from
// the id, email, name, ...) and the session's id as sid. When the session row goes (sign-out,
// revoke-other-sessions, the user deleted), taskauth refuses every token whose sid names it
// (setup.sql: taskauth.follow_issuer_sessions).
const definePayload = ({ user, session }) => ({ ...user, sid: session.id });

// Default setup: Better Auth signs with its own key pairs (EdDSA), kept in its jwks table,
// which taskauth reads in place (taskauth.add_issuer(..., key_table => 'public.jwks')).
function jwksOptions(config) {
  return {
    jwt: { expirationTime: config.jwtExpiration, definePayload },
    jwks: config.keyRotationSeconds ? { rotationInterval: config.keyRotationSeconds } : undefined,
  };
}

// Second setup: HS256 with a key derived from BETTER_AUTH_SECRET (apiTokenKey), which
// taskauth.add_signing_key was given too; never with the secret itself, which Better Auth signs
// its email-verification links with. The plugin's key pairs are asymmetric only, but it lets a
// custom function sign; it then requires jwks.remoteUrl (and a keyPairConfig.alg, which only
// OpenID metadata would show; this app serves none) and switches its own /jwks endpoint off. An
// HMAC key has no public part to publish, so the URL names nothing.
function hs256Options(config) {
  const key = Buffer.from(apiTokenKey(config.secret), 'utf8');
  return {
    jwks: { remoteUrl: `${config.baseURL}/api/auth/jwks`, keyPairConfig: { alg: 'EdDSA' } },
    jwt: {
      expirationTime: config.jwtExpiration,
      definePayload,
      sign: (payload) => signHs256(payload, key),
    },
  };
}

// A compact JWS (RFC 7515 §7.1) with HMAC SHA-256 over header and payload.
function signHs256(payload, key) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

// The taskauth.users row of a Better Auth user (HS256 setup); it has no password of its own.
async function createTaskauthUser(pool, user) {
  await pool.query(
    `INSERT INTO taskauth.users (id, email, hashed_password) VALUES ($1, $2, '!')
     ON CONFLICT DO NOTHING`,
    [user.id, user.email],
  );
}

// Creates or updates Better Auth's tables (user, session, account, verification, jwks,
// rateLimit).
export async function migrateAuth(auth) {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
}
