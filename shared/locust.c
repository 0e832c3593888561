#include "locust.h"

#include <math.h> /* isnan, isinf, signbit: macros, no libm */
#include <stdlib.h>
#include <string.h>

const double locust_pct[LOCUST_NPCT] = {
	0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0,
};
const char *const locust_pct_label[LOCUST_NPCT] = {
	"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
};

/* Locust prints names 80 wide when stdout is not a terminal (STATS_NAME_WIDTH). */
#define NAME_WIDTH 80
#define TYPE_WIDTH 8

/* Python's round(x, -k): nearest multiple of 10^k, exact ties to even. Done with
 * integer arithmetic so that every program linking this file needs no libm. */
static long round_to(double x, double unit)
{
	double q = x / unit, frac;
	long i;
	if (!(q > 0))
		return 0;
	if (q > 1e15)
		q = 1e15;
	i = (long)q;
	frac = q - (double)i;
	if (frac > 0.5 || (frac == 0.5 && (i & 1)))
		i++;
	return i * (long)unit;
}

long locust_round_ms(double ms)
{
	if (ms < 100)
		return round_to(ms, 1);
	if (ms < 1000)
		return round_to(ms, 10);
	if (ms < 10000)
		return round_to(ms, 100);
	return round_to(ms, 1000);
}

int locust_bucket_index(long v)
{
	if (v < 0)
		return 0;
	if (v < 100)
		return (int)v;
	if (v < 1000)
		return 100 + (int)((v - 100) / 10);
	if (v < 10000)
		return 190 + (int)((v - 1000) / 100);
	if (v >= LOCUST_BUCKET_MAX_MS)
		return LOCUST_BUCKETS - 1;
	return 280 + (int)((v - 10000) / 1000);
}

long locust_bucket_value(int i)
{
	if (i < 100)
		return i;
	if (i < 190)
		return 100 + (long)(i - 100) * 10;
	if (i < 280)
		return 1000 + (long)(i - 190) * 100;
	return 10000 + (long)(i - 280) * 1000;
}

void locust_buckets_add(struct locust_buckets *b, double ms, uint64_t n)
{
	b->count[locust_bucket_index(locust_round_ms(ms))] += n;
	b->total += n;
}

void locust_buckets_merge(struct locust_buckets *dst, const struct locust_buckets *src)
{
	for (int i = 0; i < LOCUST_BUCKETS; i++)
		dst->count[i] += src->count[i];
	dst->total += src->total;
}

void locust_buckets_diff(struct locust_buckets *dst, const struct locust_buckets *a,
			 const struct locust_buckets *b)
{
	for (int i = 0; i < LOCUST_BUCKETS; i++)
		dst->count[i] = a->count[i] - b->count[i];
	dst->total = a->total - b->total;
}

/* The bucketed value of the element at sorted index idx (< total). */
static long value_at(const struct locust_buckets *b, uint64_t idx)
{
	uint64_t seen = 0;
	for (int i = 0; i < LOCUST_BUCKETS; i++) {
		seen += b->count[i];
		if (seen > idx)
			return locust_bucket_value(i);
	}
	return locust_bucket_value(LOCUST_BUCKETS - 1);
}

long locust_buckets_percentile(const struct locust_buckets *b, double p)
{
	uint64_t idx;
	if (b->total == 0)
		return 0;
	/* int(num_requests * percent) in Python: the same double product, truncated. */
	idx = (uint64_t)((double)b->total * p);
	if (idx > b->total - 1)
		idx = b->total - 1;
	return value_at(b, idx);
}

long locust_buckets_median(const struct locust_buckets *b)
{
	if (b->total == 0)
		return 0;
	return value_at(b, (b->total - 1) / 2);
}

void locust_row_fill(struct locust_row *r, const struct locust_buckets *b)
{
	long m = locust_buckets_median(b);
	r->median = (double)m;
	r->median_is_int = 1;
	if (b->total > 0) {
		/* Python keeps round(t) an int below 100 ms and round(t, -k) a float above. */
		r->median_is_int = m < 100;
		if (r->median > r->max_ms) {
			r->median = r->max_ms;
			r->median_is_int = 0;
		} else if (r->median < r->min_ms) {
			r->median = r->min_ms;
			r->median_is_int = 0;
		}
	}
	for (int i = 0; i < LOCUST_NPCT; i++)
		r->pct[i] = locust_buckets_percentile(b, locust_pct[i]);
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct locust_row *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c != 0 ? c : strcmp(a->method, b->method);
}

