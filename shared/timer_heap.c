#include "timer_heap.h"

#include <stdlib.h>

#define ARITY 4

/* a fires before b: earlier deadline (signed difference, so the comparison
 * holds across wrap-around), then earlier insertion. */
static int before(const struct timer_slot *a, const struct timer_slot *b)
{
	int64_t d = (int64_t)((uint64_t)a->deadline - (uint64_t)b->deadline);
	return d < 0 || (d == 0 && a->seq < b->seq);
}

static void place(struct timer_heap *h, uint32_t i, struct timer_slot s)
{
	h->slot[i] = s;
	s.t->index = i;
}

static void sift_up(struct timer_heap *h, uint32_t i)
{
	struct timer_slot s = h->slot[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / ARITY;
		if (!before(&s, &h->slot[parent]))
			break;
		place(h, i, h->slot[parent]);
		i = parent;
	}
	place(h, i, s);
}

static void sift_down(struct timer_heap *h, uint32_t i)
{
	struct timer_slot s = h->slot[i];
	for (;;) {
		uint32_t first = ARITY * i + 1, best = first, end;
		if (first >= h->len)
			break;
		end = first + ARITY < h->len ? first + ARITY : h->len;
		for (uint32_t c = first + 1; c < end; c++)
			if (before(&h->slot[c], &h->slot[best]))
				best = c;
		if (!before(&h->slot[best], &s))
			break;
		place(h, i, h->slot[best]);
		i = best;
	}
	place(h, i, s);
}

void timer_heap_init(struct timer_heap *h)
{
	h->slot = NULL;
	h->len = h->cap = 0;
	h->seq = 0;
}

void timer_heap_free(struct timer_heap *h)
{
	for (uint32_t i = 0; i < h->len; i++)
		h->slot[i].t->index = TIMER_IDLE;
	free(h->slot);
	timer_heap_init(h);
}

int timer_heap_reserve(struct timer_heap *h, uint32_t n)
{
	struct timer_slot *slot;

	if (n <= h->cap)
		return 0;
	slot = realloc(h->slot, (size_t)n * sizeof *slot);
	if (slot == NULL)
		return -1;
	h->slot = slot;
	h->cap = n;
	return 0;
}

int timer_heap_add(struct timer_heap *h, struct timer *t, int64_t deadline)
{
	timer_heap_cancel(h, t);
	if (h->len == h->cap && timer_heap_reserve(h, h->cap ? h->cap * 2 : 64) < 0)
		return -1;
	t->deadline = deadline;
	t->seq = h->seq++;
	h->slot[h->len] = (struct timer_slot){ deadline, t->seq, t };
	t->index = h->len++;
	sift_up(h, t->index);
	return 0;
}

void timer_heap_cancel(struct timer_heap *h, struct timer *t)
{
	uint32_t i = t->index;
	struct timer_slot last;

	if (i == TIMER_IDLE)
		return;
	t->index = TIMER_IDLE;
	last = h->slot[--h->len];
	if (last.t == t)
		return;
	/* The last timer fills the hole, then moves whichever way restores order. */
	place(h, i, last);
	if (i > 0 && before(&last, &h->slot[(i - 1) / ARITY]))
		sift_up(h, i);
	else
		sift_down(h, i);
}

int64_t timer_heap_next(const struct timer_heap *h, int64_t now)
{
	int64_t d;
	if (h->len == 0)
		return -1;
	d = (int64_t)((uint64_t)h->slot[0].deadline - (uint64_t)now);
	return d > 0 ? d : 0;
}

size_t timer_heap_run(struct timer_heap *h, int64_t now)
{
	uint64_t first_new = h->seq;
	size_t ran = 0;

	/* Timers numbered from first_new on were added during this pass. Since a
	 * new timer ties with the due ones only at equal deadlines and then loses
	 * on seq, stopping at the first new one leaves no old due timer behind
	 * unless a callback added a deadline in the past; that one, and any due
	 * timer behind it, runs on the next pass (timer_heap_next() says 0). */
	while (h->len > 0) {
		struct timer *t = h->slot[0].t;
		if ((int64_t)((uint64_t)h->slot[0].deadline - (uint64_t)now) > 0 ||
		    h->slot[0].seq >= first_new)
			break;
		timer_heap_cancel(h, t);
		ran++;
		t->fn(t);
	}
	return ran;
}
