/* The timer heap: order, ties, cancel (also from a callback), zero and huge
 * deadlines, reserve, and a long random run checked against a sorted reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "timer_heap.h"

#define N 64

struct tagged {
	struct timer t;
	int id;
};

static struct timer_heap heap;
static struct tagged timers[N];
static int fired[4 * N], nfired;

static void record(struct timer *t)
{
	fired[nfired++] = ((struct tagged *)t)->id;
}

static int setup(void **state)
{
	(void)state;
	timer_heap_init(&heap);
	for (int i = 0; i < N; i++) {
		timer_init(&timers[i].t, record);
		timers[i].id = i;
	}
	nfired = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	timer_heap_free(&heap);
	return 0;
}

static void fires_in_deadline_order(void **state)
{
	static const int64_t when[] = { 50, 10, 40, 20, 30 };
	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(timer_heap_add(&heap, &timers[i].t, when[i]), 0);
	assert_int_equal(timer_heap_next(&heap, 0), 10);
	assert_int_equal(timer_heap_run(&heap, 25), 2);
	assert_int_equal(nfired, 2);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 3);
	assert_int_equal(timer_heap_next(&heap, 25), 5);
	assert_int_equal(timer_heap_run(&heap, 100), 3);
	assert_int_equal(fired[2], 4);
	assert_int_equal(fired[3], 2);
	assert_int_equal(fired[4], 0);
	assert_int_equal(timer_heap_next(&heap, 100), -1);
}

static void equal_deadlines_fire_in_insertion_order(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++)
		timer_heap_add(&heap, &timers[(i * 7) % 10].t, 100);
	timer_heap_run(&heap, 100);
	assert_int_equal(nfired, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(fired[i], (i * 7) % 10);
}

static void readding_moves_a_timer_to_the_back_of_its_ties(void **state)
{
	(void)state;
	timer_heap_add(&heap, &timers[0].t, 5);
	timer_heap_add(&heap, &timers[1].t, 5);
	timer_heap_add(&heap, &timers[0].t, 5); /* restarted: now after 1 */
	assert_int_equal(heap.len, 2);
	timer_heap_run(&heap, 5);
	assert_int_equal(nfired, 2);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 0);
}

static void cancel_removes_and_is_idempotent(void **state)
{
	(void)state;
	for (int i = 0; i < 8; i++)
		timer_heap_add(&heap, &timers[i].t, 10 * (i + 1));
	timer_heap_cancel(&heap, &timers[0].t); /* the root */
	timer_heap_cancel(&heap, &timers[7].t); /* the last slot */
	timer_heap_cancel(&heap, &timers[3].t); /* the middle */
	timer_heap_cancel(&heap, &timers[3].t); /* again: no-op */
	assert_false(timer_pending(&timers[3].t));
	assert_int_equal(heap.len, 5);
	timer_heap_run(&heap, 1000);
	assert_int_equal(nfired, 5);
	static const int want[] = { 1, 2, 4, 5, 6 };
	for (int i = 0; i < 5; i++)
		assert_int_equal(fired[i], want[i]);
}

/* A due timer cancelled by an earlier callback in the same pass does not run. */
static void cancel_victim(struct timer *t)
{
	record(t);
	timer_heap_cancel(&heap, &timers[2].t);
	timer_heap_cancel(&heap, &timers[5].t); /* not due: just leaves */
}

static void cancel_from_inside_a_callback(void **state)
{
	(void)state;
	timers[1].t.fn = cancel_victim;
	timer_heap_add(&heap, &timers[1].t, 10);
	timer_heap_add(&heap, &timers[2].t, 10);
	timer_heap_add(&heap, &timers[3].t, 20);
	timer_heap_add(&heap, &timers[5].t, 500);
	assert_int_equal(timer_heap_run(&heap, 100), 2);
	assert_int_equal(nfired, 2);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 3);
	assert_int_equal(timer_heap_next(&heap, 100), -1);
}

/* A timer restarted by its own callback waits for the next pass. */
static void restart_self(struct timer *t)
{
	record(t);
	if (nfired < 3)
		timer_heap_add(&heap, t, 100); /* due already */
}

static void a_timer_added_in_a_callback_runs_next_pass(void **state)
{
	(void)state;
	timers[0].t.fn = restart_self;
	timer_heap_add(&heap, &timers[0].t, 100);
	timer_heap_add(&heap, &timers[1].t, 100);
	assert_int_equal(timer_heap_run(&heap, 100), 2);
	assert_int_equal(timer_heap_next(&heap, 100), 0);
	assert_int_equal(timer_heap_run(&heap, 100), 1);
	assert_int_equal(timer_heap_run(&heap, 100), 0);
	assert_int_equal(nfired, 3);
}

