#!/bin/bash
# One version everywhere: taskauth.control, Makefile, META.json (and its provides entry),
# CHANGELOG.md's newest heading and debian/changelog agree, every released version's install
# script and upgrade path is present, and META.json has what the PGXN Meta Spec requires. TAP.
set -uo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/tap.sh"
cd "${TASKAUTH_ROOT:-$(dirname "$0")/../..}"

echo "1..8"
control=$(sed -n "s/^default_version = '\(.*\)'/\1/p" taskauth.control)
is "$(sed -n 's/^EXTVERSION = //p' Makefile)" "$control" "Makefile's EXTVERSION is the control file's $control"
is "$(/usr/bin/python3 -c 'import json; print(json.load(open("META.json"))["version"])')" "$control" "META.json's version"
is "$(/usr/bin/python3 -c 'import json; p=json.load(open("META.json"))["provides"]["taskauth"]; print(p["version"], p["file"])')" \
   "$control taskauth--$control.sql" "META.json's provides entry names the version and its install script"
is "$(grep -m1 -oE '^## [0-9]+\.[0-9]+\.[0-9]+' CHANGELOG.md | cut -c4-)" "$control" "CHANGELOG.md's newest entry"
is "$(head -1 debian/changelog | sed -n 's/^taskauth (\([^)-]*\).*/\1/p')" "$control" "debian/changelog's newest entry"
# every version CHANGELOG lists before the current one has a frozen install script, and an
# upgrade path leads from each to the current version (the one to the unreleased current version
# may be a delta in src/upgrade/ that the Makefile builds it from)
missing=
prev=
for v in $(grep -oE '^## [0-9]+\.[0-9]+\.[0-9]+' CHANGELOG.md | cut -c4- | tac); do
  [[ $v == "$control" ]] && { [[ -z $prev || -f taskauth--$prev--$v.sql || -f src/upgrade/$prev--$v.sql ]] ||
                              missing+=" taskauth--$prev--$v.sql"; break; }
  [[ -f taskauth--$v.sql ]] || missing+=" taskauth--$v.sql"
  [[ -z $prev || -f taskauth--$prev--$v.sql ]] || missing+=" taskauth--$prev--$v.sql"
  prev=$v
done
is "${missing:-none}" "none" "released versions' install scripts and the upgrade scripts to $control are present"
is "$(/usr/bin/python3 - <<'PY'
import json
m = json.load(open("META.json"))
need = ["name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"]
bad = [k for k in need if k not in m]
if m.get("meta-spec", {}).get("version") != "1.0.0": bad.append("meta-spec.version")
if m.get("release_status") not in ("stable", "testing", "unstable"): bad.append("release_status")
for name, p in m.get("provides", {}).items():
    bad += ["provides.%s.%s" % (name, k) for k in ("file", "version") if k not in p]
print(",".join(bad) or "complete")
PY
)" "complete" "META.json has every field the PGXN Meta Spec 1.0.0 requires"
is "$(grep -c "^default_version\|^module_pathname\|^relocatable = false\|^schema = taskauth" taskauth.control)" "4" \
   "the control file names version, module, schema and relocatable = false"
