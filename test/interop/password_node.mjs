#!/usr/bin/env node
// Password hashes both ways between taskauth and node's libraries: bcryptjs ($2b$ by default,
// $2a$ on request) and argon2 (node-argon2, the reference implementation's binding; it
// writes the parameters in m,p,t order where libargon2 writes m,t,p, and taskauth reads any
// order). Every hash is made at test time. Uses the cluster from the PG* environment; emits TAP.
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { tap, done } from './lib/tap.mjs';

const DB = `ta_pw_node_${process.pid}`;
const PASSWORDS = [
  'correct horse battery staple',
  '',
  'pässwörd-密码-🔐',
  "' OR 1=1; -- $2b$ \\ \"",
  'a'.repeat(72),
  'é'.repeat(36),
];


// A short printable name for a password.
function label(pw) {
  const b = Buffer.byteLength(pw);
  if (b === 0) return 'empty';
  return b >= 40 || /[^\x20-\x7e]/.test(pw) ? `${b} bytes` : JSON.stringify(pw.slice(0, 12));
}

// A different password of the same length (appending would pass bcrypt's 72-byte mark).
function wrong(pw) {
  if (pw === '') return 'x';
  return pw.slice(0, -1) + (pw.endsWith('y') ? 'z' : 'y');
}

async function main() {
  const admin = new pg.Client({ database: process.env.PGDATABASE || 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  const db = new pg.Client({ database: DB });
  await db.connect();
  try {
    await db.query('CREATE EXTENSION taskauth');
    await run(db);
  } finally {
    await db.end();
    await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin.end();
  }
  done();
}

// taskauth.verify_password, or the error text if it raised.
async function oursVerify(db, pw, h) {
  try {
    return (await db.query('SELECT taskauth.verify_password($1, $2) AS v', [pw, h])).rows[0].v;
  } catch (e) {
    return `error: ${e.message}`;
  }
}

// A hash made by a node library verifies in taskauth, and a wrong password does not.
async function checkTheirs(db, lib, pw, h) {
  let got = await oursVerify(db, pw, h);
  tap(got === true, `${lib} hash (${h.slice(0, 10)}, ${label(pw)}) verifies in verify_password`, got);
  got = await oursVerify(db, wrong(pw), h);
  tap(got === false, `${lib} hash (${h.slice(0, 10)}, ${label(pw)}) refuses a wrong password`, got);
}

async function run(db) {
  // theirs -> ours
  for (const pw of PASSWORDS) {
    await checkTheirs(db, 'bcryptjs', pw, bcrypt.hashSync(pw, 4));
    await checkTheirs(db, 'bcryptjs $2a$', pw, bcrypt.hashSync(pw, bcrypt.genSaltSync(4, 'a')));
    await checkTheirs(db, 'node argon2', pw, await argon2.hash(pw, {
      type: argon2.argon2id, memoryCost: 64, timeCost: 1, parallelism: 2,
    }));
  }
  {
    const pw = PASSWORDS[0];
    // node argon2's own defaults (m=65536, t=3, p=4), in the order it writes them; that they are
    // is a fact about the library alone, counted apart by the harness ("[library] ")
    const h = await argon2.hash(pw);
    tap(/^\$argon2id\$v=19\$m=65536,[tp]=\d,[tp]=\d\$/.test(h), '[library] node argon2 defaults are argon2id m=65536', h);
    await checkTheirs(db, 'node argon2 defaults', pw, h);
    await checkTheirs(db, 'node argon2 64-byte digest', pw, await argon2.hash(pw, {
      type: argon2.argon2id, memoryCost: 64, timeCost: 1, parallelism: 1, hashLength: 64,
    }));
  }

  // ours -> theirs
  for (const pw of PASSWORDS) {
    const h = (await db.query('SELECT taskauth.hash_password($1, 4) AS h', [pw])).rows[0].h;
    tap(bcrypt.compareSync(pw, h) && !bcrypt.compareSync(wrong(pw), h),
      `ours (${label(pw)}) verifies in bcryptjs`, h);
    tap(bcrypt.getRounds(h) === 4, `bcryptjs reads cost 4 from ours (${label(pw)})`, h);
    const a = (await db.query('SELECT taskauth.hash_password_argon2id($1, 64, 1, 2) AS h', [pw])).rows[0].h;
    tap(await argon2.verify(a, pw) && !(await argon2.verify(a, wrong(pw))),
      `ours argon2id (${label(pw)}) verifies in node argon2`, a);
  }
  {
    const pw = PASSWORDS[2];
    await db.query("SET taskauth.password_algorithm = 'argon2id'");
    const h = (await db.query('SELECT taskauth.hash_password($1) AS h', [pw])).rows[0].h;
    await db.query('RESET taskauth.password_algorithm');
    tap(await argon2.verify(h, pw), 'ours at OWASP parameters verifies in node argon2', h);
    tap(!argon2.needsRehash(h, { memoryCost: 19456, timeCost: 2, parallelism: 1 }),
      'node argon2 finds ours current at the same parameters', h);
  }
}

main().catch((e) => {
  tap(false, 'password_node.mjs ran to the end', e.stack || e);
  done(true);
});
