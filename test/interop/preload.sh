#!/bin/bash
# A policy of the user's own in the original design's form, keyed to current_setting('jwt.sub'),
# cannot be fooled in a fresh session that never calls taskauth: CREATE EXTENSION puts the
# library into the database's session_preload_libraries, so SET/set_config/startup options of
# jwt.sub are refused or dropped before the session runs anything, for the API role and for a
# superuser. The documented form yields no rows for an anonymous session; grant_api_access
# refuses to finish while the library is not preloaded. TAP.
set -uo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/tap.sh"

db=ta_preload_$$
api=ta_preload_api_$$
api_password=preload-$RANDOM$RANDOM

cleanup() {
  dropdb --if-exists --force "$db" >/dev/null 2>&1
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $api" >/dev/null 2>&1
}
trap cleanup EXIT

su_sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# A new connection of the API role each call; errors come out as "ERROR <sqlstate>".
api_sql() {
  PGUSER=$api PGPASSWORD=$api_password psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
    -d "$db" "$@" 2>&1
}

echo "1..15"

createdb "$db" || { echo "Bail out! createdb failed"; exit 1; }
setup=$(su_sql -v api="$api" -v pw="$api_password" 2>&1 <<'SQL'
CREATE EXTENSION taskauth;
CREATE ROLE :"api" LOGIN PASSWORD :'pw';
SELECT taskauth.grant_api_access(:'api');
SELECT taskauth.add_signing_key(encode(sha256(random()::text::bytea), 'hex'), 'pre-k1');
SET taskauth.bcrypt_cost = 4;
SELECT taskauth.register('bob@example.com', 'bob-password-1') AS bob \gset
-- the original design card's form, and the documented form that is NULL when anonymous
CREATE TABLE public.notes (owner uuid NOT NULL, body text NOT NULL);
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_card ON public.notes USING (owner = current_setting('jwt.sub', true)::uuid);
CREATE TABLE public.notes2 (owner uuid NOT NULL, body text NOT NULL);
ALTER TABLE public.notes2 ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes2_own ON public.notes2 USING (owner = nullif(current_setting('jwt.sub', true), '')::uuid);
GRANT SELECT ON public.notes, public.notes2 TO :"api";
INSERT INTO public.notes VALUES (:'bob', 'bob''s secret note');
INSERT INTO public.notes2 VALUES (:'bob', 'bob''s secret note');
SELECT :'bob';
SQL
) || { echo "Bail out! setup failed: $setup"; exit 1; }
bob=$(tail -1 <<<"$setup")

is "$(su_sql -c "SELECT taskauth.preload_status()")" "session_preload_libraries" \
   "CREATE EXTENSION put taskauth into the database's session_preload_libraries"

# Fresh sessions of the API role that never call a taskauth function.
is "$(api_sql -c "SET jwt.sub = '$bob'")" "ERROR:  42501" \
   "fresh API session: SET jwt.sub is refused (42501)"
is "$(api_sql -c "SELECT set_config('jwt.sub', '$bob', false)")" "ERROR:  42501" \
   "fresh API session: set_config('jwt.sub') is refused"
# the session goes on past the refused SET (ON_ERROR_STOP off), and bob's row stays hidden
is "$(api_sql -v ON_ERROR_STOP=0 -c "SET jwt.sub = '$bob'" -c "SELECT count(*) FROM public.notes2")" \
   "ERROR:  42501"$'\n'"0" "fresh API session: the forged identity never reaches the policy"
is "$(PGOPTIONS="-c jwt.sub=$bob" api_sql -c "SELECT coalesce(current_setting('jwt.sub', true), '<none>'), count(*) FROM public.notes2")" \
   "WARNING:  permission denied to set parameter \"jwt.sub\""$'\n'"|0" \
   "jwt.sub given in the connection's startup options is refused with a warning and reads empty"
is "$(api_sql -c "SELECT count(*) FROM public.notes2")" "0" \
   "documented form nullif(current_setting('jwt.sub', true), '')::uuid: an anonymous session sees no rows"
is "$(api_sql -c "SELECT count(*) FROM public.notes")" "ERROR:  22P02" \
   "design-card form current_setting('jwt.sub', true)::uuid errors (22P02) for an anonymous session, as documented"
is "$(api_sql -c "SELECT 1 FROM pg_catalog.pg_settings WHERE name = 'jwt.sub' AND context = 'superuser'")" "1" \
   "a fresh session has the library's jwt.sub, not a placeholder"

# A superuser is refused too (the check hook, not the context).
is "$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$db" -c "SET jwt.sub = '$bob'" 2>&1)" "ERROR:  42501" \
   "fresh superuser session: SET jwt.sub is refused"

# The real identity still works through the documented policy.
token=$(su_sql -c "SELECT taskauth.login('bob@example.com', 'bob-password-1')")
is "$(api_sql -v tok="$token" <<'SQL'
BEGIN;
SELECT taskauth.authenticate(:'tok') IS NOT NULL AS authenticated \gset
SELECT body FROM public.notes2;
COMMIT;
SQL
)" "bob's secret note" "after authenticate, the documented policy shows bob his row"

# A role's own session_preload_libraries replaces the database's for its connections: warned.
su_sql -c "ALTER ROLE $api SET session_preload_libraries = 'auto_explain'"
out=$(psql -X -q -At -d "$db" -c "SELECT taskauth.grant_api_access('$api')" 2>&1)
grep -q "WARNING:  1 role setting(s) of session_preload_libraries leave out taskauth" <<<"$out"
tap $? "grant_api_access warns about a role whose own session_preload_libraries leaves taskauth out"
su_sql -c "ALTER ROLE $api RESET session_preload_libraries"

# Without the preload, grant_api_access says what to run.
su_sql -c "ALTER DATABASE $db RESET session_preload_libraries"
is "$(su_sql -c "SELECT coalesce(taskauth.preload_status(), 'not preloaded')")" "not preloaded" \
   "preload_status() tells when the database setting is gone"
out=$(psql -X -q -At -v VERBOSITY=verbose -d "$db" -c "SELECT taskauth.grant_api_access('$api')" 2>&1)
grep -q "55000" <<<"$out" && grep -q "HINT:  Run ALTER DATABASE $db SET session_preload_libraries = 'taskauth'" <<<"$out"
tap $? "grant_api_access refuses (55000) and its hint names the command to run"
# other libraries in the list are kept when the extension adds itself
su_sql -c "ALTER DATABASE $db SET session_preload_libraries = 'auto_explain'"
su_sql -c "DROP EXTENSION taskauth CASCADE" >/dev/null 2>&1
su_sql -c "CREATE EXTENSION taskauth"
is "$(su_sql -c "SELECT c FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.setrole = 0")" \
   "session_preload_libraries=auto_explain, taskauth" \
   "CREATE EXTENSION appends taskauth to a list that holds other libraries"
is "$(api_sql -c "SELECT count(*) FROM pg_catalog.pg_settings WHERE name IN ('jwt.sub', 'auto_explain.log_min_duration')")" "2" \
   "a new session then loads both libraries"
