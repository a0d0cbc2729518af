#!/bin/bash
# The documentation's pages (docs/*.md) as a reader meets them. First the checks that keep every
# block tested: each fenced block of README.md and docs/*.md carries a marker, each sql, sh and
# bash block a "<!-- readme-test: NAME -->" one that a test claims ("readme-blocks:" lines of
# readme.sh, this file, prune_cron.sh and test/http/readme.mjs); each page starts with a table of
# contents of its ## and ### headings; every relative link and #anchor leads somewhere. Then the
# blocks this file claims, extracted verbatim and run in a database named app, after README's
# own blocks (install, first request, own policy) as the pages assume, and what each promises
# is checked. TAP, the plan at the end.
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

echo "1..$n"
