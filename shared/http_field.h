/*
 * http_field — the plain header field line both fast paths read (bin/evented's
 * request heads, bin/load's responses): a token name, ':', optional spaces or
 * tabs, a value of visible ASCII, spaces and tabs, CRLF. Nothing else (folded
 * lines, bare LF, control or non-ASCII bytes) is "plain": the caller then
 * declines and leaves the bytes to libhttp-parser.
 *
 * http_field_next returns 1 with *f filled and *p past the line's CRLF, 0 at
 * the blank line that ends a head (*p past it), -1 when the line at *p is not
 * plain or not whole before end (*p unchanged).
 */
#ifndef HTTP_FIELD_H
#define HTTP_FIELD_H

#include <stddef.h>

enum {
	HTTP_TEXT = 1,   /* visible ASCII, space, tab: a value or a reason phrase */
	HTTP_TCHAR = 2,  /* RFC 9110 §5.6.2 token characters */
	HTTP_TARGET = 4, /* visible ASCII but '#': a plain origin-form target */
};

/* One look-up per byte: the classes above, or'ed. */
extern const unsigned char http_byte_class[256];
#define HTTP_IS(ch, cls) (http_byte_class[(unsigned char)(ch)] & (cls))

struct http_field {
	const char *name, *value; /* in the caller's buffer */
	size_t name_len, value_len;
};

/* Inline: called for every field of every request on both hot paths. */
static inline int http_field_next(const char **pp, const char *end, struct http_field *f)
{
	const char *p = *pp;

	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
		*pp = p + 2;
		return 0;
	}
	f->name = p;
	while (p < end && HTTP_IS(*p, HTTP_TCHAR))
		p++;
	if (p == f->name || p == end || *p != ':')
		return -1;
	f->name_len = (size_t)(p - f->name);
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	f->value = p;
	while (p < end && HTTP_IS(*p, HTTP_TEXT))
		p++;
	f->value_len = (size_t)(p - f->value);
	if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return -1;
	*pp = p + 2;
	return 1;
}

/* Case-insensitive comparison with a literal of lower-case letters and '-'.
 * OR-ing 0x20 folds case; for the bytes a plain name or value may hold it
 * folds nothing else onto a letter or '-' (only CR would land on '-'). */
static inline int http_field_is(const char *s, size_t len, const char *lower, size_t lower_len)
{
	if (len != lower_len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((s[i] | 0x20) != lower[i])
			return 0;
	return 1;
}
#define HTTP_FIELD_IS(s, len, lit) http_field_is(s, len, lit, sizeof lit - 1)

/* A Connection field read on a fast path: "close" or "keep-alive" sets *close
 * or *keep; a second Connection field or any other value (a token list,
 * "upgrade") returns -1, and the caller leaves the message to libhttp-parser. */
static inline int http_field_connection(const struct http_field *f, int *close, int *keep)
{
	if (*close || *keep)
		return -1;
	if (HTTP_FIELD_IS(f->value, f->value_len, "close"))
		*close = 1;
	else if (HTTP_FIELD_IS(f->value, f->value_len, "keep-alive"))
		*keep = 1;
	else
		return -1;
	return 0;
}

/* Fields that change how a message is framed or what the connection becomes,
 * which neither fast path handles: 1 for Transfer-Encoding, Upgrade and
 * Proxy-Connection. */
static inline int http_field_reframes(const struct http_field *f)
{
	return HTTP_FIELD_IS(f->name, f->name_len, "transfer-encoding") ||
	       HTTP_FIELD_IS(f->name, f->name_len, "upgrade") ||
	       HTTP_FIELD_IS(f->name, f->name_len, "proxy-connection");
}

#endif
