# load/: bin/load, the Locust-compatible load generator, and its tests.
UNIT_TESTS += build/tests/test_locust
build/tests/test_locust: build/san/tests/test_locust.o $(SHARED_SAN_OBJ)

UNIT_TESTS += build/tests/test_histogram
build/san/tests/test_histogram.o: CPPFLAGS += -Iload
build/tests/test_histogram: build/san/tests/test_histogram.o build/san/load/histogram.o
