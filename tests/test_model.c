/* The model: closed-form cases, the simulation against them in steady state,
 * the ramp-up transient and Locust's finite-window accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "routes.h"

static struct model_scenario scenario(const char *cls, double task_ms, int users,
				      double rate, double run_s)
{
	struct model_scenario sc;
	model_scenario_init(&sc, routes_find_class(cls));
	assert_non_null(sc.route);
	sc.task_ms = task_ms;
	sc.users = users;
	sc.spawn_rate = rate;
	sc.run_time_s = run_s;
	return sc;
}

static void few_users_are_served_at_once(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 100, 40, 40, 60);
	struct model_steady st;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 80);
	assert_int_equal(st.bound, MODEL_BOUND_USERS);
	assert_float_equal(st.service_ms, 300, 1e-9);
	assert_float_equal(st.r_ms, 300, 1e-9); /* N <= C: R = S */
	assert_float_equal(st.x_per_s, 40 / 0.3, 1e-9);
}

static void many_users_queue_for_threads(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 5000, 500, 50, 300);
	struct model_steady st;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.bound, MODEL_BOUND_CAPACITY);
	assert_float_equal(st.x_per_s, 80 / 15.0, 1e-9);     /* X = C/S */
	assert_float_equal(st.r_ms, 500 * 15000.0 / 80, 1e-6); /* R = N S / C */
	assert_non_null(strstr(st.why, "80 threads"));
}

static void wait_time_counts_in_the_user_bound(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncIndependentUser", 100, 30, 30, 60);
	sc.wait_min_s = 0.5;
	sc.wait_max_s = 1.5;
	struct model_steady st;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.think_ms, 1000, 1e-9);
	assert_float_equal(st.x_per_s, 30 / 1.3, 1e-9); /* N / (S + Z) */
	assert_float_equal(st.r_ms, 300, 1e-6);
}

static void plans_set_service_and_capacity(void **state)
{
	(void)state;
	struct model_steady st;
	struct model_scenario sc = scenario("AsyncConcurrentUser", 5000, 500, 50, 300);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.service_ms, 5000, 1e-9); /* gathered: one task long */
	assert_true(st.unbounded);
	assert_int_equal(st.bound, MODEL_BOUND_USERS);

	sc = scenario("AsyncBlockingUser", 5000, 500, 50, 300);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 2); /* one request per worker */
	assert_int_equal(st.bound, MODEL_BOUND_CAPACITY);
	assert_float_equal(st.x_per_s, 2 / 15.0, 1e-9);

	sc = scenario("SyncParallelUser", 100, 500, 500, 30);
	sc.helpers = 60; /* 3 helpers per request: 20 requests at once, not 80 */
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 20);
	assert_float_equal(st.service_ms, 100, 1e-9);

	sc.users = 0;
	assert_int_equal(model_steady(&sc, &st), -1);
}

static void spawns_in_locust_batches(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 100, 500, 50, 300);
	assert_float_equal(model_spawn_time_s(&sc, 0), 0, 1e-12);
	assert_float_equal(model_spawn_time_s(&sc, 49), 0, 1e-12);
	assert_float_equal(model_spawn_time_s(&sc, 50), 1, 1e-12);
	assert_float_equal(model_spawn_time_s(&sc, 499), 9, 1e-12);
	sc.spawn_rate = 0.5; /* batches of one, every 2 s */
	assert_float_equal(model_spawn_time_s(&sc, 3), 6, 1e-12);
	sc.spawn_rate = 2.5; /* batches of two, every 0.8 s */
	assert_float_equal(model_spawn_time_s(&sc, 5), 1.6, 1e-12);
}

/* All users at once, no queue: every request takes exactly S. */
static void simulation_matches_closed_form_without_queue(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncConcurrentUser", 250, 500, 1000, 15);
	struct model_run run;
	assert_int_equal(model_simulate(&sc, &run), 0);
	/* 60 rounds of 250 ms fill 15 s; the 60th, due exactly at the stop, is
	 * late like any real request would be. */
	assert_int_equal(run.reqs, 500 * 59);
	assert_int_equal(run.unfinished, 500);
	assert_float_equal(run.ms[0], 250, 1e-6);
	assert_float_equal(run.ms[run.reqs - 1], 250, 1e-6);
	assert_float_equal(run.rps, 500 / 0.25, 1e-6);
	model_run_free(&run);
}

/* Saturated threads: after the transient, X = C/S and R = N S / C. */
static void simulation_matches_closed_form_in_steady_state(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 10, 400, 400, 120);
	struct model_steady st;
	struct model_run run;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.rps, st.x_per_s, st.x_per_s * 0.01);
	double median = run.ms[(run.reqs - 1) / 2];
	assert_float_equal(median, st.r_ms, st.r_ms * 0.01); /* 150 ms */
	/* Little's law on the counted requests */
	double sum = 0;
	for (long i = 0; i < run.reqs; i++)
		sum += run.ms[i];
	assert_float_equal(sum / run.reqs, st.r_ms, st.r_ms * 0.02);
	model_run_free(&run);
}

/* The run over time (what the report's over-time charts draw): each counted
 * request once, completed inside the window and in the second done_per_s
 * counts it; the first answered in S with an empty queue, the last in N S / C. */
static void simulation_keeps_the_run_over_time(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 10, 400, 400, 20);
	struct model_steady st;
	struct model_run run;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(model_simulate(&sc, &run), 0);
	long *per_s = calloc((size_t)run.seconds + 1, sizeof *per_s);
	assert_non_null(per_s);
	double sum_done = 0, sum_ms = 0;
	for (long i = 0; i < run.reqs; i++) {
		assert_true(run.done[i].at_s > 0 && run.done[i].at_s < sc.run_time_s);
		per_s[(int)run.done[i].at_s]++;
		sum_done += run.done[i].ms;
		sum_ms += run.ms[i];
	}
	for (int sec = 0; sec < run.seconds; sec++)
		assert_int_equal(per_s[sec], run.done_per_s[sec]);
	assert_float_equal(sum_done, sum_ms, 1e-6);
	assert_float_equal(run.done[0].ms, st.service_ms, 1e-6);
	assert_float_equal(run.done[run.reqs - 1].ms, st.r_ms, st.r_ms * 0.01);
	free(per_s);
	model_run_free(&run);
}

/* The first users see no queue: the 80 served first answer in S, and the
 * minimum response time is S while the steady state is N S / C. */
static void ramp_up_shows_in_the_fastest_requests(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 5000, 500, 50, 300);
	struct model_run run;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.ms[0], 15000, 1e-6);
	long fast = 0;
	for (long i = 0; i < run.reqs; i++)
		fast += run.ms[i] < 15000.5;
	assert_int_equal(fast, 80); /* the first 80 users found a free thread */
	/* 50 threads start at 0 s and 30 at 1 s: each fits 19 whole rounds of 15 s
	 * before the stop (the 20th of the first 50 is due at the stop itself). */
	assert_int_equal(run.reqs, 80 * 19);
	/* at the stop every user is queued or in service */
	assert_int_equal(run.unfinished, 500);
	assert_int_equal(run.sent, run.reqs + 500);
	assert_true(run.ms[run.reqs - 1] > 90000); /* steady state ~ 93.75 s */
	model_run_free(&run);
}

