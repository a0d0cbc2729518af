#!/bin/bash
# Planted: checks of a third-party library only, marked "[library] ": counted as passed or failed
# like any other test, and the passed ones shown apart as library-only.
echo "1..7"
echo "ok 1 - taskauth's own check"
echo "ok 2 - [library] a library agrees with itself"
echo "ok 3 [library] marked without the dash"
echo "ok 4 - [library] a skipped library check # SKIP not here"
echo "ok 5 - a check that names [library] later on is taskauth's own"
echo "ok 6 - [library]without a space is not marked"
echo "not ok 7 - [library] a failing library check fails its file"
