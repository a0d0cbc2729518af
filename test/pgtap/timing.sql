-- Login timing parity: an unknown email costs about as much time as a wrong password, because
-- login checks the password against a dummy hash of today's algorithm and cost.
SET client_min_messages = error;
BEGIN;
SELECT plan(3);

SET LOCAL taskauth.bcrypt_cost = 6;
-- many failures per email: throttling would lock them (test/interop/login_throttle.py)
SET LOCAL taskauth.login_throttle_threshold = 0;
CREATE TEMP TABLE fx ON COMMIT DROP AS
SELECT taskauth.add_signing_key('timing-test-secret-0123456789abcdefghijk', 'timing') AS kid,
       taskauth.register('timing@example.test', 'timing-password') AS uid;

-- milliseconds one login takes, and how it ended: its SQLSTATE, or 'succeeded'
CREATE FUNCTION pg_temp.failed_login_ms(email text, password text, OUT ms float8, OUT outcome text)
LANGUAGE plpgsql
AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    BEGIN
        PERFORM taskauth.login(email, password);
        outcome := 'succeeded';
    EXCEPTION WHEN OTHERS THEN
        outcome := SQLSTATE;
    END;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

-- interleaved samples, so that drift in machine load hits both kinds alike
CREATE TEMP TABLE samples ON COMMIT DROP AS
SELECT i, kind, (r).ms, (r).outcome
  FROM (SELECT i, kind,
               pg_temp.failed_login_ms(CASE kind WHEN 'unknown' THEN 'nobody-' || i || '@example.test'
                                                 ELSE 'timing@example.test' END,
                                       CASE kind WHEN 'unknown' THEN 'timing-password'
                                                 ELSE 'wrong-password-' || i END) AS r
          FROM generate_series(1, 21) i, (VALUES ('unknown'), ('wrong')) k(kind)
         ORDER BY i, kind) s;

CREATE TEMP VIEW medians AS
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'unknown') AS unknown,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'wrong') AS wrong
  FROM samples;

SELECT diag(format('bcrypt cost 6, 21 samples each: median unknown email %s ms, wrong password %s ms, ratio %s',
                   round(unknown::numeric, 2), round(wrong::numeric, 2), round((unknown / wrong)::numeric, 3)))
  FROM medians;
SELECT ok(unknown / wrong BETWEEN 0.5 AND 2.0,
          'median time of an unknown-email login is within 0.5x..2x of a wrong-password login')
  FROM medians;

-- The dummy check follows the cost setting: cost 9 is 16 times the bcrypt work of cost 5.
-- Samples alternate between the two costs so that changes in machine load hit both alike.
CREATE TEMP TABLE samples_cost ON COMMIT DROP AS
SELECT i, cost, (r).ms, (r).outcome
  FROM (SELECT i, cost,
               pg_temp.failed_login_ms('nobody-' || i || '@example.test',
                                       'timing-password' || left(set_config('taskauth.bcrypt_cost', cost::text, true), 0)) AS r
          FROM generate_series(1, 7) i, (VALUES (5), (9)) c(cost)
         ORDER BY i, cost) s;
CREATE TEMP VIEW medians_cost AS
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE cost = 5) AS c5,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE cost = 9) AS c9
  FROM samples_cost;
SELECT diag(format('unknown email, 7 samples each: median cost 5 %s ms, cost 9 %s ms, ratio %s',
                   round(c5::numeric, 2), round(c9::numeric, 2), round((c9 / c5)::numeric, 2)))
  FROM medians_cost;
SELECT ok(c9 / c5 > 4.0,
          'an unknown-email login at cost 9 takes over 4 times as long as at cost 5 (the dummy hash follows the setting)')
  FROM medians_cost;

-- and it never logs anyone in: how each of the 42 + 14 sampled logins ended
SELECT is((SELECT string_agg(format('%s x%s', outcome, n), ', ' ORDER BY outcome)
             FROM (SELECT outcome, count(*) AS n
                     FROM (SELECT outcome FROM samples UNION ALL SELECT outcome FROM samples_cost) a
                    GROUP BY outcome) o),
          '28P01 x56', 'every sampled login failed with 28P01');

SELECT * FROM finish();
ROLLBACK;
