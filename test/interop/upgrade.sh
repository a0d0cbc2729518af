#!/bin/bash
# ALTER EXTENSION taskauth UPDATE from 0.1.0 (its frozen install script) to the current version:
# the upgraded database has exactly the objects, privileges, settings, statistics targets and
# comments of a fresh install (sql/catalog_snapshot.sql), keeps its users, tasks, keys and the
# API role's grants, and a token issued before the upgrade still authenticates. TAP.
set -uo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/tap.sh"
cd "$(dirname "$0")"

old=ta_upgrade_old_$$
new=ta_upgrade_new_$$
api=ta_upgrade_api_$$
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "${TASKAUTH_ROOT:-../..}/taskauth.control")

cleanup() {
  dropdb --if-exists --force "$old" >/dev/null 2>&1
  dropdb --if-exists --force "$new" >/dev/null 2>&1
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $api" >/dev/null 2>&1
}
trap cleanup EXIT

su_sql() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

echo "1..16"

createdb "$old" && createdb "$new" || { echo "Bail out! createdb failed"; exit 1; }

# Until its release the upgrade script is built (Makefile, tools/build-upgrade): the one the
# server has is the one the delta and today's fragments make, not a stale or hand-edited copy.
root=${TASKAUTH_ROOT:-$(cd ../.. && pwd)}
installed="$(su_sql postgres -c "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'")/extension/taskauth--0.1.0--$current.sql"
if [[ -f $root/src/upgrade/0.1.0--$current.sql ]]; then
  cmp -s <(/usr/bin/python3 "$root/tools/build-upgrade" "$root/src/upgrade/0.1.0--$current.sql") "$installed"
  tap $? "the installed upgrade script is the one src/upgrade/0.1.0--$current.sql and the fragments build"
else
  cmp -s "$root/taskauth--0.1.0--$current.sql" "$installed"
  tap $? "the installed upgrade script is the frozen taskauth--0.1.0--$current.sql"
fi
psql -X -q -d postgres -c "CREATE ROLE $api NOLOGIN" >/dev/null

# --- a 0.1.0 database in use ----------------------------------------------------------------
token=$(su_sql "$old" -v api="$api" 2>&1 <<'SQL'
CREATE EXTENSION taskauth VERSION '0.1.0';
SELECT taskauth.grant_api_access(:'api') \gset
SET taskauth.bcrypt_cost = 4;
SELECT taskauth.add_signing_key('upgrade-test-secret-0123456789abcdefghij', 'up-k1') \gset
SELECT taskauth.register('alice@example.com', 'alice-password-1') AS alice \gset
INSERT INTO taskauth.tasks (user_id, title) VALUES (:'alice', 'written under 0.1.0');
SELECT taskauth.add_issuer('https://issuer.example', audience => 'api',
                           jwks => '{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"i1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}');
SELECT taskauth.login('alice@example.com', 'alice-password-1');
SQL
)
is "$(su_sql "$old" -c "SELECT extversion FROM pg_extension WHERE extname = 'taskauth'")" "0.1.0" \
   "0.1.0 installs from its frozen script"

# The new library under 0.1.0's SQL (the window between installing the files and the update).
grep -qE '^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' <<<"$(tail -1 <<<"$token")"
tap $? "under 0.1.0's SQL the new library logs in (a token comes back)"
token=$(tail -1 <<<"$token")
is "$(su_sql "$old" -v tok="$token" <<'SQL'
SELECT taskauth.authenticate(:'tok') IS NOT NULL,
       taskauth.jwt_verify(taskauth.jwt_sign('{"a":1}', repeat('s-0123456789', 4)), repeat('s-0123456789', 4)) ->> 'a';
SQL
)" "t|1" "and authenticates, signs and verifies"

# --- the upgrade ----------------------------------------------------------------------------
out=$(su_sql "$old" -c "ALTER EXTENSION taskauth UPDATE" 2>&1)
rc=$?; tap $rc "ALTER EXTENSION taskauth UPDATE succeeds"; ((rc == 0)) || printf '# %s\n' "$out"
grep -q "WARNING:  role $api may log in but not yet sign in, refresh or sign out" <<<"$out"
tap $? "the update names the API role that needs grant_api_access again"
is "$(su_sql "$old" -c "SELECT has_function_privilege('$api', 'taskauth.sign_in(text, text)', 'EXECUTE')")" "f" \
   "until then the role cannot sign_in (an extension script's grants would be lost by pg_dump)"
