#!/bin/bash
# Planted: every test passes but it exits 3 (as a sanitizer reporting a leak at exit does).
echo "ok 1 - first"
echo "ok 2 - second"
echo "1..2"
exit 3
