#!/bin/bash
# Runs each libFuzzer target for a few seconds from a copy of its seed corpus; one TAP test each.
# Usage: run-target.sh SECONDS TARGET...
secs=$1; shift
echo "1..$#"
n=0
for t in "$@"; do
  n=$((n + 1)); name=$(basename "$t")
  work=$(mktemp -d); [[ -d corpus/$name ]] && cp corpus/"$name"/* "$work"/ 2>/dev/null
  if "$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 "$work" >"build/$name.log" 2>&1; then
    echo "ok $n - $name: $(grep -oE '#[0-9]+' "build/$name.log" | tail -1 | tr -d '#') runs, no crash"
  else
    echo "not ok $n - $name"; tail -30 "build/$name.log" | sed 's/^/# /'
  fi
  rm -rf "$work"
done
