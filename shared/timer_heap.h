/*
 * timer_heap — a binary min-heap of deadlines: the one structure behind every
 * sleeping task, header timeout and idle timeout on a loop.
 *
 * Timers are caller-owned (embedded in the struct that waits); the heap
 * stores a pointer to each with a copy of its deadline and sequence, so that
 * ordering never reads the timers themselves (scattered over the owners'
 * memory: with ten thousand connections every such read was a cache miss,
 * 12% of a busy server's CPU), and each timer remembers its slot so that
 * cancel is O(log n) without a search. Four children per node: half the
 * depth of a binary heap, and a node's children share a cache line or two. Order is (deadline, insertion sequence): equal
 * deadlines fire in the order they were added. Deadlines are absolute
 * nanoseconds on the monotonic clock, compared by signed difference.
 *
 * Functions returning int return 0 on success and -1 when memory ran out.
 */
#ifndef TIMER_HEAP_H
#define TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define TIMER_IDLE UINT32_MAX /* timer.index when not in a heap */

struct timer;
typedef void (*timer_fn)(struct timer *t);

struct timer {
	int64_t deadline;  /* absolute, monotonic ns */
	uint64_t seq;      /* insertion order, breaks deadline ties */
	uint32_t index;    /* slot in the heap, TIMER_IDLE when not pending */
	timer_fn fn;       /* called once when due; recover the owner with container_of */
};

struct timer_slot {
	int64_t deadline;  /* copies of the timer's, read when ordering */
	uint64_t seq;
	struct timer *t;
};

struct timer_heap {
	struct timer_slot *slot;
	uint32_t len, cap;
	uint64_t seq;      /* next insertion number */
};

void timer_heap_init(struct timer_heap *h);
void timer_heap_free(struct timer_heap *h); /* forgets pending timers, frees slots */

static inline void timer_init(struct timer *t, timer_fn fn)
{
	t->index = TIMER_IDLE;
	t->fn = fn;
}

static inline int timer_pending(const struct timer *t)
{
	return t->index != TIMER_IDLE;
}

/* Makes room for n pending timers at once, so that adds stay within n never
 * allocate and cannot fail (a loop whose owners are counted up front). */
int timer_heap_reserve(struct timer_heap *h, uint32_t n);

/* (Re)starts t at deadline; a pending t is moved, not duplicated. */
int timer_heap_add(struct timer_heap *h, struct timer *t, int64_t deadline);

/* Stops t if pending; a no-op otherwise, so callers need not check. */
void timer_heap_cancel(struct timer_heap *h, struct timer *t);

/* The earliest pending timer, or NULL. */
static inline struct timer *timer_heap_peek(const struct timer_heap *h)
{
	return h->len > 0 ? h->slot[0].t : NULL;
}

/* Nanoseconds until the earliest deadline: -1 when none is pending, 0 when one
 * is due (libuv's convention, so a poll never sleeps past a due timer). */
int64_t timer_heap_next(const struct timer_heap *h, int64_t now);

/*
 * Runs every timer due at `now` that was pending when the call began, earliest
 * first, and returns how many ran. A timer leaves the heap before its callback,
 * so the callback may restart it or cancel any other timer (a cancelled one
 * that was due does not run). A timer added by a callback never runs in the
 * same pass, even if already due: the loop gets to poll first, so a chain of
 * zero timeouts cannot starve I/O.
 */
size_t timer_heap_run(struct timer_heap *h, int64_t now);

#endif
