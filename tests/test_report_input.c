/* bin/report's readers: CSV as Python writes it, and a run folder's files,
 * good and bad; every error names the file and the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "run_dir.h"

static char tmpdir[256];

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_report_input.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void csv_reads_python_quoting(void **state)
{
	(void)state;
	struct csv c;
	char err[600], path[512];
	put("q.csv", "A,B,C\r\n1,\"x, \"\"y\"\"\",\"two\nlines\"\r\n,,\r\n");
	snprintf(path, sizeof path, "%s/q.csv", tmpdir);
	assert_int_equal(csv_load(&c, path, err, sizeof err), 0);
	assert_int_equal(c.nrows, 3);
	assert_int_equal(c.rows[1].nf, 3);
	assert_string_equal(c.rows[1].f[1], "x, \"y\"");
	assert_string_equal(c.rows[1].f[2], "two\nlines");
	assert_int_equal(c.rows[2].line, 4); /* the quoted newline counted */
	assert_string_equal(c.rows[2].f[0], "");
	assert_int_equal(csv_col(&c, "C"), 2);
	assert_int_equal(csv_col(&c, "D"), -1);
	assert_int_equal(csv_check_widths(&c, err, sizeof err), 0);
	csv_free(&c);
}

static void csv_errors_name_file_and_line(void **state)
{
	(void)state;
	struct csv c;
	char err[600], path[512], want[600];
	double v;

	put("e.csv", "");
	snprintf(path, sizeof path, "%s/e.csv", tmpdir);
	assert_int_equal(csv_load(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:1: empty file", path);
	assert_non_null(strstr(err, want));

	put("u.csv", "A,B\n1,\"open\n");
	snprintf(path, sizeof path, "%s/u.csv", tmpdir);
	assert_int_equal(csv_load(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:2: unclosed quote", path);
	assert_string_equal(err, want);

	put("w.csv", "A,B,C\n1,2,3\n1,2\n");
	snprintf(path, sizeof path, "%s/w.csv", tmpdir);
	assert_int_equal(csv_load(&c, path, err, sizeof err), 0);
	assert_int_equal(csv_check_widths(&c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: expected 3 fields, found 2", path);
	assert_string_equal(err, want);
	assert_int_equal(csv_number(&c, 1, 1, 0, &v, err, sizeof err), 0);
	assert_float_equal(v, 2, 0);
	csv_free(&c);

	put("n.csv", "A,B\n1,abc\n2,N/A\n");
	snprintf(path, sizeof path, "%s/n.csv", tmpdir);
	assert_int_equal(csv_load(&c, path, err, sizeof err), 0);
	assert_int_equal(csv_number(&c, 1, 1, 1, &v, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:2: column \"B\": expected a number, found \"abc\"", path);
	assert_string_equal(err, want);
	assert_int_equal(csv_number(&c, 2, 1, 1, &v, err, sizeof err), 0);
	assert_true(isnan(v));
	assert_int_equal(csv_number(&c, 2, 1, 0, &v, err, sizeof err), -1);
	csv_free(&c);

	snprintf(path, sizeof path, "%s/missing.csv", tmpdir);
	assert_int_equal(csv_load(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	assert_string_equal(err, want);
}

static const char *stats_header =
	"Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
	"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
	"50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n";
static const char *history_header =
	"Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,"
	"99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response "
	"Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,"
	"Total Average Content Size\r\n";

/* A minimal good run folder with one scenario. */
static void good_run(void)
{
	char path[512], text[2048];
	snprintf(path, sizeof path, "%s/01-SyncBaselineUser", tmpdir);
	mkdir(path, 0755);
	put("run.env", "PROFILE=smoke\nLOAD=bin/load\nCPUS=2\n");
	put("01-SyncBaselineUser/scenario.env",
	    "CLASS=SyncBaselineUser\nUSERS=4\nSPAWN_RATE=4\nRUN_TIME_S=2\nTASK_MS=10\n");
	snprintf(text, sizeof text, "%sGET,/sync_baseline,60,0,30,30.5,30.1,33.0,48.0,30.0,0.0,"
		 "30,30,31,31,31,32,33,33,33,33,33\r\n,Aggregated,60,0,30,30.5,30.1,33.0,48.0,"
		 "30.0,0.0,30,30,31,31,31,32,33,33,33,33,33\r\n", stats_header);
	put("01-SyncBaselineUser/load_stats.csv", text);
	snprintf(text, sizeof text, "%s1795620000,4,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,"
		 "N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0\r\n", history_header);
	put("01-SyncBaselineUser/load_stats_history.csv", text);
	put("01-SyncBaselineUser/load_failures.csv", "Method,Name,Error,Occurrences\r\n");
}

static void run_folder_reads(void **state)
{
	(void)state;
	static struct run_dir rd;
	char err[1400];
	good_run();
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), 0);
	assert_int_equal(rd.n, 1);
	assert_string_equal(rd.profile, "smoke");
	assert_string_equal(rd.sc[0].route->path, "/sync_baseline");
	assert_int_equal(rd.sc[0].users, 4);
	assert_int_equal(rd.sc[0].threads, 80);  /* default when absent */
	assert_int_equal(rd.sc[0].helpers, 240); /* 3 x threads */
	assert_int_equal(rd.sc[0].m.row.reqs, 60);
	assert_float_equal(rd.sc[0].m.row.sum_ms, 60 * 30.5, 1e-9);
	assert_int_equal(rd.sc[0].m.row.pct[5], 32);
	assert_int_equal(rd.sc[0].m.nhist, 1);
	assert_true(isnan(rd.sc[0].m.hist[0].p50));
	assert_int_equal(rd.sc[0].m.sent, -1); /* no load.json */
	run_dir_free(&rd);
}

static void expect_error(const char *want_suffix)
{
	static struct run_dir rd;
	char err[1400], want[700];
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/%s", tmpdir, want_suffix);
	if (strcmp(err, want) != 0)
		fail_msg("got \"%s\"\nwant \"%s\"", err, want);
}

static void run_folder_errors_name_file_and_line(void **state)
{
	(void)state;
	char text[2048];
	good_run();
	put("01-SyncBaselineUser/load_stats.csv", "");
	expect_error("01-SyncBaselineUser/load_stats.csv:1: empty file, expected a header line");

	snprintf(text, sizeof text, "%sGET,/sync_baseline,60,0,30\r\n", stats_header);
	put("01-SyncBaselineUser/load_stats.csv", text); /* truncated */
	expect_error("01-SyncBaselineUser/load_stats.csv:2: expected 22 fields, found 5");

	snprintf(text, sizeof text, "%s,Aggregated,sixty,0,30,30.5,30.1,33.0,48.0,30.0,0.0,30,"
		 "30,31,31,31,32,33,33,33,33,33\r\n", stats_header);
	put("01-SyncBaselineUser/load_stats.csv", text);
	expect_error("01-SyncBaselineUser/load_stats.csv:2: column \"Request Count\": expected "
		     "a number, found \"sixty\"");

	snprintf(text, sizeof text, "%s", stats_header);
	put("01-SyncBaselineUser/load_stats.csv", text);
	expect_error("01-SyncBaselineUser/load_stats.csv:1: no Aggregated row");

	put("01-SyncBaselineUser/load_stats.csv", "Type,Name\r\n");
	expect_error("01-SyncBaselineUser/load_stats.csv:1: missing column \"Request Count\"");

	good_run();
	snprintf(text, sizeof text, "%s1795620000,4,,Aggregated,x\r\n", history_header);
	put("01-SyncBaselineUser/load_stats_history.csv", text);
	expect_error("01-SyncBaselineUser/load_stats_history.csv:2: expected 24 fields, found 5");

	good_run();
	put("01-SyncBaselineUser/load_failures.csv",
	    "Method,Name,Error,Occurrences\r\nGET,/x,err,many\r\n");
	expect_error("01-SyncBaselineUser/load_failures.csv:2: column \"Occurrences\": expected "
		     "a number, found \"many\"");

	good_run();
	char path[512];
	snprintf(path, sizeof path, "%s/01-SyncBaselineUser/load_failures.csv", tmpdir);
	unlink(path);
	expect_error("01-SyncBaselineUser/load_failures.csv: No such file or directory");

	good_run();
	put("01-SyncBaselineUser/scenario.env", "CLASS=NoSuchUser\nUSERS=4\n");
	expect_error("01-SyncBaselineUser/scenario.env:1: unknown user class \"NoSuchUser\"");
	put("01-SyncBaselineUser/scenario.env",
	    "CLASS=SyncBaselineUser\nUSERS=4\nSPAWN_RATE=fast\nRUN_TIME_S=2\nTASK_MS=10\n");
	expect_error("01-SyncBaselineUser/scenario.env:3: SPAWN_RATE: expected a number >= 0, "
		     "found \"fast\"");
	put("01-SyncBaselineUser/scenario.env", "CLASS=SyncBaselineUser\nUSERS=4\n");
	expect_error("01-SyncBaselineUser/scenario.env: missing SPAWN_RATE=");
	put("01-SyncBaselineUser/scenario.env", "CLASS=SyncBaselineUser\njunk\n");
	expect_error("01-SyncBaselineUser/scenario.env:2: expected KEY=VALUE, found \"junk\"");

	good_run();
	snprintf(path, sizeof path, "%s/run.env", tmpdir);
	unlink(path);
	expect_error("run.env: No such file or directory");
}

/* Newer Locust adds First Seen / Last Seen; quoted errors hold commas. */
static void failures_with_first_and_last_seen(void **state)
{
	(void)state;
	static struct run_dir rd;
	char err[1400];
	good_run();
	put("01-SyncBaselineUser/load_failures.csv",
	    "Method,Name,Error,Occurrences,First Seen,Last Seen\r\n"
	    "GET,/sync_baseline,\"ConnectionRefusedError(111, 'Connection refused')\",3,1.5,2.5\r\n");
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), 0);
	assert_int_equal(rd.sc[0].m.nerrors, 1);
	assert_int_equal(rd.sc[0].m.errors[0].occurrences, 3);
	assert_string_equal(rd.sc[0].m.errors[0].error,
			    "ConnectionRefusedError(111, 'Connection refused')");
	run_dir_free(&rd);
}

/* Locust's stats.csv lags: the history's last row (more requests) wins. */
static void lagging_stats_give_way_to_history(void **state)
{
	(void)state;
	static struct run_dir rd;
	char err[1400], text[2048];
	good_run();
	snprintf(text, sizeof text, "%s1795620000,4,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,"
		 "N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0\r\n"
		 "1795620002,4,,Aggregated,30.000000,0.000000,30,30,31,31,31,40,40,41,41,41,41,"
		 "70,1,30,31.0,30.1,41.0,48.0\r\n", history_header);
	put("01-SyncBaselineUser/load_stats_history.csv", text);
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), 0);
	struct measured *m = &rd.sc[0].m;
	assert_true(m->from_history);
	assert_int_equal(m->row.reqs, 70);
	assert_int_equal(m->row.fails, 1);
	assert_int_equal(m->row.pct[5], 40);
	assert_float_equal(m->row.max_ms, 41, 1e-9);
	assert_float_equal(m->hist[1].t_s, 2, 1e-9);
	run_dir_free(&rd);
}

/* The model's PostgreSQL CPU per query: PG_CPU_BUSY_MS (the load's own
 * backends at work) when the run has it, else PG_CPU_MS (8 connections);
 * PG_BUSY_OTHERS, what the rest of the machine took beside them, -1 absent. */
static void postgres_cpu_busy_figure_wins(void **state)
{
	(void)state;
	static struct run_dir rd;
	char err[1400];
	const char *base = "CLASS=SyncBaselineUser\nUSERS=4\nSPAWN_RATE=4\nRUN_TIME_S=2\n"
			   "TASK_MS=10\nBACKEND=postgres\nPOOL=80\nPG_CPU_MS=0.2\n";
	char text[512];
	good_run();
	snprintf(text, sizeof text, "%sPG_CPU_BUSY_MS=2.1\nPG_BUSY=1500\nPG_BUSY_OTHERS=0.18\n"
		 "PG_CPU_LOADED_MS=2.2\nPG_QUERY_MS=263.5\nPG_QUERY_SEEN_MS=270.25\n", base);
	put("01-SyncBaselineUser/scenario.env", text);
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), 0);
	assert_float_equal(rd.sc[0].pg_cpu_ms, 2.1, 1e-12);
	assert_float_equal(rd.sc[0].pg_cpu_calibrated_ms, 0.2, 1e-12);
	assert_int_equal(rd.sc[0].pg_busy, 1500);
	assert_float_equal(rd.sc[0].pg_busy_others, 0.18, 1e-12);
	assert_float_equal(rd.sc[0].pg_cpu_loaded_ms, 2.2, 1e-12);
	assert_float_equal(rd.sc[0].pg_query_ms, 263.5, 1e-12);
	assert_float_equal(rd.sc[0].pg_query_seen_ms, 270.25, 1e-12);
	run_dir_free(&rd);
	put("01-SyncBaselineUser/scenario.env", base);
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), 0);
	assert_float_equal(rd.sc[0].pg_cpu_ms, 0.2, 1e-12);
	assert_int_equal(rd.sc[0].pg_busy, 0);
	assert_float_equal(rd.sc[0].pg_busy_others, -1, 1e-12);
	assert_float_equal(rd.sc[0].pg_cpu_loaded_ms, -1, 1e-12);
	assert_float_equal(rd.sc[0].pg_query_ms, -1, 1e-12);
	assert_float_equal(rd.sc[0].pg_query_seen_ms, -1, 1e-12);
	run_dir_free(&rd);
	snprintf(text, sizeof text, "%sPG_CPU_BUSY_MS=lots\n", base);
	put("01-SyncBaselineUser/scenario.env", text);
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), -1);
	assert_non_null(strstr(err, "scenario.env:9: PG_CPU_BUSY_MS"));
	snprintf(text, sizeof text, "%sPG_BUSY_OTHERS=some\n", base);
	put("01-SyncBaselineUser/scenario.env", text);
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), -1);
	assert_non_null(strstr(err, "scenario.env:9: PG_BUSY_OTHERS"));
	snprintf(text, sizeof text, "%sPG_QUERY_SEEN_MS=soon\n", base);
	put("01-SyncBaselineUser/scenario.env", text);
	assert_int_equal(run_dir_load(&rd, tmpdir, err, sizeof err), -1);
	assert_non_null(strstr(err, "scenario.env:9: PG_QUERY_SEEN_MS"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_reads_python_quoting),
		cmocka_unit_test(csv_errors_name_file_and_line),
		cmocka_unit_test(run_folder_reads),
		cmocka_unit_test(run_folder_errors_name_file_and_line),
		cmocka_unit_test(failures_with_first_and_last_seen),
		cmocka_unit_test(lagging_stats_give_way_to_history),
		cmocka_unit_test(postgres_cpu_busy_figure_wins),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
