#!/bin/bash
# Planted: the only file of a suite, and it skips everything: the suite ran no test.
echo "1..0 # SKIP nothing to test here"