void locust_rows_sort(struct locust_row *rows, size_t n)
{
	qsort(rows, n, sizeof *rows, row_cmp);
}

/* ---------------------------------------------------------------- console */

static double fail_ratio(const struct locust_row *r)
{
	if (r->reqs == 0)
		return r->fails > 0 ? 1.0 : 0.0;
	return (double)r->fails / (double)r->reqs;
}

/* Python's "%d" % float truncates toward zero. */
static long trunc_ms(double ms)
{
	return (long)ms;
}

static void stats_line(FILE *f, const struct locust_row *r)
{
	char type[24], fails[48];
	snprintf(type, sizeof type, "%s%s", r->method, r->method[0] ? " " : "");
	snprintf(fails, sizeof fails, "%llu(%.2f%%)", (unsigned long long)r->fails,
		 fail_ratio(r) * 100);
	fprintf(f, "%-*s %-*s %7llu %12s |%7ld %7ld %7ld%7ld | %7.2f %11.2f\n",
		TYPE_WIDTH, type, NAME_WIDTH - TYPE_WIDTH + 4, r->name,
		(unsigned long long)r->reqs, fails,
		r->reqs ? trunc_ms(r->sum_ms / (double)r->reqs) : 0L,
		r->reqs ? trunc_ms(r->min_ms) : 0L, r->reqs ? trunc_ms(r->max_ms) : 0L,
		trunc_ms(r->median), r->rps, r->fps);
}

static void dashes(FILE *f, int n)
{
	for (int i = 0; i < n; i++)
		fputc('-', f);
}

static void stats_separator(FILE *f)
{
	static const int w[] = { TYPE_WIDTH, NAME_WIDTH - TYPE_WIDTH + 4, 7, 13, 7, 7, 7, 7, 8, 11 };
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		if (i > 0)
			fputc('|', f);
		dashes(f, w[i]);
	}
	fputc('\n', f);
}

void locust_print_stats(FILE *f, const struct locust_row *rows, size_t n,
			const struct locust_row *total)
{
	fprintf(f, "%-*s %-*s %7s %12s |%7s %7s %7s%7s | %7s %11s\n", TYPE_WIDTH, "Type",
		NAME_WIDTH - TYPE_WIDTH + 4, "Name", "# reqs", "# fails", "Avg", "Min", "Max",
		"Med", "req/s", "failures/s");
	stats_separator(f);
	for (size_t i = 0; i < n; i++)
		stats_line(f, &rows[i]);
	stats_separator(f);
	stats_line(f, total);
	fputc('\n', f);
}

static void pct_separator(FILE *f)
{
	dashes(f, TYPE_WIDTH);
	fputc('|', f);
	dashes(f, NAME_WIDTH);
	fputc('|', f);
	dashes(f, 8);
	for (int i = 0; i < LOCUST_NPCT; i++) {
		fputc('|', f);
		dashes(f, 6);
	}
	fputc('\n', f);
}

static void pct_line(FILE *f, const struct locust_row *r)
{
	fprintf(f, "%-*s %-*s %8ld", TYPE_WIDTH, r->method, NAME_WIDTH, r->name, r->pct[0]);
	for (int i = 1; i < LOCUST_NPCT; i++)
		fprintf(f, " %6ld", r->pct[i]);
	fprintf(f, " %6llu\n", (unsigned long long)r->reqs);
}

void locust_print_percentiles(FILE *f, const struct locust_row *rows, size_t n,
			      const struct locust_row *total)
{
	fprintf(f, "Response time percentiles (approximated)\n");
	fprintf(f, "%-*s %-*s %8s", TYPE_WIDTH, "Type", NAME_WIDTH, "Name", locust_pct_label[0]);
	for (int i = 1; i < LOCUST_NPCT; i++)
		fprintf(f, " %6s", locust_pct_label[i]);
	fprintf(f, " %6s\n", "# reqs");
	pct_separator(f);
	for (size_t i = 0; i < n; i++)
		if (rows[i].reqs > 0)
			pct_line(f, &rows[i]);
	pct_separator(f);
	if (total->reqs > 0)
		pct_line(f, total);
	fputc('\n', f);
}

void locust_print_errors(FILE *f, const struct locust_error *errs, size_t n)
{
	char what[1024];
	if (n == 0)
		return;
	fprintf(f, "Error report\n");
	fprintf(f, "%-18s %-100s\n", "# occurrences", "Error");
	dashes(f, 18);
	fputc('|', f);
	dashes(f, 80 + NAME_WIDTH - 19);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		snprintf(what, sizeof what, "%s %s: %s", errs[i].method, errs[i].name, errs[i].error);
		fprintf(f, "%-18llu %-100s\n", (unsigned long long)errs[i].occurrences, what);
	}
	dashes(f, 18);
	fputc('|', f);
	dashes(f, 80 + NAME_WIDTH - 19);
	fputc('\n', f);
	fputc('\n', f);
}