static void zero_and_huge_deadlines(void **state)
{
	(void)state;
	timer_heap_add(&heap, &timers[0].t, INT64_MAX);
	timer_heap_add(&heap, &timers[1].t, 0);
	timer_heap_add(&heap, &timers[2].t, INT64_MAX - 1);
	assert_int_equal(timer_heap_next(&heap, 0), 0);   /* due now */
	assert_int_equal(timer_heap_next(&heap, 50), 0);  /* overdue is still 0 */
	assert_int_equal(timer_heap_run(&heap, 0), 1);
	assert_int_equal(fired[0], 1);
	assert_int_equal(timer_heap_next(&heap, 0), INT64_MAX - 1);
	assert_int_equal(timer_heap_run(&heap, 1000000000000LL), 0);
	assert_int_equal(timer_heap_run(&heap, INT64_MAX), 2);
	assert_int_equal(fired[1], 2);
	assert_int_equal(fired[2], 0);
}

static void reserve_keeps_adds_from_allocating(void **state)
{
	struct timer_slot *slot;
	(void)state;
	assert_int_equal(timer_heap_reserve(&heap, 10), 0);
	slot = heap.slot;
	for (int i = 0; i < 10; i++)
		assert_int_equal(timer_heap_add(&heap, &timers[i].t, 100 - i), 0);
	assert_ptr_equal(heap.slot, slot); /* ten fit: no reallocation */
	assert_int_equal(heap.cap, 10);
	assert_int_equal(timer_heap_reserve(&heap, 5), 0); /* never shrinks */
	assert_int_equal(heap.cap, 10);
	assert_int_equal(timer_heap_add(&heap, &timers[10].t, 0), 0); /* past it: grows */
	assert_true(heap.cap > 10);
	assert_int_equal(timer_heap_run(&heap, 100), 11);
	assert_int_equal(fired[0], 10);
	assert_int_equal(fired[1], 9);
	assert_int_equal(fired[10], 0);
}

/* ---- random inserts and cancels against a sorted reference ---- */

struct ref {
	int64_t deadline;
	uint64_t seq;
	int id;
};

static int by_deadline_then_seq(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	if (x->deadline != y->deadline)
		return x->deadline < y->deadline ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void random_operations_match_a_sorted_reference(void **state)
{
	struct ref ref[N];
	int64_t deadline[N];
	uint64_t seq[N], next_seq = 0;
	int pending[N] = { 0 };
	(void)state;
	srand(12345);
	for (int round = 0; round < 200; round++) {
		int nref = 0;
		for (int op = 0; op < 300; op++) {
			int i = rand() % N;
			if (rand() % 3 == 0) {
				timer_heap_cancel(&heap, &timers[i].t);
				pending[i] = 0;
			} else {
				/* few distinct deadlines, so ties are common */
				deadline[i] = rand() % 40;
				timer_heap_add(&heap, &timers[i].t, deadline[i]);
				seq[i] = next_seq++;
				pending[i] = 1;
			}
		}
		for (int i = 0; i < N; i++) {
			assert_int_equal(timer_pending(&timers[i].t), pending[i]);
			if (pending[i])
				ref[nref++] = (struct ref){ deadline[i], seq[i], i };
		}
		assert_int_equal(heap.len, nref);
		qsort(ref, (size_t)nref, sizeof ref[0], by_deadline_then_seq);
		nfired = 0;
		/* Drain in two steps to check the "due" cut as well as the order. */
		int cut = 0;
		while (cut < nref && ref[cut].deadline <= 20)
			cut++;
		assert_int_equal(timer_heap_run(&heap, 20), cut);
		assert_int_equal(timer_heap_run(&heap, 40), nref - cut);
		assert_int_equal(nfired, nref);
		for (int k = 0; k < nref; k++)
			assert_int_equal(fired[k], ref[k].id);
		memset(pending, 0, sizeof pending);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fires_in_deadline_order, setup, teardown),
		cmocka_unit_test_setup_teardown(equal_deadlines_fire_in_insertion_order, setup, teardown),
		cmocka_unit_test_setup_teardown(readding_moves_a_timer_to_the_back_of_its_ties, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_removes_and_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_from_inside_a_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(a_timer_added_in_a_callback_runs_next_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(zero_and_huge_deadlines, setup, teardown),
		cmocka_unit_test_setup_teardown(reserve_keeps_adds_from_allocating, setup, teardown),
		cmocka_unit_test_setup_teardown(random_operations_match_a_sorted_reference, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