/* A request that would end after the stop is not counted; req/s divides by the
 * last counted completion, not by the run time. */
static void finite_window_drops_the_last_requests(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncIndependentUser", 100, 10, 10, 1.0);
	struct model_run run;
	assert_int_equal(model_simulate(&sc, &run), 0);
	/* rounds end at 0.3, 0.6, 0.9; the fourth would end at 1.2 */
	assert_int_equal(run.reqs, 30);
	assert_int_equal(run.unfinished, 10);
	assert_float_equal(run.last_done_s, 0.9, 1e-9);
	assert_float_equal(run.rps, 30 / 0.9, 1e-6);
	model_run_free(&run);

	sc.run_time_s = 0.2; /* nothing completes at all */
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_int_equal(run.reqs, 0);
	assert_float_equal(run.rps, 0, 1e-12);
	model_run_free(&run);
}

/* A millisecond beside the tasks pushes a whole-rounds run's last round past
 * the stop, and Locust's req/s follows X = N / (S + overhead). */
static void overhead_costs_a_round(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncIndependentUser", 100, 10, 10, 3.0);
	struct model_run run;
	sc.overhead_ms = 1;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_int_equal(run.reqs, 90); /* rounds end at 0.301 ... 2.709; the 10th at 3.01 */
	assert_float_equal(run.ms[0], 301, 1e-9);
	assert_float_equal(run.rps, 90 / 2.709, 1e-6);
	model_run_free(&run);
}

static void seeded_waits_are_deterministic(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 10, 100, 100, 20);
	sc.wait_min_s = 0;
	sc.wait_max_s = 0.1;
	sc.seed = 42;
	struct model_run a, b;
	assert_int_equal(model_simulate(&sc, &a), 0);
	assert_int_equal(model_simulate(&sc, &b), 0);
	assert_int_equal(a.reqs, b.reqs);
	assert_memory_equal(a.ms, b.ms, sizeof *a.ms * (size_t)a.reqs);
	model_run_free(&a);
	model_run_free(&b);
}

/* Locust draws a wait from between(min, max) each time; the report's
 * simulation does too unless told otherwise, so users spawned together drift
 * apart as they do in a run, where every wait the mean keeps them in step:
 * 500 users, three 250 ms tasks, 0-0.1 s waits, answers a second. */
static long busiest_second(const struct model_run *run, int from, int to)
{
	long most = 0;
	for (int s = from; s <= to && s < run->seconds; s++)
		if (run->done_per_s[s] > most)
			most = run->done_per_s[s];
	return most;
}

static void a_wait_range_is_drawn_by_default(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncIndependentUser", 250, 500, 1000, 15);
	assert_int_equal(model_default_seed(&sc), 0); /* constant(0): nothing to draw */
	sc.wait_min_s = 0.05;
	sc.wait_max_s = 0.05;
	assert_int_equal(model_default_seed(&sc), 0);
	sc.wait_min_s = 0;
	sc.wait_max_s = 0.1;
	assert_int_equal(model_default_seed(&sc), 1);

	struct model_run drawn, mean;
	sc.seed = model_default_seed(&sc);
	assert_int_equal(model_simulate(&sc, &drawn), 0);
	sc.seed = 0;
	assert_int_equal(model_simulate(&sc, &mean), 0);
	/* in step, each 800 ms round's 500 answers land in one second, and every
	 * fourth second gets two whole rounds; drawn, the rounds spread (about
	 * 30 ms a round, a random walk), and no second gets two whole ones */
	assert_int_equal(busiest_second(&mean, 5, 14), 1000);
	assert_true(busiest_second(&drawn, 5, 14) < 1000);
	model_run_free(&drawn);
	model_run_free(&mean);
}

static void seed_run_takes_milliseconds(void **state)
{
	(void)state;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < routes_count; i++) {
		struct model_scenario sc = scenario(routes[i].user_class, 5000, 500, 50, 300);
		struct model_run run;
		assert_int_equal(model_simulate(&sc, &run), 0);
		assert_true(run.reqs > 0);
		model_run_free(&run);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 2000); /* generous: sanitizers and a shared machine */
}

static double mean_ms(const struct model_run *run)
{
	double sum = 0;
	for (long i = 0; i < run->reqs; i++)
		sum += run->ms[i];
	return run->reqs ? sum / run->reqs : 0;
}

static double p95_ms(const struct model_run *run)
{
	return run->ms[(long)(0.95 * (double)(run->reqs - 1))];
}

/* Two processes of 40 threads with 200 users each are the one queue of 80
 * threads and 400 users, cut in half: the same count, mean and tail. */
static void even_split_of_a_saturated_pool_matches_one_queue(void **state)
{
	(void)state;
	struct model_scenario one = scenario("SyncBaselineUser", 10, 400, 400, 120);
	struct model_scenario two = one;
	struct model_steady st1, st2;
	struct model_run a, b;
	assert_int_equal(model_split_parse("200,200", &two), 0);
	assert_int_equal(model_steady(&one, &st1), 0);
	assert_int_equal(model_steady(&two, &st2), 0);
	assert_int_equal(st2.capacity, 80);
	assert_float_equal(st2.x_per_s, st1.x_per_s, 1e-9);
	assert_int_equal(model_simulate(&one, &a), 0);
	assert_int_equal(model_simulate(&two, &b), 0);
	assert_int_equal(b.reqs, a.reqs);
	assert_float_equal(mean_ms(&b), mean_ms(&a), mean_ms(&a) * 0.005);
	assert_float_equal(p95_ms(&b), p95_ms(&a), p95_ms(&a) * 0.01);
	model_run_free(&a);
	model_run_free(&b);
}

/* 250 and 150 users on 40 threads each: both processes stay saturated, so
 * the count is the unsplit one and so is the mean (each half serves as many),
 * but the larger half waits 250 x 30 / 40 = 187.5 ms a request on average
 * where one queue waited 150 ms: 6 or 7 whole batches of 40 (180 or 210 ms). */
static void an_uneven_split_keeps_the_count_and_grows_the_tail(void **state)
{
	(void)state;
	struct model_scenario one = scenario("SyncBaselineUser", 10, 400, 400, 120);
	struct model_scenario two = one;
	struct model_steady st;
	struct model_run a, b;
	assert_int_equal(model_split_parse("250,150", &two), 0);
	assert_int_equal(model_steady(&two, &st), 0);
	assert_float_equal(st.x_per_s, 80 / 0.03, 1e-6);
	assert_non_null(strstr(st.why, "users 250/150"));
	assert_int_equal(model_simulate(&one, &a), 0);
	assert_int_equal(model_simulate(&two, &b), 0);
	assert_float_equal((double)b.reqs, (double)a.reqs, a.reqs * 0.005);
	assert_float_equal(mean_ms(&b), mean_ms(&a), mean_ms(&a) * 0.01);
	assert_float_equal(p95_ms(&a), 150, 1e-6);
	assert_float_equal(a.ms[a.reqs - 1], 150, 1e-6);
	assert_true(p95_ms(&b) >= 180);
	assert_float_equal(b.ms[b.reqs - 1], 210, 1e-6);
	assert_true(b.ms[b.reqs / 10] < 121); /* the smaller half: 3 or 4 batches */
	model_run_free(&a);
	model_run_free(&b);
}

