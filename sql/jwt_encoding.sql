-- Tokens carry UTF-8; a database in another encoding gets the claims converted, and a character
-- that encoding lacks is a token error (SQLSTATE 28000) like every other verification failure.
\set orig_db :DBNAME
SET client_min_messages = warning;
DROP DATABASE IF EXISTS taskauth_jwt_latin1;
RESET client_min_messages;
CREATE DATABASE taskauth_jwt_latin1 ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';
\c taskauth_jwt_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION taskauth;
CREATE EXTENSION pgcrypto;
CREATE FUNCTION tok(payload bytea, secret text) RETURNS text LANGUAGE sql AS $$
  SELECT si || '.' || rtrim(translate(encode(hmac(si, secret, 'sha256'), 'base64'), E'+/\n', '-_'), '=')
  FROM (SELECT 'eyJhbGciOiJIUzI1NiJ9.' || rtrim(translate(encode(payload, 'base64'), E'+/\n', '-_'), '=') AS si) s
$$;
SHOW server_encoding;
-- Latin-1 characters round-trip, raw or escaped.
SELECT taskauth.jwt_verify(taskauth.jwt_sign('{"a":"é","b":"\u00e9","c":"Zoë"}', 'k'), 'k');
SELECT taskauth.jwt_verify(tok(convert_to('{"name":"Ångström"}', 'UTF8'), 'k'), 'k');
-- jwt_sign writes UTF-8 whatever the database encoding: the payload bytes are C3 A9 for é.
SELECT encode(decode(translate(p, '-_', '+/') || repeat('=', (4 - length(p) % 4) % 4), 'base64'), 'hex')
FROM split_part(taskauth.jwt_sign('{"a":"é"}', 'k'), '.', 2) p;
-- Characters Latin-1 lacks, raw or escaped.
SELECT taskauth.jwt_verify(tok('\x7b2261223a22e697a5227d', 'k'), 'k');
SELECT taskauth.jwt_verify(tok(convert_to('{"a":"\u65e5"}', 'UTF8'), 'k'), 'k');
\c :orig_db
DROP DATABASE taskauth_jwt_latin1;
