# evented/: bin/evented, the epoll server, and its tests.
EVENTED_SRC := evented/timer_heap.c evented/loop.c evented/http_conn.c evented/executor.c \
	evented/metrics.c evented/server.c evented/main.c
EVENTED_OBJ := $(EVENTED_SRC:%.c=build/%.o)

PROGRAMS += bin/evented
bin/evented: $(EVENTED_OBJ) $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lhttp_parser

