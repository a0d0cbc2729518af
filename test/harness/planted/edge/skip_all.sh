#!/bin/bash
# Planted: skips everything, with a reason: passes, with no test.
echo "1..0 # SKIP nothing to test here"
