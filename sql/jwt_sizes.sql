-- Hostile sizes: taskauth.max_token_size refuses long tokens before any decoding, in every
-- verifying function; with the limit at its maximum, the parser's own bounds hold for a 10k-deep
-- nesting, 100k members and a huge number. Outcomes only; bench/hostile_sizes.py has the costs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS taskauth;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
LOAD 'taskauth';
CREATE SCHEMA jwt_sizes;
SET search_path = jwt_sizes, public;
RESET client_min_messages;

-- Tokens made without taskauth: base64url (RFC 4648 §5) and pgcrypto's hmac.
CREATE FUNCTION b64u(t text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT rtrim(translate(encode(convert_to(t, 'UTF8'), 'base64'), E'+/\n', '-_'), '=') $$;
CREATE FUNCTION mkp(payload text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT h || '.' || p || '.' || rtrim(translate(encode(hmac(h || '.' || p, 's3cret', 'sha256'), 'base64'), E'+/\n', '-_'), '=')
    FROM (SELECT b64u('{"alg":"HS256","typ":"JWT"}') AS h, b64u(payload) AS p) s $$;
-- The outcome of each verifying function for one token: 'ok' or SQLSTATE and message.
CREATE FUNCTION try(q text, tok text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q USING tok;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE VIEW verifiers (fn, q) AS VALUES
  ('jwt_verify(text, text)',             'SELECT taskauth.jwt_verify($1, ''s3cret'')'),
  ('jwt_verify(text, text, text, text)', 'SELECT taskauth.jwt_verify($1, ''s3cret'', ''aud'', ''iss'')'),
  ('jwt_verify(text, jsonb)',            'SELECT taskauth.jwt_verify($1, ''{}''::jsonb)'),
  ('jwt_verify(text, jsonb, text, text)','SELECT taskauth.jwt_verify($1, ''{}''::jsonb, ''aud'', ''iss'')'),
  ('authenticate(text)',                 'SELECT taskauth.authenticate($1)');

-- The default: 16 kB, changeable only by a superuser.
SHOW taskauth.max_token_size;
SELECT setting, unit, min_val, max_val, context FROM pg_settings WHERE name = 'taskauth.max_token_size';
CREATE ROLE ta_sizes_user;
SET ROLE ta_sizes_user;
SET taskauth.max_token_size = '1MB';
RESET ROLE;
DROP ROLE ta_sizes_user;

-- At the limit a token is parsed (and refused as malformed); one byte more is refused by size,
-- by every function, before the key is even looked at (the jsonb key '{}' is no key at all).
SELECT fn, try(q, repeat('a', 16384)) AS at_limit, try(q, repeat('a', 16385)) AS over_limit FROM verifiers;

-- A real token verifies under the default and is refused once the limit is below its size.
SELECT length(mkp('{"sub":"' || repeat('x', 2000) || '"}')) AS len,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"sub":"' || repeat('x', 2000) || '"}')) AS default_limit;
SET taskauth.max_token_size = 1024;
SELECT try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"sub":"' || repeat('x', 2000) || '"}')) AS limit_1kb;
RESET taskauth.max_token_size;

-- A 10 MB token: refused by size, whether passed in as a value or read from a table where it is
-- stored compressed (its length comes from the header; it is not decompressed).
SELECT fn, try(q, repeat('a', 10 * 1024 * 1024)) AS ten_mb FROM verifiers;
CREATE TABLE big (t text);
INSERT INTO big VALUES (repeat('eyJhbGciOiJIUzI1NiJ9', 524288));
SELECT length(t) AS chars, pg_column_size(t) < 1024 * 1024 AS stored_compressed FROM big;
SELECT fn, try(q, (SELECT t FROM big)) AS ten_mb_stored FROM verifiers;
SELECT try('SELECT taskauth.jwt_verify(t, ''s3cret'') FROM jwt_sizes.big', NULL) AS from_column;

-- The limit at its maximum, 1 MB: what the parser itself does with hostile claims.
SET taskauth.max_token_size = '1MB';
SHOW taskauth.max_token_size;
SELECT fn, try(q, repeat('a', 1048576)) AS at_max, try(q, repeat('a', 1048577)) AS over_max FROM verifiers;
SELECT fn, try(q, repeat('a', 10 * 1024 * 1024)) AS ten_mb FROM verifiers;

-- 10k-deep nesting: refused by the JSON validator's depth bound (64).
SELECT length(mkp('{"a":' || repeat('[', 10000) || repeat(']', 10000) || '}')) AS deep_len,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"a":' || repeat('[', 10000) || repeat(']', 10000) || '}')) AS deep_10k;
SELECT try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"a":' || repeat('[', 63) || repeat(']', 63) || '}')) AS deep_64,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"a":' || repeat('[', 64) || repeat(']', 64) || '}')) AS deep_65;

-- 100k members with distinct keys do not fit into 1 MB: refused by size.
CREATE TABLE members AS
SELECT '{' || string_agg('"' || g || '":0', ',' ORDER BY g) || '}' AS distinct_100k,
       '{' || string_agg('"a":' || (g = 100000)::int, ',' ORDER BY g) || '}' AS repeated_100k,
       '{' || string_agg('"' || g || '":0', ',' ORDER BY g) FILTER (WHERE g <= 70000) || '}' AS distinct_70k
  FROM generate_series(1, 100000) g;
SELECT length(mkp(distinct_100k)) AS len,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp(distinct_100k)) AS distinct_100k FROM members;
-- 100k members naming one key fit, and are accepted: the last one wins, as in jsonb.
SELECT length(mkp(repeated_100k)) AS len, taskauth.jwt_verify(mkp(repeated_100k), 's3cret') AS repeated_100k FROM members;
-- 70k distinct members fit, and come back exactly.
SELECT length(mkp(distinct_70k)) AS len,
       taskauth.jwt_verify(mkp(distinct_70k), 's3cret') = distinct_70k::jsonb AS distinct_70k_exact,
       (SELECT count(*) FROM jsonb_object_keys(taskauth.jwt_verify(mkp(distinct_70k), 's3cret'))) AS keys
  FROM members;

-- A 1 MB number does not fit into 1 MB once encoded: refused by size. The longest that fits is
-- refused by the validator, being more digits than numeric (and so jsonb) can hold.
SELECT length(mkp('{"n":' || repeat('9', 1048576) || '}')) AS len,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"n":' || repeat('9', 1048576) || '}')) AS number_1mb;
SELECT length(mkp('{"n":' || repeat('9', 780000) || '}')) AS len,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"n":' || repeat('9', 780000) || '}')) AS number_780k,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"n":0.' || repeat('9', 780000) || '}')) AS fraction_780k;
-- The longest numbers numeric holds are accepted exactly.
SELECT taskauth.jwt_verify(mkp('{"n":' || repeat('9', 131072) || '}'), 's3cret')->'n' = repeat('9', 131072)::jsonb AS integer_131072_digits,
       try('SELECT taskauth.jwt_verify($1, ''s3cret'')', mkp('{"n":' || repeat('9', 131073) || '}')) AS integer_131073_digits;
RESET taskauth.max_token_size;

SET client_min_messages = warning;
DROP SCHEMA jwt_sizes CASCADE;
