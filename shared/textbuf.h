/*
 * textbuf — printf into a caller-owned buffer, for texts built from many pieces
 * (the servers' /metrics pages).
 *
 * Overflow is remembered instead of reported per call, so a writer appends
 * freely and checks once at the end: textbuf_len() is 0 when anything did not
 * fit (the text is then incomplete and must not be sent).
 */
#ifndef TEXTBUF_H
#define TEXTBUF_H

#include <stddef.h>

struct textbuf {
	char *buf;
	size_t cap, len;
	int overflow;
};

static inline void textbuf_init(struct textbuf *t, char *buf, size_t cap)
{
	t->buf = buf;
	t->cap = cap;
	t->len = 0;
	t->overflow = cap == 0;
}

__attribute__((format(printf, 2, 3)))
void textbuf_printf(struct textbuf *t, const char *fmt, ...);

/* Length of the text, or 0 when it overflowed. */
static inline size_t textbuf_len(const struct textbuf *t)
{
	return t->overflow ? 0 : t->len;
}

#endif
