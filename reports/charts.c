#include "charts.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* noenhanced: route names hold '_', which gnuplot would read as a subscript */
#define SVG_BARS "set terminal svg size 720,440 dynamic noenhanced font 'sans,11' " \
	"background '#ffffff'\nset yrange [0:*]\n"
#define SVG "set terminal svg size 720,360 dynamic noenhanced font 'sans,11' " \
	"background '#ffffff'\nset bmargin\nset yrange [0:*]\n"

static FILE *open_in(const char *dir, const char *name)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "report: %s: %s\n", path, strerror(errno));
	return f;
}

static void num(FILE *f, double v)
{
	if (isnan(v))
		fputs(" ?", f);
	else
		fprintf(f, " %.6g", v);
}

/* Per scenario: the measured history and the simulated seconds. */
static int scenario_data(const struct scenario *s, const struct prediction *p,
			 const char *dir, int i)
{
	char name[32];
	snprintf(name, sizeof name, "h%02d.dat", i);
	FILE *f = open_in(dir, name);
	if (!f)
		return -1;
	fputs("# t_s users rps p50_ms p95_ms p99_ms\n", f);
	for (size_t k = 0; k < s->m.nhist; k++) {
		const struct history_point *h = &s->m.hist[k];
		fprintf(f, "%.3f", h->t_s);
		num(f, h->users);
		num(f, h->rps);
		num(f, h->p50);
		num(f, h->p95);
		num(f, h->p99);
		fputc('\n', f);
	}
	if (s->m.nhist == 0)
		fputs("0 0 0 ? ? ?\n", f); /* gnuplot refuses an empty file */
	if (fclose(f) != 0)
		return -1;
	snprintf(name, sizeof name, "m%02d.dat", i);
	if (!(f = open_in(dir, name)))
		return -1;
	fputs("# second users completions (simulated)\n", f);
	for (int sec = 1; sec <= p->run.seconds; sec++)
		fprintf(f, "%d %d %ld\n", sec, p->run.users_per_s[sec], p->run.done_per_s[sec - 1]);
	if (p->run.seconds == 0)
		fputs("0 0 0\n", f);
	return fclose(f);
}

/* gnuplot refuses a plot with no valid point: Locust's history can be all N/A. */
static int has_percentiles(const struct scenario *s)
{
	for (size_t k = 0; k < s->m.nhist; k++)
		if (!isnan(s->m.hist[k].p50))
			return 1;
	return 0;
}

static void scenario_plots(FILE *gp, const struct scenario *s, int i, int percentiles)
{
	if (percentiles)
		fprintf(gp, SVG "set output 't%02d.svg'\n"
		"set title '%s: response time percentiles over time (measured)'\n"
		"set xlabel 'seconds'\nset ylabel 'ms'\nunset y2tics\nset y2label ''\n"
		"set key top left\n"
		"plot 'h%02d.dat' using 1:4 with lines lw 2 title '50%%', "
		"'' using 1:5 with lines lw 2 title '95%%', "
		"'' using 1:6 with lines lw 2 title '99%%'\n", i, s->name, i);
	fprintf(gp, SVG "set output 'u%02d.svg'\n"
		"set title '%s: throughput and users over time'\n"
		"set xlabel 'seconds'\nset ylabel 'requests/s'\nset y2label 'users'\n"
		"set y2tics\nset ytics nomirror\nset key below horizontal\nset y2range [0:%g]\n"
		"plot 'h%02d.dat' using 1:3 with lines lw 2 title 'measured req/s (Locust current)', "
		"'m%02d.dat' using 1:3 with steps lw 1 dt 2 title 'model completions/s', "
		"'h%02d.dat' using 1:2 axes x1y2 with lines lw 2 title 'measured users', "
		"'m%02d.dat' using 1:2 axes x1y2 with steps dt 3 title 'model users'\n"
		"unset y2tics\nset y2label ''\nset ytics mirror\nset y2range [*:*]\n",
		i, s->name, s->users * 1.6, i, i, i, i);
}

