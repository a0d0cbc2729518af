#!/bin/bash
# pg_dump of a database using taskauth, restored into a fresh database: CREATE EXTENSION comes
# back from the dump, and users, tasks, signing keys (retired ones too), sessions, the refresh key,
# revocations and their sequence, the API role's grants and row-level security are all there and
# working. TAP, against the PG* cluster.
set -uo pipefail

src=ta_dump_src_$$
dst=ta_dump_dst_$$
api=ta_dump_api_$$
api_password=dump-$RANDOM$RANDOM$RANDOM
dump=$(mktemp -t taskauth-dump.XXXXXX)
password='dump-test-password'

# Drops what the test created, whatever happened.
cleanup() {
  dropdb --if-exists --force "$src" >/dev/null 2>&1
  dropdb --if-exists --force "$dst" >/dev/null 2>&1
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $api" >/dev/null 2>&1
  rm -f "$dump"
}
trap cleanup EXIT

n=0
failed=0
# Prints one TAP line: ok when the first argument is 0.
tap() {
  n=$((n + 1))
  if [[ $1 == 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
# TAP line comparing two strings; shows both on failure.
is() {
  local got=$1 want=$2 name=$3
  if [[ $got == "$want" ]]; then tap 0 "$name"; else
    tap 1 "$name"; printf '#   got:  %s\n#   want: %s\n' "${got//$'\n'/ | }" "${want//$'\n'/ | }"
  fi
}
# Runs SQL from stdin as superuser in database $1; prints unaligned tuples.
su_sql() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# Runs SQL from stdin as the API role in database $1; errors show their SQLSTATE.
api_sql() {
  local db=$1; shift
  PGUSER=$api PGPASSWORD=$api_password psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
    -d "$db" "$@"
}

echo "1..24"

# --- a database with users, tasks and keys (one key retired) ---------------------------------
createdb "$src" || { echo "Bail out! createdb failed"; exit 1; }
setup=$(su_sql "$src" -v api="$api" -v api_password="$api_password" -v password="$password" 2>&1 <<'SQL'
CREATE EXTENSION taskauth CASCADE;
CREATE ROLE :"api" LOGIN PASSWORD :'api_password';
SELECT taskauth.grant_api_access(:'api');
SET taskauth.bcrypt_cost = 4;
SELECT taskauth.add_signing_key(repeat('a-0123456789', 4), 'dump-k1');
SELECT taskauth.add_signing_key(repeat('b-0123456789', 4), 'dump-k2');
SELECT taskauth.register(e, :'password')
  FROM unnest(ARRAY['alice@example.com', 'bob@example.com', 'carol@example.com']) e;
INSERT INTO taskauth.tasks (user_id, title, description, is_completed)
SELECT u.id, u.email || ' task ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'détail ✓ ' || g END,
       g % 2 = 0
FROM taskauth.users u, generate_series(1, 10) g;
SQL
)
rc=$?
tap $rc "source database: extension, API role, 2 signing keys, 3 users, 30 tasks"
((rc == 0)) || { printf '# %s\n' "$setup"; echo "Bail out! setup failed"; exit 1; }

alice=$(su_sql "$src" <<<"SELECT id FROM taskauth.users WHERE email = 'alice@example.com'")
token_k2=$(su_sql "$src" -v password="$password" \
  <<<"SET taskauth.bcrypt_cost = 4; SELECT taskauth.login('alice@example.com', :'password')")
# A third key signs one token and is then retired: it must stay retired after the restore.
token_k3=$(su_sql "$src" -v password="$password" <<'SQL'
SET taskauth.bcrypt_cost = 4;
SELECT taskauth.add_signing_key(repeat('c-0123456789', 4), 'dump-k3') \g /dev/null
SELECT taskauth.login('alice@example.com', :'password');
SELECT taskauth.retire_signing_key('dump-k3') \g /dev/null
SQL
)

# Sessions: alice signs in twice and signs one session out; carol is revoked as a user.
sessions=$(su_sql "$src" -v password="$password" <<'SQL'
SET taskauth.bcrypt_cost = 4;
SELECT access_token AS live_at, refresh_token AS live_rt
  FROM taskauth.sign_in('alice@example.com', :'password') \gset
SELECT access_token AS gone_at FROM taskauth.sign_in('alice@example.com', :'password') \gset
BEGIN;
SELECT taskauth.authenticate(:'gone_at') \g /dev/null
SELECT taskauth.logout() \g /dev/null
COMMIT;
SELECT access_token AS carol_at FROM taskauth.sign_in('carol@example.com', :'password') \gset
SELECT taskauth.revoke_user(id) FROM taskauth.users WHERE email = 'carol@example.com' \g /dev/null
SELECT :'live_at', :'live_rt', :'gone_at', :'carol_at';
SQL
)
IFS='|' read -r live_at live_rt gone_at carol_at <<<"$sessions"

# --- dump and restore -------------------------------------------------------------------------
out=$(pg_dump -Fc -f "$dump" "$src" 2>&1)
rc=$?; tap $rc "pg_dump -Fc of the source database"; ((rc == 0)) || printf '# %s\n' "$out"
out=$(createdb "$dst" 2>&1 && pg_restore --exit-on-error -d "$dst" "$dump" 2>&1)
rc=$?; tap $rc "pg_restore into a fresh database, no errors"; ((rc == 0)) || printf '# %s\n' "$out"

q_ext="SELECT extversion FROM pg_extension WHERE extname = 'taskauth'"
is "$(su_sql "$dst" <<<"$q_ext")" "$(su_sql "$src" <<<"$q_ext")" \
  "CREATE EXTENSION came back from the dump, same version"

# Every row, every column, compared as text between the two databases (as superuser).
# same_table NAME TABLE ROWS QUERY: QUERY (the rows of TABLE, as text) succeeds in both databases
# and gives the same rows, TABLE holds as many rows in both, and the source holds ROWS of them:
# "=N" exactly N, ">=N" at least N (what the script made).
same_table() {
  local name=$1 table=$2 spec=$3 q=$4 db out rc rows=() counts=() diag=() shown
  for db in "$src" "$dst"; do
    out=$(su_sql "$db" <<<"$q" 2>&1); rc=$?
    ((rc == 0)) || diag+=("the query failed in $db: ${out//$'\n'/ | }")
    rows+=("$out")
    out=$(su_sql "$db" <<<"SELECT count(*) FROM $table" 2>&1); rc=$?
    ((rc == 0)) || diag+=("counting failed in $db: ${out//$'\n'/ | }")
    counts+=("$out")
  done
  [[ ${rows[0]} == "${rows[1]}" ]] || diag+=("rows differ; source: ${rows[0]//$'\n'/ | }"
                                             "restored: ${rows[1]//$'\n'/ | }")
  shown="${counts[0]} rows in each"
  [[ ${counts[0]} == "${counts[1]}" ]] || {
    shown="${counts[0]} rows in the source, ${counts[1]} restored"
    diag+=("$table: $shown")
  }
  case $spec in
    =*) [[ ${counts[0]} == "${spec#=}" ]] ||
      diag+=("$table: ${counts[0]} rows in the source, not ${spec#=}") ;;
    '>='*) [[ ${counts[0]} =~ ^[0-9]+$ ]] && ((counts[0] >= ${spec#>=})) ||
      diag+=("$table: ${counts[0]} rows in the source, fewer than ${spec#>=}") ;;
  esac
  tap ${#diag[@]} "$name ($shown)"
  ((${#diag[@]} == 0)) || printf '# %.300s\n' "${diag[@]}"
}
same_table "users identical, hashes and timestamps included" taskauth.users =3 \
  "SELECT id, email, hashed_password, created_at, updated_at FROM taskauth.users ORDER BY id"
same_table "tasks identical, timestamps included" taskauth.tasks =30 \
  "SELECT id, user_id, title, description, is_completed, created_at, updated_at
   FROM taskauth.tasks ORDER BY id"
same_table "signing keys identical, the retired one included" taskauth.signing_keys =3 \
  "SELECT to_jsonb(k)::text FROM taskauth.signing_keys k ORDER BY 1"
# at least: alice's two sign-ins and carol's (logins may start sessions too), with the live
# session's refresh generation; alice's sign-out and carol's revocation as a user
same_table "sessions identical" taskauth.sessions '>=3' \
  "SELECT to_jsonb(s)::text FROM taskauth.sessions s ORDER BY id"
# the refresh key: a refresh token from before the dump still opens after the restore
same_table "refresh key identical" taskauth.refresh_key =1 \
  "SELECT to_jsonb(k)::text FROM taskauth.refresh_key k"
same_table "revocations identical" taskauth.revocations '>=2' \
  "SELECT to_jsonb(r)::text FROM taskauth.revocations r ORDER BY seq"

q_rls="SELECT string_agg(format('%s:%s/%s', relname, relrowsecurity, relforcerowsecurity), ' '
                         ORDER BY relname)
       FROM pg_class WHERE oid IN ('taskauth.users'::regclass, 'taskauth.tasks'::regclass)"
is "$(su_sql "$dst" <<<"$q_rls")" "tasks:t/t users:t/t" "row-level security still enabled and forced"

q_priv="SELECT has_table_privilege(:'api', 'taskauth.tasks', 'SELECT,INSERT,UPDATE,DELETE')
        AND has_column_privilege(:'api', 'taskauth.users', 'email', 'SELECT')
        AND NOT has_column_privilege(:'api', 'taskauth.users', 'hashed_password', 'SELECT')"
is "$(su_sql "$dst" -v api="$api" <<<"$q_priv")" "t" \
  "the API role's grants came back with the dump (never hashed_password)"

# --- the restored database works --------------------------------------------------------------
is "$(api_sql "$dst" -v t="$token_k2" <<<"SELECT taskauth.authenticate(:'t')" 2>&1)" "$alice" \
  "a token issued by the source database authenticates in the restored one"

out=$(api_sql "$dst" -v password="$password" 2>&1 <<'SQL'
BEGIN;
SELECT taskauth.authenticate(taskauth.login('alice@example.com', :'password')) \g /dev/null
SELECT count(*) || ' ' || bool_and(user_id = taskauth.current_user_id()) FROM taskauth.tasks;
SELECT email FROM taskauth.users;
COMMIT;
SQL
)
is "$out" $'10 true\nalice@example.com' \
  "login + authenticate in the restored database: alice sees her 10 tasks and her own row only"

out=$(api_sql "$dst" -v t="$token_k3" <<<"SELECT taskauth.authenticate(:'t')" 2>&1)
grep -q 'ERROR: *28000' <<<"$out"
tap $? "a token signed by the retired key is still refused (28000)"
grep -q 'ERROR: *28000' <<<"$out" || printf '# %s\n' "$out"

out=$(api_sql "$dst" -v password="$password" 2>&1 <<'SQL'
SELECT taskauth.register('  ALICE@example.COM ', :'password');
SQL
)
grep -q 'ERROR: *23505' <<<"$out"
tap $? "case-insensitive email uniqueness holds after the restore (23505)"
grep -q 'ERROR: *23505' <<<"$out" || printf '# %s\n' "$out"

out=$(api_sql "$dst" <<<"SELECT hashed_password FROM taskauth.users" 2>&1)
grep -q 'ERROR: *42501' <<<"$out"
tap $? "the API role still cannot read hashed_password (42501)"

# Adding a key and logging in afterwards uses the new key.
out=$(su_sql "$dst" -v password="$password" 2>&1 <<'SQL'
SET taskauth.bcrypt_cost = 4;
SELECT taskauth.add_signing_key(repeat('d-0123456789', 4), 'dump-k4') \g /dev/null
SELECT convert_from(decode(rpad(translate(h, '-_', '+/'), (length(h) + 3) / 4 * 4, '='), 'base64'),
                    'UTF8')::jsonb ->> 'kid'
FROM split_part(taskauth.login('bob@example.com', :'password'), '.', 1) h;
SQL
)
is "$out" "dump-k4" "a key added after the restore signs new logins"

# Sessions and revocations came back, and work
is "$(for t in "$gone_at" "$carol_at" "$live_at"; do api_sql "$dst" -v t="$t" <<<"SELECT taskauth.authenticate(:'t')" 2>&1 | grep -v '^LOCATION:' | sed 's/^psql:[^ ]* //'; done)" \
   "ERROR:  28000: token revoked
ERROR:  28000: token revoked
$alice" "after the restore: the signed-out session and the revoked user stay refused, the live session works"
out=$(api_sql "$dst" -v rt="$live_rt" <<<"SELECT expires_in FROM taskauth.refresh(:'rt')" 2>&1)
is "$out" "900" "the live session's refresh token works in the restored database"
# the sequence's state as dumped, then a new revocation (of a login's session: the live session is
# replayed below) numbered past every restored one
q_seq="SELECT last_value || ' ' || is_called FROM taskauth.revocations_seq"
seq_src=$(su_sql "$src" <<<"$q_seq" 2>&1)
out=$(su_sql "$dst" -v q_seq="$q_seq" 2>&1 <<'SQL'
:q_seq;
SELECT max(seq) AS restored_max FROM taskauth.revocations \gset
SELECT id AS sid FROM taskauth.sessions WHERE ended_at IS NULL AND refresh_generation IS NULL ORDER BY id LIMIT 1 \gset
SELECT taskauth.revoke_session(:'sid');
SELECT seq > :restored_max FROM taskauth.revocations WHERE session_id = :'sid';
SQL
)
is "$out" "$seq_src"$'\nt\nt' \
  "the revocations' sequence came back as it was, and a revocation after the restore is numbered past the restored ones"

# the live session's spent refresh token, presented again after the restore
out=$(api_sql "$dst" -v rt="$live_rt" <<<"SELECT expires_in FROM taskauth.refresh(:'rt')" 2>&1 | grep 'ERROR:' | sed 's/^psql:[^ ]* //')
is "$out" "ERROR:  28000: refresh token is not valid" "presented again there, it is a replay: refused"
out=$(su_sql "$dst" -v at="$live_at" <<<"SELECT end_reason FROM taskauth.sessions WHERE id = (convert_from(decode(translate(split_part(:'at', '.', 2), '-_', '+/') || repeat('=', (4 - length(split_part(:'at', '.', 2)) % 4) % 4), 'base64'), 'UTF8')::jsonb ->> 'sid')::uuid" 2>&1)
is "$out" "refresh_token_reused" "and the replay ends the restored session"

out=$(api_sql "$src" -v t="$token_k2" 2>&1 <<'SQL'
BEGIN;
SELECT taskauth.authenticate(:'t') \g /dev/null
SELECT count(*) FROM taskauth.tasks;
COMMIT;
SQL
)
is "$out" "10" "the source database is unchanged and still serves alice"

exit $((failed > 0))
