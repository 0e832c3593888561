/* ?ms=N and ?cpu_ms=N parsing: the accepted forms and every edge that must be a 400. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "query.h"

static int parse(const char *q, long *ms, const char **why)
{
	return query_task_ms(q, strlen(q), 5000, ms, why);
}

static void absent_ms_gives_the_default(void **state)
{
	long ms = -1;
	const char *why = NULL;
	(void)state;
	assert_int_equal(parse("", &ms, &why), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(parse("x=1&msx=3&ams=4", &ms, &why), 0);
	assert_int_equal(ms, 5000);
}

static void accepts_the_whole_range(void **state)
{
	long ms;
	const char *why;
	(void)state;
	assert_int_equal(parse("ms=0", &ms, &why), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(parse("ms=50", &ms, &why), 0);
	assert_int_equal(ms, 50);
	assert_int_equal(parse("a=b&ms=600000&c", &ms, &why), 0);
	assert_int_equal(ms, 600000);
	assert_int_equal(parse("ms=007", &ms, &why), 0);
	assert_int_equal(ms, 7);
}

static void rejects_bad_values(void **state)
{
	static const char *bad[] = {
		"ms=", "ms", "ms=-1", "ms=+5", "ms= 5", "ms=5 ", "ms=abc", "ms=5x",
		"ms=600001", "ms=99999999999999999999999", "ms=1.5", "ms=0x10", "ms=%35",
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		long ms = 123;
		const char *why = NULL;
		assert_int_equal(parse(bad[i], &ms, &why), -1);
		assert_non_null(why);
		assert_non_null(strstr(why, "ms"));
	}
}

static void rejects_repeated_ms(void **state)
{
	long ms;
	const char *why = NULL;
	(void)state;
	assert_int_equal(parse("ms=1&ms=1", &ms, &why), -1);
	assert_string_equal(why, "ms given more than once");
}

static void reads_only_the_given_length(void **state)
{
	/* the buffer continues past len: "ms=12" must not read the "3" */
	const char buf[] = "ms=123";
	long ms;
	const char *why;
	(void)state;
	assert_int_equal(query_task_ms(buf, 5, 0, &ms, &why), 0);
	assert_int_equal(ms, 12);
}

static int parse_cpu(const char *q, long *ms, const char **why)
{
	return query_cpu_ms(q, strlen(q), 7, ms, why);
}

/* cpu_ms has ms's strictness, its own range, and neither reads the other. */
static void cpu_ms_is_its_own_parameter(void **state)
{
	static const char *bad[] = {
		"cpu_ms=", "cpu_ms", "cpu_ms=-1", "cpu_ms=+5", "cpu_ms= 5", "cpu_ms=5x",
		"cpu_ms=10001", "cpu_ms=99999999999999999999999", "cpu_ms=1.5",
	};
	long ms = -1, cpu = -1;
	const char *why = NULL;
	(void)state;
	assert_int_equal(parse_cpu("", &cpu, &why), 0);
	assert_int_equal(cpu, 7);
	assert_int_equal(parse_cpu("ms=5&xcpu_ms=3&cpu_msx=4", &cpu, &why), 0);
	assert_int_equal(cpu, 7);
	assert_int_equal(parse_cpu("ms=5&cpu_ms=10000", &cpu, &why), 0);
	assert_int_equal(cpu, 10000);
	assert_int_equal(parse("ms=5&cpu_ms=10000", &ms, &why), 0);
	assert_int_equal(ms, 5); /* a task may both wait and work */
	assert_int_equal(parse("cpu_ms=3", &ms, &why), 0);
	assert_int_equal(ms, 5000);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(parse_cpu(bad[i], &cpu, &why), -1);
		assert_string_equal(why, "cpu_ms must be an integer from 0 to 10000");
		assert_int_equal(parse(bad[i], &ms, &why), 0); /* not ms's business */
	}
	assert_int_equal(parse_cpu("cpu_ms=1&cpu_ms=1", &cpu, &why), -1);
	assert_string_equal(why, "cpu_ms given more than once");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(absent_ms_gives_the_default),
		cmocka_unit_test(accepts_the_whole_range),
		cmocka_unit_test(rejects_bad_values),
		cmocka_unit_test(rejects_repeated_ms),
		cmocka_unit_test(reads_only_the_given_length),
		cmocka_unit_test(cpu_ms_is_its_own_parameter),
	};
	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
