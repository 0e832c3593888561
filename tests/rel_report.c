/*
 * bin/report against damaged run folders: a copy of a recorded run
 * (tests/data/report/binload-run) with one file truncated, emptied, its rows or
 * columns reordered, a number replaced by text, or the file removed. Each must
 * end with exit 2 and an error naming the file (and the line, when the file is
 * there to have one), and leave nothing half-written: no REPORT.md, report.html,
 * summary.txt or charts/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "rel_common.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define FIXTURE "tests/data/report/binload-run"
#define SCENARIO "01-AsyncDependentUser"

static char tmp[64];
static char fixture_abs[4096]; /* FIXTURE from anywhere: the damage runs after a cd */
static char out[1 << 16];

/* A shell command's exit code, its output in out. */
#define sh(...) harness_sh(out, sizeof out, __VA_ARGS__)

struct damage {
	const char *file;     /* in the scenario folder, or ../run.env */
	const char *what;
	const char *cmd;      /* run in the scenario folder on $F (lines end in \r\n) */
	int want_line;        /* the error must name a line too */
	int accepted;         /* harmless by design: exit 0 and the very same summary */
};

static const struct damage damages[] = {
	{ "load_stats.csv", "truncated mid-line", "head -c $(( $(wc -c <$F) / 2 )) $F >t && mv t $F", 1, 0 },
	{ "load_stats.csv", "empty", ": >$F", 1, 0 },
	{ "load_stats.csv", "non-numeric count (named row)", "sed -i '2s/,60,0,/,sixty,0,/' $F", 1, 0 },
	{ "load_stats.csv", "non-numeric count (Aggregated row)", "sed -i '3s/,60,0,/,sixty,0,/' $F", 1, 0 },
	{ "load_stats.csv", "a row missing fields", "sed -i '2s/,310,310,310\r$/\r/' $F", 1, 0 },
	{ "load_stats.csv", "header only", "head -1 $F >t && mv t $F", 1, 0 },
	{ "load_stats.csv", "rows reordered (read by name)", "(head -1 $F; tail -n +2 $F | tac) >t && mv t $F", 0, 1 },
	{ "load_stats.csv", "columns reordered (read by name)", "awk -F, -v OFS=, '{ t = $3; $3 = $4; $4 = t; print }' $F >t && mv t $F", 0, 1 },
	{ "load_stats.csv", "missing", "rm $F", 0, 0 },
	{ "load_stats_history.csv", "truncated mid-line", "head -c $(( $(wc -c <$F) / 2 )) $F >t && mv t $F", 1, 0 },
	{ "load_stats_history.csv", "empty", ": >$F", 1, 0 },
	{ "load_stats_history.csv", "rows reordered (time backwards)", "(head -1 $F; tail -n +2 $F | tac) >t && mv t $F", 1, 0 },
	{ "load_stats_history.csv", "non-numeric timestamp", "sed -i '3s/^[0-9]*,/soon,/' $F", 1, 0 },
	{ "load_stats_history.csv", "non-numeric percentile", "sed -i '4s/,300,/,fast,/' $F", 1, 0 },
	{ "load_stats_history.csv", "missing", "rm $F", 0, 0 },
	{ "load_failures.csv", "empty", ": >$F", 1, 0 },
	{ "load_failures.csv", "non-numeric occurrences", "sed -i '2s/\",2,/\",two,/' $F", 1, 0 },
	{ "load_failures.csv", "unclosed quote", "sed -i '2s/)\",2,/),2,/' $F", 1, 0 },
	{ "load_failures.csv", "missing", "rm $F", 0, 0 },
	{ "load.json", "truncated", "head -c 200 $F >t && mv t $F", 1, 0 },
	{ "scenario.env", "missing", "rm $F", 0, 0 },
	{ "scenario.env", "non-numeric USERS", "sed -i 's/^USERS=.*/USERS=many/' $F", 1, 0 },
	{ "run.env", "missing", "rm ../run.env", 0, 0 },
};
#define N_DAMAGES (sizeof damages / sizeof damages[0])

static void every_damage_is_named_and_nothing_written(void **state)
{
	int fails = 0;
	(void)state;
	/* the undamaged copy reports; its summary is what harmless damage must give */
	assert_int_equal(sh("rm -rf %s/r && cp -r " FIXTURE " %s/r && %s %s/r >/dev/null 2>&1 && "
			    "cp %s/r/summary.txt %s/summary.good", tmp, tmp, harness_bin("report"),
			    tmp, tmp, tmp), 0);
	for (size_t i = 0; i < N_DAMAGES; i++) {
		const struct damage *d = &damages[i];
		char what[160], named[400], *line;
		const char *base = strrchr(d->file, '/') ? strrchr(d->file, '/') + 1 : d->file;
		int rc, written, has_name, has_line;
		/* the damage must have changed something, or the case proves nothing */
		if (sh("rm -rf %s/r && cp -r " FIXTURE " %s/r && cd %s/r/" SCENARIO " && F=%s && %s "
		       "&& ! diff -rq %s %s/r >/dev/null", tmp, tmp, tmp, d->file, d->cmd,
		       fixture_abs, tmp) != 0) {
			print_message("damage failed: %s %s: %s\n", d->file, d->what, out);
			fails++;
			continue;
		}
		rc = sh("%s %s/r 2>&1 >/dev/null", harness_bin("report"), tmp);
		line = strtok(out, "\n");
		snprintf(named, sizeof named, "%s", line ? line : "");
		/* the temporary folder's name would change the table at every run */
		char dirname[128], *at_dir;
		snprintf(dirname, sizeof dirname, "%s/r", tmp);
		while ((at_dir = strstr(named, dirname)) != NULL) {
			memcpy(at_dir, "RUN_DIR", 7);
			memmove(at_dir + 7, at_dir + strlen(dirname), strlen(at_dir + strlen(dirname)) + 1);
		}
		written = sh("cd %s/r && ls -d REPORT.md report.html summary.txt charts 2>/dev/null | wc -l",
			     tmp) == 0 ? atoi(out) : -1;
		if (d->accepted) {
			int same = rc == 0 && sh("cmp -s %s/r/summary.txt %s/summary.good", tmp, tmp) == 0;
			snprintf(what, sizeof what, "%s %s", d->file, d->what);
			rel_record("report", what, 1, "exit %d, %s", rc,
				   same ? "accepted with the very same summary"
					: "NOT the same summary");
			fails += !same;
			continue;
		}
		has_name = strstr(named, base) != NULL;
		char pat[200];
		snprintf(pat, sizeof pat, "%s:", base);
		const char *at = strstr(named, pat);
		has_line = at && at[strlen(pat)] >= '1' && at[strlen(pat)] <= '9';
		snprintf(what, sizeof what, "%s %s", d->file, d->what);
		rel_record("report", what, 1, "exit %d, \"%s\"%s%s", rc, named,
			   written ? ", SOMETHING WRITTEN" : ", nothing written",
			   has_name && (has_line || !d->want_line) ? "" : " (file/line NOT named)");
		if (rc != 2 || written != 0 || !has_name || (d->want_line && !has_line)) {
			print_message("FAIL: %s: exit %d, written %d: %s\n", what, rc, written, named);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/rel_report.XXXXXX");
	if (realpath(FIXTURE, fixture_abs) == NULL)
		return -1;
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return sh("rm -rf '%s'", tmp) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_damage_is_named_and_nothing_written),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
