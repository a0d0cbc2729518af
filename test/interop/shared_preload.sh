#!/bin/bash
# docs/operations.md's shared_preload_libraries line, run in a cluster of its own (the shared test
# cluster loads taskauth per connection): the library is loaded at server start, preload_status()
# says so, jwt.sub stays unforgeable, and a token still authenticates. TAP.
# readme-blocks: docs/operations.md shared-preload-conf
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib/tap.sh"

echo "1..4"
missing=$(/usr/bin/python3 "$here/lib/doc_blocks.py" require "$0") || { echo "Bail out! $missing"; exit 1; }
conf=()
while read -r line; do conf+=(-o "$line"); done < <(/usr/bin/python3 "$here/lib/doc_blocks.py" conf docs/operations.md shared-preload-conf)
pgv=$(pg_config --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
port=$(/usr/bin/python3 "$here/lib/free_port.py" 15832)
out=$(pg_virtualenv -t -v "$pgv" -c "-p $port" "${conf[@]}" bash -c '
  set -e
  echo "server: $(psql -X -q -At -c "SHOW shared_preload_libraries")"
  createdb app
  psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "CREATE EXTENSION taskauth"
  echo "status: $(psql -X -q -At -d app -c "SELECT taskauth.preload_status()")"
  # in a database without the extension too, the prefix is reserved from the start
  echo "forge: $(psql -X -q -At -d postgres -c "SET jwt.sub = '"'"'00000000-0000-4000-8000-000000000000'"'"'" 2>&1 | head -1)"
  psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "SELECT taskauth.add_signing_key('"'"'shared-preload-secret-0123456789abcdefgh'"'"', '"'"'sp'"'"')" >/dev/null
  id=$(psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "SELECT taskauth.register('"'"'sp@preload.test'"'"', '"'"'sp-password'"'"')")
  tok=$(psql -X -q -At -v ON_ERROR_STOP=1 -d app -c "SELECT taskauth.login('"'"'sp@preload.test'"'"', '"'"'sp-password'"'"')")
  echo "auth: $([[ $(psql -X -q -At -d app -c "SELECT taskauth.authenticate('"'"'$tok'"'"')") == "$id" ]] && echo same)"
' 2>&1)
rc=$?
tap $rc "a cluster with the page's postgresql.conf line ($(/usr/bin/python3 "$here/lib/doc_blocks.py" conf docs/operations.md shared-preload-conf | tr '\n' ' ')) started and ran"
((rc == 0)) || printf '# %s\n' "$(grep -v '^20..-' <<<"$out" | tail -20)"
is "$(grep -E '^(server|status): ' <<<"$out" | tr '\n' ' ')" "server: taskauth status: shared_preload_libraries " \
   "the server loads taskauth at start and preload_status() says shared_preload_libraries"
grep -qE '^forge: ERROR: .*(reserved|can only be set)' <<<"$out"
tap $? "SET jwt.sub is refused in a database without the extension too ($(grep '^forge: ' <<<"$out"))"
is "$(grep '^auth: ' <<<"$out")" "auth: same" "a token authenticates as its user"
