#include "response.h"

#include "http_field.h"

#include <string.h>

int response_whole(const char *buf, size_t len, struct response *r)
{
	const char *p = buf, *end = buf + len, *head_end;
	int http10, conn_close = 0, conn_keep = 0, have_length = 0;
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
	while (p < head_end && HTTP_IS(*p, HTTP_TEXT))
		p++;
	r->reason_len = (size_t)(p - r->reason);
	if (head_end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return 0;
	p += 2;
	for (;;) {
		struct http_field f;
		int rc = http_field_next(&p, head_end, &f);

		if (rc < 0)
			return 0;
		if (rc == 0)
			break;
		if (HTTP_FIELD_IS(f.name, f.name_len, "content-length")) {
			if (have_length++ || f.value_len == 0 || f.value_len > 15)
				return 0;
			for (size_t i = 0; i < f.value_len; i++) {
				if (f.value[i] < '0' || f.value[i] > '9')
					return 0;
				length = length * 10 + (uint64_t)(f.value[i] - '0');
			}
		} else if (HTTP_FIELD_IS(f.name, f.name_len, "connection")) {
			if (http_field_connection(&f, &conn_close, &conn_keep) < 0)
				return 0;
		} else if (http_field_reframes(&f)) {
			return 0;
		}
	}
	/* Exactly one whole response: a partial body, or bytes beyond the body,
	 * are the parser's to judge. */
	if (!have_length || (uint64_t)(end - p) != length)
		return 0;
	r->body_len = length;
	r->keep_alive = http10 ? conn_keep : !conn_close;
	return 1;
}
