#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *csv_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *grown = realloc(buf, cap);
			if (!grown)
				goto fail;
			buf = grown;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

/*
 * Two passes over the text: the first (on a scratch copy) counts rows and
 * fields so the second can unquote in place and fill arrays sized once.
 * Unquoting only shrinks a field, so the write pointer w never passes s.
 */
static int split(struct csv *c, size_t len, int fill, size_t *nrows, size_t *nfields,
		 char *err, size_t cap)
{
	char *s = c->text, *end = s + len;
	size_t rows = 0, fields = 0;
	int line = 1;
	while (s < end) {
		int row_line = line, nf = 0, more;
		if (fill) {
			c->rows[rows].line = row_line;
			c->rows[rows].f = c->fields + fields;
		}
		do { /* one field */
			char *start = s, *w = s;
			if (*s == '"') {
				for (s++;; ) {
					if (s >= end) {
						snprintf(err, cap, "%s:%d: unclosed quote", c->path, row_line);
						return -1;
					}
					if (*s == '"' && s + 1 < end && s[1] == '"') {
						*w++ = '"';
						s += 2;
					} else if (*s == '"') {
						s++;
						break;
					} else {
						line += *s == '\n';
						*w++ = *s++;
					}
				}
			}
			while (s < end && *s != ',' && *s != '\n' && *s != '\r')
				*w++ = *s++;
			more = s < end && *s == ',';
			if (more) {
				s++;
			} else { /* \r\n, \n or a bare \r ends the row */
				if (s < end && *s == '\r')
					s++;
				if (s < end && *s == '\n')
					s++;
			}
			*w = '\0'; /* w <= the delimiter just read, or text[len] */
			if (fill)
				c->fields[fields] = start;
			fields++;
			nf++;
		} while (more);
		line++;
		if (fill)
			c->rows[rows].nf = nf;
		rows++;
	}
	*nrows = rows;
	*nfields = fields;
	return 0;
}

int csv_load(struct csv *c, const char *path, char *err, size_t cap)
{
	size_t len = 0, nrows = 0, nfields = 0;
	memset(c, 0, sizeof *c);
	snprintf(c->path, sizeof c->path, "%s", path);
	c->text = csv_read_file(path, &len);
	if (!c->text) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (len == 0) {
		snprintf(err, cap, "%s:1: empty file, expected a header line", path);
		goto fail;
	}
	/* count on a scratch copy: the counting pass moves bytes too */
	char *scratch = malloc(len + 1);
	if (!scratch) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		goto fail;
	}
	memcpy(scratch, c->text, len + 1);
	char *keep = c->text;
	c->text = scratch;
	int rc = split(c, len, 0, &nrows, &nfields, err, cap);
	c->text = keep;
	free(scratch);
	if (rc < 0)
		goto fail;
	c->rows = calloc(nrows, sizeof *c->rows);
	c->fields = calloc(nfields, sizeof *c->fields);
	if (!c->rows || !c->fields) {
		snprintf(err, cap, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	if (split(c, len, 1, &c->nrows, &nfields, err, cap) < 0)
		goto fail;
	return 0;
fail:
	csv_free(c);
	return -1;
}

void csv_free(struct csv *c)
{
	free(c->text);
	free(c->rows);
	free(c->fields);
	c->text = NULL;
	c->rows = NULL;
	c->fields = NULL;
	c->nrows = 0;
}

int csv_col(const struct csv *c, const char *name)
{
	if (c->nrows == 0)
		return -1;
	for (int i = 0; i < c->rows[0].nf; i++)
		if (strcmp(c->rows[0].f[i], name) == 0)
			return i;
	return -1;
}

int csv_check_widths(const struct csv *c, char *err, size_t cap)
{
	for (size_t r = 1; r < c->nrows; r++)
		if (c->rows[r].nf != c->rows[0].nf) {
			snprintf(err, cap, "%s:%d: expected %d fields, found %d", c->path,
				 c->rows[r].line, c->rows[0].nf, c->rows[r].nf);
			return -1;
		}
	return 0;
}

int csv_number(const struct csv *c, size_t r, int col, int allow_na, double *out,
	       char *err, size_t cap)
{
	const char *s = c->rows[r].f[col];
	char *end;
	if (allow_na && strcmp(s, "N/A") == 0) {
		*out = NAN;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno == ERANGE || !isfinite(*out)) {
		snprintf(err, cap, "%s:%d: column \"%s\": expected a number, found \"%s\"",
			 c->path, c->rows[r].line, c->rows[0].f[col], s);
		return -1;
	}
	return 0;
}
