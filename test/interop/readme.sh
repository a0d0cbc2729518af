#!/bin/bash
# README's blocks, run as README shows them: every fenced block that follows a
# "<!-- readme-test: NAME -->" line is extracted from README.md verbatim and run (the shell ones
# from the top of the checkout, the SQL ones with psql in a database named app), in the order a
# reader meets them (build, quick start, install, request, own policy), and what each promises
# is checked. The docs pages' blocks are docs.sh's. TAP.
# readme-blocks: README.md build quick-start install request own-policy
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib/tap.sh"

readme=${TASKAUTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/README.md
db=app

cleanup() {
  dropdb --if-exists --force "$db" >/dev/null 2>&1
  psql -X -q -d postgres >/dev/null 2>&1 <<'SQL'
DROP ROLE IF EXISTS token_tools;
DROP ROLE IF EXISTS authenticator;
DROP ROLE IF EXISTS web;
SQL
}
trap cleanup EXIT

# The fenced block marked "<!-- readme-test: $1 -->" on README.md, verbatim.
block() { /usr/bin/python3 "$here/lib/doc_blocks.py" block README.md "$1"; }
run() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@" 2>&1; }

echo "1..15"
missing=$(/usr/bin/python3 "$here/lib/doc_blocks.py" require "$0") \
  || { echo "Bail out! README: $missing"; exit 1; }
cleanup
createdb "$db" || { echo "Bail out! createdb $db failed"; exit 1; }

# Installing into your own server: the shell block, from the top of the checkout (as root, as
# make test runs; the packages are there already, so apt-get only confirms them)
out=$(cd "$(dirname "$readme")" && DEBIAN_FRONTEND=noninteractive bash -e -c "$(block build)" 2>&1)
tap $? "README's build block runs$( (($? == 0)) || printf ': %s' "$(tail -3 <<<"$out")")"
# Quick start: make demo, verbatim, from the top of the checkout (its throwaway cluster on a port
# of its own: pg_virtualenv takes PGPORT, which would be this test's cluster's); make test is the
# command .ci/run runs, of which this file is one suite
qs=$(block quick-start)
is "$(sed 's/ *#.*//' <<<"$qs" | tr '\n' ';')" "make demo;make test;" "README's quick start shows make demo and make test"
port=$(/usr/bin/python3 "$here/lib/free_port.py" 15632)
out=$(cd "$(dirname "$readme")" && PGPORT=$port bash -e -c "$(grep '^make demo' <<<"$qs")" 2>&1)
tap $? "README's make demo runs$( (($? == 0)) || printf ': %s' "$(tail -5 <<<"$out")")"
grep -q '^Demo finished: every step behaved as expected\.$' <<<"$out"; tap $? "and its walk-through ends with every step as expected"
is "$(grep -cx 'make test' "$(dirname "$readme")/.ci/run")" "1" "make test is the command .ci/run runs"

out=$(block install | run)
tap $? "README's install block runs${out:+: $out}"
is "$(run -c "SELECT count(*), bool_and(octet_length(secret) >= 32) FROM taskauth.signing_keys")" "1|t" \
   "it installed one generated signing key"
grep -q "SELECT taskauth.add_signing_key('" "$readme"; tap $((! $?)) "README shows no literal signing secret to paste"
is "$(run -c "SELECT taskauth.preload_status(), has_function_privilege('web', 'taskauth.login(text,text)', 'EXECUTE')")" \
   "session_preload_libraries|t" "the library is preloaded and web may log in"

# A request, end to end (as the owner of the session, SET ROLE web inside)
out=$(block request | run)
tap $? "README's request block runs"
is "$(tail -1 <<<"$out")" "Buy milk|f" "it shows alice's one task"
grep -qE '^[0-9a-f]{8}-[0-9a-f]{4}-' <<<"$out"; tap $? "authenticate returned alice's id"

# A policy of your own
out=$(block own-policy | run)
tap $? "README's own-policy block runs${out:+: $out}"
token=$(run -c "SELECT taskauth.login('alice@example.com', 'correct horse battery')")
is "$(run -v tok="$token" <<'SQL'
SET ROLE web;
SELECT count(*) FROM public.notes;
INSERT INTO public.notes (body) VALUES ('anonymous');
SQL
)" "0
ERROR:  new row violates row-level security policy for table \"notes\"" \
   "anonymous: no rows and no error from reading, insert refused"
is "$(run -v tok="$token" <<'SQL'
SET ROLE web;
BEGIN;
SELECT taskauth.authenticate(:'tok') IS NOT NULL AS ok \gset
INSERT INTO public.notes (body) VALUES ('alice''s note');
SELECT body FROM public.notes;
COMMIT;
SELECT count(*) FROM public.notes;
SQL
)" "alice's note
0" "signed in: alice writes and reads her note; after COMMIT the session is anonymous again"
