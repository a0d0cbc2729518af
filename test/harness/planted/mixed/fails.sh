#!/bin/bash
# Planted: runs to its end with one failed test: a failure, not a broken file.
echo "1..3"
echo "ok 1 - first"
echo "not ok 2 - second"
echo "#   got:  1"
echo "#   want: 2"
echo "ok 3 - third"
exit 1
