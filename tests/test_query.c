/* ?ms=N parsing: the accepted forms and every edge that must be a 400. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(absent_ms_gives_the_default),
		cmocka_unit_test(accepts_the_whole_range),
		cmocka_unit_test(rejects_bad_values),
		cmocka_unit_test(rejects_repeated_ms),
		cmocka_unit_test(reads_only_the_given_length),
	};
	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