# what docs/operations.md's "Upgrading from 0.1.0" says to run after the update
su_sql "$old" -c "SELECT taskauth.grant_api_access('$api')" >/dev/null
is "$(su_sql "$old" -c "SELECT extversion FROM pg_extension WHERE extname = 'taskauth'")" "$current" \
   "the extension is at version $current after the update"

# --- the same version installed fresh -------------------------------------------------------
su_sql "$new" -v api="$api" >/dev/null 2>&1 <<'SQL'
CREATE EXTENSION taskauth;
SELECT taskauth.grant_api_access(:'api');
SQL
snap_ok=0
snap_old=$(su_sql "$old" -f sql/catalog_snapshot.sql 2>&1) || { snap_ok=1; echo "# snapshot failed: $snap_old"; }
snap_new=$(su_sql "$new" -f sql/catalog_snapshot.sql 2>&1) || { snap_ok=1; echo "# snapshot failed: $snap_new"; }
facts=$(wc -l <<<"$snap_new")
# two failing snapshots must not compare equal
if ((snap_ok == 0)) && [[ $snap_old == "$snap_new" ]]; then
  tap 0 "upgraded and fresh databases have the same $facts catalog facts"
else
  tap 1 "upgraded and fresh databases have the same catalog facts"
  diff <(echo "$snap_old") <(echo "$snap_new") | sed 's/^/#   /' | head -40
fi
((facts > 100)); tap $? "the snapshot covers the extension's objects ($facts facts)"

# pg_dump records what differs from the privileges the extension's scripts set up
# (pg_init_privs): the same for an updated and a fresh database.
dump_norm() {
  local out
  out=$(pg_dump --schema-only --no-owner "$1") || return 1
  grep -v -e '^--' -e '^$' -e '^\\\(un\)\?restrict ' <<<"$out" | sed "s/$1/DB/g"
}
dump_ok=0
d_old=$(dump_norm "$old") || dump_ok=1
d_new=$(dump_norm "$new") || dump_ok=1
# two failing dumps must not compare equal
if ((dump_ok == 0)) && [[ -n $d_new && $d_old == "$d_new" ]]; then
  tap 0 "pg_dump --schema-only of both is the same ($(wc -l <<<"$d_new") lines)"
else
  tap 1 "pg_dump --schema-only of both is the same"
  diff <(echo "$d_old") <(echo "$d_new") | sed 's/^/#   /' | head -20
fi
is "$(su_sql "$old" -c "SELECT issuer, audience FROM taskauth.issuers")" "https://issuer.example|api" \
   "the registered issuer is kept"

# --- data and identity survive --------------------------------------------------------------
is "$(su_sql "$old" -c "SELECT count(*) FROM taskauth.users") $(su_sql "$old" -c "SELECT string_agg(title, ',') FROM taskauth.tasks")" \
   "1 written under 0.1.0" "users and tasks are kept"
is "$(su_sql "$old" -v tok="$token" -v api="$api" <<'SQL'
BEGIN;
SET LOCAL ROLE :"api";
SELECT taskauth.authenticate(:'tok') IS NOT NULL, (SELECT count(*) FROM taskauth.tasks);
COMMIT;
SQL
)" "t|1" "a token issued by 0.1.0 authenticates after the update and sees its task"
is "$(su_sql "$old" -c "SELECT has_function_privilege('$api', 'taskauth.verify_password(text, text)', 'EXECUTE'),
                               has_function_privilege('$api', 'taskauth.login(text, text)', 'EXECUTE')")" \
   "f|t" "after the update the API role keeps login and loses the primitives"
is "$(su_sql "$old" -c "SELECT taskauth.preload_status()")" "session_preload_libraries" \
   "the update adds taskauth to the database's session_preload_libraries"
