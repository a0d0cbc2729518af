-- taskauth 0.1.0 -> 0.2.0. Each change here is also made in the install script's fragments
-- (src/sql/); test/interop/upgrade.sh checks that an upgraded database and a fresh install of
-- 0.2.0 have the same objects, privileges, settings and comments.
\echo Use "ALTER EXTENSION taskauth UPDATE TO '0.2.0'" to load this file. \quit
