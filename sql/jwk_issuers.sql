-- External issuers in authenticate(): keys added by SQL and read from a Better Auth style jwks
-- table, audience/issuer binding, key expiry with grace, just-in-time users.
-- Keys and tokens were generated once with python3-cryptography (exp 2100-01-01).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS taskauth;
\set ec_jwk '{"kty":"EC","crv":"P-256","x":"Iy9XKFeOU2fQSdeo2sT3FGmVf0Ry5F3YK1xUOBOMEAg","y":"j0ggVirGfOUy-kT2lPUy299WFUHdSli4f0wc7lsiAdo","kid":"ba-1"}'
\set ed1_pub '{"kty":"OKP","crv":"Ed25519","x":"tp-fUQZKa2XyZcFDBz1asIXanYObkWjrQ5c5r1aA7e8"}'
\set ed2_pub '{"kty":"OKP","crv":"Ed25519","x":"GmEJaFLN8NFKj3qqW4jQXl4xL9en-FkRhUPDHci9HQs"}'
\set ed4_pub '{"kty":"OKP","crv":"Ed25519","x":"FoIeM191WvOY5Z6HApSBjwX2-2Ug8scKUidxd9Vb5y8"}'
\set ed5_pub '{"kty":"OKP","crv":"Ed25519","x":"LtkzWy-rePkF1i6xS6CMlw8V0As6964YAGoA9UetYBU"}'
\set t_static 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhLTEifQ.eyJzdWIiOiJhMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20ifQ.hc3eNOdrcH6jauub8Ra5GBF9rpvpBMsl75l2p0SjJd9e-mgMbVGPMlcpWhuvVDdfi9nxmhwILGKTD3IdnX6ENQ'
\set t_static_nokid 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20ifQ.OsyChzSUClABl4cPsS8jwsUn35YbagsiLZwglyM1MGN_Ieg-JQyu1vzWv3pbLn8yV_ex-l44mZuZE_IIKiIP6A'
\set t_table 'eyJhbGciOiJFZERTQSIsImtpZCI6ImJhLTIifQ.eyJzdWIiOiJiMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGIiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiYm9iQGV4YW1wbGUuY29tIiwibmFtZSI6IkJvYiJ9._2bJJBIfegZPK0vC4dNtDWOf09cq5zMbWRiUbnQ0lpbiXpYQA3COWotT8zrfu-QeHWOhiePAD7Y6Tfoz6gCXBg'
\set t_new 'eyJhbGciOiJFZERTQSIsImtpZCI6ImJhLTMifQ.eyJzdWIiOiJjMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGMiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiY2Fyb2xAZXhhbXBsZS5jb20ifQ.THdqUZWYD2BRX2Ug69H9pwHnYDQO9tqqSSpCSYMHYFmQr7YnchXY42gsUzsqkIdPecEi3JI1wOIhjviZtRiuBw'
\set t_expired_key 'eyJhbGciOiJFZERTQSIsImtpZCI6ImJhLTQifQ.eyJzdWIiOiJmMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGYiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiZnJhbmtAZXhhbXBsZS5jb20ifQ.CMHFXXTAL7rrRJG4OnWss_L4b1bNsWcKJtl8OYcSa_wIwxv01OzejyO5J5_f62PV2pPnvu-63xgOF6Nsxy41DQ'
\set t_grace_key 'eyJhbGciOiJFZERTQSIsImtpZCI6ImJhLTUifQ.eyJzdWIiOiJmMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGYiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiZnJhbmtAZXhhbXBsZS5jb20ifQ.c7m1uPiPF-sSie5iBHj5M7uH9cYIPn7KrXX6CEJSkmORn6p-wq-U8v0Hup2XHn_V7PMOZ1F08amTM_TgRBExBA'
\set t_nonuuid 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhLTEifQ.eyJzdWIiOiJ1c2VyXzEyMyIsImlzcyI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiYXVkIjoiaHR0cHM6Ly9hdXRoLmV4YW1wbGUiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMCwiZW1haWwiOiJ4QGV4YW1wbGUuY29tIn0.-1ugmcmBx09lz-VZ5sb_OSH6oIqpCi_lThzp_1-j63_9EDArkeURregY2S_F9r-b-yFNlO0z734lnJf5X3z5mA'
\set t_noemail 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhLTEifQ.eyJzdWIiOiJkMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGQiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.MuFpfUZAk_dGMX1Z8fSpABGbCzL3Pd7rziuDkmCA6qNMj3FpCjPt5cgi_XDmFHiAAyhYOMqAtYqgpSenx2YCdA'
\set t_wrongaud 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhLTEifQ.eyJzdWIiOiJhMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vb3RoZXIuZXhhbXBsZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIn0.B4g-TPOYRuVBVKeIim9xVSvnenEa8xdx0a4CvUMbN6tCvv1acbsjvgrFwyVhF1DJxfLp7I4_k6cXl73GtlgA6w'
\set t_otheriss 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhLTEifQ.eyJzdWIiOiJhMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGEiLCJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20ifQ.wBZVccoG8P__PjAOqayaBN9xtV9yVAu-J8DkZHPOg8GNI02fgQhg1psQrbCUeDNHSxnjFYwaZ6aTPYTVbI0E6Q'
\set t_noiss 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhLTEifQ.eyJzdWIiOiJhMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGEiLCJleHAiOjQxMDI0NDQ4MDB9.EVWnqecsrLPkht0V-eHswuFQuvXww09nCvh1yQvHpYtj_t5G6Sp1fSV5bnRVnJKWvIwKzEWNOj0_c8zXMGHSOQ'
\set t_hs_registered 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGEiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20ifQ.vHYvHd6ED8ga_N_ULrHqo9vZQLKaoTKh_uaJdGfflcM'
\set t_hs_plain 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJlMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGUiLCJleHAiOjQxMDI0NDQ4MDB9.SLsAEoKM7EnUBk8d4lZk-GAq3Hm3aiQuUx1FcIBwpBs'
\set t_taken 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhLTEifQ.eyJzdWIiOiJlMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGUiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiVGFrZW5ARXhhbXBsZS5jb20ifQ._OzyTklH-HWDDifrOsu-tb_b9j0Qhmq1rQM-KYoEMT6BbJFOCKck7phG6rRATd25ucPWHMMPHnf-sGekSgMC1A'
\set t_wrongkey_samekid 'eyJhbGciOiJFZERTQSIsImtpZCI6ImJhLTIifQ.eyJzdWIiOiJiMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMGIiLCJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImF1ZCI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImVtYWlsIjoiYm9iQGV4YW1wbGUuY29tIn0.Jf8cq9qgHyJAqbCrJGwe7DKxYYRd1JmmrnHR2gg0yYfEFX-ls2Vw-CoeRmjp87jHIMNiWKbqb1Qvz0a4a5GzAg'
-- Read a key table's keys on every call, so changes show at once.
SET taskauth.issuer_keys_refresh = 0;

