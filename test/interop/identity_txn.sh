#!/bin/bash
# Identity across real transaction ends and fresh connections (TAP): an identity set by
# authenticate() is gone after COMMIT and after ROLLBACK, one request's identity never reaches the
# next transaction on the same connection, and jwt.sub cannot be forged from a new session by a
# placeholder (SET before the library loads, startup options, ALTER ROLE/DATABASE ... SET).
# PostgREST's per-request protocol is replayed with real BEGIN/COMMIT. Uses the PG* environment.
set -uo pipefail

DB=ta_txn_$$
API=ta_txn_api_$$
API_PW=txn-$RANDOM-$RANDOM
SECRET=identity-txn-secret-0123456789abcdefghij
n=0
failed=0

cleanup() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS $API" >/dev/null 2>&1
}
trap cleanup EXIT

# ok GOT WANT NAME: one TAP line comparing two strings
ok() {
  n=$((n + 1))
  if [[ $1 == "$2" ]]; then
    echo "ok $n - $3"
  else
    failed=$((failed + 1))
    echo "not ok $n - $3"
    printf '#   got: %s\n' "$1" | head -5
    printf '#  want: %s\n' "$2"
  fi
}

# su [psql args]: a new superuser connection to the test database, SQL on stdin, unaligned
# output; errors print as "ERROR:  <sqlstate>".
su() { psql -X -q -At -v VERBOSITY=sqlstate -d "$DB" "$@" 2>&1; }
# api [psql args]: the same as the API role
api() { PGUSER=$API PGPASSWORD=$API_PW psql -X -q -At -v VERBOSITY=sqlstate -d "$DB" "$@" 2>&1; }

psql -X -q -d postgres -c "CREATE DATABASE $DB" -c "CREATE ROLE $API LOGIN PASSWORD '$API_PW'" >/dev/null || exit 1
su -q <<SQL >/dev/null || exit 1
CREATE EXTENSION taskauth;
SET taskauth.bcrypt_cost = 4;
SELECT taskauth.add_signing_key('$SECRET', 'txn');
SELECT taskauth.grant_api_access('$API');
SELECT taskauth.register('alice@txn.test', 'alice-password');
SELECT taskauth.register('bob@txn.test', 'bob-password');
SQL
# CREATE EXTENSION preloads the library in this database (test/interop/preload.sh covers that);
# this test takes the setting away again, to show that taskauth's own functions and policies
# hold even where the library is loaded only when first called.
su -c "ALTER DATABASE $DB RESET session_preload_libraries" >/dev/null || exit 1
ALICE=$(su -c "SELECT id FROM taskauth.users WHERE email = 'alice@txn.test'")
BOB=$(su -c "SELECT id FROM taskauth.users WHERE email = 'bob@txn.test'")
ALICE_TOK=$(su -c "SELECT taskauth.login('alice@txn.test', 'alice-password')")
BOB_TOK=$(su -c "SELECT taskauth.login('bob@txn.test', 'bob-password')")
su -q -c "INSERT INTO taskauth.tasks (user_id, title) VALUES ('$ALICE', 'alice task'), ('$BOB', 'bob task')" >/dev/null

# --- transaction ends
out=$(api <<SQL
BEGIN;
SELECT taskauth.authenticate('$ALICE_TOK') IS NOT NULL;
SELECT taskauth.current_user_id();
COMMIT;
SELECT coalesce(taskauth.current_user_id()::text, 'anonymous'), '[' || current_setting('jwt.sub') || ']';
SQL
)
ok "$out" "$(printf 't\n%s\nanonymous|[]' "$ALICE")" 'identity is set inside the transaction and gone after COMMIT'

out=$(api <<SQL
BEGIN;
SELECT taskauth.authenticate('$ALICE_TOK') IS NOT NULL;
ROLLBACK;
SELECT coalesce(taskauth.current_user_id()::text, 'anonymous'), count(*) FROM taskauth.tasks;
SQL
)
ok "$out" "$(printf 't\nanonymous|0')" 'identity is gone after ROLLBACK'

out=$(api <<SQL
BEGIN;
SELECT taskauth.authenticate('$ALICE_TOK') IS NOT NULL;
SELECT 1 / 0;
ROLLBACK;
SELECT coalesce(taskauth.current_user_id()::text, 'anonymous');
SQL
)
ok "$out" "$(printf 't\nERROR:  22012\nanonymous')" 'identity is gone after a transaction that failed'

out=$(api <<SQL
SELECT taskauth.authenticate('$ALICE_TOK') IS NOT NULL;
SELECT coalesce(taskauth.current_user_id()::text, 'anonymous');
SQL
)
ok "$out" "$(printf 't\nanonymous')" 'in autocommit mode the identity lasts one statement'

out=$(api <<SQL
SELECT taskauth.authenticate('$ALICE_TOK') = taskauth.current_user_id();
SQL
)
ok "$out" "t" 'within one statement, authenticate() then current_user_id() agree'

