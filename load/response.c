#include "response.h"

#include <string.h>
#include <strings.h>

/* One look-up per byte. TEXT: visible ASCII, space and tab (what a field
 * value or reason phrase may hold here); TCHAR: RFC 9110 §5.6.2. */
enum { TEXT = 1, TCHAR = 2 };
#define T (TEXT | TCHAR)
static const unsigned char cls[256] = {
	['\t'] = TEXT, [' '] = TEXT, ['!'] = T, ['"'] = TEXT, ['#' ... '\''] = T,
	['(' ... ')'] = TEXT, ['*' ... '+'] = T, [','] = TEXT, ['-' ... '.'] = T, ['/'] = TEXT,
	['0' ... '9'] = T, [':' ... '@'] = TEXT, ['A' ... 'Z'] = T, ['[' ... ']'] = TEXT,
	['^' ... '`'] = T, ['a' ... 'z'] = T, ['{'] = TEXT, ['|'] = T, ['}'] = TEXT, ['~'] = T,
};
#undef T
#define CLASS(ch) cls[(unsigned char)(ch)]

static int is(const char *s, size_t len, const char *lower, size_t lower_len)
{
	return len == lower_len && strncasecmp(s, lower, len) == 0;
}
#define IS(s, len, lit) is(s, len, lit, sizeof lit - 1)

int response_whole(const char *buf, size_t len, struct response *r)
{
	const char *p = buf, *end = buf + len, *head_end;
	int http10, conn_close = 0, conn_keep = 0, conn_seen = 0, have_length = 0;
	uint64_t length = 0;

	head_end = buf + (len < RESPONSE_HEAD_MAX ? len : RESPONSE_HEAD_MAX);
	if (len < 17 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '1' && p[7] != '0') || p[8] != ' ')
		return 0;
	http10 = p[7] == '0';
	p += 9;
	if (p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    p[3] != ' ')
		return 0;
	r->status = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
	if (r->status == 204 || r->status == 304)
		return 0; /* no body whatever the fields say: the parser's business */
	p += 4;
	r->reason = p;
	while (p < head_end && (CLASS(*p) & TEXT))
		p++;
	r->reason_len = (size_t)(p - r->reason);
	if (head_end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return 0;
	p += 2;
	for (;;) {
		const char *name = p, *value, *eol;
		size_t name_len, value_len;

		if (head_end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			break;
		while (p < head_end && (CLASS(*p) & TCHAR))
			p++;
		if (p == name || p == head_end || *p != ':')
			return 0;
		name_len = (size_t)(p - name);
		p++;
		while (p < head_end && (*p == ' ' || *p == '\t'))
			p++;
		value = p;
		while (p < head_end && (CLASS(*p) & TEXT))
			p++;
		eol = p;
		if (head_end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return 0;
		p += 2;
		value_len = (size_t)(eol - value);
		if (IS(name, name_len, "content-length")) {
			if (have_length++ || value_len == 0 || value_len > 15)
				return 0;
			for (size_t i = 0; i < value_len; i++) {
				if (value[i] < '0' || value[i] > '9')
					return 0;
				length = length * 10 + (uint64_t)(value[i] - '0');
			}
		} else if (IS(name, name_len, "connection")) {
			if (conn_seen++)
				return 0;
			if (IS(value, value_len, "close"))
				conn_close = 1;
			else if (IS(value, value_len, "keep-alive"))
				conn_keep = 1;
			else
				return 0;
		} else if (IS(name, name_len, "transfer-encoding") || IS(name, name_len, "upgrade") ||
			   IS(name, name_len, "proxy-connection")) {
			return 0;
		}
	}
	p += 2;
	/* Exactly one whole response: a partial body, or bytes beyond the body,
	 * are the parser's to judge. */
	if (!have_length || (uint64_t)(end - p) != length)
		return 0;
	r->body_len = length;
	r->keep_alive = http10 ? conn_keep : !conn_close;
	return 1;
}
