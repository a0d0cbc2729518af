#!/bin/bash
# The documentation's pages (docs/*.md) as a reader meets them. First the checks that keep every
# block tested: each fenced block of README.md and docs/*.md carries a marker, each sql, sh and
# bash block a "<!-- readme-test: NAME -->" one that a test claims ("readme-blocks:" lines of
# readme.sh, this file, prune_cron.sh and test/http/readme.mjs); each page starts with a table of
# contents of its ## and ### headings; every relative link and #anchor leads somewhere. Then the
# blocks this file claims, extracted verbatim and run in a database named app, after README's
# own blocks (install, first request, own policy) as the pages assume, and what each promises
# is checked. What a driver sends per request (frontends.md's own-driver block, and the
# statements README names inline for a driver) runs as the NOINHERIT login role authenticator,
# not as the superuser. TAP, the plan at the end.
# readme-blocks: docs/tokens.md sign audience
# readme-blocks: docs/passwords.md rehash
# readme-blocks: docs/identity.md request keys
# readme-blocks: docs/sessions.md sessions follow-sessions
# readme-blocks: docs/issuers.md add-issuer migrate-accounts
# readme-blocks: docs/frontends.md roles own-driver postgrest-conf jwt-secret requests
# readme-blocks: docs/operations.md uninstall
# readme-blocks: docs/security.md primitives
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib/tap.sh"
export TASKAUTH_ROOT=${TASKAUTH_ROOT:-$(cd "$here/../.." && pwd)}
docs() { /usr/bin/python3 "$here/lib/doc_blocks.py" "$@"; }
block() { docs block "$@"; }
cd "$TASKAUTH_ROOT"

