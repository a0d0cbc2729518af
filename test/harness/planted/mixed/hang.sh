#!/bin/bash
# Planted: hangs after one test, ignoring SIGTERM, with a child in its process group (whose pid
# it writes to $PLANTED_PIDFILE): the time limit must kill both.
trap '' TERM
echo "1..2"
echo "ok 1 - before the hang"
sleep 600 &
echo $! >"${PLANTED_PIDFILE:-/dev/null}"
wait
