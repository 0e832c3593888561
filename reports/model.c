#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void model_scenario_init(struct model_scenario *sc, const struct route *r)
{
	memset(sc, 0, sizeof *sc);
	sc->route = r;
	sc->task_ms = ROUTE_DEFAULT_TASK_MS;
	sc->users = 500;
	sc->spawn_rate = 50;
	sc->run_time_s = 300;
	sc->threads = 80;
	sc->helpers = 240;
	sc->workers = 2;
	sc->cores = 2;
	sc->cpu_ms = ROUTE_DEFAULT_TASK_CPU_MS;
	sc->offload_threads = 2;
	sc->server_cpu_ms = -1;
	sc->held_cpu_ms = -1;
}

unsigned model_default_seed(const struct model_scenario *sc)
{
	return sc->wait_max_s > sc->wait_min_s ? 1 : 0;
}

/* CPU the model charges one request: the measured figure when the run folder
 * has one (it includes the route's own CPU), else the route's CPU alone. */
static double request_cpu_ms(const struct model_scenario *sc, double *route_cpu)
{
	const struct route *r = sc->route;
	double own = r->cpu != CPU_NONE ? r->tasks * sc->cpu_ms : 0;
	*route_cpu = own;
	return sc->server_cpu_ms > own ? sc->server_cpu_ms : own;
}

/* What a request spends waiting (sleeps, timers, overhead), without CPU. */
static double waits_ms(const struct model_scenario *sc)
{
	const struct route *r = sc->route;
	/* with a database a task that waits is a query: its round trip too
	 * (a CPU route's pure work, wait 0, sends none) */
	if (r->cpu != CPU_NONE)
		return r->tasks * (sc->wait_ms + (sc->wait_ms > 0 ? sc->query_ms : 0)) +
		       sc->overhead_ms;
	return route_critical_tasks(r, sc->helpers) * (sc->task_ms + sc->query_ms) +
	       sc->overhead_ms;
}

double model_service_ms(const struct model_scenario *sc)
{
	double route_cpu;
	return waits_ms(sc) + request_cpu_ms(sc, &route_cpu);
}

int model_conns_per_request(const struct route *r)
{
	int per = r->plan == PLAN_GATHER || r->plan == PLAN_THREAD_FANOUT ? r->concurrency : 1;
	if (r->plan == PLAN_DATAFLOW) {
		per = 0; /* the tasks that need nothing start together */
		for (int i = 0; i < r->tasks; i++)
			per += r->deps[i] == 0;
	}
	if (per > r->tasks)
		per = r->tasks;
	return per < 1 ? 1 : per;
}

int model_has_database(const struct model_scenario *sc)
{
	return sc->pool > 0 || sc->query_ms > 0 || sc->pg_cpu_ms > 0 || sc->max_connections > 0;
}

double model_database_cpu_ms(const struct model_scenario *sc)
{
	const struct route *r = sc->route;
	if (sc->pg_cpu_ms <= 0 || (r->cpu != CPU_NONE && sc->wait_ms <= 0))
		return 0;
	return r->tasks * sc->pg_cpu_ms;
}

int model_capacity(const struct model_scenario *sc, int *unbounded)
{
	return model_capacity_pool(sc, unbounded, NULL);
}

int model_capacity_pool(const struct model_scenario *sc, int *unbounded, int *pool_binds)
{
	const struct route *r = sc->route;
	int c;
	*unbounded = 0;
	if (pool_binds)
		*pool_binds = 0;
	if (r->world == WORLD_BLOCKING) {
		c = sc->threads;
		/* A fanned-out request holds min(tasks, concurrency) helpers at once;
		 * the pool runs out before the threads do when it is smaller. */
		if (r->plan == PLAN_THREAD_FANOUT && sc->helpers > 0) {
			int per = r->tasks < r->concurrency ? r->tasks : r->concurrency;
			int by_helpers = sc->helpers / (per > 0 ? per : 1);
			if (by_helpers < 1)
				by_helpers = 1;
			if (by_helpers < c)
				c = by_helpers;
		}
	} else if (r->plan == PLAN_BLOCKING_LOOP) {
		c = sc->workers; /* the loop sleeps: one request per worker at a time */
	} else {
		c = sc->users;   /* timers hold no server: every user is served at once */
		*unbounded = 1;
	}
	if (model_pool_requests(sc) < INFINITY) {
		/* Every connection is a PostgreSQL backend: the cap holds for the
		 * event loop as much as for threads. (The blocking mistake runs one
		 * query at a time per worker whatever the pool; a CPU route's pure
		 * work, no wait, sends no query and holds no connection.) */
		double by_pool = model_pool_requests(sc);
		if (by_pool < c) {
			c = (int)ceil(by_pool);
			*unbounded = 0;
			if (pool_binds)
				*pool_binds = 1;
		}
	}
	return c < 1 ? 1 : c;
}

double model_pool_requests(const struct model_scenario *sc)
{
	const struct route *r = sc->route;
	if (sc->pool <= 0 || r->plan == PLAN_BLOCKING_LOOP || (r->cpu != CPU_NONE && sc->wait_ms <= 0))
		return INFINITY;
	long conns = r->world == WORLD_BLOCKING ? sc->pool : (long)sc->pool * sc->workers;
	if (sc->max_connections > 0 && conns > sc->max_connections)
		conns = sc->max_connections;
	return (double)conns / model_conns_per_request(r);
}

/* A pool that serves a fractional number of requests at once (40 connections,
 * 3 per gathered request: 13.3) is a cap of ceil(c) whose holders take
 * ceil(c)/c as long: the same throughput c/S once it binds (its tasks take
 * connections one by one, so the 14th request runs a third of its tasks). */
static double pool_stretch(const struct model_scenario *sc)
{
	int unbounded, binds, c = model_capacity_pool(sc, &unbounded, &binds);
	return binds ? c / model_pool_requests(sc) : 1;
}

int model_order_parse(const char *s, enum model_order *out)
{
	static const char *const names[] = { "fifo", "lifo", "random" };
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum model_order)i;
			return 0;
		}
	errno = EINVAL;
	return -1;
}

const char *model_order_name(enum model_order o)
{
	switch (o) {
	case MODEL_ORDER_FIFO: return "fifo";
	case MODEL_ORDER_LIFO: return "lifo";
	case MODEL_ORDER_RANDOM: return "random";
	}
	return "?";
}

int model_split_parse(const char *s, struct model_scenario *sc)
{
	int n = 0;
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || *p == '-' || *p == '+' || errno || v > 1000000 ||
		    n == MODEL_SPLIT_MAX || (*end != ',' && *end != '\0'))
			goto fail;
		sc->split[n++] = (int)v;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	sc->nsplit = n;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

/* "a,b,..." of ms (each >= 0, finite) into v[max]; how many, or -1 (EINVAL). */
static int ms_list_parse(const char *s, double *v, int max)
{
	double got[MODEL_SPLIT_MAX];
	int n = 0;
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		double ms = strtod(p, &end);
		if (end == p || *p == '-' || *p == '+' || isspace((unsigned char)*p) || errno ||
		    !isfinite(ms) || ms > 1e6 || n == max || n == MODEL_SPLIT_MAX ||
		    (*end != ',' && *end != '\0'))
			goto fail;
		got[n++] = ms;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	memset(v, 0, sizeof *v * (size_t)max);
	memcpy(v, got, sizeof *got * (size_t)n);
	return n;
fail:
	errno = EINVAL;
	return -1;
}