/* FastAPI's sync route on the quick profile: 2 x 40 threads, 250/250 users,
 * 750 ms of sleeps and 1.45 ms of the server's own CPU a request, 15 s, the
 * waiters served newest first (anyio's limiter). On C threads that CPU runs on
 * the thread that holds the request, first come, first served on the cores: the
 * first round's 80 bursts queue once (80 x 1.45 / 2 = 58 ms for the last), the
 * threads then come free staggered, and 19 rounds fit. But a thread comes free
 * as its user, answered, sends again, and LIFO gives it straight back to that
 * user: the same 80-odd users are served round after round. A Python worker
 * (serial_cpu: the GIL, its event loop) answers one request at a time after
 * its thread is given back: 19 rounds too, 1520 requests, as the real stack
 * served them, but the thread goes to a waiter while its user is still being
 * answered, so the users alternate and wait one service for the next round
 * (the real stack's means: 1205-1421 ms, docs/ORIGINAL.md). */
static void a_python_worker_answers_one_request_at_a_time(void **state)
{
	(void)state;
	struct model_scenario c = scenario("SyncBaselineUser", 250, 500, 1000, 15);
	c.server_cpu_ms = 1.45;
	c.order = MODEL_ORDER_LIFO;
	assert_int_equal(model_split_parse("250,250", &c), 0);
	struct model_scenario py = c;
	py.serial_cpu = 1;
	struct model_steady st;
	struct model_run a, b;
	assert_int_equal(model_steady(&py, &st), 0);
	assert_int_equal(st.net.n, 2);
	assert_string_equal(st.net.st[1].name, "the GIL");
	assert_int_equal(st.net.st[1].servers, 2);
	assert_string_equal(st.binding, "threads");
	assert_int_equal(model_simulate(&c, &a), 0);
	assert_int_equal(model_simulate(&py, &b), 0);
	assert_int_equal(a.reqs, 19 * 80);
	assert_int_equal(b.reqs, 19 * 80);
	assert_in_range(a.users_answered, 80, 100);
	assert_in_range((long)mean_ms(&a), 750, 800);
	assert_in_range(b.users_answered, 150, 200);
	assert_in_range((long)mean_ms(&b), 1400, 1550);
	model_run_free(&a);
	model_run_free(&b);
}

/* What a kept-alive connection adds to each answer (answer_ms: uvicorn's
 * workers wait for the client's delayed ACK) is in every response time and
 * every user's cycle, but holds no thread: 100 users on /async_concurrent
 * (S = 100 ms) with 40 ms more per answer cycle in 140 ms, X = 100/0.14 s;
 * 20 users on 8 threads of 300 ms still get 8/0.3 s, not 8/0.34 s. */
static void the_answer_wait_holds_no_thread(void **state)
{
	(void)state;
	struct model_scenario ev = scenario("AsyncConcurrentUser", 100, 100, 1000, 13.9);
	struct model_steady st;
	struct model_run run;
	ev.answer_ms = 40;
	assert_int_equal(model_steady(&ev, &st), 0);
	assert_float_equal(st.x_per_s, 100 / 0.14, 1e-6);
	assert_float_equal(st.r_ms, 140, 1e-6);
	assert_float_equal(st.think_ms, 0, 1e-9);
	assert_int_equal(model_simulate(&ev, &run), 0);
	assert_int_equal(run.reqs, 100 * 99); /* 99 whole cycles of 140 ms in 13.9 s */
	assert_float_equal(mean_ms(&run), 140, 1e-6);
	model_run_free(&run);

	struct model_scenario bl = scenario("SyncBaselineUser", 100, 20, 1000, 30);
	bl.threads = 8;
	bl.answer_ms = 40;
	assert_int_equal(model_steady(&bl, &st), 0);
	assert_float_equal(st.x_per_s, 8 / 0.3, 1e-6);
	assert_int_equal(model_simulate(&bl, &run), 0);
	assert_float_equal(run.rps, 8 / 0.3, 8 / 0.3 * 0.02);
	model_run_free(&run);
}

/* One thread, three users sent at 0, S = 3 s, 30 s. FIFO takes turns: every
 * user waits for the two others (9 s). LIFO (anyio's CapacityLimiter) hands the
 * thread to the newest waiter: user 0 and user 2 take turns at 6 s each, and
 * user 1 waits the whole run, never counted. The count is the same. */
static void lifo_starves_a_user_that_fifo_serves(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 1000, 3, 1000, 30);
	struct model_run run;
	sc.threads = 1;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_int_equal(run.reqs, 9); /* completions at 3, 6, ... 27 s */
	assert_int_equal(run.sent, 12);
	assert_int_equal(run.unfinished, 3);
	const double fifo[] = { 3000, 6000, 9000, 9000, 9000, 9000, 9000, 9000, 9000 };
	assert_memory_equal(run.ms, fifo, sizeof fifo);
	assert_int_equal(run.users_answered, 3);
	model_run_free(&run);

	assert_int_equal(model_order_parse("lifo", &sc.order), 0);
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_int_equal(run.reqs, 9);
	assert_int_equal(run.unfinished, 3);
	const double lifo[] = { 3000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000 };
	assert_memory_equal(run.ms, lifo, sizeof lifo);
	assert_int_equal(run.users_answered, 2); /* user 1 never */
	model_run_free(&run);

	/* random: the same count, and the same answer for the same seed */
	struct model_run again;
	assert_int_equal(model_order_parse("random", &sc.order), 0);
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_int_equal(model_simulate(&sc, &again), 0);
	assert_int_equal(run.reqs, 9);
	assert_memory_equal(run.ms, again.ms, sizeof *run.ms * 9);
	model_run_free(&run);
	model_run_free(&again);
}

/* A measured wave frees a process's thread tokens at its offsets instead of
 * all at the start: 4 threads, 8 users sent at 0, S = 300 ms, a wave evenly
 * over 30 ms. The first four start at 0, 10, 20 and 30 ms; each thread starts
 * again a service later, so the second four (FIFO, waiting since 0) finish
 * at 600 to 630 ms: the wave keeps its shape. A wave measured in bunches
 * (0, 0, 0 and 90 ms at its 0, 1/3, 2/3 and last ranks) frees three tokens
 * at once and the fourth 90 ms later. */
static void a_measured_wave_staggers_the_first_starts(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 100, 8, 1000, 0.65);
	struct model_run run;
	sc.threads = 4;
	assert_int_equal(model_wave_parse("0,30", &sc), 1);
	assert_int_equal(model_simulate(&sc, &run), 0);
	const double ms[] = { 300, 310, 320, 330, 600, 610, 620, 630 };
	assert_int_equal(run.reqs, 8);
	assert_memory_equal(run.ms, ms, sizeof ms);
	model_run_free(&run);

	assert_int_equal(model_wave_parse("0,0,0,90", &sc), 1);
	sc.run_time_s = 0.7;
	assert_int_equal(model_simulate(&sc, &run), 0);
	const double bunched[] = { 300, 300, 300, 390, 600, 600, 600, 690 };
	assert_int_equal(run.reqs, 8);
	assert_memory_equal(run.ms, bunched, sizeof bunched);
	model_run_free(&run);

	/* fewer users than threads: nobody waits for a token, nothing staggers */
	sc.users = 3;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_int_equal(run.reqs, 6);
	assert_float_equal(run.ms[run.reqs - 1], 300, 1e-9);
	model_run_free(&run);
}

