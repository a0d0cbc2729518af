#!/bin/bash
# Planted: "1..0" without "# SKIP", as a plan-last helper prints when nothing ran.
echo "1..0"
