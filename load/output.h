/*
 * output — what bin/load writes while and after it runs: Locust's CSV files
 * (stats rewritten and history appended every second), a progress line every 2 s
 * and Locust's three tables at the end on stderr, and the --json summary.
 *
 * output_open returns NULL, and output_finish -1, having printed the reason (call
 * and strerror); output_tick never fails the run (a write error shows at finish).
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include "runner.h"

struct output_opts {
	const char *csv_prefix;  /* NULL: no CSV files */
	int full_history;
	const char *json_path;   /* NULL: no JSON */
	const struct load_config *cfg;
	const char *const *classes; /* the user classes given, for the JSON */
	int n_classes;
	long wall_start;         /* Unix seconds at the start */
	int64_t start_ns;        /* monotonic start (runner_start_ns) */
};

struct output;

struct output *output_open(const struct output_opts *o);
/* Once a second (t = whole seconds since the start): the files and the console. */
void output_tick(struct output *out, const struct run_stats *s, long t);
/* At the end: final files, conservation line, tables, JSON; frees out. */
int output_finish(struct output *out, const struct run_stats *s, int64_t end_ns);

#endif
