#!/bin/bash
# Nothing secret reaches the server log: failed register, login, sign_in, refresh (a guess and a
# replayed refresh token), change_password and add_signing_key calls with their passwords,
# tokens and secrets written into the statement, and a bad token handed over the way
# PostgREST does it (request.headers, then pre_request()), leave the errors in the log but never
# the password, secret or token. Each value carries a marker that occurs nowhere else. TAP.
set -uo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/tap.sh"

db=ta_log_$$
api=ta_log_api_$$
api_password=log-$RANDOM$RANDOM
mark=M$$x$RANDOM$RANDOM
log=$(dirname "${PG_CLUSTER_CONF_ROOT:-/nonexistent/x}")/log/postgresql-${PGVERSION:-15}-regress.log

cleanup() {
  dropdb --if-exists --force "$db" >/dev/null 2>&1
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $api" >/dev/null 2>&1
}
trap cleanup EXIT


echo "1..4"
if [[ ! -r $log ]]; then
  echo "Bail out! server log not found at $log (run inside pg_virtualenv)"; exit 1
fi

createdb "$db" || { echo "Bail out! createdb failed"; exit 1; }
psql -X -q -d "$db" -v db="$db" -v api="$api" -v pw="$api_password" >/dev/null <<'SQL' || { echo "Bail out! setup failed"; exit 1; }
CREATE EXTENSION taskauth;
CREATE ROLE :"api" LOGIN PASSWORD :'pw';
SELECT taskauth.grant_api_access(:'api');
SELECT taskauth.add_signing_key(encode(sha256(random()::text::bytea), 'hex'));
ALTER DATABASE :"db" SET taskauth.bcrypt_cost = 4;
SQL
psql -X -q -d "$db" -c "SET taskauth.bcrypt_cost = 4" \
     -c "SELECT taskauth.register('known@example.com', 'known-password-1')" >/dev/null

start=$(wc -l <"$log")
api() { PGUSER=$api PGPASSWORD=$api_password psql -X -q -d "$db" "$@" >/dev/null 2>&1; }
# each call fails; each secret value holds the marker
api -c "SELECT taskauth.login('known@example.com', 'wrong-pw-$mark')"
api -c "SELECT taskauth.login('nobody@example.com', 'unknown-pw-$mark')"
api -c "SELECT taskauth.register('new@example.com', '${mark:0:7}')"         # too short
api -c "SELECT taskauth.register('not an email', 'bad-email-pw-$mark')"
api -c "SELECT taskauth.register('known@example.com', 'taken-pw-$mark')"    # taken
psql -X -q -d "$db" -c "SELECT taskauth.add_signing_key('short-$mark')" >/dev/null 2>&1
psql -X -q -d "$db" -c "SELECT taskauth.add_signing_key('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrbgGX1L7wwgPN $mark')" >/dev/null 2>&1
api -c "SELECT * FROM taskauth.sign_in('known@example.com', 'signin-pw-$mark')"
api -c "SELECT * FROM taskauth.refresh('refresh-token-$mark')"
rt=$(PGUSER=$api PGPASSWORD=$api_password psql -X -q -At -d "$db" \
       -c "SELECT refresh_token FROM taskauth.sign_in('known@example.com', 'known-password-1')")
api -c "SELECT * FROM taskauth.refresh('$rt')" -c "SELECT * FROM taskauth.refresh('$rt')"  # a replay
at=$(PGUSER=$api PGPASSWORD=$api_password psql -X -q -At -d "$db" \
       -c "SELECT taskauth.login('known@example.com', 'known-password-1')")
api -c "BEGIN" -c "SELECT taskauth.authenticate('$at')" -c "SELECT taskauth.change_password('old-pw-$mark', 'new-pw-$mark')"
api <<SQL
BEGIN;
SELECT set_config('request.headers', '{"authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.$mark"}', true);
SELECT taskauth.pre_request();
ROLLBACK;
SQL
sleep 0.5
new_lines=$(tail -n +"$((start + 1))" "$log")

errors=$(grep -c "ERROR:" <<<"$new_lines")
((errors >= 12)); tap $? "the failures were logged ($errors ERROR lines)"
grep -q "invalid email or password" <<<"$new_lines"; tap $? "the login failure's message is in the log"
leaks=$(grep -c -e "$mark" -e "${mark:0:7}" -e "$rt" -e "$at" <<<"$new_lines")
tap $((leaks != 0)) "no password, secret or token appears in the log ($leaks lines hold one)"
((leaks == 0)) || grep -e "$mark" -e "${mark:0:7}" -e "$rt" -e "$at" <<<"$new_lines" | sed 's/^/#   /' | head -5
grep -q "STATEMENT:  SELECT taskauth.pre_request()" <<<"$new_lines"; tap $? "pre_request's failing statement is logged, without the token"