/* ------------------------------------------------------- failures order */

/* SHA-256 (FIPS 180-4), only to order failures.csv as Locust does: it sorts its
 * error table by the hex digest of "METHOD.NAME.repr(error text)". */
static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha_k[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void locust_sha256_hex(const void *data, size_t len, char out[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const unsigned char *p = data;
	unsigned char tail[128] = { 0 };
	size_t rest = len % 64, n = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i + 64 <= len; i += 64)
		sha_block(h, p + i);
	memcpy(tail, p + len - rest, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[n - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha_block(h, tail);
	if (n == 128)
		sha_block(h, tail + 64);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", h[i]);
}

struct keyed_error {
	char key[65];
	struct locust_error e;
};

static int keyed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct keyed_error *)a)->key, ((const struct keyed_error *)b)->key);
}

void locust_error_key(const struct locust_error *e, char out[65])
{
	char quoted[1100], text[1400];
	int len;
	locust_repr_str(quoted, sizeof quoted, e->error);
	len = snprintf(text, sizeof text, "%s.%s.%s", e->method, e->name, quoted);
	locust_sha256_hex(text, (size_t)len < sizeof text ? (size_t)len : sizeof text - 1, out);
}

int locust_errors_sort(struct locust_error *errs, size_t n)
{
	struct keyed_error *k = calloc(n ? n : 1, sizeof *k);
	if (k == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		locust_error_key(&errs[i], k[i].key);
		k[i].e = errs[i];
	}
	qsort(k, n, sizeof *k, keyed_cmp);
	for (size_t i = 0; i < n; i++)
		errs[i] = k[i].e;
	free(k);
	return 0;
}

/* -------------------------------------------------------------------- CSV */

