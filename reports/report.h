/*
 * report — one run folder turned into REPORT.md, report.html and summary.txt,
 * measured beside predicted; the summary is also printed to `out`.
 *
 * report_run returns the program's exit code: 0 written, 2 unreadable input
 * (the message on stderr names the file and line) or a failed write; on 2
 * nothing in the folder has been replaced.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

/* overhead_ms: the model's per-request cost beside the tasks (usually 0). */
int report_run(const char *dir, double overhead_ms, FILE *out);

#endif
