/*
 * loop — one single-threaded event loop: epoll for descriptors, and one timerfd
 * armed for the earliest deadline of the loop's timer heap. A thousand or a
 * hundred thousand pending timers cost the same three descriptors.
 *
 * Watched descriptors are described by a caller-owned struct io whose address
 * is the epoll data, so an event leads straight to its owner. Level-triggered.
 *
 * Functions returning int return 0 on success and -1 on failure, having
 * printed the call and strerror to stderr.
 */
#ifndef LOOP_H
#define LOOP_H

#include "timer_heap.h"

#include <stdint.h>
#include <sys/epoll.h>

#define LOOP_MAX_EVENTS 256
#define TIMER_CHECK_EVERY 16 /* events handled between two looks at the timer heap */

struct io;
typedef void (*io_fn)(struct io *io, uint32_t events);

struct io {
	int fd;
	io_fn fn;
};

struct loop {
	int epfd;
	struct io timer_io;      /* the timerfd */
	int64_t armed;           /* deadline the timerfd is set for; -1 disarmed, -2 fired */
	int64_t now;             /* monotonic ns, cached once per wake-up */
	struct timer_heap timers;
};

int loop_init(struct loop *l);
void loop_free(struct loop *l);

/* Monotonic nanoseconds, read now (loop->now is the cached copy). */
int64_t loop_clock(void);

int loop_watch(struct loop *l, struct io *io, uint32_t events);
int loop_modify(struct loop *l, struct io *io, uint32_t events);
void loop_unwatch(struct loop *l, struct io *io); /* before close(), or skip it: close drops it */

/* Starts t to fire delay_ns from the cached now (clamped, never overflows). */
int loop_timer_after(struct loop *l, struct timer *t, int64_t delay_ns);
int loop_timer_at(struct loop *l, struct timer *t, int64_t deadline);
void loop_timer_cancel(struct loop *l, struct timer *t);

/*
 * Waits for events (up to timeout_ms, -1 forever), dispatches them, runs the
 * due timers, and re-arms the timerfd when the earliest deadline moved earlier.
 * Returns the number of events plus timers handled, or -1 when epoll failed.
 */
int loop_run_once(struct loop *l, int timeout_ms);

#endif
