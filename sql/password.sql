-- Passwords: hash_password, verify_password, password_needs_rehash and their settings.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS taskauth;
RESET client_min_messages;
-- the settings exist once the module is loaded, whichever file created the extension
LOAD 'taskauth';

-- Declared volatility, strictness and parallel safety.
SELECT p.oid::regprocedure AS function, provolatile, proisstrict, proparallel
FROM pg_proc p
WHERE pronamespace = 'taskauth'::regnamespace
  AND proname IN ('hash_password', 'hash_password_argon2id', 'verify_password', 'password_needs_rehash')
ORDER BY 1::text;

-- Defaults.
SHOW taskauth.password_algorithm;
SHOW taskauth.bcrypt_cost;
SHOW taskauth.max_bcrypt_cost;
SHOW taskauth.argon2_memory_kib;
SHOW taskauth.argon2_time;
SHOW taskauth.argon2_parallelism;
SHOW taskauth.max_argon2_memory_kib;
SHOW taskauth.max_argon2_time;
SHOW taskauth.max_argon2_parallelism;

-- Known answers, bcrypt: Openwall crypt_blowfish 1.3 wrapper.c tests[] (the empty password and
-- the exactly-72-byte one included). The $2b$ and $2y$ rows are the same vectors with the prefix
-- rewritten: for ASCII passwords the three prefixes compute the same thing.
CREATE TEMP TABLE bcrypt_kat (pw text, hash text);
INSERT INTO bcrypt_kat VALUES
  ('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('U*U*', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK'),
  ('U*U*U', '$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a'),
  ('', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy'),
  ('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
   '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui'),
  ('U*U', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('U*U', '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy'),
  ('', '$2y$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy');
SELECT octet_length(pw) AS pw_bytes, left(hash, 7) AS setting,
       taskauth.verify_password(pw, hash) AS right_pw,
       taskauth.verify_password(pw || 'x', hash) AS pw_plus_x,
       taskauth.verify_password('U*U*U*', hash) AS other_pw
FROM bcrypt_kat ORDER BY hash;

-- The same 72 bytes followed by more never match: no silent truncation.
SELECT taskauth.verify_password(
  '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored',
  '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui') AS over_72_bytes;

-- UTF-8: eight "π" (16 bytes); vector from the Bouncy Castle OpenBSDBCrypt tests.
SELECT taskauth.verify_password('ππππππππ',
  '$2a$10$.TtQJ4Jr6isd4Hp.mVfZeuh6Gws4rOQ/vdBczhDx.19NFK0Y84Dle') AS utf8_pw;

-- Known answers, argon2id: the reference implementation's src/test.c (phc-winner-argon2, v=19).
CREATE TEMP TABLE argon2_kat (pw text, hash text);
INSERT INTO argon2_kat VALUES
  ('password', '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4'),
  ('password', '$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc'),
  ('password', '$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg'),
  ('password', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'),
  ('password', '$argon2id$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$vfMrBczELrFdWP0ZsfhWsRPaHppYdP3MVEMIVlqoFBw'),
  ('differentpassword', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94'),
  -- 256 MiB: exactly at the default taskauth.max_argon2_memory_kib, so still accepted
  ('password', '$argon2id$v=19$m=262144,t=2,p=1$c29tZXNhbHQ$eP4eyR+zqlZX1y5xCFTkw9m5GYx0L5YWwvCFvtlbLow'),
  -- parameters in node's order (m,p,t) and another: the same hash
  ('password', '$argon2id$v=19$m=256,p=2,t=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc'),
  ('password', '$argon2id$v=19$t=2,m=256,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc');
SELECT split_part(hash, '$', 4) AS params, pw,
       taskauth.verify_password(pw, hash) AS right_pw,
       taskauth.verify_password(pw || 'x', hash) AS pw_plus_x
FROM argon2_kat ORDER BY hash;

-- Known answers, yescrypt: libxcrypt's test/alg-yescrypt.c (from yescrypt's TESTS-OK).
SELECT taskauth.verify_password('pleaseletmein',
         '$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6') AS yescrypt_right,
       taskauth.verify_password('pleaseletmeim',
         '$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6') AS yescrypt_wrong,
       taskauth.verify_password('', '$y$jD5.7$$JD8dsR.nt1ty0ltQ2HHwauaDRoOUIEaA5i.vpj2nyL.') AS yescrypt_empty;

-- Round trips at cost 4.
CREATE TEMP TABLE made (label text, hash text);
INSERT INTO made VALUES
  ('cost 4', taskauth.hash_password('correct horse', 4)),
  ('cost 4 again', taskauth.hash_password('correct horse', 4)),
  ('empty', taskauth.hash_password('', 4)),
  ('72 bytes', taskauth.hash_password(repeat('é', 36), 4)),
  ('argon2id small', taskauth.hash_password_argon2id('correct horse', 64, 1, 1)),
  ('argon2id 4 lanes', taskauth.hash_password_argon2id('correct horse', 256, 2, 4)),
  ('argon2id 1000 bytes', taskauth.hash_password_argon2id(repeat('x', 1000), 64, 1, 1));
SELECT label, length(hash) AS len,
       CASE WHEN hash LIKE '$2b$%' THEN left(hash, 7)
            ELSE split_part(hash, '$', 2) || ' ' || split_part(hash, '$', 3) || ' ' || split_part(hash, '$', 4)
       END AS head,
       hash ~ '^\$2b\$04\$[./A-Za-z0-9]{53}$' OR hash ~ '^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$' AS shape
FROM made ORDER BY label;
SELECT count(DISTINCT hash) = 2 AS salts_differ FROM made WHERE label LIKE 'cost 4%';
SELECT taskauth.verify_password('correct horse', hash) AS right_pw,
       taskauth.verify_password('correct horsf', hash) AS wrong_pw
FROM made WHERE label IN ('cost 4', 'argon2id small', 'argon2id 4 lanes');
SELECT taskauth.verify_password('', hash) FROM made WHERE label = 'empty';
SELECT taskauth.verify_password(repeat('é', 36), hash) AS all_72,
       taskauth.verify_password(repeat('é', 35), hash) AS first_70
FROM made WHERE label = '72 bytes';
SELECT taskauth.verify_password(repeat('x', 1000), hash) AS all_1000,
       taskauth.verify_password(repeat('x', 999), hash) AS first_999
FROM made WHERE label = 'argon2id 1000 bytes';

-- The settings choose the algorithm and cost.
SET taskauth.bcrypt_cost = 5;
SELECT left(taskauth.hash_password('pw'), 7) AS bcrypt_setting;
SET taskauth.password_algorithm = 'argon2id';
SET taskauth.argon2_memory_kib = 128;
SET taskauth.argon2_time = 1;
SET taskauth.argon2_parallelism = 2;
SELECT split_part(h, '$', 2) || ' ' || split_part(h, '$', 4) AS argon2_setting,
       taskauth.verify_password('pw', h) AS verifies
FROM (SELECT taskauth.hash_password('pw') AS h) s;
SELECT split_part(taskauth.hash_password_argon2id('pw'), '$', 4) AS argon2_function;
-- an explicit cost is always bcrypt
SELECT left(taskauth.hash_password('pw', 4), 7) AS explicit_cost;
RESET taskauth.password_algorithm;
RESET taskauth.bcrypt_cost;
RESET taskauth.argon2_memory_kib;
RESET taskauth.argon2_time;
RESET taskauth.argon2_parallelism;

-- Hashing errors.
SELECT taskauth.hash_password(repeat('a', 73), 4);
SELECT taskauth.hash_password(repeat('é', 37), 4);
SELECT taskauth.hash_password('pw', 3);
SELECT taskauth.hash_password('pw', 32);
SELECT taskauth.hash_password('pw', 15);
SELECT taskauth.hash_password('pw', -1);
SET taskauth.bcrypt_cost = 15;
SELECT taskauth.hash_password('pw');
RESET taskauth.bcrypt_cost;
SELECT taskauth.hash_password_argon2id('pw', 7, 1, 1);
SELECT taskauth.hash_password_argon2id('pw', 16, 1, 4);
SELECT taskauth.hash_password_argon2id('pw', 64, 0, 1);
SELECT taskauth.hash_password_argon2id('pw', 64, 1, -1);
SELECT taskauth.hash_password_argon2id('pw', 4194304, 1, 1);
SELECT taskauth.hash_password_argon2id('pw', 64, 11, 1);
SELECT taskauth.hash_password_argon2id('pw', 256, 1, 9);
SET taskauth.password_algorithm = 'argon2id';
SET taskauth.argon2_memory_kib = 262145;
SELECT taskauth.hash_password('pw');
RESET taskauth.argon2_memory_kib;
RESET taskauth.password_algorithm;
SET taskauth.bcrypt_cost = 3;
SET taskauth.password_algorithm = 'scrypt';

-- STRICT: NULL in, NULL out.
SELECT taskauth.hash_password(NULL) IS NULL AS a, taskauth.hash_password('x', NULL) IS NULL AS b,
       taskauth.verify_password(NULL, '$2b$04$abc') IS NULL AS c,
       taskauth.verify_password('x', NULL) IS NULL AS d,
       taskauth.password_needs_rehash(NULL) IS NULL AS e;

-- Each malformed or refused hash is an error (22023), whatever the password.
SELECT taskauth.verify_password('x', '');
SELECT taskauth.verify_password('x', 'U*U');
SELECT taskauth.verify_password('x', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe');
SELECT taskauth.verify_password('x', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW');
SELECT taskauth.verify_password('x', '$2b$0x$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$2b$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$2b$05$CCCCCCCCCCCCCCCCCCCC_.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$2b$05$CCCCCCCCCCCCCCCCCCCCCDE5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX');
SELECT taskauth.verify_password('x', '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$2$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$6$rounds=5000$salt$abc');
SELECT taskauth.verify_password('x', '$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8');
SELECT taskauth.verify_password('x', '$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2,p=1,t=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2,p=1,data=abc$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR_uIPnA4rEsF5h7TKyQwu9U1bMCHGi_4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=7,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4');
SELECT taskauth.verify_password('x', '$y$/B3.6$LdJMENpBABJJ3hIHjB1$h8sE4hJo.BsdlfJr0.d8bNJNPZymH7Y3kLj4aY1Rfc8');
SELECT taskauth.verify_password('x', '$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK');

-- Above the maxima: refused before any work. A $2b$31$ hash would take days and an argon2
-- string asking for 4 GiB would allocate it; both fail at once.
SELECT taskauth.verify_password('x', '$2b$15$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=65536,t=11,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc');
SELECT taskauth.verify_password('x', '$argon2id$v=19$m=65536,t=2,p=9$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc');
SELECT taskauth.verify_password('x', '$y$jFT$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6');
SELECT taskauth.verify_password('x', '$y$jE5.w9rC$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6');
-- Refused before any work: computing any of these would take days or 4 GiB, so getting the
-- error back at all shows the check came first (no clock is read: speed is for bench/).
DO $$
DECLARE
  h text;
  refused int := 0;
BEGIN
  FOREACH h IN ARRAY ARRAY[
    '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    '$argon2id$v=19$m=4294967295,t=4294967295,p=16777215$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc']
  LOOP
    BEGIN
      PERFORM taskauth.verify_password('x', h);
    EXCEPTION WHEN invalid_parameter_value THEN
      refused := refused + 1;
    END;
  END LOOP;
  RAISE NOTICE 'refused % of 3', refused;
END
$$;

-- Every refusal above carries SQLSTATE 22023 (invalid_parameter_value).
DO $$
DECLARE
  h text;
  states text[] := '{}';
BEGIN
  FOREACH h IN ARRAY ARRAY['', 'U*U', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe',
    '$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$argon2id$v=19$m=7,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    '$y$jFT$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6']
  LOOP
    BEGIN
      PERFORM taskauth.verify_password('x', h);
      states := states || 'none'::text;
    EXCEPTION WHEN OTHERS THEN
      states := states || SQLSTATE::text;
    END;
  END LOOP;
  RAISE NOTICE 'sqlstates: %', array_to_string(ARRAY(SELECT DISTINCT unnest(states)), ',');
END
$$;

-- A superuser may change a maximum; it applies to the next call.
SET taskauth.max_bcrypt_cost = 5;
SELECT taskauth.verify_password('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW') AS cost_5_at_max;
SELECT taskauth.verify_password('x', '$2b$06$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.hash_password('x', 6);
RESET taskauth.max_bcrypt_cost;
SET taskauth.max_argon2_memory_kib = 256;
SELECT taskauth.verify_password('password', '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4') AS at_max;
SELECT taskauth.verify_password('password', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc');
RESET taskauth.max_argon2_memory_kib;

-- Only superusers set the maxima and the policy: a client that could lower its own cost
-- before register or login would store a weak hash.
CREATE ROLE taskauth_pw_user;
SET ROLE taskauth_pw_user;
SET taskauth.max_bcrypt_cost = 31;
SET taskauth.max_argon2_memory_kib = 4194304;
SET taskauth.max_argon2_time = 100;
SET taskauth.max_argon2_parallelism = 64;
SET taskauth.bcrypt_cost = 4;
SET taskauth.password_algorithm = 'argon2id';
SET taskauth.argon2_memory_kib = 8;
SET taskauth.argon2_time = 1;
SET taskauth.argon2_parallelism = 2;
RESET ROLE;
DROP ROLE taskauth_pw_user;

-- password_needs_rehash under the default policy (bcrypt, cost 12).
CREATE TEMP TABLE stored (label text, hash text);
INSERT INTO stored VALUES
  ('2b cost 12', '$2b$12$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('2b cost 13', '$2b$13$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('2b cost 31', '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('2b cost 10', '$2b$10$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('2a cost 12', '$2a$12$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('2y cost 14', '$2y$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
  ('argon2id owasp', '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'),
  ('argon2id node', '$argon2id$v=19$m=65536,p=4,t=3$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'),
  ('argon2id less memory', '$argon2id$v=19$m=12288,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'),
  ('argon2id one pass', '$argon2id$v=19$m=47104,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'),
  ('argon2id 8-byte salt', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'),
  ('yescrypt', '$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6');
SELECT label, taskauth.password_needs_rehash(hash) AS bcrypt_12 FROM stored ORDER BY label;
SET taskauth.bcrypt_cost = 13;
SELECT label, taskauth.password_needs_rehash(hash) AS bcrypt_13 FROM stored WHERE label LIKE '2%' ORDER BY label;
SET taskauth.password_algorithm = 'argon2id';
SELECT label, taskauth.password_needs_rehash(hash) AS argon2id_owasp FROM stored ORDER BY label;
SET taskauth.argon2_parallelism = 2;
SELECT label, taskauth.password_needs_rehash(hash) AS argon2id_p2 FROM stored WHERE label LIKE 'argon2id%' ORDER BY label;
RESET taskauth.argon2_parallelism;
RESET taskauth.password_algorithm;
RESET taskauth.bcrypt_cost;
-- a hash made today needs no rehash; a malformed one is an error
SELECT taskauth.password_needs_rehash(taskauth.hash_password('pw', 12)) AS fresh_default;
SELECT taskauth.password_needs_rehash('$2x$12$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT taskauth.password_needs_rehash('not a hash');
