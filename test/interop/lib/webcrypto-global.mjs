// Imported first by the Node tests: jose and better-auth call the Web Crypto global, which some
// Node 20 builds do not define at startup; node:crypto's webcrypto is the same implementation.
import { webcrypto } from 'node:crypto';

if (globalThis.crypto === undefined)
  globalThis.crypto = webcrypto;
