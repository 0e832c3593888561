# load/harness/bench.mk: `make bench` (load/harness/bench.py): the lab's programs
# measured beside wrk, Locust, nginx and FastAPI on uvicorn, and beside the model;
# writes reports/bench/<timestamp>/BENCH.md. Not part of `make test` (minutes, not
# seconds); the harness's own tests (load/harness/tests) are.
# Knobs: ROWS=NAME,... (or BENCH_ROWS, names or numbers: which rows to run, each
# alone; `load/harness/bench.py --help` lists them), and in the environment
# BENCH_PAIRS, BENCH_SECS, BENCH_R3_PAIRS, BENCH_R3_SECS, BENCH_LOCUST_SECS,
# BENCH_C10K_SECS, BENCH_C10K_IO, BENCH_C10K_SCHED, BENCH_OUT (see load/harness/bench.py).

ROWS ?=
BENCH_PROBE := build/bench/sleep_probe
BENCH_FLOOR := build/bench/epoll_floor
BENCH_LOAD_FLOOR := build/bench/load_floor

# The sync world's timer, timed: nanosleep lateness (row timer).
$(BENCH_PROBE): build/load/harness/bench/sleep_probe.o $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The least an epoll server does per request, beside bin/evented and nginx (row 3),
# and the least an epoll client does, beside bin/load and wrk (row 1).
$(BENCH_FLOOR): build/load/harness/bench/epoll_floor.o $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BENCH_LOAD_FLOOR): build/load/harness/bench/load_floor.o $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

.PHONY: bench
bench:
	@$(MAKE) --no-print-directory deps DEPS="$(DEPS) $(DEPS_BENCH)"
	@$(MAKE) --no-print-directory all $(BENCH_PROBE) $(BENCH_FLOOR) $(BENCH_LOAD_FLOOR)
	@load/harness/bench.py $(if $(ROWS),--rows '$(ROWS)')

# Their own tests (load/harness/tests/test_floors.py) run in `make test`.
test unit: $(BENCH_FLOOR) $(BENCH_LOAD_FLOOR)
