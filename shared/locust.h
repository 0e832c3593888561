/*
 * locust — Locust 2.x's numbers and formats, so that bin/load and bin/report print
 * and write exactly what Locust would (see /work/shared/locust-format.md; the rules
 * were read from Locust 2.12.1's stats.py and checked against its real output).
 *
 * Three parts:
 *   - response-time buckets: Locust keeps each response time rounded to two
 *     significant digits ("approximated"); struct locust_buckets counts requests
 *     per bucket, and percentiles and the median are read from it by Locust's rules;
 *   - one stats row (struct locust_row): a (method, name) line, or Aggregated;
 *   - writers: the three console tables and the four CSV files' headers and rows.
 *
 * Writers print to a FILE and return nothing (stdio errors surface at fclose).
 * Formatting helpers return the length written, as snprintf does.
 */
#ifndef LOCUST_H
#define LOCUST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Percentiles Locust reports, and their column labels ("50%" ... "100%"). */
#define LOCUST_NPCT 11
extern const double locust_pct[LOCUST_NPCT];
extern const char *const locust_pct_label[LOCUST_NPCT];

/*
 * Bucketed values: 0..99 step 1, 100..990 step 10, 1000..9900 step 100, then step
 * 1000 up to LOCUST_BUCKET_MAX_MS (one hour); slower requests count in the top
 * bucket. Fixed memory: LOCUST_BUCKETS counters, about 31 KB.
 */
#define LOCUST_BUCKET_MAX_MS 3600000L
#define LOCUST_BUCKETS (280 + (LOCUST_BUCKET_MAX_MS - 10000) / 1000 + 1)

struct locust_buckets {
	uint64_t total;
	uint64_t count[LOCUST_BUCKETS];
};

/* Locust's rounding of a response time in ms: t < 100 -> round(t); < 1000 -> nearest
 * 10; < 10000 -> nearest 100; else nearest 1000. Exact ties go to even (Python round). */
long locust_round_ms(double ms);

/* Bucket index of a bucketed value (clamped into the table), and back. */
int locust_bucket_index(long value);
long locust_bucket_value(int index);

void locust_buckets_add(struct locust_buckets *b, double ms, uint64_t n);
void locust_buckets_merge(struct locust_buckets *dst, const struct locust_buckets *src);
/* dst = a - b, per bucket; b must be an earlier snapshot of a (Locust's window). */
void locust_buckets_diff(struct locust_buckets *dst, const struct locust_buckets *a,
			 const struct locust_buckets *b);

/* The bucketed value at sorted index min(floor(N*p), N-1); 0 when empty. */
long locust_buckets_percentile(const struct locust_buckets *b, double p);

/* The bucketed value at sorted index floor((N-1)/2); 0 when empty (not yet clamped
 * into [min, max]: locust_row_fill does that, as Locust does). */
long locust_buckets_median(const struct locust_buckets *b);

/* One stats row. The caller fills the counts and raw figures, then locust_row_fill
 * derives the median and percentiles from the buckets. */
struct locust_row {
	char method[16];       /* "GET"; "" for the Aggregated row */
	char name[256];        /* "/x", or "Aggregated" */
	uint64_t reqs;         /* requests logged, failures included (as Locust) */
	uint64_t fails;
	double sum_ms;         /* sum of raw response times */
	double min_ms, max_ms; /* raw; meaningful when reqs > 0 */
	double content_bytes;  /* sum of body sizes */
	double rps, fps;       /* requests and failures per second shown in the row */
	/* derived by locust_row_fill */
	double median;         /* bucketed, clamped into [min_ms, max_ms] */
	int median_is_int;     /* Python keeps it an int (bucket < 100, unclamped) */
	long pct[LOCUST_NPCT]; /* bucketed ms; valid when reqs > 0 */
};

void locust_row_fill(struct locust_row *r, const struct locust_buckets *b);

/* Sorts rows by (name, method), the order of Locust's tables and stats.csv. */
void locust_rows_sort(struct locust_row *rows, size_t n);

/* One failure group; `error` is Locust's text, Python's repr of the exception. */
struct locust_error {
	char method[16];
	char name[256];
	char error[512];
	uint64_t occurrences;
};

/* Locust's key of a failure group (StatsError.create_key): the SHA-256 hex digest
 * of "METHOD.NAME.repr(error)"; workers key their errors by it, the master merges
 * by it, and failures.csv is ordered by it. */
void locust_error_key(const struct locust_error *e, char out[65]);
/* Orders failure groups as Locust's failures.csv: by the SHA-256 hex digest of
 * "METHOD.NAME.repr(error)". Returns 0, or -1 when out of memory (order kept). */
int locust_errors_sort(struct locust_error *errs, size_t n);
/* SHA-256 of data as 64 lowercase hex digits and a NUL. */
void locust_sha256_hex(const void *data, size_t len, char out[65]);

/* --- console, as Locust prints at the end of a headless run (names 80 wide) --- */
void locust_print_stats(FILE *f, const struct locust_row *rows, size_t n,
			const struct locust_row *total);
void locust_print_percentiles(FILE *f, const struct locust_row *rows, size_t n,
			      const struct locust_row *total);
/* Prints nothing when n == 0, as Locust. */
void locust_print_errors(FILE *f, const struct locust_error *errs, size_t n);

/* --- CSV files: ',' separated, "\r\n" line ends, floats as Python's repr --- */
void locust_csv_stats_header(FILE *f);
void locust_csv_stats_row(FILE *f, const struct locust_row *r);
void locust_csv_history_header(FILE *f);
/* pct: the percentile cells (cumulative, or Locust's 10 s window with
 * --csv-full-history); printed as N/A when r->reqs == 0. cur_rps/cur_fps as "%f". */
void locust_csv_history_row(FILE *f, long unix_s, long users, const struct locust_row *r,
			    double cur_rps, double cur_fps, const long pct[LOCUST_NPCT]);
void locust_csv_failures_header(FILE *f);
void locust_csv_failures_row(FILE *f, const struct locust_error *e);
void locust_csv_exceptions_header(FILE *f);

/* --- formatting helpers --- */
/* Python's repr(float): shortest round-trip digits, "0.0", "2.0", "1e+16". */
int locust_repr_float(char *buf, size_t cap, double x);
/* Python's repr(str) for ASCII text: quotes chosen as Python does, escapes. */
int locust_repr_str(char *buf, size_t cap, const char *s);
/* A CSV cell as Python's csv module writes it (quoted when it holds , " \r \n). */
void locust_csv_cell(FILE *f, const char *s);

#endif
