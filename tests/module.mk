# tests/: cmocka unit tests (sanitized, against objects) and integration tests
# (cmocka programs that start the real binaries). Modules list their tests in
# UNIT_TESTS / INTEGRATION_TESTS with their objects as prerequisites; extra
# libraries go in a target-specific LDLIBS.

HARNESS_OBJ := build/san/tests/harness.o

# Both servers against a real PostgreSQL (started and stopped by the test).
INTEGRATION_TESTS += build/tests/it_postgres
build/tests/it_postgres: build/san/tests/it_postgres.o $(SHARED_SAN_OBJ)

$(UNIT_TESTS):
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(filter %.o %.a,$^) -o $@ -lcmocka $(LDLIBS)

$(INTEGRATION_TESTS): $(HARNESS_OBJ) | $(PROGRAMS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(filter %.o %.a,$^) -o $@ -lcmocka $(LDLIBS)

.PHONY: test unit integration
unit: $(UNIT_TESTS)
	@tests/run.sh $(UNIT_TESTS) $(SCRIPT_TESTS)

integration: all $(INTEGRATION_TESTS)
	@tests/run.sh $(INTEGRATION_TESTS)

# Plain programs first, then (when the reliability suite defines them) the
# integration tests again against ASan+UBSan+LSan and TSan builds.
test: all $(UNIT_TESTS) $(INTEGRATION_TESTS) $(SANITIZE_PREREQS)
	@tests/run.sh $(UNIT_TESTS) $(SCRIPT_TESTS) $(INTEGRATION_TESTS) $(SANITIZE_RUN)
