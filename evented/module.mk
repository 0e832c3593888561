# evented/: bin/evented, the epoll server, and its tests.
EVENTED_SRC := evented/loop.c evented/loop_uring.c evented/http_conn.c evented/executor.c evented/offload.c \
	evented/metrics.c evented/server.c evented/main.c evented/db_pool.c shared/pg_task.c
EVENTED_OBJ := $(EVENTED_SRC:%.c=build/%.o)

PROGRAMS += bin/evented
bin/evented: $(EVENTED_OBJ) $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lhttp_parser $(PG_LIBS) -luring

UNIT_TESTS += build/tests/test_http_conn
build/tests/test_http_conn: build/san/tests/test_http_conn.o build/san/evented/http_conn.o \
	$(SHARED_SAN_OBJ)
build/tests/test_http_conn: LDLIBS += -lhttp_parser
build/san/tests/test_http_conn.o: CPPFLAGS += -Ievented

INTEGRATION_TESTS += build/tests/it_evented
build/tests/it_evented: build/san/tests/it_evented.o $(SHARED_SAN_OBJ)

# A subset of the same cases (marked in its table) with every server on --io uring.
INTEGRATION_TESTS += build/tests/it_evented_uring
build/tests/it_evented_uring: build/san/tests/it_evented_uring.o $(SHARED_SAN_OBJ)
build/san/tests/it_evented_uring.o: tests/it_evented.c | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -DIT_EVENTED_IO='"uring"' -c $< -o $@
