/*
 * query — the `?ms=N` task-duration override every route accepts.
 *
 * query_task_ms() reads a raw query string (without the '?', not NUL-terminated,
 * may be empty) and stores the task duration in *ms: N when `ms=N` is present, else
 * default_ms. Other parameters are ignored.
 *
 * Returns 0 on success, -1 when `ms` is malformed; then *why names the reason as a
 * static string fit for a 400 body ("ms must be an integer from 0 to 600000").
 * Rejected: empty, signs, spaces, non-digits, leading junk, values above
 * ROUTE_MS_MAX (overflow included), and `ms` given more than once (two values
 * mean the client is confused; picking one would hide it).
 */
#ifndef QUERY_H
#define QUERY_H

#include <stddef.h>

int query_task_ms(const char *query, size_t len, long default_ms, long *ms, const char **why);

#endif
