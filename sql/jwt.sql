-- taskauth tokens: jwt_sign / jwt_verify (HS256/384/512), strict parsing, claim checks.
CREATE EXTENSION IF NOT EXISTS taskauth;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA jwt_test;
SET search_path = jwt_test, public;

-- Helpers that build tokens independently of taskauth, with pgcrypto's hmac().
CREATE FUNCTION b64u(b bytea) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT rtrim(translate(encode(b, 'base64'), E'+/\n', '-_'), '=') $$;
CREATE FUNCTION b64u(t text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT b64u(convert_to(t, 'UTF8')) $$;
CREATE FUNCTION unb64u(s text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT convert_from(decode(translate(s, '-_', '+/') || repeat('=', (4 - length(s) % 4) % 4), 'base64'), 'UTF8') $$;
-- sign raw segments
CREATE FUNCTION mkseg(hseg text, pseg text, secret text DEFAULT 's3cret', alg text DEFAULT 'sha256')
RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT hseg || '.' || pseg || '.' || b64u(hmac(hseg || '.' || pseg, secret, alg)) $$;
-- sign header and payload JSON texts
CREATE FUNCTION mk(header text, payload text, secret text DEFAULT 's3cret', alg text DEFAULT 'sha256')
RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT mkseg(b64u(header), b64u(payload), secret, alg) $$;
-- an HS256 token with the usual header
CREATE FUNCTION mkp(payload text, secret text DEFAULT 's3cret') RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT mk('{"alg":"HS256","typ":"JWT"}', payload, secret) $$;
-- the outcome of a verification as one line: 'ok' or SQLSTATE and message
CREATE FUNCTION try(tok text, secret text DEFAULT 's3cret', aud text DEFAULT NULL, iss text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM taskauth.jwt_verify(tok, secret, aud, iss);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION epoch(delta numeric DEFAULT 0) RETURNS numeric LANGUAGE sql STABLE AS
$$ SELECT extract(epoch FROM statement_timestamp()) + delta $$;

-- The token from jwt.io's HS256 example, verified to its exact claims.
SELECT taskauth.jwt_verify('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
                           'your-256-bit-secret');

-- RFC 7515 Appendix A.1: its header (with CRLF and spaces) and payload segments, MACed here with
-- a text secret by pgcrypto. The MAC matches, so the check reaches the claims: exp is in 2011.
SELECT try(mkseg('eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9',
                 'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ')) AS rfc7515_a1;
SELECT try(mkseg('eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9',
                 'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ'),
           'another secret') AS rfc7515_a1_wrong_secret;

-- jwt_sign is deterministic: exact header, compact payload, and the MAC pgcrypto computes.
SELECT taskauth.jwt_sign('{"sub":"1234567890","name":"John Doe","iat":1516239022}', 'your-256-bit-secret');
SELECT t = mk('{"alg":"HS256","typ":"JWT"}', '{"iat":1516239022,"sub":"1234567890","name":"John Doe"}', 'your-256-bit-secret') AS hs256_matches_pgcrypto
FROM taskauth.jwt_sign('{"sub":"1234567890","name":"John Doe","iat":1516239022}', 'your-256-bit-secret') t;
SELECT t = mk('{"alg":"HS384","typ":"JWT"}', '{"a":1}', 'k', 'sha384') AS hs384_matches_pgcrypto
FROM taskauth.jwt_sign('{"a":1}', 'k', 'HS384') t;
SELECT t = mk('{"alg":"HS512","typ":"JWT"}', '{"a":1}', 'k', 'sha512') AS hs512_matches_pgcrypto
FROM taskauth.jwt_sign('{"a":1}', 'k', 'HS512') t;
SELECT unb64u(split_part(taskauth.jwt_sign('{}', 'k', a), '.', 1)) AS header,
       unb64u(split_part(taskauth.jwt_sign('{"b":[1,{"c":null}],"a":"x"}', 'k', a), '.', 2)) AS payload,
       length(split_part(taskauth.jwt_sign('{}', 'k', a), '.', 3)) AS sig_chars
FROM unnest(ARRAY['HS256', 'HS384', 'HS512']) a;

-- Round trips with all three algorithms.
SELECT a, taskauth.jwt_verify(taskauth.jwt_sign('{"sub":"u1","n":[1,2.5,-3e2],"ok":true,"x":null}', 'k', a), 'k')
FROM unnest(ARRAY['HS256', 'HS384', 'HS512']) a;
-- Unicode (raw and escaped, astral plane), nesting, odd keys, duplicate keys (last wins, as jsonb).
SELECT taskauth.jwt_verify(mkp('{"name":"Zoë 日本 😀","esc":"\u00e9\ud83d\ude00\n\t\"\\\/","k\u0065y":1,"":"empty"}'), 's3cret');
SELECT taskauth.jwt_verify(mkp('{"a":{"b":{"c":[{"d":[[[]]]},{}]}},"dup":1,"dup":2}'), 's3cret');
SELECT taskauth.jwt_verify(mkp(E' \r\n\t{ "sp" : [ 1 , 2 ] } \n'), 's3cret') AS whitespace_allowed;
-- Exact numbers: what the payload says is what jsonb holds.
SELECT taskauth.jwt_verify(mkp('{"i":12345678901234567890123,"f":0.1,"e":1E+2,"n":-0,"z":0.000,"s":1.5e-3,"b":-9223372036854775809}'), 's3cret');
-- Claims come back exactly as jsonb reads the payload, for every kind of value.
SELECT count(*) AS mismatches FROM (
  SELECT p, taskauth.jwt_verify(mkp(p), 's3cret') AS got FROM (VALUES
    ('{"a":1}'), ('{"a":[1,"x",{"y":false}],"b":"\u0041\u00df"}'), ('{"k":123456789012345678}'),
    ('{"k":1234567890123456789}'), ('{"k":-123456789012345678}'), ('{"k":1e1000}'), ('{"k":1e-16383}'),
    ('{"k":0e999999}'), ('{"k":3.14159265358979323846264338327950288}'), ('{"b":"","a":"","aa":1,"A":2}')
  ) v(p)
) s WHERE got IS DISTINCT FROM p::jsonb;
-- Many top-level claims (more than are recorded in one pass) take the general path, same results.
SELECT taskauth.jwt_verify(mkp(p), 's3cret') = p::jsonb AS many_members_exact,
       try(mkp(rtrim(p, '}') || ',"exp":1}')) AS many_members_expired
FROM (SELECT '{' || string_agg(format('"k%s":%s', g % 37, g), ',') || ',"k\u0035":"dup"}' AS p
      FROM generate_series(1, 60) g) s;
-- A large payload (about 300 kB) round-trips, once taskauth.max_token_size lets it in.
SET taskauth.max_token_size = '1MB';
SELECT md5(taskauth.jwt_verify(taskauth.jwt_sign(jsonb_build_object('blob', repeat('xyz', 100000), 'arr', (SELECT jsonb_agg(g) FROM generate_series(1, 10000) g)), 'k'), 'k')::text)
     = md5(jsonb_build_object('blob', repeat('xyz', 100000), 'arr', (SELECT jsonb_agg(g) FROM generate_series(1, 10000) g))::text) AS large_round_trip;
RESET taskauth.max_token_size;

-- NULL in, NULL out.
SELECT taskauth.jwt_verify(NULL, 'k') IS NULL AS null_token,
       taskauth.jwt_verify('x.y.z', NULL) IS NULL AS null_secret,
       taskauth.jwt_verify(NULL, 'k', audience => 'api') IS NULL AS null_token_4,
       taskauth.jwt_verify('x.y.z', NULL, audience => NULL, issuer => 'i') IS NULL AS null_secret_4,
       taskauth.jwt_sign(NULL, 'k') IS NULL AS sign_null_claims,
       taskauth.jwt_sign('{}', NULL) IS NULL AS sign_null_secret,
       taskauth.jwt_sign('{}', 'k', NULL) IS NULL AS sign_null_alg;

-- jwt_sign refusals (SQLSTATE 22023).
SELECT taskauth.jwt_sign('{}', 'k', 'HS257');
SELECT taskauth.jwt_sign('{}', 'k', 'hs256');
SELECT taskauth.jwt_sign('{}', 'k', 'none');
SELECT taskauth.jwt_sign('{}', 'k', 'RS256');
SELECT taskauth.jwt_sign('{}', '');
SELECT taskauth.jwt_sign('[1]', 'k');
SELECT taskauth.jwt_sign('"s"', 'k');

-- Every failure is SQLSTATE 28000 with a short message. Shown once in full:
SELECT taskauth.jwt_verify('not a token', 's3cret');
SELECT taskauth.jwt_verify(mkp('{"sub":"x"}'), 'wrong');

-- Structure (RFC 7515 §7.1) and base64url (RFC 4648 §5).
SELECT name, try(tok) FROM (VALUES
  ('valid',                 mkp('{}')),
  ('empty string',          ''),
  ('one segment',           'abc'),
  ('two segments',          b64u('{"alg":"HS256"}') || '.' || b64u('{}')),
  ('four segments',         mkp('{}') || '.x'),
  ('trailing dot',          mkp('{}') || '.'),
  ('empty header',          '.' || split_part(mkp('{}'), '.', 2) || '.' || split_part(mkp('{}'), '.', 3)),
  ('empty payload',         split_part(mkp('{}'), '.', 1) || '..' || split_part(mkp('{}'), '.', 3)),
  ('empty signature',       split_part(mkp('{}'), '.', 1) || '.' || split_part(mkp('{}'), '.', 2) || '.'),
  ('padding in header',     mkseg(b64u('{"alg":"HS256"}') || '=', b64u('{}'))),
  ('padding in payload',    mkseg(b64u('{"alg":"HS256"}'), b64u('{"a":1}') || '==')),
  ('padding in signature',  mkp('{"a":1}') || '='),
  ('url alphabet - and _',  mkseg(b64u('{"alg":"HS256"}'), b64u('{"a":"~~~>???"}'))),
  ('+ and / in payload',    mkseg(b64u('{"alg":"HS256"}'), translate(b64u('{"a":"~~~>???"}'), '-_', '+/'))),
  ('space in payload',      mkseg(b64u('{"alg":"HS256"}'), 'e30 ')),
  ('newline in header',     mkseg(E'eyJhbGciOiJIUzI1NiJ9\n', 'e30')),
  ('length 4n+1',           mkseg(b64u('{"alg":"HS256"}'), 'e30xx')),
  ('non-zero pad bits',     mkseg(b64u('{"alg":"HS256"}'), 'e31')),
  ('signature + 1 char',    mkp('{}') || 'B'),
  ('bad char in signature', left(mkp('{}'), -1) || '*'),
  ('truncated signature',   left(mkp('{}'), -4)),
  ('signature cut to 30 bytes', left(mkp('{}'), -3)),
  ('one char signature removed', left(mkp('{}'), -1)),
  ('signature too long',    mkp('{}') || 'AAAA'),
  ('first signature char changed, same length',
   split_part(mkp('{}'), '.', 1) || '.' || split_part(mkp('{}'), '.', 2) || '.' ||
   translate(left(split_part(mkp('{}'), '.', 3), 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
                                                     'BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_A') ||
   substr(split_part(mkp('{}'), '.', 3), 2)),
  ('middle signature byte changed, same length',
   split_part(mkp('{}'), '.', 1) || '.' || split_part(mkp('{}'), '.', 2) || '.' ||
   left(split_part(mkp('{}'), '.', 3), 20) ||
   translate(substr(split_part(mkp('{}'), '.', 3), 21, 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
                                                          'BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_A') ||
   substr(split_part(mkp('{}'), '.', 3), 22)),
  ('signature of other alg', split_part(mkp('{}'), '.', 1) || '.' || split_part(mkp('{}'), '.', 2) || '.' || split_part(mk('{"alg":"HS512"}', '{}'), '.', 3))
) v(name, tok);

-- Header and payload content: UTF-8 (RFC 3629), JSON (RFC 8259), objects only.
SELECT name, try(tok) FROM (VALUES
  ('header not json',        mkseg(b64u('alg=HS256'), b64u('{}'))),
  ('header array',           mkseg(b64u('["alg","HS256"]'), b64u('{}'))),
  ('header string',          mkseg(b64u('"HS256"'), b64u('{}'))),
  ('header two objects',     mkseg(b64u('{"alg":"HS256"}{}'), b64u('{}'))),
  ('payload not json',       mkp('{"a":1,}')),
  ('payload array',          mkp('[{"sub":"x"}]')),
  ('payload number',         mkp('42')),
  ('payload null',           mkp('null')),
  ('payload single quotes',  mkp('{''a'':1}')),
  ('payload NaN',            mkp('{"a":NaN}')),
  ('payload leading zero',   mkp('{"a":01}')),
  ('payload trailing dot',   mkp('{"a":1.}')),
  ('payload +1',             mkp('{"a":+1}')),
  ('payload raw tab',        mkp(E'{"a":"x\ty"}')),
  ('payload bad escape',     mkp('{"a":"\x41"}')),
  ('payload \u0000',         mkp('{"a":"\u0000"}')),
  ('payload lone high surr', mkp('{"a":"\ud83d"}')),
  ('payload lone low surr',  mkp('{"a":"\ude00"}')),
  ('payload reversed pair',  mkp('{"a":"\ude00\ud83d"}')),
  ('payload exp 1e1000001',  mkp('{"a":1e1000001}')),
  ('payload numeric overflow', mkp('{"a":1e131072}')),
  ('payload scale overflow', mkp('{"a":1e-16384}')),
  ('payload deep nesting',   mkp('{"a":' || repeat('[', 64) || repeat(']', 64) || '}')),
  ('payload nesting ok',     mkp('{"a":' || repeat('[', 63) || repeat(']', 63) || '}')),
  ('payload trailing junk',  mkp('{} x')),
  ('payload unterminated',   mkp('{"a":"b}'))
) v(name, tok);
SELECT name, try(mkseg(b64u('{"alg":"HS256"}'), b64u(bytes))) FROM (VALUES
  ('valid 2-byte',          '\x7b2261223a22c3a9227d'::bytea),
  ('overlong slash',        '\x7b2261223a22c0af227d'),
  ('overlong 3-byte',       '\x7b2261223a22e080af227d'),
  ('surrogate D800',        '\x7b2261223a22eda080227d'),
  ('above U+10FFFF',        '\x7b2261223a22f4908080227d'),
  ('lone continuation',     '\x7b2261223a2280227d'),
  ('truncated sequence',    '\x7b2261223a22e282227d'),
  ('byte FF',               '\x7b2261223a22ff227d'),
  ('zero byte',             '\x7b2261223a2200227d'),
  ('latin-1 e acute',       '\x7b2261223a22e9227d')
) v(name, bytes);
SELECT try(mkseg(b64u('\x7b22616c67223a224853323536222c2278223a22ff227d'::bytea), b64u('{}'))) AS header_bad_utf8;

-- Header rules (RFC 7515 §4.1): alg exact, never none, no crit, kid a string.
SELECT name, try(mk(header, '{}')) FROM (VALUES
  ('alg HS256',            '{"alg":"HS256"}'),
  ('alg escaped HS256',    '{"alg":"\u0048S256"}'),
  ('typ other',            '{"alg":"HS256","typ":"at+jwt"}'),
  ('extra members',        '{"alg":"HS256","x5t":"abc","cty":"JWT"}'),
  ('alg missing',          '{"typ":"JWT"}'),
  ('alg none',             '{"alg":"none"}'),
  ('alg None',             '{"alg":"None"}'),
  ('alg NONE',             '{"alg":"NONE"}'),
  ('alg nOnE escaped',     '{"alg":"n\u004fnE"}'),
  ('alg hs256',            '{"alg":"hs256"}'),
  ('alg Hs256',            '{"alg":"Hs256"}'),
  ('alg HS256 space',      '{"alg":"HS256 "}'),
  ('alg RS256',            '{"alg":"RS256"}'),
  ('alg empty',            '{"alg":""}'),
  ('alg number',           '{"alg":256}'),
  ('alg null',             '{"alg":null}'),
  ('alg array',            '{"alg":["HS256"]}'),
  ('alg repeated, last none', '{"alg":"HS256","alg":"none"}'),
  ('crit list',            '{"alg":"HS256","crit":["exp"],"exp":1}'),
  ('crit empty',           '{"alg":"HS256","crit":[]}'),
  ('kid string',           '{"alg":"HS256","kid":"k1"}'),
  ('kid number',           '{"alg":"HS256","kid":1}'),
  ('kid null',             '{"alg":"HS256","kid":null}')
) v(name, header);
-- The header names the algorithm; the MAC must be the one it names.
SELECT try(mk('{"alg":"HS384"}', '{}', 's3cret', 'sha384')) AS hs384_header_hs384_mac,
       try(mk('{"alg":"HS384"}', '{}', 's3cret', 'sha256')) AS hs384_header_hs256_mac;

-- Checks run in order: structure, header, signature, then claims.
SELECT try(mk('{"alg":"none"}', '[]', 'wrong')) AS header_before_signature,
       try(mkp('{"exp":1}', 'wrong')) AS signature_before_claims,
       try(mkp('[]', 'wrong')) AS signature_before_payload_shape,
       try(mkp('[]')) AS payload_shape_after_signature;

-- Claim types (RFC 7519 §4.1.4-4.1.6).
SELECT name, try(mkp(payload)) FROM (VALUES
  ('exp string',  '{"exp":"4000000000"}'),
  ('exp null',    '{"exp":null}'),
  ('exp bool',    '{"exp":true}'),
  ('exp object',  '{"exp":{}}'),
  ('nbf string',  '{"nbf":"0"}'),
  ('iat array',   '{"iat":[0]}'),
  ('exp escaped key', '{"\u0065xp":"soon"}'),
  ('exp repeated, last bad', '{"exp":4000000000,"exp":"x"}'),
  ('exp huge',    '{"exp":1e999}'),
  ('exp negative huge', '{"exp":-1e999}'),
  ('exp 1e400 (infinite)', '{"exp":1e400}'),
  ('nbf -1e400',  '{"nbf":-1e400}'),
  ('iat 1e308',   '{"iat":1e308}'),
  ('exp past 9999', '{"exp":253402300800}'),
  ('exp end of 9999', '{"exp":253402300799}'),
  ('nbf before year 1', '{"nbf":-253402300800}'),
  ('all numbers', '{"exp":4000000000,"nbf":0,"iat":1000000000.5}')
) v(name, payload);

-- Time checks, relative to the statement's start; leeway 0 first.
SET taskauth.leeway = 0;
SELECT try(mkp(format('{"exp":%s}', epoch(100)))) AS exp_future,
       try(mkp(format('{"exp":%s}', epoch(-1)))) AS exp_past,
       try(mkp(format('{"exp":%s}', epoch(-0.001)))) AS exp_just_past,
       try(mkp(format('{"exp":%s}', epoch(1.5)))) AS exp_fraction_ahead;
-- each boundary a millisecond either side (exact equality would compare sums of doubles)
SELECT try(mkp(format('{"exp":%s}', epoch(-0.001)))) AS exp_1ms_past,
       try(mkp(format('{"exp":%s}', epoch(0.001)))) AS exp_1ms_ahead,
       try(mkp(format('{"nbf":%s}', epoch(-0.001)))) AS nbf_1ms_past,
       try(mkp(format('{"nbf":%s}', epoch(0.001)))) AS nbf_1ms_ahead,
       try(mkp(format('{"iat":%s}', epoch(-0.001)))) AS iat_1ms_past,
       try(mkp(format('{"iat":%s}', epoch(0.001)))) AS iat_1ms_ahead;
SELECT try(mkp(format('{"nbf":%s}', epoch(-1)))) AS nbf_past,
       try(mkp(format('{"nbf":%s}', epoch(10)))) AS nbf_future,
       try(mkp(format('{"iat":%s}', epoch(-1)))) AS iat_past,
       try(mkp(format('{"iat":%s}', epoch(10)))) AS iat_future;
-- with the default leeway of 30 seconds
RESET taskauth.leeway;
SHOW taskauth.leeway;
SELECT try(mkp(format('{"exp":%s}', epoch(-10)))) AS exp_10s_ago,
       try(mkp(format('{"exp":%s}', epoch(-40)))) AS exp_40s_ago,
       try(mkp(format('{"nbf":%s}', epoch(10)))) AS nbf_in_10s,
       try(mkp(format('{"nbf":%s}', epoch(40)))) AS nbf_in_40s,
       try(mkp(format('{"iat":%s}', epoch(10)))) AS iat_in_10s,
       try(mkp(format('{"iat":%s}', epoch(40)))) AS iat_in_40s;
-- the leeway's own boundary, a millisecond either side (exp + leeway is a sum of doubles, so
-- exact equality with now is not a stable test)
SELECT try(mkp(format('{"exp":%s}', epoch(-30.001)))) AS exp_30_001s_ago,
       try(mkp(format('{"exp":%s}', epoch(-29.999)))) AS exp_29_999s_ago;
SET taskauth.leeway = '2min';
SELECT try(mkp(format('{"exp":%s}', epoch(-100)))) AS exp_100s_ago_leeway_2min;
-- outside 0 .. 3600: refused (22023; the message's wording differs between server versions)
CREATE FUNCTION pg_temp.set_leeway(v text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('taskauth.leeway', v, false);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT pg_temp.set_leeway('3601') AS leeway_3601, pg_temp.set_leeway('-1') AS leeway_minus_1,
       pg_temp.set_leeway('3600') AS leeway_3600;
RESET taskauth.leeway;

-- Audience (RFC 7519 §4.1.3) and issuer (§4.1.1).
SELECT name, try(mkp(payload), 's3cret', aud, iss) FROM (VALUES
  ('no checks, aud present',  '{"aud":"other"}', NULL, NULL),
  ('aud string match',        '{"aud":"api"}', 'api', NULL),
  ('aud string mismatch',     '{"aud":"apix"}', 'api', NULL),
  ('aud case differs',        '{"aud":"API"}', 'api', NULL),
  ('aud array match',         '{"aud":["web","api"]}', 'api', NULL),
  ('aud array mismatch',      '{"aud":["web","app"]}', 'api', NULL),
  ('aud array non-strings',   '{"aud":[1,null,{"api":1}]}', 'api', NULL),
  ('aud empty array',         '{"aud":[]}', 'api', NULL),
  ('aud missing',             '{"sub":"x"}', 'api', NULL),
  ('aud number',              '{"aud":1}', '1', NULL),
  ('aud escaped match',       '{"aud":"\u0061pi"}', 'api', NULL),
  ('aud unicode match',       '{"aud":"app-é"}', 'app-é', NULL),
  ('iss match',               '{"iss":"https://id.example"}', NULL, 'https://id.example'),
  ('iss mismatch',            '{"iss":"https://id.example/"}', NULL, 'https://id.example'),
  ('iss missing',             '{}', NULL, 'https://id.example'),
  ('iss array',               '{"iss":["https://id.example"]}', NULL, 'https://id.example'),
  ('both match',              '{"iss":"i","aud":["a"]}', 'a', 'i'),
  ('both, iss wrong',         '{"iss":"j","aud":["a"]}', 'a', 'i')
) v(name, payload, aud, iss);
-- named arguments, as callers write them
SELECT taskauth.jwt_verify(mkp('{"aud":"api","iss":"me"}'), 's3cret', audience => 'api') ->> 'iss' AS aud_named,
       taskauth.jwt_verify(mkp('{"aud":"api","iss":"me"}'), 's3cret', audience => NULL, issuer => 'me') ->> 'aud' AS iss_named,
       try(mkp('{"iss":"me"}'), 's3cret', 'api', NULL) AS positional_aud;

-- Secrets are bytes of the text: any length, unicode included.
SELECT taskauth.jwt_verify(taskauth.jwt_sign('{"a":1}', s), s) = '{"a":1}' AS ok, length(s)
FROM (VALUES ('x'), ('pässwörd 🔑'), (repeat('long secret ', 200))) v(s);
SELECT try(taskauth.jwt_sign('{"a":1}', 'key'), 'Key') AS secret_case_matters,
       try(taskauth.jwt_sign('{"a":1}', 'key'), 'key ') AS secret_trailing_space,
       try(mkp('{}'), '') AS empty_secret_verifies_nothing;

-- Size cap: tokens over taskauth.max_token_size are refused before any decoding
-- (sql/jwt_sizes.sql has the rest).
SELECT try(repeat('a', 1048577)) AS too_large;

-- Volatility and strictness as declared.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'taskauth' AND p.proname IN ('jwt_sign', 'jwt_verify')
  AND pg_get_function_identity_arguments(p.oid) LIKE '%secret text%' ORDER BY 1, 2;

RESET search_path;
DROP SCHEMA jwt_test CASCADE;
