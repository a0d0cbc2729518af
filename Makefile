# taskauth: PGXS build. `make test` runs every suite (see test/run).
EXTENSION = taskauth
EXTVERSION = 0.2.0
MODULE_big = taskauth

SRCS = $(sort $(wildcard src/*.c src/core/*.c))
OBJS = $(SRCS:.c=.o)

# The install script of the current version is assembled from one fragment per area
# (src/sql/NN_area.sql). Released versions' install scripts are frozen files in the top
# directory, and each release ships an upgrade script from the one before (taskauth--A--B.sql).
SQL_FRAGMENTS = $(sort $(wildcard src/sql/*.sql))
# The upgrade script to the unreleased version is built too, from a delta file that pulls
# fragments or single statement groups out of them (tools/build-upgrade), until the version is
# released: then the built script is frozen as a plain file like the install scripts.
UPGRADE_DELTAS = $(wildcard src/upgrade/*--$(EXTVERSION).sql)
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(patsubst src/upgrade/%,$(EXTENSION)--%,$(UPGRADE_DELTAS))
DATA = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK = -lcrypto -lcrypt -largon2 -lsodium

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else ifeq ($(filter test demo deps lint serve serve-next package package-test bench-ed25519,$(MAKECMDGOALS)),)
$(error pg_config not found: run `make deps` (or `make test`) first, or set PG_CONFIG)
endif

# PGXS tracks no header dependencies: rebuild every object when a header changes, since a
# shifted ta_status enum in a stale object would report the wrong error.
$(OBJS): $(wildcard src/*.h src/core/*.h)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS)
	cat $^ > $@

$(EXTENSION)--%--$(EXTVERSION).sql: src/upgrade/%--$(EXTVERSION).sql $(SQL_FRAGMENTS) tools/build-upgrade
	/usr/bin/python3 tools/build-upgrade $< > $@.tmp && mv $@.tmp $@

.PHONY: test demo deps unit fuzz lint serve serve-next package package-test bench-ed25519
# Everything: installs missing packages, builds, installs, runs all suites in a throwaway cluster.
test:
	test/run

# The build's packages only (test/install-deps build), then the walk-through in a throwaway cluster.
demo:
	demo/run

# Everything `make test` and `make lint` use; `test/install-deps build` or `serve` for less.
deps:
	test/install-deps

unit:
	$(MAKE) -C test/unit

fuzz:
	$(MAKE) -C test/fuzz

# Ed25519 verification, OpenSSL and libsodium and the core's verifier side by side (bench/, not
# part of `make test`; results in bench/results-asym.md). ROUNDS and MSGS from the environment.
bench-ed25519:
	@mkdir -p bench/build
	$(CC) -O2 -Wall -Isrc -o bench/build/ed25519_verify bench/ed25519_verify.c src/core/asym.c \
		-lcrypto -lsodium
	bench/build/ed25519_verify

# Static checks of src/ (cppcheck, clang-tidy); see test/lint and .clang-tidy.
lint:
	test/lint

# The example app (examples/task-app) on 127.0.0.1, port $PORT (3000 by default), in a throwaway cluster;
# Ctrl-C stops it and the cluster. It installs the build's packages, Node and the app's npm modules
# (the "serve" profile of test/install-deps, which it runs).
serve:
	TASKAUTH_DEPS=serve examples/task-app/serve

# The Next.js example (examples/nextjs) the same way: its production build (next build, then
# next start) on 127.0.0.1, port $PORT (3000 by default), in a throwaway cluster; Ctrl-C stops it.
serve-next:
	TASKAUTH_DEPS=serve examples/nextjs/serve

# A Debian package per server version (debian/, pg_buildext), into dist/.
package:
	debian/build-package

# Installs dist/'s package into a clean Debian root and runs a smoke check (needs root).
package-test:
	test/package/smoke
