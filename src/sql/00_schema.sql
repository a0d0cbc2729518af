-- taskauth install script, assembled by the Makefile from src/sql/NN_area.sql.
\echo Use "CREATE EXTENSION taskauth" to load this file. \quit

-- The schema is created by CREATE EXTENSION (control file: schema = taskauth).
REVOKE ALL ON SCHEMA taskauth FROM PUBLIC;
GRANT USAGE ON SCHEMA taskauth TO PUBLIC;
