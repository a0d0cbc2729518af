#!/bin/bash
# Planted: passes, with a skipped test, a TODO test that fails, and noise on stderr.
echo "1..5"
echo "ok 1 - first"
echo "ok 2 # SKIP no such thing here"
echo "not ok 3 - not written yet # TODO planted"
echo "ok 4 - fourth"
echo "ok 5 - this line on stdout counts; the one on stderr does not"
echo "ok 6 - stderr" >&2
