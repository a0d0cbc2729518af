#!/bin/bash
# Benchmark of login throttling: password guesses against one account through taskauth.login
# with throttling off and on (the time an attacker needs for 1,000 guesses: measured with
# throttling off, summed from the lock schedule and checked against scaled-down locks run for
# real with it on), what throttling adds to a failed login, and other users' login latency while
# an attacker guesses. The work is done by bench/throttle.py (its docstring lists the settings,
# all through the environment); this script gives it a throwaway cluster and saves the output.
#
# Usage: bench/throttle.sh [OUTPUT.md]   (default: print only; 7 to 10 minutes)
# Needs taskauth installed (make install) and python3-psycopg2 (test/install-deps); runs in its
# own throwaway cluster (pg_virtualenv). Not part of make test: timing is never asserted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

. "$here/lib/cluster.sh"
in_own_cluster "$0" -- "$@"

out=${1:-}
# the cluster's server log, to weigh what a flood of failed logins writes there
SERVER_LOG=$(pg_lsclusters -h | awk -v v="${PGVERSION:-15}" '$1 == v && $2 == "regress" {print $NF}')
export SERVER_LOG
start=$SECONDS
if [[ -n $out ]]; then
  /usr/bin/python3 "$here/throttle.py" | tee "$out"
else
  /usr/bin/python3 "$here/throttle.py"
fi
echo "bench/throttle.sh: done in $((SECONDS - start)) s" >&2
