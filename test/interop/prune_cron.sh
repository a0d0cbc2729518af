#!/bin/bash
# docs/sessions.md's pg_cron set-up for prune(), run verbatim in a cluster of its own: its
# postgresql.conf lines are the cluster's settings (the shared test cluster does not preload
# pg_cron), and its SQL block creates pg_cron and schedules the job; the job runs the command
# the page shows, and that command prunes. TAP.
# readme-blocks: docs/sessions.md prune-cron-conf prune-cron
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib/tap.sh"

echo "1..5"
missing=$(/usr/bin/python3 "$here/lib/doc_blocks.py" require "$0") || { echo "Bail out! $missing"; exit 1; }
block=$(/usr/bin/python3 "$here/lib/doc_blocks.py" block docs/sessions.md prune-cron)
conf=()
while read -r line; do conf+=(-o "$line"); done < <(/usr/bin/python3 "$here/lib/doc_blocks.py" conf docs/sessions.md prune-cron-conf)
pgv=$(pg_config --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')

port=$(/usr/bin/python3 "$here/lib/free_port.py" 15432)
out=$(BLOCK=$block pg_virtualenv -t -v "$pgv" -c "-p $port" \
      "${conf[@]}" \
      bash -c '
  set -e
  createdb app
  psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "CREATE EXTENSION taskauth"
  echo "block: $(psql -X -q -At -v ON_ERROR_STOP=1 -d app <<<"$BLOCK" 2>&1)"
  echo "job: $(psql -X -q -At -d app -c "SELECT jobname, schedule, command, database FROM cron.job")"
  # the launcher connects to its database shortly after the server starts: wait for it (5 s at most)
  for i in $(seq 50); do
    launcher=$(psql -X -q -At -d app -c "SELECT datname FROM pg_stat_activity WHERE backend_type = '"'"'pg_cron launcher'"'"'")
    [[ -z $launcher ]] || break; sleep 0.1
  done
  echo "launcher: $launcher"
  # an expired revocation to prune, then the job'"'"'s own command as pg_cron would run it
  psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "INSERT INTO taskauth.revocations (session_id, user_id, revoked_at, expires_at, reason)
      VALUES (gen_random_uuid(), gen_random_uuid(), now() - interval '"'"'2 days'"'"', now() - interval '"'"'1 day'"'"', '"'"'logout'"'"')"
  cmd=$(psql -X -q -At -d app -c "SELECT command FROM cron.job WHERE jobname = '"'"'taskauth-prune'"'"'")
  echo "ran: $(psql -X -q -At -d app -c "$cmd")"
  echo "left: $(psql -X -q -At -d app -c "SELECT count(*) FROM taskauth.revocations")"
' 2>&1)
rc=$?
tap $rc "a cluster with the page's postgresql.conf lines ($(/usr/bin/python3 "$here/lib/doc_blocks.py" conf docs/sessions.md prune-cron-conf | tr '\n' ' ')) ran its SQL block"
((rc == 0)) || printf '# %s\n' "$(grep -v '^20..-' <<<"$out" | tail -20)"
grep -qE '^block: [0-9]+$' <<<"$out"; tap $? "the block creates pg_cron and schedules a job"
is "$(grep '^launcher: ' <<<"$out")" "launcher: app" "pg_cron's launcher runs, in the database cron.database_name names"
is "$(grep '^job: ' <<<"$out")" "job: taskauth-prune|*/5 * * * *|SELECT taskauth.prune()|app" \
   "the job runs SELECT taskauth.prune() every 5 minutes in the database"
is "$(grep -E '^(ran|left): ' <<<"$out" | tr '\n' ' ')" "ran: 1 left: 0 " \
   "the job's command prunes the expired revocation"