# Every page whose blocks must be marked and tested, and which opens with a table of contents.
shopt -s nullglob
pages=(README.md docs/*.md)
# Pages whose links are checked too.
linked=("${pages[@]}" CHANGELOG.md examples/task-app/README.md)

# show NAME OUTPUT: a check's problems as TAP comments, when it has any.
show() { [[ -z $1 ]] || sed 's/^/#   /' <<<"$1"; }
out=$(docs markers "${pages[@]}"); tap $? "every block of the ${#pages[@]} pages (README and docs/*.md) carries a marker (sql, sh and bash ones a readme-test marker)"; show "$out"
out=$(docs claims "${pages[@]}"); tap $? "every readme-test block of README and docs is claimed by a test, and every claimed block exists"; show "$out"
out=$(docs toc "${pages[@]}"); tap $? "README and every docs page open with a table of contents of their ## and ### headings"; show "$out"
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
# As a reader pastes into psql: an error is shown and the next statement runs.
paste() { psql -X -q -At -d "$db" "$@" 2>&1; }
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

# sessions.md: sign in, refresh, sign out; the block shows one error (the revoked token), and
# after its RESET ROLE the session is its own role again
out=$(paste -f <(block docs/sessions.md sessions; echo "SELECT current_user = session_user;"))
is "$(grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' <<<"$out")" "2" \
   "sessions.md's block: sign_in's and refresh's access tokens authenticate"
is "$(grep 'ERROR' <<<"$out" | sed 's/^psql:[^ ]* //')|$(tail -1 <<<"$out")" "ERROR:  token revoked|t" \
   "after logout() commits, and only then, the token is refused: token revoked; RESET ROLE ends the role"
is "$(run -c "SELECT count(*) FILTER (WHERE end_reason IS NOT NULL), (array_agg(end_reason ORDER BY created_at DESC))[1]
              FROM taskauth.sessions")" "1|logout" "the signed-out session, and it alone, ended with logout"

# Better Auth's own tables in the database, as the example app's migration makes them (the pages'
# issuer blocks name them), and an Ed25519 key in its jwks table with which this test signs
# tokens as Better Auth's jwt plugin does: iss and aud its base URL, sub the user, sid the session.
(cd examples/task-app && AUTH_DATABASE_URL="postgres://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:${PGPORT:-5432}/$db" \
   node migrate.mjs >/dev/null 2>&1) || { echo "Bail out! examples/task-app's node migrate.mjs failed (npm modules missing?)"; exit 1; }
key=$(mktemp); trap 'cleanup; rm -f "$key"' EXIT
/usr/bin/python3 - "$key" <<'PY'
import base64, json, sys, uuid
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
k = Ed25519PrivateKey.generate()
x = base64.urlsafe_b64encode(k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).rstrip(b'=')
pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
json.dump({'kid': str(uuid.uuid4()), 'jwk': {'kty': 'OKP', 'crv': 'Ed25519', 'x': x.decode()}, 'pem': pem.decode()}, open(sys.argv[1], 'w'))
PY
run -v kid="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kid"])' "$key")" \
    -v jwk="$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["jwk"]))' "$key")" >/dev/null <<'SQL'
INSERT INTO public.jwks (id, "publicKey", "privateKey", "createdAt", alg, crv)
VALUES (:'kid', :'jwk', 'kept by Better Auth', now(), 'EdDSA', 'Ed25519');
SQL
# ba_user EMAIL: a Better Auth user; prints its id. ba_session USER: a session of it; prints its id.
ba_user() { run -c "INSERT INTO public.\"user\" (name, email, \"emailVerified\", \"updatedAt\") VALUES ('$1', '$1', true, now()) RETURNING id"; }
ba_session() { run -c "INSERT INTO public.session (\"expiresAt\", token, \"updatedAt\", \"userId\") VALUES (now() + interval '7 days', gen_random_uuid()::text, now(), '$1') RETURNING id"; }
# ba_token SUB EMAIL SID: an EdDSA token of Better Auth's, 15 minutes long.
ba_token() {
  /usr/bin/python3 - "$key" "$@" <<'PY'
import json, sys, time, jwt
k = json.load(open(sys.argv[1])); sub, email, sid = sys.argv[2:5]; now = int(time.time())
print(jwt.encode({'sub': sub, 'email': email, 'sid': sid, 'iss': 'https://app.example', 'aud': 'https://app.example',
                  'iat': now, 'exp': now + 900}, k['pem'], algorithm='EdDSA', headers={'kid': k['kid']}))
PY
}
carol=$(ba_user carol@example.com); carol_s1=$(ba_session "$carol"); carol_s2=$(ba_session "$carol")
carol_t1=$(ba_token "$carol" carol@example.com "$carol_s1"); carol_t2=$(ba_token "$carol" carol@example.com "$carol_s2")

# issuers.md: Better Auth registered as an issuer; its token's user is provisioned at first sight
out=$(run -f <(block docs/issuers.md add-issuer))
tap $? "issuers.md's add-issuer block runs$( (($? == 0)) || printf ': %s' "$out")"
is "$(run -c "SELECT taskauth.authenticate('$carol_t1') = '$carol'" -c "SELECT email FROM taskauth.users WHERE id = '$carol'")" "t
carol@example.com" "a Better Auth EdDSA token (key read from its jwks table) authenticates, and its user is provisioned"

# sessions.md: taskauth follows Better Auth's session table; signing out there (the row deleted)
# revokes that session's tokens and no other
out=$(run -f <(block docs/sessions.md follow-sessions))
tap $? "sessions.md's follow-sessions block runs$( (($? == 0)) || printf ': %s' "$out")"
is "$(run -c "SELECT taskauth.authenticate('$carol_t1') = '$carol'")" "t" "a Better Auth token of carol's first session authenticates"
run -c "DELETE FROM public.session WHERE id = '$carol_s1'" >/dev/null
is "$(run -c "SELECT taskauth.authenticate('$carol_t1')" 2>&1 | head -1)|$(run -c "SELECT taskauth.authenticate('$carol_t2') = '$carol'")" \
   "ERROR:  token revoked|t" "after Better Auth deletes that session's row the token is refused, her other session's token is not"

# issuers.md: Better Auth's accounts moved over; dave's scrypt hash (made by Better Auth's own
# hashPassword) lets him log in through taskauth, which upgrades it
dave=$(ba_user dave@example.com)
dave_hash=$(cd examples/task-app && node --input-type=module \
  -e "import { hashPassword } from 'better-auth/crypto'; console.log(await hashPassword(process.argv[1]))" 'dave-password-1')
run -c "INSERT INTO public.account (\"accountId\", \"providerId\", \"userId\", password, \"updatedAt\")
        VALUES ('$dave', 'credential', '$dave', '$dave_hash', now())" >/dev/null
out=$(run -f <(block docs/issuers.md migrate-accounts))
tap $? "issuers.md's migrate-accounts block runs$( (($? == 0)) || printf ': %s' "$out")"
is "$(run -c "SELECT hashed_password = '$dave_hash' FROM taskauth.users WHERE id = '$dave'")" "t" "dave's Better Auth hash is his taskauth hash"
login=$(run -c "SELECT taskauth.login('dave@example.com', 'dave-password-1') IS NOT NULL")
is "$login|$(run -c "SELECT left(hashed_password, 7) FROM taskauth.users WHERE id = '$dave'")" 't|$2b$12$' \
   "he logs in with his Better Auth password, and login upgraded the scrypt hash to bcrypt"

# frontends.md: the role the frontends log in as
out=$(run -f <(block docs/frontends.md roles))
tap $? "frontends.md's roles block runs${out:+: $out}"
is "$(PGUSER=authenticator PGPASSWORD=change-me psql -X -q -At -d "$db" -c "SET ROLE web" -c "SELECT current_user" 2>&1)" \
   "web" "authenticator logs in with the page's password and switches to web"

# frontends.md, your own driver: the request block, run as authenticator (NOINHERIT, no rights
# of its own), as a driver logged in as it sends it; and the one-statement form the page warns
# against, refused for that role.
as_authenticator() { PGUSER=authenticator PGPASSWORD=change-me psql -X -q -At -d "$db" "$@" 2>&1; }
token=$(run -c "SELECT taskauth.login('alice@example.com', 'correct horse battery')")
out=$(as_authenticator -v ON_ERROR_STOP=1 -v token="$token" -f <(block docs/frontends.md own-driver))
tap $? "frontends.md's own-driver block runs as authenticator$( (($? == 0)) || printf ': %s' "$out")"
is "$(head -1 <<<"$out")|$(tail -n +2 <<<"$out" | sort | tr '\n' , | sed 's/,$//')" \
   "$alice|$(run -c "SELECT string_agg(title, ',' ORDER BY title) FROM taskauth.tasks WHERE user_id = '$alice'")" \
   "it authenticates alice and lists her tasks, and only hers"
# README's own words for a driver (the paragraph after its request block, and its "Your own
# driver" bullet) name the statements inline: each one's SET and SELECT statements, in order,
# run as authenticator in one transaction, with the token for $1.
inline_statements() {
  /usr/bin/python3 - "$1" <<'PY'
import re, sys
lines = open('README.md', encoding='utf-8').read().split('\n')
start = next(i for i, l in enumerate(lines) if sys.argv[1] in l)
text = [lines[start]]
for l in lines[start + 1:]:
    if not l.strip() or l.startswith('- '):
        break
    text.append(l)
for span in re.findall(r'`([^`]+)`', ' '.join(text)):
    if re.match(r'(SET|SELECT) ', span):
        print(span.rstrip(';').replace('$1', ":'token'") + ';')
PY
}
for where in 'A driver that' '**Your own driver.**'; do
  statements=$(inline_statements "$where")
  out=$(as_authenticator -v ON_ERROR_STOP=1 -v token="$token" -f <(echo "BEGIN;"; echo "$statements"; echo "ROLLBACK;"))
  is "$(grep -c authenticate <<<"$statements")|$(grep -v '^$' <<<"$out" | tail -1)" "1|$alice" \
     "README's statements for a driver (\"$where ...\") authenticate alice as authenticator"
done
out=$(as_authenticator -v token="$token" <<'SQL'
BEGIN;
SELECT set_config('role', 'web', true), taskauth.authenticate(:'token');
ROLLBACK;
SQL
)
grep -q 'permission denied for function authenticate' <<<"$out"
tap $? "as authenticator, the role switch and authenticate in one statement are refused, as the page says"

# frontends.md's PostgREST part, against lib/postgrest_standin.py (PostgREST itself cannot be
# installed here; the stand-in replays its per-request statements and error mapping, see its
# header). Deployment A's configuration is the page's postgrest.conf block and its jwt-secret
# line, whose placeholder is filled in as the page says (access_token_key of the newest key,
# k2026); deployment B's is the postgrest.conf block alone.
command -v curl >/dev/null || test/apt-get-wait install -y -qq --no-install-recommends curl >/dev/null 2>&1
conf_b=$(mktemp); conf_a=$(mktemp); trap 'cleanup; rm -f "$key" "$conf_a" "$conf_b"' EXIT
block docs/frontends.md postgrest-conf >"$conf_b"
jwt_secret=$(run -c "SELECT taskauth.access_token_key(secret) FROM taskauth.signing_keys WHERE kid = 'k2026'")
{ cat "$conf_b"; block docs/frontends.md jwt-secret | sed "s|<the result of taskauth.access_token_key(secret)>|$jwt_secret|"; } >"$conf_a"
is "$(grep -c "^jwt-secret = \"$jwt_secret\"\$" "$conf_a")" "1" "the jwt-secret block, its placeholder filled in, is a configuration line"
# standin CONF SCRIPT: SCRIPT run beside the stand-in; its standard error (and the stand-in's)
# goes to $errs, shown when a check fails
errs=$(mktemp); trap 'cleanup; rm -f "$key" "$conf_a" "$conf_b" "$errs"' EXIT
standin() { /usr/bin/python3 "$here/lib/postgrest_standin.py" --conf "$1" -- bash -c "$2" 2>>"$errs"; }

# The page's curl commands, in deployment A: bob registers, logs in, creates and completes a task
out=$(standin "$conf_a" "$(block docs/frontends.md requests)"$'\n''echo "TASK=$TASK"')
tap $? "frontends.md's requests block runs against the stand-in (deployment A)$( (($? == 0)) || printf ': %s' "$out $(cat "$errs")")"
bob=$(run -c "SELECT id FROM taskauth.users WHERE email = 'bob@example.com'")
task=$(sed -n 's/^TASK=//p' <<<"$out")
is "$(sed -n 1p <<<"$out")" "\"$bob\"" "register answers bob's id"
is "$(sed -n 2p <<<"$out" | /usr/bin/python3 -c '
import json, sys
print(" ".join("|".join(str(t[k]) for k in ("id", "user_id", "title", "is_completed")) for t in json.load(sys.stdin)))')" \
   "$task|$bob|Buy milk|True" "TASK is the new task's id; the list shows it alone, bob's, completed"

# Every row of the page's table of answers, in both deployments.
alice_task=$(run -c "SELECT id FROM taskauth.tasks WHERE user_id = '$alice' AND title = 'Buy milk'")
expired=$(/usr/bin/python3 -c '
import sys, time, jwt
print(jwt.encode({"aud": "taskauth", "sub": sys.argv[2], "email": "bob@example.com", "iat": int(time.time()) - 1000,
                  "exp": int(time.time()) - 100}, sys.argv[1], algorithm="HS256", headers={"typ": "at+jwt", "kid": "k2026"}))' "$jwt_secret" "$bob")
answers='
u=localhost:3000
# req NAME CURL-ARGS...: NAME=status|the WWW-Authenticate header|the body
req() { local n=$1; shift; local h b c; h=$(mktemp); b=$(mktemp)
  c=$(curl -s -o "$b" -D "$h" -w "%{http_code}" "$@")
  echo "$n=$c|$(sed -n "s/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p" "$h" | tr -d "\r")|$(cat "$b")"; rm -f "$h" "$b"; }
json=(-H "Content-Type: application/json")
TOKEN=$(curl -s $u/rpc/login "${json[@]}" -d "{\"email\": \"bob@example.com\", \"password\": \"bob-password-1\"}" | tr -d "\"")
BAD="${TOKEN%.*}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
'
answers_a=$answers'
A="Authorization: Bearer $TOKEN"
req anon_get $u/tasks
req anon_post $u/tasks "${json[@]}" -d "{\"title\": \"anonymous\"}"
req bad $u/tasks -H "Authorization: Bearer $BAD"
req expired $u/tasks -H "Authorization: Bearer $EXPIRED"
req patch_other -X PATCH "$u/tasks?id=eq.$ALICE_TASK" -H "$A" "${json[@]}" -d "{\"title\": \"taken\"}"
req delete_other -X DELETE "$u/tasks?id=eq.$ALICE_TASK" -H "$A"
req plant $u/tasks -H "$A" "${json[@]}" -d "{\"title\": \"planted\", \"user_id\": \"$ALICE\"}"
req login_wrong $u/rpc/login "${json[@]}" -d "{\"email\": \"bob@example.com\", \"password\": \"not-his-password\"}"
req login_unknown $u/rpc/login "${json[@]}" -d "{\"email\": \"nobody@example.com\", \"password\": \"not-his-password\"}"
req primitive $u/rpc/jwt_sign -H "$A" "${json[@]}" -d "{\"claims\": \"{}\", \"secret\": \"anything-anything-anything-anything\"}"
req users_star "$u/users?select=*" -H "$A"
req users_cols "$u/users?select=id,email,created_at,updated_at" -H "$A"
S=$(curl -s $u/rpc/sign_in "${json[@]}" -H "Accept: application/vnd.pgrst.object+json" \
      -d "{\"email\": \"bob@example.com\", \"password\": \"bob-password-1\"}" | cut -d "\"" -f 4)
req logout -X POST $u/rpc/logout -H "Authorization: Bearer $S"
req revoked $u/tasks -H "Authorization: Bearer $S"
'
answers_b=$answers'
req b_get $u/tasks -H "X-Taskauth-Token: $TOKEN"
req b_bearer $u/tasks -H "Authorization: Bearer $TOKEN"
req b_bad $u/tasks -H "X-Taskauth-Token: $BAD"
req b_expired $u/tasks -H "X-Taskauth-Token: $EXPIRED"
req b_plant $u/tasks -H "X-Taskauth-Token: $TOKEN" "${json[@]}" -d "{\"title\": \"planted\", \"user_id\": \"$ALICE\"}"
'
export ALICE=$alice ALICE_TASK=$alice_task EXPIRED=$expired
out=$(standin "$conf_a" "$answers_a"; standin "$conf_b" "$answers_b")
[[ ! -s $errs ]] || sed 's/^/# stand-in: /' "$errs"
# answer NAME: the status, and the header when there is one; body NAME: the body's JSON, one field
answer() { sed -n "s/^$1=\([0-9]*\)|\([^|]*\)|.*/\1 \2/p" <<<"$out" | sed 's/ $//'; }
field() { sed -n "s/^$1=[0-9]*|[^|]*|//p" <<<"$out" | /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)$2)"; }
invalid='Bearer error="invalid_token"'
is "$(answer anon_get) $(field anon_get '')" "200 []" "no token, GET /tasks: 200, []"
is "$(answer anon_post) $(field anon_post '["code"]')" "401 Bearer 42501" "no token, POST /tasks: 401 (42501)"
is "$(answer bad | sed 's/\(invalid_token"\).*/\1/')" "401 $invalid" "a bad token: 401 with $invalid (deployment A: PostgREST's own check)"
is "$(answer expired | sed 's/\(invalid_token"\).*/\1/')" "401 $invalid" "an expired token: 401 with $invalid (deployment A)"
is "$(answer patch_other)|$(answer delete_other)|$(run -c "SELECT title FROM taskauth.tasks WHERE id = '$alice_task'")" "204|204|Buy milk" \
   "PATCH and DELETE of another user's task: 204, nothing changed"
