# Sourced by the benchmark scripts that run in a throwaway cluster of their own.
# in_own_cluster SCRIPT [SETTING=VALUE ...] -- [ARG ...]: unless already inside one, runs SCRIPT
# again (with ARGs) inside a new cluster (pg_virtualenv, of the server pg_config names) with
# test/cluster.conf's settings and then the SETTINGs given; returns at once inside it.
in_own_cluster() {
  [[ ${TASKAUTH_BENCH_IN_CLUSTER:-} == 1 ]] && return 0
  local script=$1 line pgv opts=()
  shift
  while read -r line; do
    [[ -z $line || $line == \#* ]] || opts+=(-o "$line")
  done < "$(dirname "${BASH_SOURCE[0]}")/../../test/cluster.conf"
  while (($# > 0)) && [[ $1 != -- ]]; do opts+=(-o "$1"); shift; done
  (($# > 0)) && shift
  pgv=$(pg_config --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
  TASKAUTH_BENCH_IN_CLUSTER=1 exec pg_virtualenv -t -v "$pgv" "${opts[@]}" "$script" "$@"
}
