-- The verified-token cache of authenticate(): a token used again gives the same identity, its
-- time claims are checked on every use, and a change to the keys or the issuer registry, a
-- changed byte or a cache turned off never lets a token through that verification would refuse.
SET client_min_messages = error;
BEGIN;
SELECT plan(24);

SET LOCAL taskauth.token_cache_size = 64;
SELECT taskauth.add_signing_key(repeat('c-0123456789', 4), 'cache-k1') \g /dev/null

-- a token that expired 10 s ago: valid only within the default 30 s leeway
CREATE TEMP TABLE tok AS
SELECT taskauth.jwt_sign(jsonb_build_object(
           'sub', '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b', 'role', 'member',
           'iat', extract(epoch FROM now())::bigint - 100,
           'exp', extract(epoch FROM now())::bigint - 10), repeat('c-0123456789', 4)) AS t;

CREATE TEMP TABLE seen AS
SELECT token_cache_hits AS hits, token_cache_misses AS misses FROM taskauth.backend_stats();
SELECT is(taskauth.authenticate((SELECT t FROM tok)), '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b'::uuid,
          'first use: verified');
SELECT is(taskauth.authenticate((SELECT t FROM tok)), '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b'::uuid,
          'second use (from the cache): the same id');
SELECT is((SELECT (b.token_cache_misses - s.misses, b.token_cache_hits - s.hits, b.token_cache_entries > 0)::text
             FROM taskauth.backend_stats() b, seen s),
          '(1,1,t)', 'backend_stats: the first use missed the cache and was kept, the second hit it');
UPDATE seen SET (hits, misses) = (SELECT token_cache_hits, token_cache_misses FROM taskauth.backend_stats());
SELECT is(taskauth.current_user_id(), '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b'::uuid,
          'the cached use sets jwt.sub');
SELECT is(taskauth.claims() ->> 'role', 'member', 'the cached use sets jwt.claims');
SELECT is(current_setting('jwt.claims')::jsonb, taskauth.claims(), 'jwt.claims holds the claims');

-- the time claims are checked on every use, with the leeway of the moment
SET LOCAL taskauth.leeway = 0;
SELECT throws_ok($$SELECT taskauth.authenticate((SELECT t FROM tok))$$, '28000', 'jwt expired',
                 'a cached token is refused once it is expired');
SET LOCAL taskauth.leeway = 30;
SELECT lives_ok($$SELECT taskauth.authenticate((SELECT t FROM tok))$$,
                'and accepted again within the leeway');

-- one changed byte is another token: verified, and refused
SELECT throws_ok(format($$SELECT taskauth.authenticate(%L)$$,
                        (SELECT left(t, -1) || CASE right(t, 1) WHEN 'A' THEN 'B' ELSE 'A' END FROM tok)),
                 '28000', NULL, 'a token one character off the cached one is refused');
SELECT throws_ok(format($$SELECT taskauth.authenticate(%L)$$, (SELECT left(t, -2) FROM tok)),
                 '28000', NULL, 'a prefix of the cached token is refused');

-- retiring the key drops what the cache knew
SELECT ok(taskauth.retire_signing_key('cache-k1'), 'retire the key');
SELECT throws_ok($$SELECT taskauth.authenticate((SELECT t FROM tok))$$, '28000',
                 'no active key to verify the jwt', 'a cached token of a retired key is refused');
SELECT taskauth.add_signing_key(repeat('c-0123456789', 4), 'cache-k2') \g /dev/null
SELECT is(taskauth.authenticate((SELECT t FROM tok)), '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b'::uuid,
          'a new active key with the same secret verifies it again');
SELECT is((SELECT (b.token_cache_hits - s.hits, b.token_cache_misses - s.misses)::text
             FROM taskauth.backend_stats() b, seen s),
          '(2,4)', 'backend_stats: the two uses around the leeway hit the cache; the two altered tokens, the use after the key was retired (its entry dropped) and the verification under the new key missed it');

-- registering the token's iss as an external issuer: its MAC no longer stands
CREATE TEMP TABLE tok_iss AS
SELECT taskauth.jwt_sign(jsonb_build_object(
           'sub', '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b', 'iss', 'https://issuer.example',
           'exp', extract(epoch FROM now())::bigint + 600), repeat('c-0123456789', 4)) AS t;
SELECT lives_ok($$SELECT taskauth.authenticate((SELECT t FROM tok_iss))$$,
                'an HMAC token with an unregistered iss: verified (and cached)');
SELECT taskauth.add_issuer('https://issuer.example', jwks => '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}') \g /dev/null
SELECT throws_ok($$SELECT taskauth.authenticate((SELECT t FROM tok_iss))$$, '28000',
                 'jwt algorithm is not allowed for this key',
                 'once the iss is a registered issuer, the cached HMAC token is refused');
SELECT taskauth.remove_issuer('https://issuer.example') \g /dev/null
SELECT lives_ok($$SELECT taskauth.authenticate((SELECT t FROM tok_iss))$$,
                'and accepted again when the issuer is removed');

-- with the cache off, and after resizing it, the same answers
SET LOCAL taskauth.token_cache_size = 0;
SELECT is(taskauth.authenticate((SELECT t FROM tok)), '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b'::uuid,
          'cache off: verified');
SET LOCAL taskauth.leeway = 0;
SELECT throws_ok($$SELECT taskauth.authenticate((SELECT t FROM tok))$$, '28000', 'jwt expired',
                 'cache off: expired');
SET LOCAL taskauth.leeway = 30;
SET LOCAL taskauth.token_cache_size = 8;
SELECT is(taskauth.authenticate((SELECT t FROM tok)), '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b'::uuid,
          'resized cache: verified');
SELECT is(taskauth.authenticate((SELECT t FROM tok)), '6a0c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b'::uuid,
          'resized cache: used again');

-- an API role cannot turn the cache off or resize it
SELECT throws_ok($$SET ROLE pg_read_all_data; SET taskauth.token_cache_size = 0$$, '42501', NULL,
                 'only a superuser changes taskauth.token_cache_size');
RESET ROLE;

-- Everything the caches keep lives in one memory context of its own, which the server shows
-- (by name alone: PostgreSQL 18 replaced the view's parent column with path)
SELECT is((SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'taskauth'),
          1::bigint, 'the caches have one memory context, "taskauth"');
SELECT cmp_ok((SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'taskauth'), '>=',
              (SELECT token_cache_bytes + revocation_bytes FROM taskauth.backend_stats()),
              'and it holds the verified tokens and the revoked sets backend_stats() counts');

SELECT * FROM finish();
ROLLBACK;
