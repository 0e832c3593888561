/*
 * charts — the report's SVG charts (drawn by svg.c) and the data behind them,
 * written into one folder:
 *   bars.svg      every scenario's throughput and mean response time, measured
 *                 beside predicted, on log scales (bars.dat)
 *   uNN.svg       scenario NN's requests per second and users over time, measured
 *                 beside the simulation's (hNN.dat measured, mNN.dat simulated)
 *   tNN.svg       scenario NN's p50 and p95 over time, over the last 10 s as
 *                 Locust reads them, measured beside the simulation's
 *   sweep_lat.svg, sweep_rps.svg  latency and throughput against users, a panel
 *                 per route, with the model's curves (only when the run has
 *                 SWEEP=1 scenarios; sweepK.dat)
 *   sweep_mem.svg the same routes' resident memory per user and threads
 *                 against users (when the sweep recorded SERVER_RSS_KB)
 * Running bin/report on the run folder again redraws them.
 *
 * charts_draw returns how many charts it drew, or -1 when a file could not be
 * written (the message on stderr says why); the report then goes without charts.
 */
#ifndef CHARTS_H
#define CHARTS_H

#include "prediction.h"
#include "run_dir.h"

int charts_draw(const struct run_dir *rd, const struct prediction *pred, const char *dir);

#endif
