#include "loop.h"
#include "loop_uring.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL
/* The timerfd is never armed further out than this: a "huge" deadline just
 * costs one harmless early wake-up a day. */
#define ARM_HORIZON_NS (86400LL * NS)

int64_t loop_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void on_timerfd(struct io *io, uint32_t events)
{
	struct loop *l = (struct loop *)((char *)io - offsetof(struct loop, timer_io));
	(void)events;
	/* It fired: the kernel's copy is spent. loop_run_once re-arms (which also
	 * clears the readable state) or disarms, so no read() is needed. */
	l->armed = -2;
}

int loop_init(struct loop *l, enum loop_engine engine)
{
	memset(l, 0, sizeof *l);
	l->timer_io.fd = -1;
	l->epfd = -1;
	timer_heap_init(&l->timers);
	l->armed = -1;
	l->now = loop_clock();
	if (engine == LOOP_URING) {
		if (uring_init(l) < 0)
			goto fail;
		return 0;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		fprintf(stderr, "evented: epoll_create1: %s\n", strerror(errno));
		return -1;
	}
	l->timer_io.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer_io.fd < 0) {
		fprintf(stderr, "evented: timerfd_create: %s\n", strerror(errno));
		goto fail;
	}
	l->timer_io.fn = on_timerfd;
	if (loop_watch(l, &l->timer_io, EPOLLIN) < 0)
		goto fail;
	return 0;
fail:
	loop_free(l);
	return -1;
}

void loop_free(struct loop *l)
{
	if (l->uring)
		uring_free(l);
	if (l->timer_io.fd >= 0)
		close(l->timer_io.fd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->timer_io.fd = l->epfd = -1;
	timer_heap_free(&l->timers);
}

static int ctl(struct loop *l, int op, struct io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events | io->edge, .data.ptr = io };
	if (epoll_ctl(l->epfd, op, io->fd, &ev) < 0) {
		fprintf(stderr, "evented: epoll_ctl fd %d: %s\n", io->fd, strerror(errno));
		return -1;
	}
	return 0;
}

const char *loop_engine_name(const struct loop *l)
{
	return l->uring ? "uring" : "epoll";
}

int loop_watch(struct loop *l, struct io *io, uint32_t events)
{
	io->edge = 0;
	if (l->uring)
		return uring_watch(l, io, events, URING_POLL);
	return ctl(l, EPOLL_CTL_ADD, io, events);
}

int loop_watch_stream(struct loop *l, struct io *io, uint32_t events)
{
	io->edge = 0;
	if (l->uring)
		return uring_watch(l, io, events, URING_STREAM);
	io->edge = EPOLLET; /* see loop.h: the owner reads until a short read */
	return ctl(l, EPOLL_CTL_ADD, io, events);
}

int loop_watch_listener(struct loop *l, struct io *io, uint32_t events)
{
	io->edge = 0;
	if (l->uring)
		return uring_watch(l, io, events, URING_LISTENER);
	return ctl(l, EPOLL_CTL_ADD, io, events);
}

int loop_modify(struct loop *l, struct io *io, uint32_t events)
{
	if (l->uring)
		return uring_modify(l, io, events);
	return ctl(l, EPOLL_CTL_MOD, io, events);
}

void loop_unwatch(struct loop *l, struct io *io)
{
	if (l->uring)
		uring_unwatch(l, io);
	else
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

int loop_timer_at(struct loop *l, struct timer *t, int64_t deadline)
{
	if (timer_heap_add(&l->timers, t, deadline) < 0) {
		fprintf(stderr, "evented: timer heap: %s\n", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

int loop_timer_after(struct loop *l, struct timer *t, int64_t delay_ns)
{
	int64_t deadline = delay_ns > INT64_MAX - l->now ? INT64_MAX : l->now + delay_ns;
	return loop_timer_at(l, t, deadline);
}

void loop_timer_cancel(struct loop *l, struct timer *t)
{
	timer_heap_cancel(&l->timers, t);
}

/* Arms the timerfd for the earliest deadline when it would otherwise fire
 * late (or not at all); a later earliest deadline leaves it alone: firing early
 * costs one wake-up, re-arming on every change would cost a syscall per request. */
static void arm(struct loop *l)
{
	struct timer *first = timer_heap_peek(&l->timers);
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	int64_t when;

	if (first == NULL) {
		if (l->armed != -2)
			return;
		when = -1; /* spent: disarm, which clears the readable state */
	} else {
		when = first->deadline;
		if (when - l->now > ARM_HORIZON_NS)
			when = l->now + ARM_HORIZON_NS;
		if (l->armed >= 0 && l->armed <= when)
			return;
		/* Absolute time, ns resolution: the fd can't fire before the deadline,
		 * which is the "round up" a millisecond poll timeout would need. */
		if (when <= 0)
			when = 1;
		its.it_value.tv_sec = when / NS;
		its.it_value.tv_nsec = when % NS;
	}
	if (timerfd_settime(l->timer_io.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		fprintf(stderr, "evented: timerfd_settime: %s\n", strerror(errno));
	l->armed = when;
}

/* Runs the timers due now, refreshing the cached clock first. */
int loop_run_due(struct loop *l)
{
	l->now = loop_clock();
	if (timer_heap_next(&l->timers, l->now) != 0)
		return 0;
	return (int)timer_heap_run(&l->timers, l->now);
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];
	int n, handled;

	if (l->uring)
		return uring_run_once(l, timeout_ms);
	arm(l);
	n = epoll_wait(l->epfd, ev, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		fprintf(stderr, "evented: epoll_wait: %s\n", strerror(errno));
		return -1;
	}
	/* Timers due first: each is an answer owed already, late by whatever
	 * runs before it, while a request read later in the pass loses nothing:
	 * its tasks' deadlines count from the clock read here (loop->now). */
	handled = n + loop_run_due(l);
	for (int i = 0; i < n; i++) {
		struct io *io = ev[i].data.ptr;
		io->fn(io, ev[i].events);
		/* A batch of busy sockets costs 10-30 µs each; timers due meanwhile
		 * would wait for all of it. Checking every TIMER_CHECK_EVERY events
		 * bounds that wait (a vDSO clock read each). */
		if ((i + 1) % TIMER_CHECK_EVERY == 0 && i + 1 < n)
			handled += loop_run_due(l);
	}
	handled += loop_run_due(l);
	return handled;
}
