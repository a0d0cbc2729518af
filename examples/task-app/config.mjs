// The app's configuration, read from environment variables, with defaults for a local run.
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';

// Used only outside production, so that a first local run needs no setup; never in production.
const DEVELOPMENT_SECRET = 'task-app-development-secret-not-for-production';

// Reads the configuration from env; throws with a message naming the variable when one is wrong.
export function loadConfig(env = process.env) {
  const production = env.NODE_ENV === 'production';
  const host = env.HOST || '127.0.0.1';
  const port = Number.parseInt(env.PORT || '3000', 10);
  if (!(port >= 0 && port < 65536)) throw new Error('PORT must be a TCP port number');

  let secret = env.BETTER_AUTH_SECRET;
  if (secret === undefined || secret === '') {
    if (production)
      throw new Error('BETTER_AUTH_SECRET must be set (at least 32 bytes) when NODE_ENV=production');
    secret = DEVELOPMENT_SECRET;
  }
  if (Buffer.byteLength(secret, 'utf8') < 32)
    throw new Error('BETTER_AUTH_SECRET must be at least 32 bytes long');

  const signing = env.AUTH_JWT_SIGNING || 'jwks';
  if (signing !== 'jwks' && signing !== 'hs256')
    throw new Error('AUTH_JWT_SIGNING must be "jwks" or "hs256"');
  const rotation = env.AUTH_KEY_ROTATION_SECONDS ? Number(env.AUTH_KEY_ROTATION_SECONDS) : undefined;
  if (rotation !== undefined && !(rotation > 0))
    throw new Error('AUTH_KEY_ROTATION_SECONDS must be a positive number of seconds');
  const rateLimitMax = positiveInteger(env, 'AUTH_RATE_LIMIT_MAX', 5);
  const rateLimitWindow = positiveInteger(env, 'AUTH_RATE_LIMIT_WINDOW', 60);
  const demoAccounts = parseDemoAccounts(env.DEMO_ACCOUNTS);
  if (production && demoAccounts.length > 0)
    throw new Error('DEMO_ACCOUNTS is for local runs only; unset it when NODE_ENV=production');
  const baseURL = (env.BETTER_AUTH_URL || `http://${host}:${port}`).replace(/\/+$/, '');

  return {
    production,
    host,
    port,
    // Better Auth's own variable; the issuer (iss) and audience (aud) of its tokens.
    baseURL,
    // Origins besides baseURL whose sign-ins Better Auth takes: the other loopback name.
    trustedOrigins: loopbackAlias(baseURL),
    secret,
    usingDevelopmentSecret: secret === DEVELOPMENT_SECRET,
    // PostGraphile logs in as the authenticator role and switches to apiRole per request.
    databaseUrl: env.DATABASE_URL || 'postgres://authenticator:change-me@localhost:5432/task_app',
    apiRole: env.API_ROLE || 'web',
    // Better Auth's tables live in schema public of the same database; this role owns them.
    authDatabaseUrl: env.AUTH_DATABASE_URL || 'postgres://localhost:5432/task_app',
    signing,
    jwtExpiration: env.AUTH_JWT_EXPIRATION || '15m',
    keyRotationSeconds: rotation,
    // Sign-ins and sign-ups per client address: at most rateLimitMax in a row less than
    // rateLimitWindow seconds apart (Better Auth's rate limiter, auth.mjs).
    rateLimitMax,
    rateLimitWindow,
    // [{email, password}]: accounts `make serve` creates, which the page shows.
    demoAccounts,
  };
}

// A positive whole number from env[name], or fallback when it is unset.
function positiveInteger(env, name, fallback) {
  if (env[name] === undefined || env[name] === '') return fallback;
  const n = Number(env[name]);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${name} must be a positive whole number`);
  return n;
}

// The page may be opened under either loopback name (`make serve` prints 127.0.0.1, people type
// localhost): for a base URL on one of them, the same URL on the other. Better Auth refuses a
// sign-in from an origin it does not trust.
function loopbackAlias(baseURL) {
  const url = new URL(baseURL);
  const other = { '127.0.0.1': 'localhost', localhost: '127.0.0.1' }[url.hostname];
  if (other === undefined) return [];
  url.hostname = other;
  return [url.origin];
}

// DEMO_ACCOUNTS: "email:password" pairs separated by spaces.
function parseDemoAccounts(text) {
  return (text ?? '').split(/\s+/).filter(Boolean).map((pair) => {
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1)
      throw new Error('DEMO_ACCOUNTS must be "email:password" pairs separated by spaces');
    return { email: pair.slice(0, colon), password: pair.slice(colon + 1) };
  });
}

// The HS256 key the API's tokens are signed and verified with when AUTH_JWT_SIGNING=hs256: the
// base64url (no padding) of HMAC-SHA256(BETTER_AUTH_SECRET, "task-app api token"), used as the
// 43 ASCII bytes of the key. Better Auth signs its email-verification links with the secret
// itself, so an API token never verifies as one (RFC 8725 §3.9: one key per kind of token).
// Better Auth MACs other values with the secret too (signed cookies show the client theirs:
// session tokens, random state, "true", JSON objects), never this label, so no client sees this
// key. taskauth.add_signing_key gets it in setup.sql; `node api-token-key.mjs` prints it.
export function apiTokenKey(secret) {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update('task-app api token').digest('base64url');
}