int model_wave_parse(const char *s, struct model_scenario *sc)
{
	double wave[MODEL_SPLIT_MAX][MODEL_WAVE_POINTS];
	char list[MODEL_WAVE_POINTS * 32];
	int nproc = 0, points = 0;
	for (const char *p = s;; nproc++) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (nproc == MODEL_SPLIT_MAX || len >= sizeof list)
			goto fail;
		memcpy(list, p, len);
		list[len] = '\0';
		int n = ms_list_parse(list, wave[nproc], MODEL_WAVE_POINTS);
		if (n < 2 || (nproc > 0 && n != points))
			goto fail;
		points = n;
		for (int i = 1; i < n; i++)
			if (wave[nproc][i] < wave[nproc][i - 1])
				goto fail;
		if (!slash)
			break;
		p = slash + 1;
	}
	nproc++;
	memcpy(sc->wave_ms, wave, sizeof wave[0] * (size_t)nproc);
	sc->nwave = points;
	return nproc;
fail:
	errno = EINVAL;
	return -1;
}

int model_stall_rate_parse(const char *s, struct model_scenario *sc)
{
	return ms_list_parse(s, sc->stall_per_s, MODEL_SPLIT_MAX);
}

int model_stall_ms_parse(const char *s, struct model_scenario *sc)
{
	double v[MODEL_WAVE_POINTS];
	int n = ms_list_parse(s, v, MODEL_WAVE_POINTS);
	for (int i = 1; i < n; i++)
		if (v[i] < v[i - 1])
			n = -1;
	if (n < 2) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sc->stall_ms, v, sizeof v);
	sc->nstall = n;
	return n;
}

int model_first_answer_parse(const char *s, struct model_scenario *sc)
{
	int n = ms_list_parse(s, sc->first_answer_ms, MODEL_FIRST_MAX);
	if (n >= 0)
		sc->nfirst = n;
	return n;
}

/* Process p's even share of a total: the first (total % n) processes get one more. */
static int share(int total, int n, int p)
{
	return total / n + (p < total % n ? 1 : 0);
}

int model_process_capacity(const struct model_scenario *sc, int p, int *unbounded)
{
	if (sc->nsplit <= 1)
		return model_capacity(sc, unbounded);
	struct model_scenario one = *sc;
	one.threads = share(sc->threads, sc->nsplit, p);
	one.helpers = sc->helpers > 0 ? share(sc->helpers, sc->nsplit, p) : sc->helpers;
	one.workers = share(sc->workers, sc->nsplit, p);
	one.users = sc->split[p];
	/* blocking's one pool and PostgreSQL's cap are shared like threads; an
	 * evented pool is per worker already */
	if (sc->route->world == WORLD_BLOCKING && sc->pool > 0)
		one.pool = share(sc->pool, sc->nsplit, p);
	if (sc->max_connections > 0)
		one.max_connections = share(sc->max_connections, sc->nsplit, p);
	return model_capacity(&one, unbounded);
}

/* A split must name every user once. */
static int split_valid(const struct model_scenario *sc)
{
	if (sc->nsplit <= 1)
		return 1;
	long sum = 0;
	for (int p = 0; p < sc->nsplit; p++) {
		if (sc->split[p] < 0)
			return 0;
		sum += sc->split[p];
	}
	return sc->nsplit <= MODEL_SPLIT_MAX && sum == sc->users;
}

static int at_least_one(int n)
{
	return n < 1 ? 1 : n;
}

static void add_station(struct model_network *net, const char *name,
			enum model_station_kind kind, int servers, double demand_ms)
{
	struct model_station *s = &net->st[net->n++];
	s->name = name;
	s->kind = kind;
	s->servers = at_least_one(servers);
	s->demand_ms = demand_ms;
}

/* PostgreSQL's CPU per request. Its backends are processes on the server's
 * cores, so their work queues with the server's for the same cores: it joins
 * the station of the cores, or, where the server's CPU sits in stations of
 * its own (the loop, the GIL, an offload pool smaller than the cores), a new
 * one that holds theirs too, since that runs on the same cores. (Counting it
 * twice adds its time once more to R: a fraction of a millisecond.) */
static void add_database_cpu(struct model_network *net, const struct model_scenario *sc,
			     int cores)
{
	double db = model_database_cpu_ms(sc), server = 0;
	if (db <= 0)
		return;
	for (int k = 0; k < net->n; k++) {
		struct model_station *s = &net->st[k];
		if (s->kind != MODEL_QUEUE)
			continue;
		if (s->servers == cores && strcmp(s->name, "CPU") == 0) {
			s->demand_ms += db;
			return;
		}
		server += s->demand_ms;
	}
	add_station(net, "CPU", MODEL_QUEUE, cores, server + db);
}

/* What other processes leave the server of the cores: at least a tenth of one. */
static double cores_left(const struct model_scenario *sc)
{
	double cores = at_least_one(sc->cores);
	return sc->other_cores > 0 ? fmax(0.1, cores - sc->other_cores) : cores;
}

double model_kernel_slice_ms(int cores)
{
	int scale = 1;
	for (int n = cores < 8 ? cores : 8; n > 1; n >>= 1)
		scale++;
	return 0.75 * scale;
}

double model_cpu_stretch(const struct model_scenario *sc)
{
	return at_least_one(sc->cores) / cores_left(sc);
}

static int network_stations(const struct model_scenario *sc, struct model_network *net);

/* The stations, then every demand on the cores stretched by what other
 * processes took of them: the kernel time-slices the server's threads with
 * theirs, so where the cores bind a ms of the server's CPU takes longer. */
int model_network_of(const struct model_scenario *sc, struct model_network *net)
{
	if (network_stations(sc, net) < 0)
		return -1;
	double stretch = model_cpu_stretch(sc);
	for (int k = 0; k < net->n; k++)
		if (net->st[k].kind == MODEL_QUEUE)
			net->st[k].demand_ms *= stretch;
	return 0;
}