# --- one pooled connection, several requests (as a transaction pooler hands them out)
out=$(api <<SQL
BEGIN; SELECT taskauth.authenticate('$ALICE_TOK') IS NOT NULL; SELECT string_agg(title, ',') FROM taskauth.tasks; COMMIT;
BEGIN; SELECT count(*) FROM taskauth.tasks; COMMIT;
BEGIN; SELECT taskauth.authenticate('$BOB_TOK') IS NOT NULL; SELECT string_agg(title, ',') FROM taskauth.tasks; COMMIT;
BEGIN; SELECT taskauth.authenticate('not.a.token'); ROLLBACK;
BEGIN; SELECT coalesce(taskauth.current_user_id()::text, 'anonymous'), count(*) FROM taskauth.tasks; COMMIT;
SQL
)
ok "$out" "$(printf 't\nalice task\n0\nt\nbob task\nERROR:  28000\nanonymous|0')" \
  'one connection: alice, anonymous, bob, a bad token, anonymous; none sees another''s rows'

# --- placeholders from a fresh session, before anything loads the library
out=$(api <<SQL
SET jwt.sub = '$BOB';
SET jwt.claims = '{"sub":"$BOB"}';
SELECT coalesce(taskauth.current_user_id()::text, 'anonymous'), coalesce(taskauth.claims()::text, 'none'),
       '[' || current_setting('jwt.sub') || ']', count(*) FROM taskauth.tasks;
SQL
)
ok "$(grep -v WARNING <<<"$out")" "anonymous|none|[]|0" \
  'SET jwt.sub/jwt.claims before the library loads: removed when it loads, no identity'

out=$(PGOPTIONS="-c jwt.sub=$BOB" api -c "SELECT coalesce(taskauth.current_user_id()::text, 'anonymous'), count(*) FROM taskauth.tasks")
ok "$(grep -v WARNING <<<"$out")" "anonymous|0" 'jwt.sub in the connection''s startup options: no identity'

out=$(su -c "ALTER ROLE $API SET jwt.sub = '$BOB'" | grep -v WARNING)
got=$(api -c "SELECT coalesce(taskauth.current_user_id()::text, 'anonymous'), count(*) FROM taskauth.tasks" | grep -v WARNING)
su -c "ALTER ROLE $API RESET jwt.sub" >/dev/null
ok "$got" "anonymous|0" "ALTER ROLE .. SET jwt.sub (from a session without the library: '$out'): no identity"

out=$(su -c "ALTER DATABASE $DB SET jwt.sub = '$BOB'" | grep -v WARNING)
got=$(api -c "SELECT coalesce(taskauth.current_user_id()::text, 'anonymous'), count(*) FROM taskauth.tasks" | grep -v WARNING)
su -c "ALTER DATABASE $DB RESET jwt.sub" >/dev/null
ok "$got" "anonymous|0" "ALTER DATABASE .. SET jwt.sub ('$out'): no identity"

out=$(su <<SQL
SELECT taskauth.current_user_id() IS NULL;
ALTER ROLE $API SET jwt.sub = '$BOB';
SQL
)
ok "$out" "$(printf 't\nERROR:  42501')" 'once the library is loaded, ALTER ROLE .. SET jwt.sub is refused outright'

out=$(PGOPTIONS="-c session_preload_libraries=taskauth" su -c "SET jwt.sub = '$BOB'")
ok "$out" "ERROR:  42501" 'with session_preload_libraries = taskauth, SET jwt.sub fails at once'

out=$(api <<SQL
SET taskauth.min_password_length = 1;
SELECT taskauth.register('carol@txn.test', 'short');
SQL
)
ok "$(grep -v WARNING <<<"$out")" "ERROR:  22023" \
  'a placeholder lowering taskauth.min_password_length before the library loads is ignored'

# --- PostgREST's protocol with real transactions, on one connection
pgrst() {  # pgrst HEADERS-JSON: the statements of one request, then COMMIT
  cat <<SQL
BEGIN;
SELECT set_config('search_path', '"taskauth", "public"', true), set_config('role', '$API', true), set_config('request.jwt.claims', '{"role":"$API"}', true), set_config('request.method', 'GET', true), set_config('request.path', '/tasks', true), set_config('request.headers', '$1', true), set_config('request.cookies', '{}', true) IS NOT NULL AS ok \gset
SELECT taskauth.pre_request();
SELECT coalesce(string_agg(title, ','), '-') FROM tasks;
COMMIT;
SQL
}
out=$( { pgrst "{\"authorization\":\"Bearer $ALICE_TOK\"}"; pgrst '{}'; pgrst "{\"authorization\":\"Bearer $BOB_TOK\"}";
         pgrst '{"authorization":"Bearer x.y.z"}'; pgrst ''; } | api )
ok "$out" "$(printf '\nalice task\n\n-\n\nbob task\nERROR:  PGRST\nERROR:  25P02\n\n-')" \
  'PostgREST requests on one connection: alice, anonymous, bob, bad token (PGRST, aborted), anonymous after commit'

out=$( { echo '\set VERBOSITY default'; pgrst '{"authorization":"Bearer x.y.z"}'; } | api | grep -E '^(ERROR|DETAIL)' | head -2)
ok "$out" "$(printf '%s\n%s' 'ERROR:  {"code" : "PGRST301", "message" : "jwt segment is not valid base64url"}' \
  'DETAIL:  {"status" : 401, "headers" : {"WWW-Authenticate" : "Bearer error=\"invalid_token\""}}')" \
  'the bad-token error carries PostgREST''s JSON message and 401 detail'

echo "1..$n"
exit $((failed > 0))
