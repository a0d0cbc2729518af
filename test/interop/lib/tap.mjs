// TAP output for the Node interop tests: one line a test, the plan at the end.
let n = 0;
let failed = 0;

// Print one TAP line, and the diagnostics of a failure as comments.
export function tap(ok, name, diag) {
  n += 1;
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!ok && diag !== undefined) for (const l of String(diag).split('\n')) console.log(`# ${l}`);
}

// Print the plan and set the exit status (non-zero when a test failed or aborted is set).
export function done(aborted = false) {
  console.log(`1..${n}`);
  process.exitCode = failed || aborted ? 1 : 0;
}
