# tests/reliability.mk: the reliability and security suite (issue 8).
#   rel_* integration tests   malformed input, slow clients, hang-ups, descriptor
#                             exhaustion, SIGTERM under load, bin/load against
#                             misbehaving servers, bin/report against damaged files
#   make fuzz FUZZ_SECONDS=N  each libFuzzer target for N seconds (clang, ASan+UBSan):
#                             requests, responses, CSV, a Locust master's messages
#   make test-sanitize        the programs built with ASan+UBSan (LeakSanitizer on)
#                             and TSan, the integration tests run against them
#   make reliability-doc      runs the rel_* tests, regenerates docs/RELIABILITY.md's table
# Included before tests/module.mk, so the link recipe there applies to these tests.

REL_TESTS := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/rel_*.c))
INTEGRATION_TESTS += $(REL_TESTS)
$(foreach t,$(REL_TESTS),$(eval $(t): build/san/tests/$(notdir $(t)).o $$(SHARED_SAN_OBJ)))

# --- fuzzing: clang's libFuzzer; the working corpus grows under build/fuzz/corpus,
# the seeds in tests/fuzz/corpus/<target> stay small and are only read.
FUZZ_SECONDS ?= 60
FUZZ_CC := clang
FUZZ_FLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Ishared \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := http_conn load_response csv locust_msg

build/fuzz/fuzz_http_conn: tests/fuzz/fuzz_http_conn.c evented/http_conn.c shared/routes.c \
	shared/query.c shared/http_field.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ievented $^ -o $@ -lhttp_parser
build/fuzz/fuzz_load_response: tests/fuzz/fuzz_load_response.c load/runner.c load/response.c \
	load/histogram.c shared/locust.c shared/timer_heap.c shared/cli.c shared/http_field.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iload $(filter-out load/runner.c,$^) -o $@ \
		-lhttp_parser -lpthread -lm
# the messages a Locust master sends bin/load --worker
build/fuzz/fuzz_locust_msg: tests/fuzz/fuzz_locust_msg.c load/locust_msg.c shared/locust.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iload $^ -o $@ -lmsgpackc -lm
build/fuzz/fuzz_csv: tests/fuzz/fuzz_csv.c reports/csv.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ireports $^ -o $@ -lm

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$t build/fuzz/artifacts/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/artifacts/$$t/ \
			build/fuzz/corpus/$$t tests/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1; \
		rc=$$?; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' build/fuzz/$$t.log | \
			sed "s/^/fuzz: $$t: /"; \
		if [ $$rc -ne 0 ]; then \
			echo "fuzz: $$t FAILED (exit $$rc): see build/fuzz/$$t.log"; \
			grep -m3 -E 'ERROR|SUMMARY|runtime error' build/fuzz/$$t.log; exit 1; \
		fi; \
	done

# --- sanitized programs: the same objects built with ASan+UBSan into
# build/asan-bin/, with ThreadSanitizer into build/tsan-bin/ (blocking, load and
# evented: the ones whose threads share memory; evented's offload pool does), then the integration tests pointed at them by HARNESS_BIN.
ASAN_BIN := build/asan-bin
TSAN_BIN := build/tsan-bin
TSAN := -fsanitize=thread -fno-omit-frame-pointer

$(ASAN_BIN)/blocking: $(BLOCKING_SAN_OBJ) $(SHARED_SAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(LDLIBS) -lcivetweb $(PG_LIBS)
$(ASAN_BIN)/evented: $(EVENTED_SRC:%.c=build/san/%.o) $(SHARED_SAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(LDLIBS) -lhttp_parser $(PG_LIBS) -luring
$(ASAN_BIN)/load: $(LOAD_SRC:%.c=build/san/%.o) $(SHARED_SAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(LDLIBS) $(LOAD_LIBS)
$(ASAN_BIN)/report: $(REPORT_SAN_OBJ) build/san/reports/main.o $(SHARED_SAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $^ -o $@ $(LDLIBS) $(REPORT_LIBS)

build/tsan/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TSAN) -c $< -o $@
$(TSAN_BIN)/blocking: $(BLOCKING_SRC:%.c=build/tsan/%.o) $(SHARED_SRC:%.c=build/tsan/%.o)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TSAN) $^ -o $@ $(LDLIBS) -lcivetweb $(PG_LIBS)
$(TSAN_BIN)/load: $(LOAD_SRC:%.c=build/tsan/%.o) $(SHARED_SRC:%.c=build/tsan/%.o)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TSAN) $^ -o $@ $(LDLIBS) $(LOAD_LIBS)
$(TSAN_BIN)/evented: $(EVENTED_SRC:%.c=build/tsan/%.o) $(SHARED_SRC:%.c=build/tsan/%.o)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TSAN) $^ -o $@ $(LDLIBS) -lhttp_parser $(PG_LIBS) -luring
# The TSan folder also needs the programs that are not TSan-built: the plain ones.
$(TSAN_BIN)/report: $(TSAN_BIN)/%: bin/%
	@mkdir -p $(@D)
	ln -sf ../../$< $@

ASAN_PROGRAMS := $(addprefix $(ASAN_BIN)/,blocking evented load report)
TSAN_PROGRAMS := $(addprefix $(TSAN_BIN)/,blocking load evented report)
# Integration tests that drive the programs built here: the rel_* ones and each
# module's own, without it_compare (it runs `make compare`, plain binaries).
SANITIZE_TESTS := $(filter-out build/tests/it_compare,$(INTEGRATION_TESTS))
TSAN_TESTS := $(filter build/tests/it_blocking build/tests/it_load build/tests/rel_load \
	build/tests/rel_faults build/tests/it_evented build/tests/it_evented_uring,$(INTEGRATION_TESTS))

# The sanitized runs, as tests/run.sh arguments: `make test` appends them to the
# plain run (one closing line for all), `make test-sanitize` runs them alone.
SANITIZE_PREREQS := $(ASAN_PROGRAMS) $(TSAN_PROGRAMS)
SANITIZE_RUN := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	HARNESS_BIN=$(ASAN_BIN) $(SANITIZE_TESTS) \
	TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1 \
	HARNESS_BIN=$(TSAN_BIN) $(TSAN_TESTS)

.PHONY: test-sanitize
test-sanitize: all $(SANITIZE_PREREQS) $(INTEGRATION_TESTS)
	@tests/run.sh $(SANITIZE_RUN)

.PHONY: reliability-doc
reliability-doc: all $(REL_TESTS)
	@tests/rel_table.sh $(REL_TESTS)
