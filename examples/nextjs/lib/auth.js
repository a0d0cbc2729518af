// Better Auth: accounts, sessions and the JWTs that taskauth verifies. Server code only.
// It reads BETTER_AUTH_URL (its base URL: the iss and aud of its tokens), BETTER_AUTH_SECRET and
// BETTER_AUTH_TRUSTED_ORIGINS itself.
import { betterAuth } from 'better-auth';
import { jwt } from 'better-auth/plugins';
import { Pool } from 'pg';

export const auth = betterAuth({
  // Better Auth's tables (user, session, account, verification, jwks) in schema public, owned by
  // the role of AUTH_DATABASE_URL; `node migrate.mjs` makes them.
  database: new Pool({ connectionString: process.env.AUTH_DATABASE_URL, application_name: 'nextjs-auth' }),
  emailAndPassword: { enabled: true },
  // taskauth takes the token's sub as the user id, which must be a uuid.
  advanced: { database: { generateId: 'uuid' } },
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
