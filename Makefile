# The lab's build. `make` builds the four programs into bin/; `make test` runs every
# unit and integration test; `make compare` is the main job (see README.md).
# Each folder adds its own programs and tests through its module.mk.

.DEFAULT_GOAL := all
SHELL := /bin/bash
# Build on every core (three builds of each program for `make test`); a -j given
# on the command line wins.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif

CC := cc
CFLAGS := -std=c11 -Wall -Wextra -O2 -g
# CI treats warnings as errors; a developer's build only shows them.
ifeq ($(CI),true)
CFLAGS += -Werror
endif
# libpq-fe.h lives in Debian's postgresql include folder.
CPPFLAGS := -D_GNU_SOURCE -Ishared -I/usr/include/postgresql -MMD -MP
LDLIBS := -lpthread
# The servers' --backend postgres (shared/pg_task.c and each server's pool).
PG_LIBS := -lpq
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Each module.mk adds its program (bin/blocking, bin/evented, bin/load, bin/report).
PROGRAMS :=
UNIT_TESTS :=
INTEGRATION_TESTS :=
# Tests that are scripts, run as they are (no build step): the harness's Python tests.
SCRIPT_TESTS :=

# --- dependencies: Debian packages, checked in one dpkg-query (well under a second)
DEPS := gcc make libc6-dev libcivetweb-dev libcmocka-dev libhttp-parser-dev gnuplot-nox \
	python3 python3-locust wrk nginx-light curl clang libclang-rt-14-dev \
	postgresql-15 libpq-dev libzmq3-dev libmsgpack-dev libcjson-dev uvicorn python3-fastapi python3-psycopg python3-psycopg-pool chromium \
	liburing-dev
DEPS_BENCH := valgrind linux-perf

.PHONY: deps
deps:
	@want="$(sort $(DEPS))"; \
	have=$$(dpkg-query -W -f='$${db:Status-Abbrev}$${Package}\n' $$want 2>/dev/null | sed -n 's/^ii *//p'); \
	missing=$$(comm -23 <(tr ' ' '\n' <<<"$$want" | sort -u) <(sort -u <<<"$$have") | tr '\n' ' '); \
	[ -z "$${missing// /}" ] && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make deps: missing Debian packages: $$missing" >&2; \
		echo "make deps: install them with: sudo apt-get install -y $$missing" >&2; exit 2; \
	fi; \
	echo "make deps: installing $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then apt-get update -q || exit 2; fi; \
	apt-get install -y -q --no-install-recommends $$missing || \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; } || \
		{ echo "make deps: apt-get install $$missing failed" >&2; exit 2; }

# --- objects: plain under build/, sanitized (for tests) under build/san/
build/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

build/san/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -c $< -o $@

include shared/module.mk
-include blocking/module.mk
-include evented/module.mk
-include load/module.mk
-include reports/module.mk
-include load/harness/module.mk
-include load/harness/compare.mk
-include load/harness/bench.mk
-include tests/reliability.mk
include tests/module.mk

.PHONY: all
all: $(PROGRAMS)

.PHONY: clean
clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
