/*
 * csv — a whole CSV file in memory, as Python's csv module writes it (Locust):
 * `,` separated, fields quoted with `"` when they hold `,`, `"` or a newline
 * (`""` inside for a quote), lines ending in `\r\n` or `\n`.
 *
 * Functions returning int return 0 on success and -1 on failure, with a message
 * "FILE:LINE: what" (or "FILE: strerror") in the caller's err buffer.
 */
#ifndef CSV_H
#define CSV_H

#include <stddef.h>

struct csv_row {
	int line;        /* 1-based line in the file where the row starts */
	int nf;          /* fields */
	char **f;        /* NUL-terminated fields, pointing into the file's copy */
};

struct csv {
	char path[512];
	struct csv_row *rows; /* rows[0] is the header */
	size_t nrows;
	char *text;           /* the file, unquoted in place */
	char **fields;        /* every row's field pointers, in one array */
};

/* The whole file, NUL-terminated (its length in *len), to free(); NULL with
 * errno set when it cannot be opened or read. */
char *csv_read_file(const char *path, size_t *len);

/* Reads and splits path. An empty file is an error; so is an unclosed quote. */
int csv_load(struct csv *c, const char *path, char *err, size_t cap);
void csv_free(struct csv *c);

/* The header's column named `name`, or -1. */
int csv_col(const struct csv *c, const char *name);

/* Every data row must have as many fields as the header. */
int csv_check_widths(const struct csv *c, char *err, size_t cap);

/*
 * The number in row r, column col (a float in Python's repr, or an integer).
 * "N/A" gives NAN when allow_na, else an error naming file, line and column.
 */
int csv_number(const struct csv *c, size_t r, int col, int allow_na, double *out,
	       char *err, size_t cap);

#endif
