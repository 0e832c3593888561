/*
 * story — the comparisons a run answers, found from the route table, and who
 * won each, in words derived from the measured numbers (nothing is decided in
 * advance: a run where threads beat events says so).
 *
 * Two scenarios are compared when they ran with the same users and think time:
 *   - threads against events: a blocking-world route and an evented one whose
 *     requests do the same work on the same critical path (the same number of
 *     tasks, in a row or at once), the event-loop mistake excepted;
 *   - the mistake: a route that blocks its event loop against the evented route
 *     with the same critical path done right.
 * The first match of each scenario is taken, so a sweep compares each user count.
 *
 * story_tell returns how many lines it wrote (at most cap).
 */
#ifndef STORY_H
#define STORY_H

#include <stddef.h>

#include "run_dir.h"

struct story_line {
	size_t a, b;      /* the scenarios compared (indexes into the run) */
	char head[160];   /* the question: "Threads against events, 3 tasks in a row" */
	char pair[200];   /* what ran: "/sync_baseline and /async_independent, 50 users" */
	char winner[80];  /* "events won", "neither won" */
	char text[600];   /* by how much: "with 6.2x the throughput (...) and ..." */
};

size_t story_tell(const struct run_dir *rd, struct story_line *out, size_t cap);

#endif
