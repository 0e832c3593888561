#include "query.h"

#include "routes.h"

#include <string.h>

#define MS_RANGE_MSG "ms must be an integer from 0 to 600000"

int query_task_ms(const char *query, size_t len, long default_ms, long *ms, const char **why)
{
	const char *p = query, *end = query + len;
	int seen = 0;

	*ms = default_ms;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if (stop - p >= 2 && p[0] == 'm' && p[1] == 's' &&
		    (stop - p == 2 || p[2] == '=')) {
			const char *d = p + 3;
			long v = 0;
			if (seen++) {
				*why = "ms given more than once";
				return -1;
			}
			if (stop - p == 2 || d == stop) {
				*why = MS_RANGE_MSG;
				return -1;
			}
			for (; d < stop; d++) {
				if (*d < '0' || *d > '9') {
					*why = MS_RANGE_MSG;
					return -1;
				}
				v = v * 10 + (*d - '0');
				/* Checked per digit, so no run of digits can overflow. */
				if (v > ROUTE_MS_MAX) {
					*why = MS_RANGE_MSG;
					return -1;
				}
			}
			*ms = v;
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
}
