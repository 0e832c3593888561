# blocking/: bin/blocking, the sync world (CivetWeb, one worker thread per request).
BLOCKING_SRC := blocking/main.c blocking/handler.c blocking/helper_pool.c blocking/task.c \
	blocking/metrics.c blocking/tcp_queue.c blocking/db_pool.c shared/pg_task.c
BLOCKING_OBJ := $(BLOCKING_SRC:%.c=build/%.o)
BLOCKING_SAN_OBJ := $(BLOCKING_SRC:%.c=build/san/%.o)

PROGRAMS += bin/blocking
bin/blocking: $(BLOCKING_OBJ) $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lcivetweb $(PG_LIBS)

INTEGRATION_TESTS += build/tests/it_blocking
build/tests/it_blocking: build/san/tests/it_blocking.o $(SHARED_SAN_OBJ)

UNIT_TESTS += build/tests/test_blocking_helper_pool build/tests/test_blocking_metrics
build/tests/test_blocking_helper_pool: build/san/tests/test_blocking_helper_pool.o \
	build/san/blocking/helper_pool.o build/san/blocking/task.o build/san/blocking/db_pool.o \
	build/san/shared/pg_task.o $(SHARED_SAN_OBJ)
build/tests/test_blocking_helper_pool: LDLIBS += $(PG_LIBS)
build/tests/test_blocking_metrics: build/san/tests/test_blocking_metrics.o \
	build/san/blocking/metrics.o build/san/blocking/tcp_queue.o \
	build/san/blocking/helper_pool.o build/san/shared/pg_task.o $(SHARED_SAN_OBJ)
build/tests/test_blocking_metrics: LDLIBS += $(PG_LIBS)
build/san/tests/test_blocking_%.o: CPPFLAGS += -Iblocking