void locust_csv_cell(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void cell_float(FILE *f, double x)
{
	char buf[40];
	locust_repr_float(buf, sizeof buf, x);
	fputs(buf, f);
}

static const char *const stats_columns =
	"Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
	"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s";

static void pct_labels(FILE *f)
{
	for (int i = 0; i < LOCUST_NPCT; i++)
		fprintf(f, ",%s", locust_pct_label[i]);
}

void locust_csv_stats_header(FILE *f)
{
	fputs(stats_columns, f);
	pct_labels(f);
	fputs("\r\n", f);
}

/* The cells Locust computes the same way in stats.csv and the history's totals:
 * Python keeps an int where the value was never a float (no requests yet). */
static void cell_median(FILE *f, const struct locust_row *r)
{
	if (r->median_is_int)
		fprintf(f, "%ld", (long)r->median);
	else
		cell_float(f, r->median);
}

static void cell_avg(FILE *f, const struct locust_row *r)
{
	cell_float(f, r->reqs ? r->sum_ms / (double)r->reqs : 0.0);
}

static void cell_min(FILE *f, const struct locust_row *r)
{
	/* `min_response_time or 0`: None and 0.0 both print as the int 0 */
	if (r->reqs && r->min_ms != 0.0)
		cell_float(f, r->min_ms);
	else
		fputc('0', f);
}

static void cell_max(FILE *f, const struct locust_row *r)
{
	if (r->reqs && r->max_ms > 0.0)
		cell_float(f, r->max_ms);
	else
		fputc('0', f);
}

static void cell_content(FILE *f, const struct locust_row *r)
{
	if (r->reqs)
		cell_float(f, r->content_bytes / (double)r->reqs);
	else
		fputc('0', f);
}

static void pct_cells(FILE *f, const struct locust_row *r, const long pct[LOCUST_NPCT])
{
	for (int i = 0; i < LOCUST_NPCT; i++) {
		if (r->reqs)
			fprintf(f, ",%ld", pct[i]);
		else
			fputs(",N/A", f);
	}
}

/* ",reqs,fails,median,avg,min,max,content": the stats row's and the history
 * row's shared run of cells. */
static void summary_cells(FILE *f, const struct locust_row *r)
{
	fprintf(f, ",%llu,%llu,", (unsigned long long)r->reqs, (unsigned long long)r->fails);
	cell_median(f, r);
	fputc(',', f);
	cell_avg(f, r);
	fputc(',', f);
	cell_min(f, r);
	fputc(',', f);
	cell_max(f, r);
	fputc(',', f);
	cell_content(f, r);
}

void locust_csv_stats_row(FILE *f, const struct locust_row *r)
{
	locust_csv_cell(f, r->method);
	fputc(',', f);
	locust_csv_cell(f, r->name);
	summary_cells(f, r);
	fputc(',', f);
	cell_float(f, r->rps);
	fputc(',', f);
	cell_float(f, r->fps);
	pct_cells(f, r, r->pct);
	fputs("\r\n", f);
}

void locust_csv_history_header(FILE *f)
{
	fputs("Timestamp,User Count,Type,Name,Requests/s,Failures/s", f);
	pct_labels(f);
	fputs(",Total Request Count,Total Failure Count,Total Median Response Time,"
	      "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
	      "Total Average Content Size\r\n", f);
}

void locust_csv_history_row(FILE *f, long unix_s, long users, const struct locust_row *r,
			    double cur_rps, double cur_fps, const long pct[LOCUST_NPCT])
{
	fprintf(f, "%ld,%ld,", unix_s, users);
	locust_csv_cell(f, r->method);
	fputc(',', f);
	locust_csv_cell(f, r->name);
	fprintf(f, ",%f,%f", cur_rps, cur_fps);
	pct_cells(f, r, pct);
	summary_cells(f, r);
	fputs("\r\n", f);
}

void locust_csv_failures_header(FILE *f)
{
	fputs("Method,Name,Error,Occurrences\r\n", f);
}

void locust_csv_failures_row(FILE *f, const struct locust_error *e)
{
	locust_csv_cell(f, e->method);
	fputc(',', f);
	locust_csv_cell(f, e->name);
	fputc(',', f);
	locust_csv_cell(f, e->error);
	fprintf(f, ",%llu\r\n", (unsigned long long)e->occurrences);
}

void locust_csv_exceptions_header(FILE *f)
{
	fputs("Count,Message,Traceback,Nodes\r\n", f);
}

/* ------------------------------------------------------------- formatting */

int locust_repr_float(char *buf, size_t cap, double x)
{
	char tmp[48], digits[24];
	int exp, nd = 0, neg, p, len = 0;
	const char *s;

	if (isnan(x))
		return snprintf(buf, cap, "nan");
	if (isinf(x))
		return snprintf(buf, cap, x < 0 ? "-inf" : "inf");
	if (x == 0)
		return snprintf(buf, cap, signbit(x) ? "-0.0" : "0.0");
	/* Shortest digit string that reads back as x: what repr() prints. */
	for (p = 1; p < 17; p++) {
		snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
		if (strtod(tmp, NULL) == x)
			break;
	}
	if (p == 17)
		snprintf(tmp, sizeof tmp, "%.16e", x);
	neg = tmp[0] == '-';
	for (s = tmp + neg; *s && *s != 'e'; s++)
		if (*s != '.')
			digits[nd++] = *s;
	exp = atoi(s + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';

#define PUT(...) (len += snprintf(buf + len, (size_t)len < cap ? cap - (size_t)len : 0, __VA_ARGS__))
	if (neg)
		PUT("-");
	if (exp < -4 || exp >= 16) {
		/* repr switches to exponent form when the point leaves [-4, 16) */
		PUT("%c", digits[0]);
		if (nd > 1)
			PUT(".%s", digits + 1);
		PUT("e%c%02d", exp < 0 ? '-' : '+', abs(exp));
	} else if (exp < 0) {
		PUT("0.");
		for (int i = 0; i < -exp - 1; i++)
			PUT("0");
		PUT("%s", digits);
	} else {
		for (int i = 0; i <= exp; i++)
			PUT("%c", i < nd ? digits[i] : '0');
		PUT(".%s", nd > exp + 1 ? digits + exp + 1 : "0");
	}
#undef PUT
	return len;
}

int locust_repr_str(char *buf, size_t cap, const char *s)
{
	/* Python picks single quotes unless the text has ' and no ". */
	char q = (strchr(s, '\'') && !strchr(s, '"')) ? '"' : '\'';
	size_t len = 0;

#define PUTC(c) do { if (len + 1 < cap) buf[len] = (c); len++; } while (0)
	PUTC(q);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c == '\\' || c == (unsigned char)q) {
			PUTC('\\');
			PUTC((char)c);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			PUTC('\\');
			PUTC(c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			for (char *e = esc; *e; e++)
				PUTC(*e);
		} else {
			PUTC((char)c);
		}
	}
	PUTC(q);
#undef PUTC
	if (cap > 0)
		buf[len < cap ? len : cap - 1] = '\0';
	return (int)len;
}
