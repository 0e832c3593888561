/*
 * prediction — the model's answer for one scenario in the shape Locust prints:
 * the closed form, the simulated run, and the Locust stats row built from it.
 *
 * prediction_make returns 0, or -1 with errno set (EINVAL, ENOMEM).
 */
#ifndef PREDICTION_H
#define PREDICTION_H

#include <stdio.h>

#include "locust.h"
#include "model.h"

struct prediction {
	struct model_scenario sc;
	struct model_steady steady;
	struct model_run run;
	struct locust_row row;     /* "GET /path": what Locust would print */
	struct locust_row total;   /* the Aggregated row (the same numbers) */
};

int prediction_make(struct prediction *p, const struct model_scenario *sc);
void prediction_free(struct prediction *p);

/* One line: S, C, X, R and which bound binds. */
void prediction_print_closed_form(FILE *f, const struct prediction *p);

/* Under LIFO, Locust's table hides the users it never answered: one line with how
 * many users the model's run served and how many Little's law finds in service in
 * the measured X (req/s) and R (mean ms). Nothing for other orders. */
void prediction_print_served(FILE *f, const struct prediction *p, double x_per_s, double r_ms);

/* The tables the load test would end with, as Locust prints them, then the
 * closed-form line and what the simulation adds (unfinished requests). */
void prediction_print(FILE *f, const struct prediction *p);

#endif
