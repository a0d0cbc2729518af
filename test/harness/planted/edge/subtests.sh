#!/bin/bash
# Planted: indented lines (a subtest's) and lines that are not TAP are not counted.
echo "TAP version 13"
echo "1..2"
echo "    1..1"
echo "    not ok 1 - inside a subtest"
echo "ok 1 - first"
echo "some output that is not TAP"
echo "okay, not a test line either"
echo "ok 2 - second"