static int network_stations(const struct model_scenario *sc, struct model_network *net)
{
	const struct route *r = sc->route;
	int unbounded, cores = at_least_one(sc->cores);
	double route_cpu, cpu;

	memset(net, 0, sizeof *net);
	if (!r) {
		errno = EINVAL;
		return -1;
	}
	cpu = request_cpu_ms(sc, &route_cpu);
	/* the answer's wait on the connection holds nothing, as think time does */
	net->think_ms = (sc->wait_min_s + sc->wait_max_s) / 2 * 1e3 +
		(sc->answer_ms > 0 ? sc->answer_ms : 0);
	net->pool_stretch = pool_stretch(sc);
	add_station(net, "waits", MODEL_DELAY, 0, waits_ms(sc) * net->pool_stretch);
	int pool_binds, cap = model_capacity_pool(sc, &unbounded, &pool_binds);
	if (r->world == WORLD_BLOCKING || r->plan == PLAN_BLOCKING_LOOP) {
		/* held from the request's start to its end, CPU included */
		net->cap = cap;
		net->cap_name = pool_binds ? "the pool" :
			r->world == WORLD_BLOCKING ? "threads" : "the loop";
		if (cpu > 0 && sc->serial_cpu && cpu > route_cpu) {
			/* the route's own CPU on the cores, the rest one at a time a process */
			int procs = at_least_one(sc->workers);
			if (route_cpu > 0)
				add_station(net, "CPU", MODEL_QUEUE, cores, route_cpu);
			add_station(net, procs <= cores ? "the GIL" : "CPU", MODEL_QUEUE,
				    procs < cores ? procs : cores, cpu - route_cpu);
		} else if (cpu > 0) {
			add_station(net, "CPU", MODEL_QUEUE, cores, cpu);
		}
		add_database_cpu(net, sc, cores);
		return 0;
	}
	if (pool_binds) {
		/* database connections held for the whole request, as threads are */
		net->cap = cap;
		net->cap_name = "the pool";
	}
	/* An event loop runs one callback at a time: CPU inside it is a queue with
	 * one server per worker (each on a core of its own while workers <= cores).
	 * The pool likewise has one server per thread. Both share the same cores,
	 * which two separate stations cannot say; the loop's share beside an
	 * offloaded route is its own overhead, small, so the error is too. */
	double in_loop = r->cpu == CPU_POOL ? cpu - route_cpu : cpu;
	int loops = at_least_one(sc->workers);
	if (in_loop > 0)
		add_station(net, loops <= cores ? "the loop" : "CPU", MODEL_QUEUE,
			    loops < cores ? loops : cores, in_loop);
	if (r->cpu == CPU_POOL && route_cpu > 0) {
		int threads = at_least_one(sc->offload_threads) * loops;
		add_station(net, threads < cores ? "the pool" : "CPU", MODEL_QUEUE,
			    threads < cores ? threads : cores, route_cpu);
	}
	add_database_cpu(net, sc, cores);
	return 0;
}

/*
 * Exact MVA (Reiser and Lavenberg), multi-server stations through their
 * marginal probabilities p(j) of j busy servers, j < m:
 *   R_k(n) = D_k / m (1 + Q_k(n-1) + sum_{j=1}^{m-1} (m-j) p_k(j-1 | n-1))
 *   X(n)   = n / (Z + sum R_k(n)),  Q_k(n) = X(n) R_k(n)
 *   p_k(j | n) = X(n) D_k / j p_k(j-1 | n-1),  j = 1..m-1
 *   p_k(0 | n) = 1 - (X(n) D_k + sum_{j=1}^{m-1} (m-j) p_k(j | n)) / m
 * m = 1 gives the single-server recursion, a delay station R_k = D_k.
 */
double model_mva(const struct model_network *net, int users, double *x, double *r_ms)
{
	double q[MODEL_MAX_STATIONS] = { 0 }, *p[MODEL_MAX_STATIONS] = { 0 }, *np = NULL;
	double xn = 0, r = 0;
	int mmax = 1;

	if (users < 0 || net->n > MODEL_MAX_STATIONS) {
		errno = EINVAL;
		return -1;
	}
	for (int k = 0; k < net->n; k++)
		if (net->st[k].kind == MODEL_QUEUE && net->st[k].servers > mmax)
			mmax = net->st[k].servers;
	for (int k = 0; k < net->n; k++) {
		if (net->st[k].kind != MODEL_QUEUE || net->st[k].servers < 2)
			continue;
		if (!(p[k] = calloc((size_t)net->st[k].servers, sizeof *p[k])))
			goto fail;
		p[k][0] = 1; /* no request: every server idle */
	}
	if (!(np = calloc((size_t)mmax, sizeof *np)))
		goto fail;
	if (x)
		x[0] = 0;
	for (int n = 1; n <= users; n++) {
		double rk[MODEL_MAX_STATIONS];
		r = 0;
		for (int k = 0; k < net->n; k++) {
			const struct model_station *s = &net->st[k];
			int m = s->servers;
			if (s->kind == MODEL_DELAY)
				rk[k] = s->demand_ms;
			else if (m == 1)
				rk[k] = s->demand_ms * (1 + q[k]);
			else {
				double idle = 0;
				for (int j = 1; j < m; j++)
					idle += (m - j) * p[k][j - 1];
				rk[k] = s->demand_ms / m * (1 + q[k] + idle);
			}
			r += rk[k];
		}
		xn = net->think_ms + r > 0 ? n / (net->think_ms + r) : INFINITY;
		if (x)
			x[n] = xn;
		for (int k = 0; k < net->n; k++) {
			const struct model_station *s = &net->st[k];
			int m = s->servers;
			q[k] = isinf(xn) ? 0 : xn * rk[k];
			if (!p[k])
				continue;
			double busy = xn * s->demand_ms;
			np[0] = 0;
			for (int j = 1; j < m; j++) {
				np[j] = busy / j * p[k][j - 1];
				np[0] += (m - j) * np[j];
			}
			np[0] = 1 - (busy + np[0]) / m;
			if (np[0] < 0)
				np[0] = 0; /* cancellation near saturation: idle is ~0 there */
			memcpy(p[k], np, sizeof *np * (size_t)m);
		}
	}
	if (r_ms)
		*r_ms = r;
	for (int k = 0; k < net->n; k++)
		free(p[k]);
	free(np);
	return xn;
fail:
	for (int k = 0; k < net->n; k++)
		free(p[k]);
	free(np);
	errno = ENOMEM;
	return -1;
}

/*
 * N users between think time Z and one load-dependent server of rate mu(j)
 * (the flow-equivalent of the capped stations): the product form gives
 *   P(j) ~ Z^(N-j) / (N-j)! / prod_{i<=j} mu(i),   X = sum_j P(j) mu(j).
 * Computed in logs: at thousands of users the terms span hundreds of decades.
 */
static double fes_throughput(const double *mu, int cap, int users, double z)
{
	if (z <= 0)
		return mu[users < cap ? users : cap];
	double *lw = malloc(sizeof *lw * ((size_t)users + 1)), top = -INFINITY, sum = 0, x = 0;
	if (!lw)
		return -1;
	double lprod = 0;
	for (int j = 0; j <= users; j++) {
		if (j > 0)
			lprod += log(mu[j < cap ? j : cap]);
		lw[j] = (users - j) * log(z) - lgamma(users - j + 1.0) - lprod;
		if (lw[j] > top)
			top = lw[j];
	}
	for (int j = 0; j <= users; j++) {
		double w = exp(lw[j] - top);
		sum += w;
		if (j > 0)
			x += w * mu[j < cap ? j : cap];
	}
	free(lw);
	return x / sum;
}

/* X (per ms) of n users in net: MVA, the cap as a flow-equivalent server; -1
 * when out of memory. */
static double network_x(const struct model_network *net, int n)
{
	double total = 0;
	for (int k = 0; k < net->n; k++)
		total += net->st[k].demand_ms;
	if (total <= 0)
		return net->think_ms > 0 ? n / net->think_ms : INFINITY;
	if (net->cap == 0 || net->cap >= n)
		return model_mva(net, n, NULL, NULL);
	struct model_network inner = *net;
	double *mu = malloc(sizeof *mu * ((size_t)net->cap + 1)), x;
	inner.think_ms = 0;
	if (!mu || model_mva(&inner, net->cap, mu, NULL) < 0) {
		free(mu);
		return -1;
	}
	x = fes_throughput(mu, net->cap, n, net->think_ms);
	free(mu);
	return x;
}

static double bound_of(double servers, double demand_ms)
{
	return demand_ms > 0 ? servers / demand_ms : INFINITY;
}

