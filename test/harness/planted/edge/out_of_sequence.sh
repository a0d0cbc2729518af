#!/bin/bash
# Planted: numbers its tests 1, 3, 4 (one line lost).
echo "1..3"
echo "ok 1 - first"
echo "ok 3 - third"
echo "ok 4 - fourth"
