/*
 * test_bench_scripts — `make bench` runs for minutes, so `make test` only checks
 * that its scripts would start: bash parses them (bash -n) and Python compiles the
 * FastAPI peer and the locustfile (ast.parse: nothing imported, nothing written).
 * Run from the top of the checkout, as `make test` does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmocka.h>

static int run(const char *cmd)
{
	int status = system(cmd);
	return status == -1 ? -1 : WEXITSTATUS(status);
}

static void bench_sh_parses(void **state)
{
	(void)state;
	assert_int_equal(run("bash -n load/bench.sh"), 0);
	assert_int_equal(run("bash -n load/bench/row_worker.sh"), 0);
}

static void peer_server_sh_parses(void **state)
{
	(void)state;
	assert_int_equal(run("bash -n load/bench/peer_server.sh"), 0);
}

static void python_files_parse(void **state)
{
	(void)state;
	assert_int_equal(run("for f in load/peers/app.py load/bench/locustfile.py; do "
			     "python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' \"$f\" "
			     "|| exit 1; done"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bench_sh_parses),
		cmocka_unit_test(peer_server_sh_parses),
		cmocka_unit_test(python_files_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
