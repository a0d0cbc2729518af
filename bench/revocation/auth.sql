-- Part 1: one authenticate() call per transaction, one of the 200 measured users' tokens
-- (each in the backend's verified-token cache after its first use).
\set n random(1, 200)
SELECT taskauth.authenticate(token) FROM bench_tokens WHERE n = :n;
