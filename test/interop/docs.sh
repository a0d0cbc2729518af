#!/bin/bash
# The documentation's pages (docs/*.md) as a reader meets them. First the checks that keep every
# block tested: each fenced block of README.md and docs/*.md carries a marker, each sql, sh and
# bash block a "<!-- readme-test: NAME -->" one that a test claims ("readme-blocks:" lines of
# readme.sh, this file, prune_cron.sh and test/http/readme.mjs); each page starts with a table of
# contents of its ## and ### headings; every relative link and #anchor leads somewhere. Then the
# blocks this file claims, extracted verbatim and run in a database named app, after README's
# own blocks (install, first request, own policy) as the pages assume, and what each promises
# is checked. TAP, the plan at the end.
# readme-blocks: docs/tokens.md sign audience
# readme-blocks: docs/passwords.md rehash
# readme-blocks: docs/identity.md request keys
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib/tap.sh"
export TASKAUTH_ROOT=${TASKAUTH_ROOT:-$(cd "$here/../.." && pwd)}
docs() { /usr/bin/python3 "$here/lib/doc_blocks.py" "$@"; }
block() { docs block "$@"; }
cd "$TASKAUTH_ROOT"

# Every page whose blocks must be marked and tested, and which opens with a table of contents.
shopt -s nullglob
pages=(docs/*.md)
# Pages whose links are checked too.
linked=(README.md "${pages[@]}" CHANGELOG.md examples/task-app/README.md)

# show NAME OUTPUT: a check's problems as TAP comments, when it has any.
show() { [[ -z $1 ]] || sed 's/^/#   /' <<<"$1"; }
out=$(docs markers "${pages[@]}"); tap $? "every block of ${#pages[@]} docs pages carries a marker (sql, sh and bash ones a readme-test marker)"; show "$out"
out=$(docs claims README.md "${pages[@]}"); tap $? "every readme-test block of README and docs is claimed by a test, and every claimed block exists"; show "$out"
out=$(docs toc "${pages[@]}"); tap $? "every docs page opens with a table of contents of its ## and ### headings"; show "$out"
out=$(docs links "${linked[@]}"); tap $? "every relative link of README, docs, CHANGELOG and the example app's README resolves, anchors included"; show "$out"


# The blocks, in a database named app as the pages name it.
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
run() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@" 2>&1; }
missing=$(docs require "$here/docs.sh") || { echo "Bail out! $missing"; exit 1; }
cleanup
createdb "$db" || { echo "Bail out! createdb $db failed"; exit 1; }

# What the pages assume a reader did first: README's install, first request and own policy.
for b in install request own-policy; do
  out=$(block README.md "$b" | run) || { echo "Bail out! README's $b block failed: $out"; exit 1; }
done

# tokens.md: sign a token, verify it, then with an audience and an issuer (one psql session:
# the second block uses the first one's variables)
out=$(run -f <(block docs/tokens.md sign; block docs/tokens.md audience))
tap $? "tokens.md's sign and audience blocks run in one psql session$( (($? == 0)) || printf ': %s' "$out")"
is "$(grep -c '"aud": "api", "exp": [0-9]*, "iat": [0-9]*, "iss": "https://id.example", "sub": "[0-9a-f-]\{36\}"' <<<"$out")|$(grep '^{' <<<"$out" | sort -u | wc -l)" \
   "3|1" "the three verifications return the same claims: aud, exp, iat, iss and a uuid sub"

# identity.md: a request in any client; after its COMMIT the session has its own role back and no
# identity
alice=$(run -c "SELECT id FROM taskauth.users WHERE email = 'alice@example.com'")
out=$(run -f <(block docs/identity.md request; echo "SELECT current_user = session_user, taskauth.current_user_id() IS NULL;"))
tap $? "identity.md's request block runs$( (($? == 0)) || printf ': %s' "$out")"
is "$out" "$alice
Buy milk|f
t|t" "authenticate returns alice's id, she sees only her task, and COMMIT ends the role and the identity"
is "$(run -c "SELECT string_agg(title, ',' ORDER BY created_at) FROM taskauth.tasks WHERE user_id = '$alice'")" "Buy milk,Buy bread" \
   "the task it inserted is alice's (user_id filled in)"

# identity.md: signing keys from a shell, the first one being the issuer's secret from the
# environment; tokens signed before (README's, with the install's key) keep working
token=$(run -c "SELECT taskauth.login('alice@example.com', 'correct horse battery')")
out=$(bash -e -c "$(block docs/identity.md keys)" 2>&1)
tap $? "identity.md's keys block runs$( (($? == 0)) || printf ': %s' "$out")"
is "$(run -c "SELECT string_agg(kid || ':' || (retired_at IS NOT NULL) || ':' || octet_length(secret), ',' ORDER BY kid)
              FROM taskauth.signing_keys WHERE kid LIKE 'k202%'")" "k2025:true:64,k2026:false:64" \
   "k2025 (the 48 random bytes of BETTER_AUTH_SECRET, in base64) was added then retired; k2026 is active"
shared_token=$(run -c "SELECT secret FROM taskauth.signing_keys WHERE kid = 'k2025'" | /usr/bin/python3 -c '
import sys, time, jwt
print(jwt.encode({"sub": "00000000-0000-4000-8000-000000000001", "exp": int(time.time()) + 60},
                 sys.stdin.read().strip(), algorithm="HS256"))')
is "$(run -c "SELECT taskauth.authenticate('$shared_token')" 2>&1 | head -1)" "ERROR:  jwt signature does not match" \
   "a PyJWT token made with the retired shared secret is refused"
is "$(run -c "SELECT taskauth.authenticate('$token') = '$alice'")" "t" "a token signed before the rotation still authenticates"
is "$(run -c "SELECT taskauth.login('alice@example.com', 'correct horse battery')" | cut -d. -f1 | /usr/bin/python3 -c '
import base64, json, sys
h = sys.stdin.read().strip(); print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])')" "k2026" \
   "a new login signs with k2026, the newest key"

# passwords.md: alice's hash made at cost 4, below today's 12; the block checks her password and
# replaces the hash with one at today's cost
run -c "UPDATE taskauth.users SET hashed_password = taskauth.hash_password('correct horse battery', 4)
        WHERE email = 'alice@example.com'" >/dev/null
out=$(run -f <(block docs/passwords.md rehash))
is "$out" "password accepted" "passwords.md's rehash block runs and accepts alice's password"
is "$(run -c "SELECT left(hashed_password, 7), taskauth.verify_password('correct horse battery', hashed_password)
              FROM taskauth.users WHERE email = 'alice@example.com'")" '$2b$12$|t' \
   "it replaced her cost-4 hash with a cost-12 one of the same password"
hash() { run -c "SELECT hashed_password FROM taskauth.users WHERE email = 'alice@example.com'"; }
before=$(hash); out=$(run -f <(block docs/passwords.md rehash))
is "$out|$([[ $(hash) == "$before" ]] && echo same)" "password accepted|same" \
   "run again, it accepts the password and leaves the current hash alone"

echo "1..$n"
