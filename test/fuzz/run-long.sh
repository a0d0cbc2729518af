#!/bin/bash
# Long fuzzing run, not part of `make test`: builds the libFuzzer targets, then runs each one
# in turn (never two at once) for SECONDS from a copy of its seed corpus, niced.
#
# Usage: test/fuzz/run-long.sh [SECONDS [TARGET...]]   (default 1800 s, every target)
#        test/fuzz/run-long.sh --summary               (the figures of the last run)
#
# Everything goes under $FUZZ_OUT (default test/fuzz/build/long): per target NAME.log
# (libFuzzer's output, final stats included), NAME.corpus/ (the grown corpus), NAME.crash-*
# etc. (inputs that failed), and summary.txt (one line per finished target).
set -uo pipefail
cd "$(dirname "$0")"
out=${FUZZ_OUT:-build/long}

# One line per target from its log: the last status line's executions, cov and ft, the
# final stats, the corpus size and any failing input.
summary() {
  for log in "$out"/*.log; do
    [[ -f $log ]] || continue
    name=$(basename "$log" .log)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    execs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | awk '{print $2}')
    secs=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | awk '{print $2}')
    rss=$(grep -oE 'stat::peak_rss_mb: +[0-9]+' "$log" | awk '{print $2}')
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | awk '{print $2}')
    ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | awk '{print $2}')
    files=$(find "$out/$name.corpus" -type f 2>/dev/null | wc -l)
    bytes=$(du -sb "$out/$name.corpus" 2>/dev/null | cut -f1)
    found=$(ls "$out"/"$name".{crash,leak,timeout,oom}-* 2>/dev/null | wc -l)
    slow=$(ls "$out"/"$name".slow-unit-* 2>/dev/null | wc -l)
    state=done; [[ -n $execs ]] || state=running
    printf '%-18s %-7s execs=%s exec/s=%s cov=%s ft=%s corpus=%s files/%s B peak_rss=%sMB failing_inputs=%s slow_units=%s\n' \
      "$name" "$state" "${execs:-$(grep -oE "^#[0-9]+" <<<"$last" | tr -d "#")}" "${secs:--}" "${cov:--}" "${ft:--}" "$files" \
      "${bytes:-0}" "${rss:--}" "$found" "$slow"
  done
}

if [[ ${1:-} == --summary ]]; then
  summary
  exit 0
fi

secs=${1:-1800}; shift || true
make -s all || exit 1
targets=("$@")
((${#targets[@]})) || targets=(build/fuzz_*)
mkdir -p "$out"
echo "run-long: $(date -u +%FT%TZ) $(uname -n) ${secs}s per target: ${targets[*]}" >>"$out/summary.txt"
for t in "${targets[@]}"; do
  name=$(basename "$t")
  corpus=$out/$name.corpus
  rm -rf "$corpus"; mkdir -p "$corpus"
  [[ -d corpus/$name ]] && cp corpus/"$name"/* "$corpus"/ 2>/dev/null
  start=$(date +%s)
  nice -n 19 "$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/$name." "$corpus" >"$out/$name.log" 2>&1
  rc=$?
  echo "$(date -u +%FT%TZ) $name exit=$rc wall=$(($(date +%s) - start))s" >>"$out/summary.txt"
done
summary | tee -a "$out/summary.txt"
