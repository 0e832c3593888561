/*
 * bin/load --worker against a master that misbehaves (tests/data/misbehaving_master.py,
 * pyzmq + msgpack as Locust's master uses them): every kind of bad frame is logged
 * and ignored, the worker still answers the stop that follows and quits when told;
 * a master of Locust 1.x's protocol is refused with a reason and exit 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rel_common.h"

static char dir[64];

static void start(struct proc *p, const char *log, const char *cmd)
{
	char full[1024];
	snprintf(full, sizeof full, "exec %s >%s/%s 2>&1", cmd, dir, log);
	char *argv[] = { "/bin/sh", "-c", full, NULL };
	assert_int_equal(proc_spawn(p, argv), 0);
}

static char *slurp(const char *name)
{
	static char buf[1 << 16];
	char path[256];
	size_t n = 0;
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int count(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Starts the fake master in `mode` and a worker; returns the worker's exit status. */
static int run(const char *mode, int *master_rc)
{
	struct proc master, worker;
	char cmd[512];
	int port = harness_free_port(), rc;
	double end = harness_now_ms() + 30000;

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/data/misbehaving_master.py %d %s", port, mode);
	start(&master, "master.log", cmd);
	while (strstr(slurp("master.log"), "ready") == NULL && harness_now_ms() < end)
		usleep(50000);
	snprintf(cmd, sizeof cmd, "%s --worker --master-port %d --master-timeout 5 --threads 1",
		 harness_bin("load"), port);
	start(&worker, "worker.log", cmd);
	rc = proc_wait(&worker, 40000);
	*master_rc = proc_wait(&master, 30000);
	return rc;
}

static void bad_frames_are_logged_and_ignored(void **state)
{
	int master_rc, rc = run("garbage", &master_rc);
	char *mlog;
	const char *wlog;
	int sent, ignored;
	(void)state;

	mlog = strdup(slurp("master.log")); /* slurp's buffer is reused below */
	assert_non_null(mlog);
	sent = count(mlog, "sent ") - 1; /* the stop is not bad */
	wlog = slurp("worker.log");
	ignored = count(wlog, "ignored");
	rel_record("load", "--worker: a master sends 10 kinds of bad frames (empty, 0xc1, cut short, "
		   "a byte too many, wrong shapes, unknown type, 2^32 items declared, bad spawns)",
		   sent, "%d/%d logged and ignored; the stop after them answered (%s); exit %d on quit",
		   ignored, sent, strstr(mlog, "alive") ? "client_stopped, client_ready" : "not answered",
		   rc);
	assert_int_equal(master_rc, 0);
	assert_non_null(strstr(mlog, "alive"));
	assert_int_equal(rc, 0);
	assert_int_equal(sent, 10);
	assert_int_equal(ignored, sent);
	free(mlog);
}

static void an_older_protocol_is_refused(void **state)
{
	int master_rc, rc = run("old", &master_rc);
	const char *wlog;
	(void)state;

	wlog = slurp("worker.log");
	rel_record("load", "--worker: a master of Locust 1.x's protocol (spawn with num_users)", 1,
		   "exit %d, \"%s\"", rc,
		   strstr(wlog, "older Locust protocol") ? "the master speaks an older Locust protocol "
		   "... needs a Locust 2.x master" : "no reason given");
	assert_int_equal(rc, 2);
	assert_non_null(strstr(wlog, "needs a Locust 2.x master"));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/rel_worker.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char out[64];
	(void)state;
	harness_sh(out, sizeof out, "rm -rf %s", dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_frames_are_logged_and_ignored),
		cmocka_unit_test(an_older_protocol_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