static int bars(const struct run_dir *rd, const struct prediction *pred, const char *dir,
		FILE *gp)
{
	FILE *f = open_in(dir, "bars.dat");
	if (!f)
		return -1;
	fputs("# scenario measured_rps predicted_rps measured_avg_ms predicted_avg_ms\n", f);
	for (size_t i = 0; i < rd->n; i++) {
		const struct locust_row *m = &rd->sc[i].m.row, *p = &pred[i].row;
		fprintf(f, "\"%s\" %.6g %.6g %.6g %.6g\n", rd->sc[i].name, m->rps, p->rps,
			m->reqs ? m->sum_ms / m->reqs : 0, p->reqs ? p->sum_ms / p->reqs : 0);
	}
	if (fclose(f) != 0)
		return -1;
	const char *style = "set style data histograms\nset style histogram clustered gap 1\n"
			    "set style fill solid 0.8 border -1\nset xtics rotate by -30\n"
			    "set key top right\nunset y2tics\nset y2label ''\nset xlabel ''\n"
			    "set bmargin 9\n";
	fprintf(gp, SVG_BARS "set output 'bars_rps.svg'\n%s"
		"set title 'throughput: measured vs predicted'\nset ylabel 'requests/s'\n"
		"plot 'bars.dat' using 2:xtic(1) title 'measured', '' using 3 title 'predicted'\n",
		style);
	fprintf(gp, SVG_BARS "set output 'bars_avg.svg'\n%s"
		"set title 'average response time: measured vs predicted'\nset ylabel 'ms'\n"
		"plot 'bars.dat' using 4:xtic(1) title 'measured', '' using 5 title 'predicted'\n"
		"set style data lines\nset xtics norotate\n", style);
	return 2;
}

/* Latency and throughput against users, per route swept, with the closed form's
 * curves drawn from 1 user to past the largest count measured. */
static int sweep(const struct run_dir *rd, const struct prediction *pred, const char *dir,
		 FILE *gp)
{
	const struct route *seen[ROUTE_MAX_TASKS * 4];
	int nseen = 0;
	for (size_t i = 0; i < rd->n; i++) {
		if (!rd->sc[i].sweep)
			continue;
		int known = 0;
		for (int k = 0; k < nseen; k++)
			known |= seen[k] == rd->sc[i].route;
		if (!known && nseen < (int)(sizeof seen / sizeof seen[0]))
			seen[nseen++] = rd->sc[i].route;
	}
	if (nseen == 0)
		return 0;
	char lat[4096] = "", thr[4096] = "", mem[2048] = "";
	size_t lo = 0, to = 0, mo = 0;
	for (int k = 0; k < nseen; k++) {
		char name[32];
		int max_users = 1;
		const struct prediction *base = NULL;
		snprintf(name, sizeof name, "sweep%d.dat", k);
		FILE *f = open_in(dir, name);
		if (!f)
			return -1;
		fputs("# users measured_avg_ms measured_rps simulated_avg_ms simulated_rps "
		      "rss_kb_per_user server_threads\n", f);
		for (size_t i = 0; i < rd->n; i++) {
			const struct scenario *s = &rd->sc[i];
			if (!s->sweep || s->route != seen[k])
				continue;
			const struct locust_row *m = &s->m.row, *p = &pred[i].row;
			/* memory per connection: "?" (gnuplot's missing) when unrecorded */
			char kb[32] = "?", thr_n[32] = "?";
			if (s->rss_kb >= 0)
				snprintf(kb, sizeof kb, "%.6g", s->rss_kb / s->users);
			if (s->server_threads >= 0)
				snprintf(thr_n, sizeof thr_n, "%.0f", s->server_threads);
			fprintf(f, "%d %.6g %.6g %.6g %.6g %s %s\n", s->users,
				m->reqs ? m->sum_ms / m->reqs : 0, m->rps,
				p->reqs ? p->sum_ms / p->reqs : 0, p->rps, kb, thr_n);
			if (s->users > max_users)
				max_users = s->users;
			base = &pred[i];
		}
		if (fclose(f) != 0)
			return -1;
		snprintf(name, sizeof name, "curve%d.dat", k);
		if (!(f = open_in(dir, name)))
			return -1;
		fputs("# users closed_form_R_ms closed_form_X\n", f);
		for (int j = 1; j <= 200; j++) {
			struct model_scenario sc = base->sc;
			struct model_steady st;
			sc.users = 1 + (int)((max_users * 1.1) * j / 200);
			if (model_steady(&sc, &st) == 0)
				fprintf(f, "%d %.6g %.6g\n", sc.users, st.r_ms, st.x_per_s);
		}
		if (fclose(f) != 0)
			return -1;
		lo += (size_t)snprintf(lat + lo, sizeof lat - lo,
			"%s'sweep%d.dat' using 1:2 with linespoints pt 7 lw 2 title '%s measured', "
			"'sweep%d.dat' using 1:4 with points pt 6 ps 1.5 title '%s simulated run', "
			"'curve%d.dat' using 1:2 with lines dt 2 title '%s closed form'",
			k ? ", " : "", k, seen[k]->path, k, seen[k]->path, k, seen[k]->path);
		to += (size_t)snprintf(thr + to, sizeof thr - to,
			"%s'sweep%d.dat' using 1:3 with linespoints pt 7 lw 2 title '%s measured', "
			"'sweep%d.dat' using 1:5 with points pt 6 ps 1.5 title '%s simulated run', "
			"'curve%d.dat' using 1:3 with lines dt 2 title '%s closed form'",
			k ? ", " : "", k, seen[k]->path, k, seen[k]->path, k, seen[k]->path);
		mo += (size_t)snprintf(mem + mo, sizeof mem - mo,
			"%s'sweep%d.dat' using 1:6 with linespoints pt 7 lw 2 title '%s (%s)'",
			k ? ", " : "", k, seen[k]->path, route_world_name(seen[k]->world));
		if (lo >= sizeof lat || to >= sizeof thr || mo >= sizeof mem)
			break; /* more routes than a chart can name: keep the first ones */
	}
	fprintf(gp, SVG "set output 'sweep_lat.svg'\nset title 'average response time against users'\n"
		"set xlabel 'users'\nset ylabel 'ms'\nset key bottom right\nplot %s\n", lat);
	fprintf(gp, SVG "set output 'sweep_rps.svg'\nset title 'throughput against users'\n"
		"set xlabel 'users'\nset ylabel 'requests/s'\nset key bottom right\nplot %s\n", thr);
	int have_mem = 0; /* runs from before SERVER_RSS_KB have nothing to draw */
	for (size_t i = 0; i < rd->n; i++)
		have_mem |= rd->sc[i].sweep && rd->sc[i].rss_kb >= 0;
	if (have_mem)
		fprintf(gp, SVG "set output 'sweep_mem.svg'\nset title 'server memory per "
			"connection (resident, under load)'\nset xlabel 'users'\nset ylabel "
			"'KiB per user'\nset logscale x\nset key top right\nplot %s\n"
			"unset logscale x\n", mem);
	return 2;
}

