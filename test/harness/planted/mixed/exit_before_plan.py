#!/usr/bin/python3
"""Planted: prints its plan last (as the Python interop tests do) and raises before it."""
print('ok 1 - first', flush=True)
raise RuntimeError('planted crash before the plan')
