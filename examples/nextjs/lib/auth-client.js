// Better Auth in the browser: sign-up, sign-in and sign-out against /api/auth/* of this origin.
import { createAuthClient } from 'better-auth/react';

export const authClient = createAuthClient();