/* A connection's first answer does not wait for the delayed ACK: one thread,
 * two users sent at 0, S = 300 ms, 40 ms a later answer, 5 ms the first. User
 * 0 is answered at 305 ms, user 1 (its thread at 300) at 605; their second
 * requests wait for the thread until 600 and 900 and take 40 ms more to come
 * back: 940 - 305 and 1240 - 605, 635 ms each. */
static void a_connections_first_answer_comes_back_at_once(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 100, 2, 1000, 1.25);
	struct model_run run;
	sc.threads = 1;
	sc.order = MODEL_ORDER_LIFO;
	sc.answer_ms = 40;
	assert_int_equal(model_first_answer_parse("5", &sc), 1);
	assert_int_equal(sc.nfirst, 1);
	assert_int_equal(model_simulate(&sc, &run), 0);
	const double ms[] = { 305, 605, 635, 635 };
	assert_int_equal(run.reqs, 4);
	assert_memory_equal(run.ms, ms, sizeof ms);
	model_run_free(&run);
}

/* The quick profile's /sync_baseline as the original stack ran it: 2 x 40
 * threads, 250/250 users at once, LIFO, the GIL, 43 ms an answer. Threads
 * that start together free together, so every cycling user waits exactly
 * one service and nobody waits longer (p95 1500 ms, nothing over 1600). With
 * the waves spread as measured (50 ms) and a user's first answer back in
 * 3 ms, users answered early in a wave come back before it ends and take its
 * last threads, and the users they overtake wait two or more services: the
 * count stays, the tail grows past 2 s. */
static void spread_waves_and_quick_first_answers_make_the_tail(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 250, 500, 1000, 15);
	struct model_run a, b;
	sc.order = MODEL_ORDER_LIFO;
	sc.serial_cpu = 1;
	sc.server_cpu_ms = 1;
	sc.answer_ms = 43;
	assert_int_equal(model_split_parse("250,250", &sc), 0);
	assert_int_equal(model_simulate(&sc, &a), 0);
	assert_int_equal(model_wave_parse("0,50/0,50", &sc), 2);
	assert_int_equal(model_first_answer_parse("3", &sc), 1);
	assert_int_equal(model_simulate(&sc, &b), 0);
	assert_int_equal(a.reqs, 1520);
	assert_int_equal(b.reqs, 1520);
	assert_true(a.ms[a.reqs - 1] <= 1600);
	long over_2s = 0;
	for (long i = 0; i < b.reqs; i++)
		over_2s += b.ms[i] > 2000;
	assert_true(over_2s >= b.reqs / 20); /* at least 5%: p95 past 2 s */
	assert_true(p95_ms(&b) > 2000);
	model_run_free(&a);
	model_run_free(&b);
}

/* A worker stopped whole by its garbage collector: 200 users on
 * /async_concurrent (S = 100 ms), pauses of 20 ms at 10 a second, a fifth
 * of the time. A request is held back when it arrives or its timers fall due
 * inside a pause, to the pause's end. These users send again the moment they
 * are answered, never inside the pause that held them, so it is the timers:
 * about a fifth of the requests, by at most 20 ms each (and a request that
 * meets two pauses, 40). Without pauses every request takes 100 ms. The
 * pauses are drawn from a seeded stream: the same run twice is the same. */
static void a_paused_worker_holds_its_requests_back(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncConcurrentUser", 100, 200, 1000, 20);
	struct model_run a, b;
	assert_int_equal(model_simulate(&sc, &a), 0);
	assert_float_equal(a.ms[a.reqs - 1], 100, 1e-9);
	long plain = a.reqs;
	model_run_free(&a);

	assert_int_equal(model_stall_rate_parse("10", &sc), 1);
	assert_int_equal(model_stall_ms_parse("20,20", &sc), 2);
	assert_int_equal(model_simulate(&sc, &a), 0);
	assert_int_equal(model_simulate(&sc, &b), 0);
	assert_int_equal(a.reqs, b.reqs);
	assert_memory_equal(a.ms, b.ms, sizeof *a.ms * (size_t)a.reqs);
	long held = 0;
	for (long i = 0; i < a.reqs; i++)
		held += a.ms[i] > 100 + 1e-9;
	assert_true(a.ms[0] >= 100 - 1e-9);
	assert_true(a.ms[a.reqs - 1] <= 140 + 1e-9);
	assert_in_range(held * 100 / a.reqs, 12, 28);
	assert_true(a.reqs < plain); /* the users' cycles are longer */
	model_run_free(&a);
	model_run_free(&b);

	/* a process that never pauses is the plain run */
	assert_int_equal(model_stall_rate_parse("0", &sc), 1);
	assert_int_equal(model_simulate(&sc, &a), 0);
	assert_int_equal(a.reqs, plain);
	assert_float_equal(a.ms[a.reqs - 1], 100, 1e-9);
	model_run_free(&a);
}

static void splits_and_orders_parse_or_refuse(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 10, 100, 100, 10);
	struct model_steady st;
	enum model_order o;
	assert_int_equal(model_split_parse("60,40", &sc), 0);
	assert_int_equal(sc.nsplit, 2);
	assert_int_equal(sc.split[1], 40);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(model_split_parse("1,2,3", &sc), 0);
	assert_int_equal(model_steady(&sc, &st), -1); /* 6 users named, 100 run */
	assert_int_equal(errno, EINVAL);
	const char *bad[] = { "", "1,", ",1", "1,,2", "-1,2", "+1", "1;2", "a", "99999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(model_split_parse(bad[i], &sc), -1);
	assert_int_equal(model_order_parse("fifo", &o), 0);
	assert_int_equal(o, MODEL_ORDER_FIFO);
	assert_string_equal(model_order_name(MODEL_ORDER_LIFO), "lifo");
	assert_int_equal(model_order_parse("LIFO", &o), -1);
	/* per-process waves and first answers: ms, >= 0, comma-separated */
	assert_int_equal(model_wave_parse("0,4.5,32.9/0,60,70.4", &sc), 2);
	assert_int_equal(sc.nwave, 3);
	assert_float_equal(sc.wave_ms[1][2], 70.4, 1e-9);
	assert_int_equal(model_first_answer_parse("2.5", &sc), 1);
	assert_float_equal(sc.first_answer_ms[0], 2.5, 1e-9);
	const char *bad_ms[] = { "", "1,", ",1", "-1", "+1", " 1", "1;2", "nan", "inf", "1e7" };
	for (size_t i = 0; i < sizeof bad_ms / sizeof *bad_ms; i++)
		assert_int_equal(model_first_answer_parse(bad_ms[i], &sc), -1);
	const char *bad_wave[] = { "", "0", "0,1/", "/0,1", "0,1/0,1,2", "0,2,1", "0,-1",
				   "0,1//0,1", "0,1;0,1", "0,1,2,3,4,5,6,7,8,9,10,11" };
	for (size_t i = 0; i < sizeof bad_wave / sizeof *bad_wave; i++)
		assert_int_equal(model_wave_parse(bad_wave[i], &sc), -1);
	assert_int_equal(sc.nwave, 3); /* a refused wave leaves the last one */
	assert_int_equal(model_stall_rate_parse("8.9,7.6", &sc), 2);
	assert_int_equal(model_stall_ms_parse("1,2.5,57", &sc), 3);
	assert_int_equal(sc.nstall, 3);
	assert_int_equal(model_stall_ms_parse("1", &sc), -1);
	assert_int_equal(model_stall_ms_parse("3,2", &sc), -1);
	assert_int_equal(model_stall_rate_parse("-1", &sc), -1);
	assert_int_equal(sc.nstall, 3);
	assert_int_equal(sc.nfirst, 1); /* a refused list leaves the last one */
	assert_int_equal(model_first_answer_parse("1,2,3,4,5,6,7,8,9", &sc), -1);
}

