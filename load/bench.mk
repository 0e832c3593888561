# load/bench.mk: `make bench` (load/bench.sh): the lab's programs measured beside
# wrk, Locust, nginx and FastAPI on uvicorn, and beside the model; writes
# reports/bench/<timestamp>/BENCH.md. Not part of `make test` (minutes, not seconds),
# which only checks that the bench's scripts parse.
# Knobs (environment): BENCH_PAIRS, BENCH_SECS, BENCH_LOCUST_SECS, BENCH_C10K_SECS,
# BENCH_ROWS (see load/bench.sh).

BENCH_PROBE := build/bench/sleep_probe

# The sync world's timer, timed: nanosleep lateness (row 5).
$(BENCH_PROBE): build/load/bench/sleep_probe.o $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

.PHONY: bench
bench:
	@$(MAKE) --no-print-directory deps DEPS="$(DEPS) $(DEPS_BENCH)"
	@$(MAKE) --no-print-directory all $(BENCH_PROBE)
	@load/bench.sh

# `bash -n` on the scripts and a parse of the Python files: cheap, in `make test`.
UNIT_TESTS += build/tests/test_bench_scripts
build/tests/test_bench_scripts: build/san/load/bench/test_bench_scripts.o
