#!/bin/bash
# Planted: its plan between its tests.
echo "ok 1 - first"
echo "1..2"
echo "ok 2 - second"