/* --- exact MVA against hand-computed networks (times in ms, X per ms) */

static struct model_network network(double z)
{
	struct model_network net;
	memset(&net, 0, sizeof net);
	net.think_ms = z;
	return net;
}

static void station(struct model_network *net, enum model_station_kind kind, int m, double d)
{
	net->st[net->n++] = (struct model_station){ "s", kind, m, d };
}

/* A delay station alone: nobody queues, X = N / (Z + D). */
static void mva_delay_station_alone(void **state)
{
	(void)state;
	struct model_network net = network(1);
	double x[5], r;
	station(&net, MODEL_DELAY, 0, 3);
	assert_float_equal(model_mva(&net, 4, x, &r), 1.0, 1e-12);
	assert_float_equal(r, 3, 1e-12);
	assert_float_equal(x[1], 0.25, 1e-12);
}

/* One queue, Z = 1, D = 1: n = 1: R = 1, X = 1/2, Q = 1/2; n = 2: R = 1.5,
 * X = 2 / 2.5 = 0.8. */
static void mva_one_station(void **state)
{
	(void)state;
	struct model_network net = network(1);
	double x[3], r;
	station(&net, MODEL_QUEUE, 1, 1);
	assert_float_equal(model_mva(&net, 2, x, &r), 0.8, 1e-12);
	assert_float_equal(x[1], 0.5, 1e-12);
	assert_float_equal(r, 1.5, 1e-12);
	/* many users, no think time: the station's rate 1/D */
	net.think_ms = 0;
	assert_float_equal(model_mva(&net, 50, NULL, &r), 1.0, 1e-12);
	assert_float_equal(r, 50, 1e-9);
}

/* Two queues D = 1 and 2, N = 2: the product form's states (2,0), (1,1),
 * (0,2) weigh 1, 2, 4, so G(2) = 7, G(1) = 3 and X = G(1)/G(2) = 3/7. */
static void mva_two_stations(void **state)
{
	(void)state;
	struct model_network net = network(0);
	double r;
	station(&net, MODEL_QUEUE, 1, 1);
	station(&net, MODEL_QUEUE, 1, 2);
	assert_float_equal(model_mva(&net, 2, NULL, &r), 3.0 / 7, 1e-12);
	assert_float_equal(r, 14.0 / 3, 1e-12);
}

/* Two servers, D = 1, Z = 1, N = 3 (machine repairman): P(j) ~ 1, 3, 3, 1.5
 * for j = 0..3 at the station, X = sum min(j, 2) P(j) = 12 / 8.5. And three
 * users with no think time keep both servers busy: X = 2. */
static void mva_two_servers(void **state)
{
	(void)state;
	struct model_network net = network(1);
	station(&net, MODEL_QUEUE, 2, 1);
	assert_float_equal(model_mva(&net, 3, NULL, NULL), 12 / 8.5, 1e-12);
	net.think_ms = 0;
	double r;
	assert_float_equal(model_mva(&net, 3, NULL, &r), 2, 1e-12);
	assert_float_equal(r, 1.5, 1e-12);
}

/* The threads as a flow-equivalent server: 2 threads held 1 s each, 3 users
 * thinking 1 s is the same machine repairman as above, X = 12 / 8.5 per s. */
static void threads_cap_as_flow_equivalent_server(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 1000.0 / 3, 3, 3, 60);
	struct model_steady st;
	sc.threads = 2;
	sc.wait_min_s = sc.wait_max_s = 1;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 12 / 8.5, 1e-9);
	assert_float_equal(st.r_ms, 3 / (12 / 8.5) * 1e3 - 1000, 1e-6);
	assert_string_equal(st.binding, "users");
}

/* --- the CPU station */

static struct route cpu_routes[3];

static const struct route *cpu_route(enum route_cpu where)
{
	struct route *r = &cpu_routes[where - CPU_THREAD];
	*r = *routes_find_class("SyncBaselineUser");
	r->world = where == CPU_THREAD ? WORLD_BLOCKING : WORLD_EVENTED;
	r->cpu = where;
	return r;
}

static struct model_scenario cpu_scenario(enum route_cpu where, int users, double cpu_ms,
					  double run_s)
{
	struct model_scenario sc = scenario("SyncBaselineUser", 250, users, users, run_s);
	sc.route = cpu_route(where);
	sc.cpu_ms = cpu_ms;
	sc.cores = 2;
	return sc;
}

/* Four threads burning 3 x 10 ms on 2 cores share them: the kernel runs each
 * a 1.5 ms slice at a time, two at once, so each request takes 59-60 ms (a
 * task's 10 ms is six slices and 1 ms: the two ahead in line end that much
 * sooner), X = 2 / 30 ms, the CPU binds. */
static void cpu_shared_by_threads(void **state)
{
	(void)state;
	struct model_scenario sc = cpu_scenario(CPU_THREAD, 4, 10, 1.0);
	struct model_steady st;
	struct model_run run;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.service_ms, 30, 1e-9);
	assert_float_equal(st.cpu_ms, 30, 1e-9);
	assert_float_equal(st.x_per_s, 2 / 0.030, 1e-6);
	assert_float_equal(st.r_ms, 60, 1e-6);
	assert_int_equal(st.bound, MODEL_BOUND_STATION);
	assert_string_equal(st.binding, "CPU");
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.ms[0], 59, 1e-6);
	assert_float_equal(run.ms[run.reqs - 1], 60, 1e-6);
	assert_int_equal(run.reqs, 4 * 16); /* rounds end at 0.06 ... 0.96 */
	model_run_free(&run);

	/* two threads: two requests at a time, each on a core of its own */
	sc.threads = 2;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.ms[0], 30, 1e-6);
	assert_float_equal(run.ms[run.reqs - 1], 60, 1e-6);
	model_run_free(&run);
}

/* CPU inside one event loop: bursts are served one at a time, though there
 * are two cores; a burst waits behind the other connections'. */
