#!/bin/bash
# README's pg_cron block for prune(), run verbatim in a cluster of its own (pg_cron must be in
# shared_preload_libraries, which the shared test cluster does not load): the job is scheduled
# with the command README shows, and that command prunes. TAP.
# readme-blocks: README.md prune-cron
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib/tap.sh"

block=$(/usr/bin/python3 "$here/lib/doc_blocks.py" block README.md prune-cron)
echo "1..4"
[[ -n $block ]] || { echo "Bail out! README has no block marked readme-test: prune-cron"; exit 1; }
pgv=$(pg_config --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')

# a free port (pg_virtualenv would pick the first cluster's), for a second throwaway cluster
port=$(/usr/bin/python3 -c '
import os, socket
for p in range(15432, 15632):
    if os.path.exists("/var/run/postgresql/.s.PGSQL.%d" % p):
        continue
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p)); print(p); break
        except OSError:
            pass')
out=$(BLOCK=$block pg_virtualenv -t -v "$pgv" -c "-p $port" \
      -o shared_preload_libraries=pg_cron -o cron.database_name=app \
      bash -c '
  set -e
  createdb app
  psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION taskauth"
  echo "block: $(psql -X -q -At -v ON_ERROR_STOP=1 -d app <<<"$BLOCK" 2>&1)"
  echo "job: $(psql -X -q -At -d app -c "SELECT jobname, schedule, command, database FROM cron.job")"
  # an expired revocation to prune, then the job'"'"'s own command as pg_cron would run it
  psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "INSERT INTO taskauth.revocations (session_id, user_id, revoked_at, expires_at, reason)
      VALUES (gen_random_uuid(), gen_random_uuid(), now() - interval '"'"'2 days'"'"', now() - interval '"'"'1 day'"'"', '"'"'logout'"'"')"
  cmd=$(psql -X -q -At -d app -c "SELECT command FROM cron.job WHERE jobname = '"'"'taskauth-prune'"'"'")
  echo "ran: $(psql -X -q -At -d app -c "$cmd")"
  echo "left: $(psql -X -q -At -d app -c "SELECT count(*) FROM taskauth.revocations")"
' 2>&1)
rc=$?
tap $rc "a cluster with pg_cron preloaded ran README's block"
((rc == 0)) || printf '# %s\n' "$(grep -v '^20..-' <<<"$out" | tail -20)"
grep -qE '^block: [0-9]+$' <<<"$out"; tap $? "README's pg_cron block schedules a job"
is "$(grep '^job: ' <<<"$out")" "job: taskauth-prune|17 * * * *|SELECT taskauth.prune()|app" \
   "the job runs SELECT taskauth.prune() hourly in the database"
is "$(grep -E '^(ran|left): ' <<<"$out" | tr '\n' ' ')" "ran: 1 left: 0 " \
   "the job's command prunes the expired revocation"
