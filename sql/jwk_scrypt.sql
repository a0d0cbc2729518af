-- Better Auth's scrypt password hashes in verify_password and password_needs_rehash.
-- Hashes computed with Python's hashlib.scrypt (N=16384, r=16, p=1, dkLen=64, salt = hex text,
-- password normalized to NFKC first, as Better Auth does).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS taskauth;
RESET client_min_messages;
\set h1 '00112233445566778899aabbccddeeff:73122e887cfc14f91396cdef78dfe4b9dec28d459037601c4904cedba5a637ab97b39b40c236df5d42881d0109ca8cf0f85e39dbaba2911c190915bd8f30fe85'
-- NFKC of 'ﬁre Ⅻ ½' is 'fire XII 1⁄2'; 'Å' written precomposed (U+00C5).
\set h2 '0123456789abcdef0123456789abcdef:afd64ecf7885ac868805f117a69acfaee7a97123c0a21542aaba37f84f5e133020bb34907c7bd56b2d825b2531e6d87a291e50c40fe425fb728bc26522e39a75'
\set h3 '0123456789abcdef0123456789abcdef:e959f483414422fc7f46cb4dd7f86bd0b17c3189fadc981cb51859d2eb4708a92b2f5d7de4c200b15e8f8a9fde7493f91b555e93d7f4b4e9a6b64faba5e341bc'
SELECT taskauth.verify_password('password123', :'h1') AS right_password,
       taskauth.verify_password('password124', :'h1') AS wrong_password,
       taskauth.verify_password('', :'h1') AS empty_password;
-- The password is compared in NFKC: the ligature form and the plain form both match.
SELECT taskauth.verify_password('ﬁre Ⅻ ½', :'h2') AS compatibility_form,
       taskauth.verify_password('fire XII 1⁄2', :'h2') AS normalized_form,
       taskauth.verify_password(U&'\00C5', :'h3') AS precomposed,
       taskauth.verify_password(U&'A\030A', :'h3') AS decomposed;
-- Always weaker than today's settings: login upgrades it to bcrypt or argon2id.
SELECT taskauth.password_needs_rehash(:'h1') AS needs_rehash;
-- Near misses are not scrypt hashes; they fall through to the other schemes and are refused.
SELECT taskauth.verify_password('password123', upper(:'h1'));
SELECT taskauth.verify_password('password123', left(:'h1', -1));
SELECT taskauth.verify_password('password123', replace(:'h1', ':', '$'));
-- Leave the database as this file found it, for the suites that follow.
SET client_min_messages = warning;
DROP EXTENSION taskauth CASCADE;