int model_steady(const struct model_scenario *sc, struct model_steady *out)
{
	if (sc->users < 1 || !sc->route || sc->task_ms < 0 || sc->cpu_ms < 0 ||
	    !split_valid(sc)) {
		errno = EINVAL;
		return -1;
	}
	memset(out, 0, sizeof *out);
	struct model_network *net = &out->net;
	double route_cpu, x, z;
	int n = sc->users;
	if (model_network_of(sc, net) < 0)
		return -1;
	z = net->think_ms;
	out->service_ms = 0;
	for (int k = 0; k < net->n; k++)
		out->service_ms += net->st[k].demand_ms;
	double held_ms = out->service_ms; /* what the cap's holder takes, stretch included */
	out->service_ms -= net->st[0].demand_ms * (1 - 1 / net->pool_stretch);
	out->think_ms = z - (sc->answer_ms > 0 ? sc->answer_ms : 0); /* the users' own */
	out->cpu_ms = request_cpu_ms(sc, &route_cpu);
	out->capacity = model_capacity_pool(sc, &out->unbounded, &out->pool_binds);

	if (sc->nsplit <= 1) {
		x = network_x(net, n);
	} else {
		/* Separate queues: X is the sum of each process's own network, so an
		 * idle thread in one process cannot serve a user queued in another. */
		int cap = 0;
		x = 0;
		for (int p = 0; p < sc->nsplit && x >= 0; p++) {
			struct model_scenario one = *sc;
			struct model_network pnet;
			int unb;
			one.nsplit = 0;
			one.users = sc->split[p];
			one.threads = share(sc->threads, sc->nsplit, p);
			one.helpers = sc->helpers > 0 ? share(sc->helpers, sc->nsplit, p) : sc->helpers;
			one.workers = share(sc->workers, sc->nsplit, p);
			/* The cores serve every process at once; apart, each network
			 * would count them all. Give each an even share (at least one):
			 * the kernel splits the cores by runnable threads, and two busy
			 * processes with the same threads each get half. */
			one.cores = at_least_one(share(at_least_one(sc->cores), sc->nsplit, p));
			one.other_cores = sc->other_cores * one.cores / at_least_one(sc->cores);
			cap += model_process_capacity(sc, p, &unb);
			if (one.users < 1)
				continue;
			model_network_of(&one, &pnet);
			double xp = network_x(&pnet, one.users);
			x = xp < 0 ? -1 : x + xp;
		}
		if (!out->unbounded)
			out->capacity = cap;
	}
	if (x < 0) {
		errno = ENOMEM;
		return -1;
	}
	out->x_per_s = x * 1e3;
	out->r_ms = isinf(x) ? 0 : n / x - out->think_ms; /* the answer's wait included */
	if (out->r_ms < out->service_ms)
		out->r_ms = out->service_ms; /* rounding only: R never drops below one service */
	for (int k = 0; k < net->n; k++)
		out->util[k] = isinf(x) ? 0 : x * net->st[k].demand_ms /
			(net->st[k].kind == MODEL_QUEUE ? net->st[k].servers : 1);

	/* The binding station: the lowest throughput bound; ties go to users. */
	double best = out->service_ms + z > 0 ? n / (out->service_ms + z) : INFINITY;
	int station = -1;
	out->bound = MODEL_BOUND_USERS;
	out->binding = "users";
	if (net->cap > 0 && bound_of(net->cap, held_ms) < best) {
		best = bound_of(net->cap, held_ms);
		out->bound = MODEL_BOUND_CAPACITY;
		out->binding = net->cap_name;
	}
	for (int k = 0; k < net->n; k++)
		if (net->st[k].kind == MODEL_QUEUE &&
		    bound_of(net->st[k].servers, net->st[k].demand_ms) < best) {
			best = bound_of(net->st[k].servers, net->st[k].demand_ms);
			out->bound = MODEL_BOUND_STATION;
			out->binding = net->st[k].name;
			station = k;
		}

	const struct route *r = sc->route;
	double db = model_database_cpu_ms(sc);
	if (out->bound == MODEL_BOUND_STATION && db > 0 && strcmp(net->st[station].name, "CPU") == 0) {
		const struct model_station *s = &net->st[station];
		snprintf(out->why, sizeof out->why,
			 "CPU binds: each request needs %.2f ms of the cores, %.2f of it "
			 "PostgreSQL's (%d queries), %d at a time, so X <= %d/%.2f ms",
			 s->demand_ms, db, r->tasks, s->servers, s->servers, s->demand_ms);
	} else if (out->bound == MODEL_BOUND_STATION) {
		const struct model_station *s = &net->st[station];
		snprintf(out->why, sizeof out->why,
			 "%s binds: each request needs %.1f ms of CPU %s, %d at a time, so X <= "
			 "%d/%.1f ms", s->name, s->demand_ms,
			 strcmp(s->name, "the loop") == 0 ? "inside an event loop that serves one "
			 "callback at a time" : strcmp(s->name, "the pool") == 0 ?
			 "from the offload pool's threads" : "from the cores",
			 s->servers, s->servers, s->demand_ms);
	} else if (out->bound == MODEL_BOUND_CAPACITY && out->pool_binds)
		snprintf(out->why, sizeof out->why,
			 "the pool binds: %d users queue for connections enough for %.4g requests "
			 "at once (%d per request), each held %.0f ms", n, model_pool_requests(sc),
			 model_conns_per_request(r), out->service_ms);
	else if (out->bound == MODEL_BOUND_USERS && out->pool_binds)
		snprintf(out->why, sizeof out->why,
			 "users bind: %d users never fill the connections for %d requests at once",
			 n, out->capacity);
	else if (out->bound == MODEL_BOUND_USERS && out->unbounded)
		snprintf(out->why, sizeof out->why,
			 "users bind: %s hold no thread, so all %d users are served at once",
			 model_has_database(sc) ? "awaited queries" : "timers", n);
	else if (out->bound == MODEL_BOUND_USERS)
		snprintf(out->why, sizeof out->why,
			 "users bind: %d users never fill the %d %s", n, out->capacity,
			 r->world == WORLD_BLOCKING ? "threads" : "workers");
	else if (r->world == WORLD_BLOCKING)
		snprintf(out->why, sizeof out->why,
			 "capacity binds: %d users queue for %d threads, each held %.0f ms",
			 n, out->capacity, out->service_ms);
	else
		snprintf(out->why, sizeof out->why,
			 "capacity binds: the loop %s, so %d worker%s serve%s one request at a time",
			 model_has_database(sc) ? "blocks in its query" : "sleeps", out->capacity,
			 out->capacity == 1 ? "" : "s", out->capacity == 1 ? "s" : "");
	double stretch = model_cpu_stretch(sc);
	if (out->bound == MODEL_BOUND_STATION && stretch > 1) {
		/* the demands above are stretched: say by what */
		size_t len = strlen(out->why);
		snprintf(out->why + len, sizeof out->why - len, "; other processes took %.2f of "
			 "the %d cores, so a ms of CPU took %.3f ms", sc->other_cores,
			 at_least_one(sc->cores), stretch);
	}
	if (sc->nsplit > 1) {
		/* Name the split: it is why X and the tail differ from one queue. */
		size_t len = strlen(out->why);
		int w = snprintf(out->why + len, sizeof out->why - len, "; %d processes, users",
				 sc->nsplit);
		for (int p = 0; p < sc->nsplit && w > 0; p++) {
			len = strlen(out->why);
			w = snprintf(out->why + len, sizeof out->why - len, "%s%d", p ? "/" : " ",
				     sc->split[p]);
		}
	}
	return 0;
}