static void cpu_inside_the_loop(void **state)
{
	(void)state;
	struct model_scenario sc = cpu_scenario(CPU_LOOP, 4, 10, 0.125);
	struct model_steady st;
	struct model_run run;
	sc.workers = 1;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 1 / 0.030, 1e-6);
	assert_float_equal(st.r_ms, 120, 1e-6);
	assert_string_equal(st.binding, "the loop");
	assert_int_equal(model_simulate(&sc, &run), 0);
	/* three tasks with no wait run in one callback: u0 is done at 30 ms, u3
	 * at 120 ms, and u0's next request (sent at 30) waits behind u3 */
	assert_int_equal(run.reqs, 4);
	assert_float_equal(run.ms[0], 30, 1e-6);
	assert_float_equal(run.ms[3], 120, 1e-6);
	model_run_free(&run);

	/* with a wait before each task, the bursts take turns: u0's last burst
	 * comes after every other user's second one */
	sc.wait_ms = 1;
	sc.run_time_s = 0.2;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.ms[0], 91, 1e-6); /* u0: bursts at 1-11, 41-51, 81-91 ms */
	model_run_free(&run);
}

/* The offload pool: one thread per worker serves like the loop, two (as many
 * as cores) like the threads; the CPU binds then, not the pool. */
static void cpu_offloaded_to_a_pool(void **state)
{
	(void)state;
	struct model_scenario sc = cpu_scenario(CPU_POOL, 4, 10, 1.0);
	struct model_steady st;
	sc.workers = 1;
	sc.offload_threads = 1;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 1 / 0.030, 1e-6);
	assert_string_equal(st.binding, "the pool");
	sc.offload_threads = 2;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 2 / 0.030, 1e-6);
	assert_string_equal(st.binding, "CPU");
}

/* Each loop hands CPU work to a pool of its own, and a user stays on its loop:
 * with every user on worker 0, worker 1's pool thread idles and the one left
 * serves like a single loop, 1 / 30 ms, where one shared pool of two would
 * serve 2 / 30 ms. Split, each process's network gets its share of the
 * cores, not all of them: an even split saturates both, X = 2 / 30 ms. */
static void the_offload_pool_is_per_loop(void **state)
{
	(void)state;
	struct model_scenario sc = cpu_scenario(CPU_POOL, 4, 10, 30);
	struct model_steady st;
	struct model_run run;
	sc.workers = 2;
	sc.offload_threads = 1;
	assert_int_equal(model_split_parse("4,0", &sc), 0);
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.rps, 1 / 0.030, 1 / 0.030 * 0.01);
	model_run_free(&run);
	assert_int_equal(model_split_parse("2,2", &sc), 0);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 2 / 0.030, 1e-6);
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.rps, 2 / 0.030, 2 / 0.030 * 0.01);
	model_run_free(&run);
	/* threads burning CPU in two processes share the 2 cores, not 2 each */
	sc.route = cpu_route(CPU_THREAD);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 2 / 0.030, 1e-6);
}

/* Other processes' CPU (the load generator's, the machine's) comes out of the
 * same cores: with half a core of 2 taken, four threads burning 3 x 10 ms get
 * 1.5 cores, X = 1.5 / 30 ms, each request 80 ms; the simulation agrees (the
 * two ahead in line 1 ms of CPU sooner, at 3/4 speed: 78.67 ms). One
 * thread alone is not slowed: the others run on the idle core. */
static void other_processes_take_their_share_of_the_cores(void **state)
{
	(void)state;
	struct model_scenario sc = cpu_scenario(CPU_THREAD, 4, 10, 1.0);
	struct model_steady st;
	struct model_run run;
	sc.other_cores = 0.5;
	assert_float_equal(model_cpu_stretch(&sc), 2 / 1.5, 1e-12);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 1.5 / 0.030, 1e-6);
	assert_float_equal(st.r_ms, 80, 1e-6);
	assert_string_equal(st.binding, "CPU");
	assert_non_null(strstr(st.why, "other processes took 0.50 of the 2 cores"));
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.ms[0], 80 - 1 / 0.75, 1e-3);
	assert_float_equal(run.ms[run.reqs - 1], 80, 1e-6);
	assert_int_equal(run.reqs, 4 * 12); /* rounds end at 0.08 ... 0.96 */
	model_run_free(&run);

	sc.users = 1;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.ms[0], 30, 1e-6);
	model_run_free(&run);

	/* split over two processes, each keeps its share of what is left */
	sc.users = 4;
	sc.route = cpu_route(CPU_POOL);
	sc.workers = 2;
	sc.offload_threads = 2;
	assert_int_equal(model_split_parse("2,2", &sc), 0);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 1.5 / 0.030, 1e-6);
	/* and nothing measured, nothing taken */
	sc.other_cores = 0;
	assert_float_equal(model_cpu_stretch(&sc), 1, 0);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.x_per_s, 2 / 0.030, 1e-6);
}

/* Measured server CPU beyond the route's own is charged too, and waits before
 * each burst hold nothing in the loop: with waits long enough, users bind. */
static void measured_cpu_and_waits(void **state)
{
	(void)state;
	struct model_scenario sc = cpu_scenario(CPU_LOOP, 10, 1, 60);
	struct model_steady st;
	struct model_run run;
	sc.server_cpu_ms = 4; /* 3 ms the route's, 1 ms the server's own */
	sc.wait_ms = 100;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_float_equal(st.service_ms, 304, 1e-9);
	assert_float_equal(st.cpu_ms, 4, 1e-9);
	assert_string_equal(st.binding, "users");
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_float_equal(run.rps, st.x_per_s, st.x_per_s * 0.01);
	model_run_free(&run);
}

/* bin/blocking's CPU a request: 0.4 ms, 80 threads finishing their sleeps in
 * step. The kernel runs each burst to its end (it is shorter than a slice),
 * first come, first served on the 2 cores: the first answer 0.4 ms after the
 * sleep, the wave's last 16 ms after it, and the threads come free staggered,
 * so after the first round no burst waits and X = 80 / 250.4 ms. Whether the
 * CPU ran on the thread the request holds (all, a quarter or none of it) then
 * hardly matters: within 1% each. (Processor sharing ended every wave's bursts
 * together, 250 + 16 ms a round, where the server made 2-4% more requests.) */
static void a_waves_cpu_runs_first_come_first_served(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncParallelUser", 250, 500, 1000, 60);
	sc.server_cpu_ms = 0.4;
	const double held[] = { -1, 0.1, 0 }; /* all of it held (unmeasured), a quarter, none */
	for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) {
		struct model_run run;
		sc.held_cpu_ms = held[i];
		assert_int_equal(model_simulate(&sc, &run), 0);
		assert_float_equal(run.ms[0], 250.4, 1e-6);
		assert_float_equal(run.rps, 80 / 0.2504, 80 / 0.2504 * 0.01);
		model_run_free(&run);
	}
}

/* Saturated CPU over a long run: the simulation's X and mean R meet MVA's. */
static void cpu_simulation_meets_mva(void **state)
{
	(void)state;
	for (enum route_cpu w = CPU_THREAD; w <= CPU_POOL; w++) {
		struct model_scenario sc = cpu_scenario(w, 200, 3, 120);
		struct model_steady st;
		struct model_run run;
		assert_int_equal(model_steady(&sc, &st), 0);
		assert_int_equal(model_simulate(&sc, &run), 0);
		assert_float_equal(run.rps, st.x_per_s, st.x_per_s * 0.01);
		double sum = 0;
		for (long i = 0; i < run.reqs; i++)
			sum += run.ms[i];
		assert_float_equal(sum / run.reqs, st.r_ms, st.r_ms * 0.02);
		model_run_free(&run);
	}
}

