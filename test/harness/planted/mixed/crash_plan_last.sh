#!/bin/bash
# Planted: prints its plan last (as the C unit tests do) and dies of a signal before it.
echo "ok 1 - first"
echo "ok 2 - second"
kill -SEGV $$
echo "1..2"