is "$(answer plant) $(field plant '["code"]')" "401 Bearer 42501" "setting user_id to another user: 401 (42501) in deployment A"
is "$(answer login_wrong) $(field login_wrong '["code"]')|$(sed -n 's/^login_wrong=//p' <<<"$out" | cut -d'|' -f3 | sed 's/"message": *"[^"]*"//')" \
   "403 28P01|$(sed -n 's/^login_unknown=//p' <<<"$out" | cut -d'|' -f3 | sed 's/"message": *"[^"]*"//')" \
   "wrong password and unknown email at /rpc/login: 403 (28P01), the same answer"
is "$(answer primitive) $(field primitive '["code"]')" "401 Bearer 42501" "a primitive at /rpc/jwt_sign: 401 (42501)"
is "$(answer users_star) $(field users_star '["code"]')|$(answer users_cols) $(field users_cols '[0]["email"]') $(field users_cols '.__len__()')" \
   "401 Bearer 42501|200 bob@example.com 1" "GET /users?select=*: 401 (42501); the columns named: 200, the caller's own row"
is "$(answer logout)|$(answer revoked | sed 's/\(invalid_token"\).*/\1/') $(field revoked '["message"]')" "204|401 $invalid token revoked" \
   "after POST /rpc/logout the token is answered 401 $invalid, token revoked"
is "$(answer b_get) $(field b_get '[0]["id"]')" "200 $task" "deployment B: X-Taskauth-Token authenticates (bob's task)"
is "$(answer b_bearer) $(field b_bearer '["code"]')" "500 PGRST300" "deployment B: an Authorization: Bearer header is answered 500 (PGRST300)"
is "$(answer b_bad | sed 's/\(invalid_token"\).*/\1/') $(field b_bad '["message"]')|$(answer b_expired | sed 's/\(invalid_token"\).*/\1/') $(field b_expired '["message"]')" \
   "401 $invalid jwt signature does not match|401 $invalid jwt expired" "deployment B: bad and expired tokens, 401 $invalid from the lazy identity (no db-pre-request)"
is "$(answer b_plant) $(field b_plant '["code"]')" "401 Bearer 42501" "setting user_id to another user: 401 (42501) in deployment B"

# security.md: the primitives given to a back-office role and taken back
out=$(run -f <(block docs/security.md primitives))
tap $? "security.md's primitives block runs${out:+: $out}"
is "$(run -c "SELECT has_function_privilege('token_tools', 'taskauth.verify_password(text,text)', 'EXECUTE'),
                     has_function_privilege('web', 'taskauth.verify_password(text,text)', 'EXECUTE')")" "f|f" \
   "after grant and revoke, neither token_tools nor web can run verify_password"

# operations.md: uninstalling (the page names the database app). Pasted while objects of the
# reader's own still depend on taskauth (README's public.notes, whose default and policies call
# taskauth.current_user_id(); the triggers follow_issuer_sessions put on Better Auth's session
# table), the block must change nothing: the extension and the preload setting both stay, so
# jwt.sub stays unforgeable. With those gone, as the page says to do first, it removes both.
preload() { echo "$(run -c "SELECT count(*) FROM pg_extension WHERE extname = 'taskauth'")|$(run -c "SELECT count(*)
             FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'app')")"; }
psql -X -q -At -d postgres -c "\\c $db" -f <(block docs/operations.md uninstall) >/dev/null 2>&1
is "$(preload)" "1|1" "the uninstall block, refused while a policy depends on taskauth, changes nothing (extension and preload setting kept)"
run -c "DROP TABLE public.notes" -c "SELECT taskauth.unfollow_issuer_sessions('public.session')" >/dev/null
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "\\c $db" -f <(block docs/operations.md uninstall) 2>&1)
tap $? "operations.md's uninstall block runs${out:+: $out}"
is "$(preload)" "0|0" "the extension and the database's preload setting are gone"

echo "1..$n"