-- authenticate() outcome as one line: the user id, or SQLSTATE and message.
CREATE FUNCTION pg_temp.auth(tok text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN taskauth.authenticate(tok)::text;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- Without registered issuers, public-key tokens are not the server's.
SELECT pg_temp.auth(:'t_static');

-- Registering.
SELECT taskauth.add_issuer('https://auth.example', audience => 'https://auth.example', jwks => :'ec_jwk'::jsonb);
SELECT issuer, audience, jsonb_array_length(jwks -> 'keys') AS keys, key_table, provision_users FROM taskauth.issuers;
SELECT taskauth.add_issuer('https://auth.example', jwks => :'ec_jwk'::jsonb);
SELECT taskauth.add_issuer('https://x.example', jwks => '{"kty":"RSA","n":"AQAB","e":"AQAB"}');
SELECT taskauth.add_issuer('https://x.example', jwks => '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}');
SELECT taskauth.add_issuer('https://x.example');

-- A registered issuer's token authenticates; its identity holds for the transaction.
BEGIN;
SELECT pg_temp.auth(:'t_static') AS user_id;
SELECT taskauth.current_user_id(), taskauth.claims() ->> 'email' AS email;
COMMIT;
SELECT taskauth.current_user_id() AS after_commit;
SELECT pg_temp.auth(:'t_static_nokid') AS without_kid;

-- Bound to the issuer and its audience; other tokens are refused.
SELECT pg_temp.auth(:'t_wrongaud') AS wrong_audience;
-- The audience is compared exactly: the same token against near misses of the configured one,
-- each taking effect at once.
CREATE FUNCTION pg_temp.auth_expecting(aud text, tok text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  UPDATE taskauth.issuers SET audience = aud WHERE issuer = 'https://auth.example';
  RETURN pg_temp.auth(tok);
END $$;
SELECT pg_temp.auth_expecting('https://AUTH.example', :'t_static') AS other_case;
SELECT pg_temp.auth_expecting('https://auth.example/', :'t_static') AS trailing_slash;
SELECT pg_temp.auth_expecting('https://auth.exampl', :'t_static') AS prefix_of_aud;
SELECT pg_temp.auth_expecting('https://auth.example.evil', :'t_static') AS aud_is_prefix;
SELECT pg_temp.auth_expecting(' https://auth.example', :'t_static') AS leading_blank;
SELECT pg_temp.auth_expecting(NULL, :'t_wrongaud') AS no_audience_configured;
SELECT pg_temp.auth_expecting('https://auth.example', :'t_static') AS the_audience_again;
SELECT pg_temp.auth(:'t_otheriss') AS unknown_issuer;
SELECT pg_temp.auth(:'t_noiss') AS no_issuer;
-- an HMAC token naming a registered issuer: no server key verifies it (with one that does,
-- "jwt algorithm is not allowed for this key": pgTAP token_cache)
SELECT pg_temp.auth(:'t_hs_registered') AS hs256_claiming_the_issuer;
SELECT pg_temp.auth(:'t_hs_plain') AS hs256_for_server_keys;
SELECT pg_temp.auth(:'t_nonuuid') AS non_uuid_sub;

-- Just-in-time users: id = sub, email from the claims.
UPDATE taskauth.issuers SET provision_users = true;
-- Not in a read-only transaction (a PostgREST GET): it authenticates, and the row waits.
BEGIN READ ONLY;
SELECT pg_temp.auth(:'t_static') AS read_only;
COMMIT;
SELECT count(*) AS rows_after_read_only FROM taskauth.users;
SELECT pg_temp.auth(:'t_static') AS provisioned;
SELECT pg_temp.auth(:'t_static') AS again;
SELECT id, email, hashed_password ~ '^\$2b\$[0-9]{2}\$[./A-Za-z0-9]{53}$' AS unusable_bcrypt
FROM taskauth.users WHERE id = 'a0000000-0000-4000-8000-00000000000a';
SELECT taskauth.verify_password('', hashed_password) AS empty_password_matches
FROM taskauth.users WHERE id = 'a0000000-0000-4000-8000-00000000000a';
SELECT pg_temp.auth(:'t_nonuuid') AS non_uuid_sub;
SELECT pg_temp.auth(:'t_noemail') AS no_email;
INSERT INTO taskauth.users (email, hashed_password) VALUES ('taken@example.com', 'x');
SELECT pg_temp.auth(:'t_taken') AS email_of_another_account;

-- Keys read where they are: a table shaped like Better Auth's jwks table.
CREATE SCHEMA ba;
CREATE TABLE ba.jwks (id text PRIMARY KEY, "publicKey" text NOT NULL, "privateKey" text NOT NULL,
                      "createdAt" timestamptz NOT NULL, "expiresAt" timestamptz, alg text, crv text);
INSERT INTO ba.jwks VALUES ('ba-2', :'ed1_pub', 'secret', now(), NULL, 'EdDSA', 'Ed25519');
UPDATE taskauth.issuers SET key_table = 'ba.jwks';
SELECT pg_temp.auth(:'t_table') AS from_key_table;
SELECT pg_temp.auth(:'t_static') AS sql_key_still_works;
SELECT pg_temp.auth(:'t_wrongkey_samekid') AS other_key_same_kid;
-- A new key row works at once.
SELECT pg_temp.auth(:'t_new') AS before_insert;
INSERT INTO ba.jwks VALUES ('ba-3', :'ed2_pub', 'secret', now(), NULL, 'EdDSA', 'Ed25519');
SELECT pg_temp.auth(:'t_new') AS after_insert;
-- expiresAt: a key verifies until its expiry plus the grace period (30 days by default).
INSERT INTO ba.jwks VALUES ('ba-4', :'ed4_pub', 'secret', now() - interval '40 days', now() - interval '31 days', 'EdDSA', 'Ed25519'),
                           ('ba-5', :'ed5_pub', 'secret', now() - interval '10 days', now() - interval '1 day', NULL, NULL);
SELECT pg_temp.auth(:'t_expired_key') AS expired_past_grace;
SELECT pg_temp.auth(:'t_grace_key') AS expired_within_grace;
UPDATE taskauth.issuers SET key_grace = '0';
SELECT pg_temp.auth(:'t_grace_key') AS expired_no_grace;
-- The alg column binds the key: an EdDSA key labelled ES256 is refused.
UPDATE ba.jwks SET alg = 'ES256' WHERE id = 'ba-3';
SELECT pg_temp.auth(:'t_new') AS mislabelled_key;
-- A deleted key row stops working.
DELETE FROM ba.jwks WHERE id = 'ba-2';
SELECT pg_temp.auth(:'t_table') AS deleted_key;
-- With the default refresh (60 s) the keys read are kept: a changed row shows later...
RESET taskauth.issuer_keys_refresh;
UPDATE ba.jwks SET alg = 'EdDSA' WHERE id = 'ba-3';
SELECT pg_temp.auth(:'t_new') AS changed_row_within_refresh;
-- ...but a token with a kid not among them makes them be read again at once.
INSERT INTO ba.jwks VALUES ('ba-2', :'ed1_pub', 'secret', now(), NULL, 'EdDSA', 'Ed25519');
SELECT pg_temp.auth(:'t_table') AS new_kid_read_at_once;
SELECT pg_temp.auth(:'t_new') AS changed_row_after_reading;
SET taskauth.issuer_keys_refresh = 0;

-- Keys are read as the extension's owner, so only plain columns of a plain table are read: a
-- view, or a column of a type with a cast of its owner's, could run the table owner's code.
CREATE VIEW ba.jwks_view AS SELECT * FROM ba.jwks;
UPDATE taskauth.issuers SET key_table = 'ba.jwks_view';
SELECT pg_temp.auth(:'t_table') AS key_table_is_a_view;
UPDATE taskauth.issuers SET key_table = 'ba.jwks';
SELECT pg_temp.auth(:'t_table') AS plain_table_again;

-- An API role authenticates through the registry without reading it.
CREATE ROLE ta_issuers_api;
SELECT taskauth.grant_api_access('ta_issuers_api');
SET ROLE ta_issuers_api;
SELECT pg_temp.auth(:'t_static') AS as_api_role;
SELECT count(*) FROM taskauth.issuers;
RESET ROLE;

-- Key management by SQL, and removal.
SELECT taskauth.remove_issuer_key('https://auth.example', 'ba-1') AS removed,
       taskauth.remove_issuer_key('https://auth.example', 'ba-1') AS removed_again;
SELECT pg_temp.auth(:'t_static') AS key_removed;
SELECT taskauth.add_issuer_key('https://auth.example', :'ec_jwk'::jsonb);
SELECT pg_temp.auth(:'t_static') AS key_added;
SELECT taskauth.add_issuer_key('https://nobody.example', :'ec_jwk'::jsonb);
SELECT taskauth.remove_issuer('https://auth.example') AS removed, taskauth.remove_issuer('https://auth.example') AS removed_again;
SELECT pg_temp.auth(:'t_static') AS issuer_removed;

-- Clean up.
DROP OWNED BY ta_issuers_api;
DROP ROLE ta_issuers_api;
DROP SCHEMA ba CASCADE;
DELETE FROM taskauth.users;
-- Leave the database as this file found it, for the suites that follow.
SET client_min_messages = warning;
DROP EXTENSION taskauth CASCADE;
