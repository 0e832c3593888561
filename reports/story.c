#include "story.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TIE 0.05 /* closer than 5% is no win: runs on a shared machine wobble that much */

static double mean_ms(const struct scenario *s)
{
	return s->m.row.reqs ? s->m.row.sum_ms / (double)s->m.row.reqs : NAN;
}

static int same_load(const struct scenario *x, const struct scenario *y)
{
	return x->users == y->users && x->wait_min_s == y->wait_min_s &&
	       x->wait_max_s == y->wait_max_s && x->task_ms == y->task_ms &&
	       strcmp(x->target, y->target) == 0;
}

static int critical(const struct scenario *s)
{
	return route_critical_tasks(s->route, s->helpers);
}

/* "6.2x", "25x": how many times hi is lo. */
static void times(char *buf, size_t cap, double hi, double lo)
{
	double r = lo > 0 ? hi / lo : INFINITY;
	if (isinf(r))
		snprintf(buf, cap, "infinitely");
	else
		snprintf(buf, cap, r >= 10 ? "%.0f\xc3\x97" : "%.1f\xc3\x97", r);
}

static void value(char *buf, size_t cap, double v, const char *unit)
{
	if (isnan(v))
		snprintf(buf, cap, "no completed request");
	else
		snprintf(buf, cap, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, unit);
}

/* Who won between scenario a and b, and by how much: throughput first (the
 * figure a closed system trades for latency), then the time per request. */
static void judge(const struct scenario *a, const struct scenario *b, const char *name_a,
		  const char *name_b, struct story_line *l)
{
	double xa = a->m.row.rps, xb = b->m.row.rps;
	const struct scenario *w = xb > xa ? b : a, *o = w == a ? b : a;
	double rw = mean_ms(w), ro = mean_ms(o);
	char xw[32], xo[32], tw[32], to[32], k[32];
	size_t n;

	value(xw, sizeof xw, w->m.row.rps, "req/s");
	value(xo, sizeof xo, o->m.row.rps, "req/s");
	value(tw, sizeof tw, rw, "ms");
	value(to, sizeof to, ro, "ms");
	if (fabs(xa - xb) <= TIE * (xa > xb ? xa : xb)) {
		snprintf(l->winner, sizeof l->winner, "neither won");
		n = (size_t)snprintf(l->text, sizeof l->text, "on throughput (%s on %s, %s on %s)",
				     xw, w->route->path, xo, o->route->path);
	} else {
		snprintf(l->winner, sizeof l->winner, "%s won", w == a ? name_a : name_b);
		times(k, sizeof k, w->m.row.rps, o->m.row.rps);
		n = (size_t)snprintf(l->text, sizeof l->text, "with %s the throughput (%s on %s "
				     "against %s on %s)", k, xw, w->route->path, xo, o->route->path);
	}
	if (n >= sizeof l->text)
		return;
	if (isnan(rw) || isnan(ro))
		snprintf(l->text + n, sizeof l->text - n, "; time per request %s against %s", tw, to);
	else if (fabs(rw - ro) <= TIE * (rw > ro ? rw : ro))
		snprintf(l->text + n, sizeof l->text - n, " at the same time per request (%s "
			 "against %s)", tw, to);
	else if (rw < ro) {
		times(k, sizeof k, ro, rw);
		snprintf(l->text + n, sizeof l->text - n, " and %s less time per request (%s "
			 "against %s)", k, tw, to);
	} else {
		times(k, sizeof k, rw, ro);
		snprintf(l->text + n, sizeof l->text - n, " but %s more time per request (%s "
			 "against %s)", k, tw, to);
	}
}

size_t story_tell(const struct run_dir *rd, struct story_line *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < rd->n && n < cap; i++) {
		const struct scenario *a = &rd->sc[i];
		int mistake = a->route->plan == PLAN_BLOCKING_LOOP;
		if (a->route->world != WORLD_BLOCKING && !mistake)
			continue;
		for (size_t j = 0; j < rd->n; j++) {
			const struct scenario *b = &rd->sc[j];
			/* like with like: sleeps against sleeps, CPU work against CPU
			 * work (the half of the lesson where threads win) */
			if (b->route->world != WORLD_EVENTED || b->route->plan == PLAN_BLOCKING_LOOP ||
			    !same_load(a, b) || b->route->tasks != a->route->tasks ||
			    critical(b) != critical(a) ||
			    (b->route->cpu == CPU_NONE) != (a->route->cpu == CPU_NONE))
				continue;
			struct story_line *l = &out[n++];
			memset(l, 0, sizeof *l);
			l->a = i;
			l->b = j;
			snprintf(l->pair, sizeof l->pair, "%s and %s, %d users%s", a->route->path,
				 b->route->path, a->users,
				 strcmp(a->target, "fastapi") == 0 ? ", FastAPI on uvicorn" : "");
			if (mistake) {
				snprintf(l->head, sizeof l->head, "Blocking the event loop against "
					 "leaving it free");
				judge(a, b, "the blocked loop", "the free loop", l);
			} else {
				snprintf(l->head, sizeof l->head, "Threads against events, %d %stasks %s",
					 a->route->tasks, a->route->cpu != CPU_NONE ? "CPU " : "",
					 critical(a) < a->route->tasks ? "at once" : "in a row");
				judge(a, b, "threads", "events", l);
			}
			break;
		}
	}
	return n;
}
