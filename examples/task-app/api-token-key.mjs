#!/usr/bin/env node
// Prints the HS256 key the app signs its API tokens with when AUTH_JWT_SIGNING=hs256, derived
// from BETTER_AUTH_SECRET (apiTokenKey in config.mjs): what setup.sql takes as signing_secret in
// that setup. Reads the same environment as `node server.mjs`.
import { apiTokenKey, loadConfig } from './config.mjs';

try {
  const config = loadConfig();
  if (config.usingDevelopmentSecret)
    console.warn('api-token-key: BETTER_AUTH_SECRET is not set; using the development secret');
  console.log(apiTokenKey(config.secret));
} catch (e) {
  console.error(`api-token-key: ${e.message}`);
  process.exit(1);
}
