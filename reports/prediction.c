#include "prediction.h"

#include <stdlib.h>
#include <string.h>

int prediction_make(struct prediction *p, const struct model_scenario *sc)
{
	struct locust_buckets *b;
	memset(p, 0, sizeof *p);
	p->sc = *sc;
	if (model_steady(sc, &p->steady) < 0 || model_simulate(sc, &p->run) < 0)
		return -1;
	if (!(b = calloc(1, sizeof *b))) {
		model_run_free(&p->run);
		return -1;
	}
	struct locust_row *r = &p->row;
	snprintf(r->method, sizeof r->method, "GET");
	snprintf(r->name, sizeof r->name, "%s", sc->route->path);
	r->reqs = (uint64_t)p->run.reqs;
	for (long i = 0; i < p->run.reqs; i++) {
		locust_buckets_add(b, p->run.ms[i], 1);
		r->sum_ms += p->run.ms[i];
	}
	if (p->run.reqs > 0) {
		r->min_ms = p->run.ms[0]; /* ascending */
		r->max_ms = p->run.ms[p->run.reqs - 1];
	}
	r->content_bytes = (double)strlen(sc->route->body) * (double)r->reqs;
	r->rps = p->run.rps;
	locust_row_fill(r, b);
	p->total = *r;
	p->total.method[0] = '\0';
	snprintf(p->total.name, sizeof p->total.name, "Aggregated");
	free(b);
	return 0;
}

void prediction_free(struct prediction *p)
{
	model_run_free(&p->run);
}

void prediction_print_served(FILE *f, const struct prediction *p, double x_per_s, double r_ms)
{
	if (p->run.users_answered >= p->sc.users || p->sc.order != MODEL_ORDER_LIFO)
		return;
	fprintf(f, "served: %ld of %d users had a request counted in the model's run; Little's "
		"law on the measured table, X R = %.0f users in service; the rest waited the "
		"whole run, passed over by newer requests (lifo)\n", p->run.users_answered,
		p->sc.users, x_per_s * r_ms / 1e3);
}

void prediction_print_closed_form(FILE *f, const struct prediction *p)
{
	const struct model_steady *st = &p->steady;
	char cap[32], answer[96] = "";
	if (p->sc.answer_ms > 0) /* in R, outside S: it holds nothing */
		snprintf(answer, sizeof answer, "; R includes %.1f ms each answer waits on its "
			 "connection", p->sc.answer_ms);
	if (st->unbounded)
		snprintf(cap, sizeof cap, "unbounded");
	else
		snprintf(cap, sizeof cap, "%d", st->capacity);
	char cores[64];
	if (p->sc.other_cores > 0)
		snprintf(cores, sizeof cores, "%.2f of %d cores", p->sc.cores - p->sc.other_cores,
			 p->sc.cores);
	else
		snprintf(cores, sizeof cores, "%d cores", p->sc.cores);
	double db = model_database_cpu_ms(&p->sc);
	if (db > 0) /* the database's CPU on the same cores */
		fprintf(f, "mean value analysis: S=%.1f ms (CPU %.2f ms + PostgreSQL's %.2f ms on "
			"%s), Z=%.0f ms, C=%s, N=%d: X=%.2f req/s, R=%.0f ms (%s%s)\n",
			st->service_ms, st->cpu_ms, db, cores, st->think_ms, cap, p->sc.users,
			st->x_per_s, st->r_ms, st->why, answer);
	else if (st->cpu_ms > 0) /* MVA's figures with the CPU among the stations */
		fprintf(f, "mean value analysis: S=%.1f ms (CPU %.2f ms on %s), Z=%.0f ms, "
			"C=%s, N=%d: X=%.2f req/s, R=%.0f ms (%s%s)\n", st->service_ms, st->cpu_ms,
			cores, st->think_ms, cap, p->sc.users, st->x_per_s, st->r_ms, st->why,
			answer);
	else
		fprintf(f, "closed form: S=%.0f ms, Z=%.0f ms, C=%s, N=%d: X=%.2f req/s, R=%.0f ms "
			"(%s%s)\n", st->service_ms, st->think_ms, cap, p->sc.users, st->x_per_s,
			st->r_ms, st->why, answer);
}

void prediction_print(FILE *f, const struct prediction *p)
{
	const struct route *r = p->sc.route;
	char tasks[64];
	if (r->cpu != CPU_NONE)
		snprintf(tasks, sizeof tasks, "%g ms CPU tasks", p->sc.cpu_ms);
	else
		snprintf(tasks, sizeof tasks, "%g ms tasks", p->sc.task_ms);
	fprintf(f, "=== %s: GET %s on %s (%s; %d users, %g/s spawn, %g s, %s)\n",
		r->user_class, r->path, route_world_name(r->world),
		route_about(r, model_has_database(&p->sc)), p->sc.users,
		p->sc.spawn_rate, p->sc.run_time_s, tasks);
	if (p->sc.nsplit > 1 || p->sc.order != MODEL_ORDER_FIFO) {
		fprintf(f, "    worker processes: users");
		for (int i = 0; i < (p->sc.nsplit > 1 ? p->sc.nsplit : 1); i++)
			fprintf(f, "%s%d", i ? "/" : " ", p->sc.nsplit > 1 ? p->sc.split[i] : p->sc.users);
		fprintf(f, ", waiters served %s\n", model_order_name(p->sc.order));
	}
	if (model_has_database(&p->sc)) {
		fprintf(f, "    postgres: ");
		if (p->sc.pool > 0)
			fprintf(f, "pool %d%s, ", p->sc.pool,
				r->world == WORLD_EVENTED ? " per worker" : "");
		else
			fprintf(f, "pool never binds, ");
		fprintf(f, "%d connection%s per request, query round trip %.3f ms",
			model_conns_per_request(r), model_conns_per_request(r) == 1 ? "" : "s",
			p->sc.query_ms);
		if (p->sc.pg_cpu_ms > 0)
			fprintf(f, ", PostgreSQL's CPU %.3f ms a query", p->sc.pg_cpu_ms);
		fputc('\n', f);
	}
	locust_print_stats(f, &p->row, 1, &p->total);
	fputc('\n', f);
	locust_print_percentiles(f, &p->row, 1, &p->total);
	fputc('\n', f);
	prediction_print_closed_form(f, p);
	fprintf(f, "simulated run: %ld sent, %ld counted, %ld still in flight at the stop "
		"(Locust drops them), last counted at %.1f s\n\n", p->run.sent, p->run.reqs,
		p->run.unfinished, p->run.last_done_s);
	if (p->run.users_answered < p->sc.users)
		fprintf(f, "only %ld of %d users had a request counted: the rest waited %s\n\n",
			p->run.users_answered, p->sc.users,
			p->sc.order == MODEL_ORDER_LIFO ? "the whole run, passed over by newer requests "
			"(last come, first served)" : "past the stop");
}
