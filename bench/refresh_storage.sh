#!/bin/bash
# Storage of refresh tokens per session after N refreshes, the design of BASE (one row of
# taskauth.refresh_tokens per refresh, default: the commit before refresh generations) against
# this checkout's (the session's refresh generation, and one refresh key per database).
# For each design and each N: SESSIONS sessions signed in, then N rounds in which every session
# refreshes once (a round is one transaction, so each refresh of a session is in a transaction
# of its own, as with a client), then VACUUM; the figure is pg_total_relation_size (heap, TOAST,
# indexes, free space map) of the tables refresh tokens live in (sessions, plus refresh_tokens
# or refresh_key) divided by SESSIONS. Both builds are installed in turn in a throwaway cluster,
# under the install lock (TASKAUTH_INSTALL_LOCK, /tmp/taskauth-install.lock), and this
# checkout's build is left installed. Prints Markdown.
# Usage: bench/refresh_storage.sh [BASE]   env: SESSIONS=100 NS="0 100 2880"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BASE=${1:-aa90e44}
SESSIONS=${SESSIONS:-100}
NS=${NS:-"0 100 2880"}

if [[ -z ${TA_BENCH_BASE_DIR:-} ]]; then
  # 1. the base commit built in a worktree of its own, this checkout built
  wt=$(mktemp -d /tmp/ta-refresh-base.XXXXXX)
  trap 'git -C "$root" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
  git -C "$root" worktree add --detach "$wt" "$BASE" >/dev/null 2>&1
  make -C "$wt" -s >/dev/null
  make -C "$root" -s >/dev/null
  # 2. under the install lock, in a cluster of its own
  TA_BENCH_BASE_DIR=$wt flock "${TASKAUTH_INSTALL_LOCK:-/tmp/taskauth-install.lock}" "$0" "$@"
  exit
fi

. "$here/lib/cluster.sh"
in_own_cluster "$0" "shared_buffers=256MB" -- "$@"

# 3. inside the cluster
measure() {   # DESIGN N: prints one table row
  local design=$1 n=$2 db=bench_refresh_$2 script
  dropdb --if-exists "$db" >/dev/null 2>&1
  createdb "$db"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v sessions="$SESSIONS" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION taskauth;
SET taskauth.bcrypt_cost = 4;
SET taskauth.login_throttle_threshold = 0;
SELECT taskauth.add_signing_key('refresh-storage-bench-secret-0123456789ab', 'b1');
SELECT taskauth.register('bench@refresh.test', 'bench-password');
CREATE TABLE public.bench_rt (rt text);
SELECT set_config('bench.sessions', :'sessions', false);
DO $$
BEGIN
    FOR i IN 1 .. current_setting('bench.sessions')::int LOOP
        INSERT INTO public.bench_rt
        SELECT s.refresh_token FROM taskauth.sign_in('bench@refresh.test', 'bench-password') AS s;
    END LOOP;
END
$$;
SQL
  script=$(mktemp)
  for ((i = 0; i < n; i++)); do
    echo "UPDATE public.bench_rt AS b SET rt = (SELECT r.refresh_token FROM taskauth.refresh(b.rt) AS r);"
  done > "$script"
  local t0=$SECONDS
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$script" >/dev/null
  rm -f "$script"
  psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -v design="$design" -v n="$n" -v sessions="$SESSIONS" \
       -v secs=$((SECONDS - t0)) <<'SQL'
VACUUM;
SELECT format('| %s | %s | %s | %s | %s | %s |', :'design', :n,
              (SELECT count(*) FROM taskauth.sessions),
              (SELECT string_agg(format('%s %s', c.relname, pg_size_pretty(pg_total_relation_size(c.oid))), ', ' ORDER BY c.relname)
                 FROM pg_class c WHERE c.relnamespace = 'taskauth'::regnamespace
                  AND c.relname IN ('sessions', 'refresh_tokens', 'refresh_key')),
              (SELECT round(sum(pg_total_relation_size(c.oid)) / :sessions) FROM pg_class c
                WHERE c.relnamespace = 'taskauth'::regnamespace
                  AND c.relname IN ('sessions', 'refresh_tokens', 'refresh_key')),
              :secs)
SQL
  dropdb "$db"
}

echo "| design | refreshes per session | sessions | tables (pg_total_relation_size after VACUUM) | bytes per session | seconds |"
echo "|---|---:|---:|---|---:|---:|"
make -C "$TA_BENCH_BASE_DIR" -s install >/dev/null
for n in $NS; do measure "rows ($BASE)" "$n"; done
make -C "$root" -s install >/dev/null
for n in $NS; do measure "generations (this build)" "$n"; done
