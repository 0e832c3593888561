/*
 * charts — the report's SVG charts, drawn by gnuplot (`set terminal svg`) from
 * data files written beside them in one folder:
 *   tNN.svg       response-time percentiles over time, scenario NN
 *   uNN.svg       throughput and users over time, measured and simulated
 *   bars_rps.svg, bars_avg.svg   measured vs predicted, every scenario
 *   sweep_lat.svg, sweep_rps.svg latency and throughput against users with the
 *                 model's curves (only when the run has SWEEP=1 scenarios)
 *
 * charts_draw returns how many charts it drew, or -1 when gnuplot could not run
 * (the message on stderr says why); the report then goes without charts.
 */
#ifndef CHARTS_H
#define CHARTS_H

#include "prediction.h"
#include "run_dir.h"

int charts_draw(const struct run_dir *rd, const struct prediction *pred, const char *dir);

#endif
