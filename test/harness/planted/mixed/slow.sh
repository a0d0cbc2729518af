#!/bin/bash
# Planted: takes longer than the self-test's default limit; planted/timeouts gives it more.
echo "1..1"
sleep 2
echo "ok 1 - slow but within its own limit"
