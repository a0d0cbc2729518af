// Better Auth's HTTP API at /api/auth/*: sign-up, sign-in, sign-out, sessions, and the jwt
// plugin's /api/auth/token and /api/auth/jwks.
import { toNextJsHandler } from 'better-auth/next-js';
import { auth } from '../../../../lib/auth.js';

export const { GET, POST } = toNextJsHandler(auth);
