"""TAP output for the Python interop tests: one line a test, the plan at the end."""
import sys

results = []


def tap(ok, name, diag=None):
    """Print one TAP line, and the diagnostics of a failure as comments."""
    results.append(bool(ok))
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), name), flush=True)
    if not ok and diag is not None:
        for line in str(diag).splitlines():
            print('# ' + line, flush=True)
