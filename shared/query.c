#include "query.h"

#include "routes.h"

#include <string.h>

#define MS_RANGE_MSG "ms must be an integer from 0 to 600000"
#define CPU_MS_RANGE_MSG "cpu_ms must be an integer from 0 to 10000"

struct param {
	const char *name;
	size_t name_len;        /* counted by the compiler (NAME), not per request */
	long max;
	const char *range_msg;
	const char *repeated_msg;
};

#define NAME(n) n, sizeof n - 1

static const struct param ms_param = { NAME("ms"), ROUTE_MS_MAX, MS_RANGE_MSG,
				       "ms given more than once" };
static const struct param cpu_ms_param = { NAME("cpu_ms"), ROUTE_CPU_MS_MAX, CPU_MS_RANGE_MSG,
					   "cpu_ms given more than once" };

static int parse(const struct param *pa, const char *query, size_t len, long default_ms,
		 long *ms, const char **why)
{
	const char *p = query, *end = query + len;
	size_t nlen = pa->name_len;
	int seen = 0;

	*ms = default_ms;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		size_t plen = (size_t)(stop - p);
		if (plen >= nlen && memcmp(p, pa->name, nlen) == 0 &&
		    (plen == nlen || p[nlen] == '=')) {
			const char *d = p + nlen + 1;
			long v = 0;
			if (seen++) {
				*why = pa->repeated_msg;
				return -1;
			}
			if (plen == nlen || d == stop) {
				*why = pa->range_msg;
				return -1;
			}
			for (; d < stop; d++) {
				if (*d < '0' || *d > '9') {
					*why = pa->range_msg;
					return -1;
				}
				v = v * 10 + (*d - '0');
				/* Checked per digit, so no run of digits can overflow. */
				if (v > pa->max) {
					*why = pa->range_msg;
					return -1;
				}
			}
			*ms = v;
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
}

int query_task_ms(const char *query, size_t len, long default_ms, long *ms, const char **why)
{
	return parse(&ms_param, query, len, default_ms, ms, why);
}

int query_cpu_ms(const char *query, size_t len, long default_ms, long *ms, const char **why)
{
	return parse(&cpu_ms_param, query, len, default_ms, ms, why);
}