/* With the postgres backend the pool is a server like threads: the tightest of
 * threads, pool and max_connections, over the connections a request holds at
 * once; each task's query round trip joins the service time. */
static void the_pool_binds(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 250, 500, 1000, 15);
	struct model_steady st;

	sc.pool = 20;
	sc.query_ms = 0.5;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 20); /* below 80 threads */
	assert_true(st.pool_binds);
	assert_string_equal(st.binding, "the pool");
	assert_float_equal(st.service_ms, 3 * 250.5, 1e-9);
	assert_float_equal(st.x_per_s, 20 / 0.7515, 1e-6);
	assert_non_null(strstr(st.why, "the pool binds"));
	sc.pool = 320;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 80); /* the threads bind again */
	assert_false(st.pool_binds);
	assert_string_equal(st.binding, "threads");
	/* a fan-out holds a connection per helper task: 30 / 3 */
	sc = scenario("SyncParallelUser", 250, 500, 1000, 15);
	sc.pool = 30;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 10);
	/* 20 / 3: the connections serve 6.67 requests' tasks at once, a cap of 7
	 * held 7 / 6.67 as long, so X is 6.67 / S */
	sc.pool = 20;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 7);
	assert_float_equal(model_pool_requests(&sc), 20 / 3.0, 1e-12);
	assert_float_equal(st.service_ms, 250, 1e-9);
	assert_float_equal(st.x_per_s, 20 / 3.0 / 0.25, 1e-6);
	assert_non_null(strstr(st.why, "6.667 requests"));

	/* evented: pool per worker x workers / connections a request holds */
	sc = scenario("AsyncIndependentUser", 250, 500, 1000, 15);
	sc.pool = 20;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 40);
	assert_false(st.unbounded);
	assert_true(st.pool_binds);
	assert_float_equal(st.x_per_s, 40 / 0.75, 1e-6);
	sc = scenario("AsyncConcurrentUser", 250, 500, 1000, 15);
	sc.pool = 3;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 2); /* 6 connections, 3 per request */
	sc.pool = 1000;
	sc.max_connections = 300;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 100); /* PostgreSQL's cap, not the pool */
	/* a pool large enough leaves the users binding */
	sc.max_connections = 0;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 500);
	assert_int_equal(st.bound, MODEL_BOUND_USERS);
	assert_false(st.pool_binds);
	/* the why says what the users wait on: queries under postgres (a pool
	 * never binding, a round trip measured), timers under the sleep backend */
	sc.pool = 0;
	sc.query_ms = 0.3;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_true(st.unbounded);
	assert_non_null(strstr(st.why, "awaited queries hold no thread"));
	sc.query_ms = 0;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_non_null(strstr(st.why, "timers hold no thread"));
	sc = scenario("AsyncBlockingUser", 250, 500, 1000, 15);
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_non_null(strstr(st.why, "the loop sleeps"));
	sc.query_ms = 0.3;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_non_null(strstr(st.why, "the loop blocks in its query"));
	/* pure CPU work (no wait) sends no query: the pool holds nothing back */
	sc = cpu_scenario(CPU_THREAD, 500, 10, 15);
	sc.pool = 2;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 80);
	assert_false(st.pool_binds);
	/* the blocking mistake is bound by its workers whatever the pool */
	sc = scenario("AsyncBlockingUser", 250, 500, 1000, 15);
	sc.pool = 1;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.capacity, 2);
	assert_false(st.pool_binds);
}

/* PostgreSQL's CPU per query (pg_cpu_ms) is charged per task's query to the
 * station of the cores, beside the server's own: added to the blocking
 * server's CPU station, and for an event loop a station of the cores of its
 * own, which also holds the loop's CPU (the same cores), the loop's station
 * left as it was. No query, no charge. */
static void the_database_cpu_joins_the_cores(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("SyncBaselineUser", 250, 500, 1000, 15);
	struct model_network net;

	sc.server_cpu_ms = 0.2;
	sc.pg_cpu_ms = 0.1;
	assert_float_equal(model_database_cpu_ms(&sc), 0.3, 1e-12);
	assert_int_equal(model_network_of(&sc, &net), 0);
	assert_int_equal(net.n, 2); /* waits, CPU */
	assert_string_equal(net.st[1].name, "CPU");
	assert_int_equal(net.st[1].servers, 2);
	assert_float_equal(net.st[1].demand_ms, 0.5, 1e-12);
	/* no measured server CPU: the database's alone */
	sc.server_cpu_ms = -1;
	assert_int_equal(model_network_of(&sc, &net), 0);
	assert_int_equal(net.n, 2);
	assert_float_equal(net.st[1].demand_ms, 0.3, 1e-12);

	sc = scenario("AsyncIndependentUser", 250, 500, 1000, 15);
	sc.server_cpu_ms = 0.1;
	sc.pg_cpu_ms = 0.2;
	assert_int_equal(model_network_of(&sc, &net), 0);
	assert_int_equal(net.n, 3); /* waits, the loop, CPU */
	assert_string_equal(net.st[1].name, "the loop");
	assert_float_equal(net.st[1].demand_ms, 0.1, 1e-12);
	assert_string_equal(net.st[2].name, "CPU");
	assert_int_equal(net.st[2].servers, 2);
	assert_float_equal(net.st[2].demand_ms, 0.1 + 3 * 0.2, 1e-12);

	/* pure CPU work sends no query; waiting CPU tasks send one each */
	sc = cpu_scenario(CPU_THREAD, 500, 10, 15);
	sc.pg_cpu_ms = 0.2;
	assert_float_equal(model_database_cpu_ms(&sc), 0, 0);
	sc.wait_ms = 5;
	assert_float_equal(model_database_cpu_ms(&sc), 3 * 0.2, 1e-12);
	/* none measured: the network is the sleep backend's */
	sc = scenario("AsyncIndependentUser", 250, 500, 1000, 15);
	sc.server_cpu_ms = 0.1;
	assert_int_equal(model_network_of(&sc, &net), 0);
	assert_int_equal(net.n, 2);
}

/* A gather of 3 queries at 2 ms of PostgreSQL's CPU each, 2 cores: the cores
 * bind at 2 / 6.1 ms (the loop's 0.1 ms beside it), far below the 500 users'
 * 500 / 250 ms, and the verdict names PostgreSQL's share. */
static void the_database_cpu_binds_a_gather(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncConcurrentUser", 250, 500, 1000, 15);
	struct model_steady st;

	sc.server_cpu_ms = 0.1;
	sc.pg_cpu_ms = 2;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.bound, MODEL_BOUND_STATION);
	assert_string_equal(st.binding, "CPU");
	assert_float_equal(st.x_per_s, 2 / 6.1e-3, 2 / 6.1e-3 * 1e-3);
	assert_non_null(strstr(st.why, "6.00 of it PostgreSQL's (3 queries)"));
	/* a small share leaves the users binding, R a little above S */
	sc.pg_cpu_ms = 0.1;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(st.bound, MODEL_BOUND_USERS);
	assert_true(st.r_ms > st.service_ms);
	assert_true(st.r_ms < st.service_ms * 1.01);
}

