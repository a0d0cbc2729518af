#!/bin/bash
# Planted: bails out after its first test; the files after it must still run.
echo "1..13"
echo "ok 1 - set up"
echo "Bail out! planted bail-out"
exit 1
