# shared/: code more than one program links. SHARED_SRC is linked into every
# program; the sanitized copy into the unit tests.
SHARED_SRC := shared/routes.c shared/query.c shared/cpu_task.c shared/cli.c shared/locust.c \
	shared/timer_heap.c shared/textbuf.c shared/http_field.c shared/sched_slice.c
SHARED_OBJ := $(SHARED_SRC:%.c=build/%.o)
SHARED_SAN_OBJ := $(SHARED_SRC:%.c=build/san/%.o)

UNIT_TESTS += build/tests/test_routes build/tests/test_query build/tests/test_timer_heap \
	build/tests/test_sched_slice
build/tests/test_routes: build/san/tests/test_routes.o $(SHARED_SAN_OBJ)
build/tests/test_query: build/san/tests/test_query.o $(SHARED_SAN_OBJ)
build/tests/test_timer_heap: build/san/tests/test_timer_heap.o build/san/shared/timer_heap.o
build/tests/test_sched_slice: build/san/tests/test_sched_slice.o build/san/shared/sched_slice.o