/* The simulation runs the database's work on the cores, first come first
 * served: bound by the cores where the MVA says so, and, where it is a
 * small share, the in-order waves of 500 users are not held together (one
 * burst of processor sharing would end all 500 at once, 500 x 0.6 / 2 ms
 * after the wave: +150 ms a request; first come first served, +75 at worst). */
static void the_database_cpu_in_the_simulation(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncConcurrentUser", 250, 500, 1000, 15);
	struct model_steady st;
	struct model_run run;

	sc.server_cpu_ms = 0.1;
	sc.pg_cpu_ms = 2;
	assert_int_equal(model_steady(&sc, &st), 0);
	assert_int_equal(model_simulate(&sc, &run), 0);
	/* the cores' bound over the run, less the first request's time */
	assert_true(run.reqs <= st.x_per_s * 15 * 1.01);
	assert_true(run.reqs >= st.x_per_s * 14 * 0.95);
	model_run_free(&run);

	sc = scenario("AsyncIndependentUser", 250, 500, 1000, 15);
	sc.pg_cpu_ms = 0.2;
	assert_int_equal(model_simulate(&sc, &run), 0);
	double sum = 0;
	for (long i = 0; i < run.reqs; i++)
		sum += run.ms[i];
	assert_true(sum / run.reqs > 750);
	assert_true(sum / run.reqs < 750 + 75 + 1);
	model_run_free(&run);
}

/* Linux's base slice: 0.75 ms times 1 + log2 of the CPUs, counting 8 at most. */
static void the_kernel_slice_grows_with_the_cpus(void **state)
{
	(void)state;
	assert_float_equal(model_kernel_slice_ms(1), 0.75, 1e-12);
	assert_float_equal(model_kernel_slice_ms(2), 1.5, 1e-12);
	assert_float_equal(model_kernel_slice_ms(3), 1.5, 1e-12);
	assert_float_equal(model_kernel_slice_ms(4), 2.25, 1e-12);
	assert_float_equal(model_kernel_slice_ms(64), 3.0, 1e-12);
}

/* When the first answer of a gathered wave comes: 100 users at once, 100 ms
 * tasks, 2 cores. A query's 1 ms of PostgreSQL's CPU is under the 1.5 ms
 * slice: the first request's 3 queries run to their ends first, on the two
 * cores in two turns, 2 ms after its sleep. At 6 ms a query, four slices,
 * every query of the wave takes its turns with the 300 others, and the
 * first request ends only in the fourth round: 3 x 300 x 1.5 / 2 = 675 ms
 * after the sleeps, where first come, first served would end it 12 ms after
 * them. */
static double first_answer_s(const struct model_scenario *sc)
{
	struct model_run run;
	assert_int_equal(model_simulate(sc, &run), 0);
	double at = run.done[0].at_s;
	model_run_free(&run);
	return at;
}

static void a_long_query_takes_its_slices_among_the_others(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncConcurrentUser", 100, 100, 1000, 5);

	sc.pg_cpu_ms = 1;
	double at = first_answer_s(&sc);
	assert_true(at > 0.1);
	assert_true(at < 0.1 + 0.0025);

	sc.pg_cpu_ms = 6;
	at = first_answer_s(&sc);
	assert_true(at > 0.1 + 0.675 - 0.01);
	assert_true(at < 0.1 + 0.675 + 0.01);
}

/* The simulation queues for the pool's connections as it does for threads:
 * 40 connections, 751 ms each, 15 s: at most 40 x 15 / 0.751 requests, far
 * below the ~9,500 the same users get from timers alone. */
static void the_simulation_queues_for_the_pool(void **state)
{
	(void)state;
	struct model_scenario sc = scenario("AsyncIndependentUser", 250, 500, 1000, 15);
	struct model_run run, free_run;

	sc.query_ms = 0.3;
	assert_int_equal(model_simulate(&sc, &free_run), 0);
	sc.pool = 20;
	assert_int_equal(model_simulate(&sc, &run), 0);
	assert_true(run.reqs <= 40 * 15 / 0.7509 + 1);
	assert_true(run.reqs >= 40 * (int)(14 / 0.7509));
	assert_true(free_run.reqs > 9000);
	model_run_free(&run);
	model_run_free(&free_run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(few_users_are_served_at_once),
		cmocka_unit_test(the_pool_binds),
		cmocka_unit_test(the_simulation_queues_for_the_pool),
		cmocka_unit_test(the_database_cpu_joins_the_cores),
		cmocka_unit_test(the_database_cpu_binds_a_gather),
		cmocka_unit_test(the_database_cpu_in_the_simulation),
		cmocka_unit_test(the_kernel_slice_grows_with_the_cpus),
		cmocka_unit_test(a_long_query_takes_its_slices_among_the_others),
		cmocka_unit_test(many_users_queue_for_threads),
		cmocka_unit_test(wait_time_counts_in_the_user_bound),
		cmocka_unit_test(plans_set_service_and_capacity),
		cmocka_unit_test(spawns_in_locust_batches),
		cmocka_unit_test(simulation_matches_closed_form_without_queue),
		cmocka_unit_test(simulation_matches_closed_form_in_steady_state),
		cmocka_unit_test(simulation_keeps_the_run_over_time),
		cmocka_unit_test(ramp_up_shows_in_the_fastest_requests),
		cmocka_unit_test(finite_window_drops_the_last_requests),
		cmocka_unit_test(overhead_costs_a_round),
		cmocka_unit_test(seeded_waits_are_deterministic),
		cmocka_unit_test(seed_run_takes_milliseconds),
		cmocka_unit_test(even_split_of_a_saturated_pool_matches_one_queue),
		cmocka_unit_test(an_uneven_split_keeps_the_count_and_grows_the_tail),
		cmocka_unit_test(lifo_starves_a_user_that_fifo_serves),
		cmocka_unit_test(a_python_worker_answers_one_request_at_a_time),
		cmocka_unit_test(the_answer_wait_holds_no_thread),
		cmocka_unit_test(a_measured_wave_staggers_the_first_starts),
		cmocka_unit_test(a_connections_first_answer_comes_back_at_once),
		cmocka_unit_test(spread_waves_and_quick_first_answers_make_the_tail),
		cmocka_unit_test(a_paused_worker_holds_its_requests_back),
		cmocka_unit_test(splits_and_orders_parse_or_refuse),
		cmocka_unit_test(mva_delay_station_alone),
		cmocka_unit_test(mva_one_station),
		cmocka_unit_test(mva_two_stations),
		cmocka_unit_test(mva_two_servers),
		cmocka_unit_test(threads_cap_as_flow_equivalent_server),
		cmocka_unit_test(cpu_shared_by_threads),
		cmocka_unit_test(cpu_inside_the_loop),
		cmocka_unit_test(cpu_offloaded_to_a_pool),
		cmocka_unit_test(the_offload_pool_is_per_loop),
		cmocka_unit_test(other_processes_take_their_share_of_the_cores),
		cmocka_unit_test(measured_cpu_and_waits),
		cmocka_unit_test(a_waves_cpu_runs_first_come_first_served),
		cmocka_unit_test(cpu_simulation_meets_mva),
		cmocka_unit_test(a_wait_range_is_drawn_by_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