double model_spawn_time_s(const struct model_scenario *sc, int k)
{
	if (sc->spawn_rate <= 0)
		return 0;
	int batch = (int)floor(sc->spawn_rate);
	if (batch < 1)
		batch = 1;
	return (double)(k / batch) * batch / sc->spawn_rate;
}

/* --- the event heap: (time, kind, seq) ascending. At one instant the end of a
 * stage comes before a send: a server frees its thread (and wakes a waiter)
 * before the answered user's next request can reach it, and so does a thread
 * token's first release (EV_TOKEN: its user field is the process); seq keeps
 * FIFO among equals. The same heap orders the CPU's jobs by their finish tags. */

enum { EV_STAGE, EV_TOKEN, EV_RESUME, EV_SEND };

struct event {
	double t;
	uint64_t seq;
	int user;
	int kind;
};

static int before(const struct event *a, const struct event *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->kind != b->kind)
		return a->kind < b->kind;
	return a->seq < b->seq;
}

static void heap_push(struct event *h, size_t *n, struct event a)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&a, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = a;
}

static struct event heap_pop(struct event *h, size_t *n)
{
	struct event top = h[0], last = h[--(*n)];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && before(&h[c + 1], &h[c]))
			c++;
		if (!before(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n > 0)
		h[i] = last;
	return top;
}