static int run_gnuplot(const char *dir)
{
	pid_t pid = fork();
	int status;
	if (pid < 0) {
		fprintf(stderr, "report: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (chdir(dir) < 0)
			_exit(127);
		/* gnuplot's warnings (an empty range) are for whoever redraws by hand */
		int log = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
		}
		execlp("gnuplot", "gnuplot", "charts.gp", (char *)NULL);
		dprintf(log >= 0 ? log : STDERR_FILENO, "report: gnuplot: %s (install gnuplot-nox: make deps)\n",
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "report: gnuplot charts.gp failed (status %d; see charts/gnuplot.log)\n",
			status);
		return -1;
	}
	return 0;
}

int charts_draw(const struct run_dir *rd, const struct prediction *pred, const char *dir)
{
	int drawn = 0, n;
	FILE *gp = open_in(dir, "charts.gp");
	if (!gp)
		return -1;
	fputs("# drawn by bin/report; run `gnuplot charts.gp` in this folder to redraw\n"
	      "set datafile missing '?'\nset grid\nset style data lines\n", gp);
	for (size_t i = 0; i < rd->n; i++) {
		if (scenario_data(&rd->sc[i], &pred[i], dir, (int)i + 1) < 0)
			goto fail;
		scenario_plots(gp, &rd->sc[i], (int)i + 1, has_percentiles(&rd->sc[i]));
		drawn += 1 + has_percentiles(&rd->sc[i]);
	}
	if ((n = bars(rd, pred, dir, gp)) < 0 || (drawn += n, n = sweep(rd, pred, dir, gp)) < 0)
		goto fail;
	drawn += n;
	if (fclose(gp) != 0) {
		gp = NULL;
		goto fail;
	}
	return run_gnuplot(dir) < 0 ? -1 : drawn;
fail:
	if (gp)
		fclose(gp);
	return -1;
}
