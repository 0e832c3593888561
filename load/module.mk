# load/: bin/load, the Locust-compatible load generator, and its tests.
LOAD_SRC := load/main.c load/runner.c load/response.c load/output.c load/histogram.c \
	load/locust_msg.c load/worker.c
LOAD_OBJ := $(LOAD_SRC:%.c=build/%.o)
LOAD_LIBS := -lhttp_parser -lzmq -lmsgpackc -lcjson

PROGRAMS += bin/load
bin/load: $(LOAD_OBJ) $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(LOAD_LIBS)

UNIT_TESTS += build/tests/test_locust
build/tests/test_locust: build/san/tests/test_locust.o $(SHARED_SAN_OBJ)

UNIT_TESTS += build/tests/test_histogram
build/san/tests/test_histogram.o: CPPFLAGS += -Iload
build/tests/test_histogram: build/san/tests/test_histogram.o build/san/load/histogram.o

INTEGRATION_TESTS += build/tests/it_load
build/tests/it_load: build/san/tests/it_load.o
build/tests/it_load: LDLIBS += -lcjson -lm

# bin/load --worker under Debian's real Locust master
INTEGRATION_TESTS += build/tests/it_worker
build/tests/it_worker: build/san/tests/it_worker.o

UNIT_TESTS += build/tests/test_locust_msg
build/san/tests/test_locust_msg.o: CPPFLAGS += -Iload
build/tests/test_locust_msg: LDLIBS += -lmsgpackc
build/tests/test_locust_msg: build/san/tests/test_locust_msg.o build/san/load/locust_msg.o \
	$(SHARED_SAN_OBJ)

UNIT_TESTS += build/tests/test_response
build/san/tests/test_response.o: CPPFLAGS += -Iload
build/tests/test_response: build/san/tests/test_response.o build/san/load/response.o \
	build/san/shared/http_field.o
build/tests/test_response: LDLIBS += -lhttp_parser