/* splitmix64: a seeded, portable stream for the uniform wait time. */
static double uniform01(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (z >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void model_run_free(struct model_run *run)
{
	free(run->ms);
	free(run->done);
	free(run->done_per_s);
	free(run->users_per_s);
	memset(run, 0, sizeof *run);
}

/* --- the simulated server */

/* Token pools a request may queue for: the cap held through the whole request
 * (threads, the sleeping loop), one per worker process, served in the
 * scenario's order; the loop held through one CPU burst, FIFO, one per worker
 * process (its share of the workers); the offload pool, FIFO, one per
 * worker process too (offload_threads for each of its workers): bin/evented's
 * loops each hand CPU work to a pool of their own, and a user's connection
 * stays on one loop; and a core, FIFO, `cores` of them, held a kernel time
 * slice at a time (model_kernel_slice_ms), for every other burst: a thread's
 * (bin/blocking's workers, its accepting thread and helpers) and the
 * database's work on a query. Each query is a job of its own, as each runs in
 * a backend process of its own: a gathered step's queries queue apart. The
 * kernel runs a runnable thread until it blocks or its slice ends, then puts
 * it behind the others, so a burst shorter than the slice runs to its end
 * once on a core (first come, first served: the in-order routes' 0.3 ms
 * queries, a thread's 0.3 ms of server CPU, where processor sharing would end
 * every burst of a wave together and keep the waves in step: /sync_parallel
 * counted 2-4% more than that predicted, 1.00 of this), and a longer one
 * takes its turns among the rest: under 1,500 backends each query of a
 * gathered wave cost 2-3 ms, and the wave's queries finished late together,
 * its requests' last ones later still (docs/POSTGRES.md). */
enum { RES_CAP, RES_LOOP, RES_POOL, RES_CORE, RES_NONE = -1 };

struct tokens {
	int free;
	int *line;          /* ring of waiting users (RES_CORE: jobs) */
	int size, head, len;
};

/* One step of a request: a wait (delay) or a CPU burst, in seconds. */
struct stage {
	double s;
	int cpu;
	int res;            /* the token a CPU burst holds; a wait's is RES_NONE */
	int jobs;           /* a burst: how many jobs share s evenly, each taking
			     * its own token (a gathered step's queries, each its
			     * own backend); the stage ends with the last */
};

#define MAX_STAGES (3 * ROUTE_MAX_TASKS + 4)

struct sim {
	const struct model_scenario *sc;
	struct stage stage[MAX_STAGES];
	int nstages;
	struct tokens *procs;     /* RES_CAP: one per worker process */
	struct tokens *loops;     /* RES_LOOP: one per worker process */
	struct tokens *pools;     /* RES_POOL: one per worker process */
	struct tokens core;       /* RES_CORE: jobs wait in its line */
	int *proc_of;             /* per user: its process */
	uint64_t order_rng;
	struct event *ev, *cpu;   /* pending events; CPU jobs keyed by finish tag */
	size_t nev, ncpu;
	double cores, vwork;      /* work each running job has received so far */
	double now;
	uint64_t seq, rng;        /* rng: the waits' draws */
	double *sent_at;          /* per user */
	int *sends;               /* per user: requests sent on its connection so far */
	int answer_at;            /* the answer's stage (add_answer), or -1 */
	struct stall *stalls;     /* per process: its pauses (stall_per_s), or NULL */
	char *answered;           /* per user: a request of theirs was counted */
	int *at;                  /* per user: the stage it is in */
	int *pending;             /* per user: its burst's jobs not yet done */
	int nu;                   /* users: job j of user u's burst is u + j nu */
	double *left;             /* per job: its burst's work not yet run, s */
	double quantum;           /* s a DB job runs before it queues again */
	char *holds;              /* per user: it holds its process's cap token */
	int cap_from, cap_until;  /* the cap is taken before stage cap_from and given
				   * back after stage cap_until */
	size_t cap_ms;
	struct model_run *out;
};

/* Appends a step. Back-to-back bursts inside the loop are one burst: the
 * loop runs a task that needs no wait straight after the previous one, in the
 * same callback, and no other connection gets in between. */
static void add_stage(struct sim *m, double s, int cpu, int res)
{
	struct stage *last = m->nstages ? &m->stage[m->nstages - 1] : NULL;
	if (cpu && res == RES_LOOP && last && last->cpu && last->res == RES_LOOP)
		last->s += s;
	else
		m->stage[m->nstages++] = (struct stage){ s, cpu, res, 1 };
}

/* The answer's wait on the connection (answer_ms), last: the server is done,
 * its thread given back. */
static void add_answer(struct sim *m)
{
	m->answer_at = -1;
	if (m->sc->answer_ms > 0 || m->sc->nfirst > 0) {
		m->answer_at = m->nstages;
		add_stage(m, fmax(0, m->sc->answer_ms) / 1e3, 0, RES_NONE);
	}
}

/* How long stage i of user u waits: the stage's own time, except a
 * connection's first answers (first_answer_ms), which come back sooner. */
static double wait_s(const struct sim *m, int u, int i)
{
	int k = m->sends[u] - 1; /* this request's place on the connection */
	if (i == m->answer_at && k < m->sc->nfirst)
		return fmax(0, m->sc->first_answer_ms[k]) / 1e3;
	return m->stage[i].s;
}

/* The request's waits, s seconds in all. With a database, each step of its
 * critical path (a query, or the queries a gather runs at once) ends with
 * PostgreSQL's CPU for that step's queries, on the shared cores; without,
 * one wait. */
static void add_waits(struct sim *m, double s)
{
	double db = model_database_cpu_ms(m->sc) / 1e3;
	int steps = db > 0 ? route_critical_tasks(m->sc->route, m->sc->helpers) : 1;
	if (steps < 1)
		steps = 1;
	int tasks = m->sc->route->tasks;
	for (int i = 0; i < steps; i++) {
		add_stage(m, s / steps, 0, RES_NONE);
		if (db > 0) {
			add_stage(m, db / steps, 1, RES_CORE);
			if (tasks % steps == 0) /* each query its own backend */
				m->stage[m->nstages - 1].jobs = tasks / steps;
		}
	}
}

/* The request's steps. Without CPU work one wait of S, so the sleep routes
 * run exactly as the closed form says; a CPU route waits then burns CPU per
 * task; the server's measured overhead CPU closes the request, on the thread
 * that holds it or inside the loop. */
static void plan_stages(struct sim *m)
{
	const struct model_scenario *sc = m->sc;
	const struct route *r = sc->route;
	double route_cpu, cpu = request_cpu_ms(sc, &route_cpu);
	int held = r->world == WORLD_BLOCKING || r->plan == PLAN_BLOCKING_LOOP;

	m->nstages = 0;
	m->cap_from = 0;
	if (sc->serial_cpu && r->world == WORLD_BLOCKING && r->cpu == CPU_NONE && cpu > 0) {
		/* FastAPI's sync route: a thread runs the endpoint (the waits) and is
		 * given back when it returns; the worker's loop reads, routes and
		 * answers, one request at a time. The model puts that CPU between
		 * the thread's end and the user's next request joining the line. */
		add_waits(m, waits_ms(sc) / 1e3);
		add_stage(m, cpu / 1e3, 1, RES_LOOP);
		m->cap_until = 0;
		add_answer(m);
		return;
	}
	/* The server's own CPU that no held thread runs (CivetWeb's accepting
	 * thread, the helpers) goes first, before the request takes its thread:
	 * it overlaps the queue and the waits, where the held part cannot. */
	double own = cpu - route_cpu, held_own = own;
	if (held && !sc->serial_cpu && sc->held_cpu_ms >= 0 && own > 0) {
		held_own = fmin(own, fmax(0, sc->held_cpu_ms - route_cpu));
		if (own - held_own > 0) {
			add_stage(m, (own - held_own) / 1e3, 1, RES_CORE);
			m->cap_from = m->nstages;
		}
	}
	if (r->cpu == CPU_NONE) {
		add_waits(m, waits_ms(sc) * pool_stretch(sc) / 1e3);
	} else {
		if (sc->overhead_ms > 0)
			add_stage(m, sc->overhead_ms / 1e3, 0, RES_NONE);
		for (int i = 0; i < r->tasks; i++) {
			if (sc->wait_ms > 0)
				add_stage(m, sc->wait_ms / 1e3, 0, RES_NONE);
			if (sc->wait_ms > 0 && sc->pg_cpu_ms > 0) /* the task's query */
				add_stage(m, sc->pg_cpu_ms / 1e3, 1, RES_CORE);
			if (sc->cpu_ms > 0)
				add_stage(m, sc->cpu_ms / 1e3, 1,
					  r->cpu == CPU_LOOP ? RES_LOOP :
					  r->cpu == CPU_POOL ? RES_POOL : RES_CORE);
		}
	}
	if (held_own > 0)
		add_stage(m, held_own / 1e3, 1, held && !sc->serial_cpu ? RES_CORE : RES_LOOP);
	m->cap_until = m->nstages - 1;
	add_answer(m);
}

static void push_event(struct sim *m, double t, int user, int kind)
{
	heap_push(m->ev, &m->nev, (struct event){ t, m->seq++, user, kind });
}

/* Every running CPU job progresses at min(1, cores / jobs): processor sharing,
 * on the cores other processes left the server (cores_left). */
static double cpu_rate(const struct sim *m)
{
	return (double)m->ncpu <= m->cores ? 1 : m->cores / (double)m->ncpu;
}

static void start_cpu(struct sim *m, int job)
{
	const struct stage *st = &m->stage[m->at[job % m->nu]];
	double w = m->left[job];
	if (st->res == RES_CORE && w > m->quantum)
		w = m->quantum;
	m->left[job] -= w;
	heap_push(m->cpu, &m->ncpu, (struct event){ m->vwork + w, m->seq++, job, 0 });
}

static struct tokens *tokens_of(struct sim *m, int res, int u)
{
	return res == RES_CAP ? &m->procs[m->proc_of[u]] :
		res == RES_LOOP ? &m->loops[m->proc_of[u]] : res == RES_CORE ? &m->core :
		&m->pools[m->proc_of[u]];
}

/* u (a user, or a job on the cores) waits at the end of t's line. */
static void join_line(struct tokens *t, int u)
{
	t->line[(t->head + t->len++) % t->size] = u;
}

static int take(struct sim *m, int res, int u)
{
	struct tokens *t = tokens_of(m, res, u);
	if (t->free > 0) {
		t->free--;
		return 1;
	}
	join_line(t, u);
	return 0;
}

/* The waiter a freed token goes to: the cap's in the scenario's order (the
 * order is only which end, or which slot, is read), the others FIFO. */
static int next_in_line(struct tokens *t, enum model_order order, uint64_t *rng)
{
	int at = 0; /* offset from the head */
	if (order == MODEL_ORDER_LIFO)
		at = t->len - 1;
	else if (order == MODEL_ORDER_RANDOM)
		at = (int)(uniform01(rng) * t->len);
	int *slot = &t->line[(t->head + at) % t->size];
	int user = *slot;
	/* random: the last waiter fills the hole (order among the rest is moot) */
	if (order == MODEL_ORDER_RANDOM)
		*slot = t->line[(t->head + t->len - 1) % t->size];
	if (order == MODEL_ORDER_FIFO)
		t->head = (t->head + 1) % t->size;
	t->len--;
	return user;
}

static int run_stages(struct sim *m, int u);

/* A cap token of process p comes free: given back by a request, or free for
 * the first time at its offset in the measured wave (wave_ms). The next in
 * line, in the scenario's order, takes it and goes on where it waited. */
static int cap_token_free(struct sim *m, int p)
{
	struct tokens *t = &m->procs[p];
	if (t->len == 0) {
		t->free++;
		return 0;
	}
	int next = next_in_line(t, m->sc->order, &m->order_rng);
	m->holds[next] = 1;
	return run_stages(m, next);
}

/* Whether process p has a measured wave that is not all at once. */
static int has_wave(const struct model_scenario *sc, int p)
{
	return sc->nwave >= 2 && sc->wave_ms[p][sc->nwave - 1] > 0;
}

/* The value at rank x (0..1) of n >= 2 measured points in rising order,
 * between two points in proportion: their piecewise-linear quantile. */
static double rank_of(const double *v, int n, double x)
{
	double at = x * (n - 1);
	int i = (int)at < n - 1 ? (int)at : n - 2;
	return v[i] + (at - i) * (v[i + 1] - v[i]);
}

/* Instead of all c at the start, process p's c cap tokens come free at the
 * measured wave's offsets: the k-th at rank k / (c - 1) of it. Without a
 * wave they stay free from the start. */
static void stagger_tokens(struct sim *m, int p, int c)
{
	const struct model_scenario *sc = m->sc;
	if (!has_wave(sc, p) || c < 2 || m->procs[p].free != c)
		return;
	m->procs[p].free = 0;
	for (int k = 0; k < c; k++)
		push_event(m, rank_of(sc->wave_ms[p], sc->nwave, (double)k / (c - 1)) / 1e3, p,
			   EV_TOKEN);
}

/* User u gives a token back: the next in line (the cap's in the scenario's
 * order, the others FIFO) gets it and goes on where it waited. */
static int give_back(struct sim *m, int res, int u)
{
	if (res == RES_CAP)
		return cap_token_free(m, m->proc_of[u]);
	struct tokens *t = tokens_of(m, res, u);
	if (t->len == 0) {
		t->free++;
		return 0;
	}
	start_cpu(m, next_in_line(t, MODEL_ORDER_FIFO, &m->order_rng));
	return 0;
}

static int finish(struct sim *m, int u)
{
	struct model_run *out = m->out;
	double done = m->now;
	if ((size_t)out->reqs == m->cap_ms) {
		double *grown = realloc(out->ms, sizeof *grown * m->cap_ms * 2);
		if (!grown)
			return -1;
		out->ms = grown;
		struct model_done *more = realloc(out->done, sizeof *more * m->cap_ms * 2);
		if (!more)
			return -1;
		out->done = more;
		m->cap_ms *= 2;
	}
	/* to the microsecond: sums of seconds drift by 1e-15, and 99.99999 ms
	 * would print as Locust's truncated 99 */
	out->ms[out->reqs] = round((done - m->sent_at[u]) * 1e6) / 1e3;
	out->done[out->reqs] = (struct model_done){ done, out->ms[out->reqs] };
	out->reqs++;
	if (!m->answered[u]) {
		m->answered[u] = 1;
		out->users_answered++;
	}
	out->done_per_s[(int)floor(done)]++;
	if (done > out->last_done_s)
		out->last_done_s = done;
	double think = m->sc->wait_min_s;
	if (m->sc->wait_max_s > m->sc->wait_min_s)
		think += (m->sc->wait_max_s - m->sc->wait_min_s) *
			(m->sc->seed ? uniform01(&m->rng) : 0.5);
	push_event(m, done + think, u, EV_SEND);
	if (!m->holds[u])
		return 0;
	m->holds[u] = 0;
	return give_back(m, RES_CAP, u);
}

/* Runs user u from its current stage until it must wait for something. */
static int run_stages(struct sim *m, int u)
{
	if (m->at[u] == m->nstages)
		return finish(m, u);
	if (m->holds[u] && m->at[u] == m->cap_until + 1) {
		m->holds[u] = 0; /* given back mid-request: the rest needs no thread */
		if (give_back(m, RES_CAP, u) < 0)
			return -1;
	}
	if (!m->holds[u] && m->at[u] == m->cap_from) {
		if (!take(m, RES_CAP, u))
			return 0; /* in line: give_back() goes on from here */
		m->holds[u] = 1;
	}
	const struct stage *st = &m->stage[m->at[u]];
	if (!st->cpu) {
		push_event(m, m->now + wait_s(m, u, m->at[u]), u, EV_STAGE);
		return 0;
	}
	m->pending[u] = st->jobs;
	for (int j = 0; j < st->jobs; j++) {
		m->left[u + j * m->nu] = st->s / st->jobs;
		if (take(m, st->res, u + j * m->nu))
			start_cpu(m, u + j * m->nu);
	}
	return 0;
}

/* --- a worker's pauses (stall_per_s, stall_ms): the one process now stopped
 * or next to stop, drawn as the run reaches it (time only moves forward). */
struct stall {
	double from, until;       /* s */
	double gap_s;             /* mean time between one pause's end and the next */
	uint64_t rng;
};

/* A pause's length in s: the measured points' piecewise-linear quantiles. */
static double stall_draw_s(const struct model_scenario *sc, uint64_t *rng)
{
	return rank_of(sc->stall_ms, sc->nstall, uniform01(rng)) / 1e3;
}

static void stall_next(const struct model_scenario *sc, struct stall *s)
{
	s->from = s->until - s->gap_s * log(1 - uniform01(&s->rng));
	s->until = s->from + stall_draw_s(sc, &s->rng);
}

/* Per process: no pauses (gap_s INFINITY) unless its rate and lengths were
 * measured. The mean gap leaves the measured share of time paused. */
static int stalls_init(struct sim *m, int nproc)
{
	const struct model_scenario *sc = m->sc;
	if (sc->nstall < 2)
		return 0;
	if (!(m->stalls = calloc((size_t)nproc, sizeof *m->stalls)))
		return -1;
	double mean_s = 0;
	for (int i = 1; i < sc->nstall; i++)
		mean_s += (sc->stall_ms[i - 1] + sc->stall_ms[i]) / 2 / (sc->nstall - 1) / 1e3;
	for (int p = 0; p < nproc; p++) {
		struct stall *s = &m->stalls[p];
		double rate = sc->stall_per_s[p];
		s->rng = (sc->seed ^ 0x9a5e5ull) + 0x100000001b3ull * (uint64_t)(p + 1);
		s->gap_s = rate > 0 ? fmax(1e-3, 1 / rate - mean_s) : INFINITY;
		s->from = s->until = isinf(s->gap_s) ? INFINITY : 0;
		if (!isinf(s->gap_s))
			stall_next(sc, s);
	}
	return 0;
}

/* When user u's process can next do anything at or after m->now: the end of
 * the pause it is in, or now. */
static double stalled_until(struct sim *m, int u)
{
	if (!m->stalls)
		return m->now;
	struct stall *s = &m->stalls[m->proc_of[u]];
	while (s->until <= m->now)
		stall_next(m->sc, s);
	return s->from <= m->now ? s->until : m->now;
}

/* User u goes on from its current stage, or at the end of its process's
 * pause if the process is stopped now (stage `ended` was the server's: the
 * answer's wait on the wire is not). */
static int go_on(struct sim *m, int u, int ended)
{
	double t = ended == m->answer_at ? m->now : stalled_until(m, u);
	if (t > m->now) {
		push_event(m, t, u, EV_RESUME);
		return 0;
	}
	return run_stages(m, u);
}

static int send_request(struct sim *m, int u)
{
	m->out->sent++;
	m->sent_at[u] = m->now;
	m->sends[u]++;
	m->at[u] = 0;
	return go_on(m, u, -1);
}

/* User k, in spawn order, joins the process furthest below its share of the
 * split (ties to the lower index): a measured split says how many, not which. */
static int assign_users(const struct model_scenario *sc, int *proc_of)
{
	int n = sc->nsplit > 1 ? sc->nsplit : 1;
	int *given = calloc((size_t)n, sizeof *given);
	if (!given)
		return -1;
	for (int k = 0; k < sc->users; k++) {
		int best = 0;
		double best_fill = INFINITY;
		for (int p = 0; p < n; p++) {
			int want = n > 1 ? sc->split[p] : sc->users;
			if (given[p] >= want)
				continue;
			double fill = (given[p] + 1.0) / want;
			if (fill < best_fill) {
				best_fill = fill;
				best = p;
			}
		}
		proc_of[k] = best;
		given[best]++;
	}
	free(given);
	return 0;
}

static void tokens_init(struct tokens *t, int free, int size, int *line)
{
	t->free = free;
	t->size = size > 0 ? size : 1;
	t->line = line;
}

/* n token sets, one per worker process, whose lines are one block of nu
 * slots end to end (each process's users wait in its part): the first set's
 * line is the block. NULL when out of memory. */
static struct tokens *tokens_alloc(int n, size_t nu)
{
	struct tokens *t = calloc((size_t)n, sizeof *t);
	int *lines = malloc(sizeof *lines * nu);
	if (!t || !lines) {
		free(t);
		free(lines);
		return NULL;
	}
	t[0].line = lines;
	return t;
}

static void tokens_free(struct tokens *t)
{
	free(t ? t[0].line : NULL);
	free(t);
}

static void sim_free(struct sim *m)
{
	tokens_free(m->procs);
	tokens_free(m->loops);
	tokens_free(m->pools);
	free(m->core.line);
	free(m->proc_of);
	free(m->ev);
	free(m->cpu);
	free(m->sent_at);
	free(m->sends);
	free(m->answered);
	free(m->at);
	free(m->pending);
	free(m->left);
	free(m->holds);
	free(m->stalls);
}

/* At most how many EV_TOKEN events stagger_tokens() queues: every process's
 * threads (a bound, so the event heap is sized before the tokens are). */
static int staggered_tokens(const struct model_scenario *sc)
{
	int nproc = sc->nsplit > 1 ? sc->nsplit : 1, n = 0, unb;
	for (int p = 0; p < nproc; p++)
		if (has_wave(sc, p))
			n += model_process_capacity(sc, p, &unb);
	return n;
}

/*
 * The loop takes whichever comes first: the next event (a send, the end of a
 * wait) or the next CPU job to finish under processor sharing, whose finish
 * tag is in "work received per job" (vwork), so one running total replaces
 * every job's remaining time. Anything not done before the stop is unfinished:
 * Locust kills the user mid-request and never records it, and a real request
 * always takes a little longer than its tasks, so one due exactly at the stop
 * is late too (runs are often whole rounds long).
 */
int model_simulate(const struct model_scenario *sc, struct model_run *out)
{
	struct model_steady st;
	struct sim m = { 0 };
	size_t nu = (size_t)sc->users;
	double t_end = sc->run_time_s;

	memset(out, 0, sizeof *out);
	if (model_steady(sc, &st) < 0 || sc->run_time_s <= 0) {
		errno = EINVAL;
		return -1;
	}
	m.sc = sc;
	m.out = out;
	m.cap_ms = 1024;
	m.rng = sc->seed;
	m.order_rng = sc->seed ^ 0x5eed0f0adeull;
	m.cores = cores_left(sc);
	plan_stages(&m);
	int nproc = sc->nsplit > 1 ? sc->nsplit : 1;
	out->seconds = (int)ceil(t_end);
	m.procs = tokens_alloc(nproc, nu);
	m.proc_of = malloc(sizeof *m.proc_of * nu);
	m.loops = tokens_alloc(nproc, nu);
	m.pools = tokens_alloc(nproc, nu);
	m.nu = sc->users;
	m.core.line = malloc(sizeof *m.core.line * nu * ROUTE_MAX_TASKS);
	/* one pending event per user, and per thread token while it is staggered */
	m.ev = malloc(sizeof *m.ev * (nu + (size_t)staggered_tokens(sc)));
	m.cpu = malloc(sizeof *m.cpu * nu * ROUTE_MAX_TASKS);
	m.sent_at = malloc(sizeof *m.sent_at * nu);
	m.sends = calloc(nu, sizeof *m.sends);
	m.answered = calloc(nu, 1);
	m.at = malloc(sizeof *m.at * nu);
	m.pending = malloc(sizeof *m.pending * nu);
	m.left = malloc(sizeof *m.left * nu * ROUTE_MAX_TASKS);
	m.quantum = model_kernel_slice_ms(sc->cores) / 1e3;
	m.holds = calloc(nu, 1);
	out->ms = malloc(sizeof *out->ms * m.cap_ms);
	out->done = malloc(sizeof *out->done * m.cap_ms);
	out->done_per_s = calloc((size_t)out->seconds + 1, sizeof *out->done_per_s);
	out->users_per_s = calloc((size_t)out->seconds + 1, sizeof *out->users_per_s);
	if (!m.procs || !m.proc_of || !m.loops || !m.pools || !m.core.line || !m.ev || !m.cpu ||
	    !m.sent_at || !m.sends || !m.answered || !m.at || !m.pending || !m.left || !m.holds || !out->ms || !out->done ||
	    !out->done_per_s || !out->users_per_s || assign_users(sc, m.proc_of) < 0 ||
	    stalls_init(&m, nproc) < 0)
		goto fail;
	int *lines = m.procs[0].line, *loop_lines = m.loops[0].line, *pool_lines = m.pools[0].line;
	for (int p = 0, at = 0; p < nproc; p++) {
		int users = nproc > 1 ? sc->split[p] : sc->users, unb;
		int c = model_process_capacity(sc, p, &unb);
		/* the cap holds no one back where it is not a server limit */
		tokens_init(&m.procs[p], unb || !st.net.cap || c > users ? users : c, users,
			    lines + at);
		int workers = at_least_one(nproc > 1 ? share(sc->workers, nproc, p) : sc->workers);
		tokens_init(&m.loops[p], workers, users, loop_lines + at);
		tokens_init(&m.pools[p], at_least_one(sc->offload_threads) * workers, users,
			    pool_lines + at);
		at += users;
		if (!unb && st.net.cap && c <= users)
			stagger_tokens(&m, p, c);
	}
	tokens_init(&m.core, at_least_one(sc->cores), sc->users * ROUTE_MAX_TASKS, m.core.line);
	for (int k = 0; k < sc->users; k++) {
		double t = model_spawn_time_s(sc, k);
		if (t < t_end)
			push_event(&m, t, k, EV_SEND);
		for (int sec = (int)ceil(t); sec <= out->seconds; sec++)
			if (t <= sec)
				out->users_per_s[sec]++;
	}

	for (;;) {
		double t_ev = m.nev ? m.ev[0].t : INFINITY;
		double rate = cpu_rate(&m);
		double t_cpu = m.ncpu ? m.now + (m.cpu[0].t - m.vwork) / rate : INFINITY;
		int cpu_first = t_cpu <= t_ev;
		double t = cpu_first ? t_cpu : t_ev;
		if (!(t < t_end))
			break;
		if (cpu_first) {
			struct event job = heap_pop(m.cpu, &m.ncpu);
			m.vwork = job.t; /* exactly: no drift from (t - now) * rate */
			m.now = t;
			int u = job.user % m.nu, res = m.stage[m.at[u]].res;
			int more = m.left[job.user] > 1e-12; /* its slice is over, its work not */
			if (more && m.core.len == 0) {
				start_cpu(&m, job.user); /* no one waits: it runs on */
				continue;
			}
			if (more)
				join_line(&m.core, job.user); /* behind the others waiting */
			if (give_back(&m, res, job.user) < 0)
				goto fail;
			if (more || --m.pending[u] > 0)
				continue;
			m.at[u]++;
			if (go_on(&m, u, m.at[u] - 1) < 0)
				goto fail;
			continue;
		}
		m.vwork += (t - m.now) * rate;
		m.now = t;
		struct event e = heap_pop(m.ev, &m.nev);
		if (e.kind == EV_SEND) {
			if (send_request(&m, e.user) < 0)
				goto fail;
		} else if (e.kind == EV_TOKEN) {
			if (cap_token_free(&m, e.user) < 0)
				goto fail;
		} else if (e.kind == EV_RESUME) {
			if (run_stages(&m, e.user) < 0)
				goto fail;
		} else {
			m.at[e.user]++;
			if (go_on(&m, e.user, m.at[e.user] - 1) < 0)
				goto fail;
		}
	}
	out->unfinished = out->sent - out->reqs;
	qsort(out->ms, (size_t)out->reqs, sizeof *out->ms, cmp_double);
	out->rps = out->last_done_s > 0 ? out->reqs / out->last_done_s : 0;
	sim_free(&m);
	return 0;
fail:
	sim_free(&m);
	model_run_free(out);
	errno = ENOMEM;
	return -1;
}
