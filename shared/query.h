/*
 * query — the per-request overrides every route accepts in its query string:
 * `?ms=N` (a task's wait) and `?cpu_ms=N` (a CPU route's work per task).
 *
 * query_task_ms() and query_cpu_ms() read a raw query string (without the '?',
 * not NUL-terminated, may be empty) and store the value in *ms: N when the
 * parameter is present, else default_ms. Other parameters are ignored.
 *
 * Both return 0 on success, -1 when their parameter is malformed; then *why
 * names the reason as a static string fit for a 400 body ("ms must be an
 * integer from 0 to 600000"). Rejected: empty, signs, spaces, non-digits,
 * leading junk, values above the maximum (ROUTE_MS_MAX, ROUTE_CPU_MS_MAX;
 * overflow included), and the parameter given more than once (two values mean
 * the client is confused; picking one would hide it).
 */
#ifndef QUERY_H
#define QUERY_H

#include <stddef.h>

int query_task_ms(const char *query, size_t len, long default_ms, long *ms, const char **why);
int query_cpu_ms(const char *query, size_t len, long default_ms, long *ms, const char **why);

#endif
