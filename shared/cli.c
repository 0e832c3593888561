#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || (*s == '-' && lo >= 0) || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

long cli_flag_long(const char *prog, const char *flag, const char *value, long lo, long hi)
{
	long v;

	if (cli_parse_long(value, lo, hi, &v) < 0)
		cli_die_usage(prog, "%s must be an integer from %ld to %ld, not '%s'", flag, lo, hi,
			      value);
	return v;
}

int cli_parse_hostport(const char *s, struct sockaddr_in *out)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	long port;
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (cli_parse_long(colon + 1, 0, 65535, &port) < 0)
		return -1;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((unsigned short)port);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

void cli_die_usage(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", prog);
	exit(2);
}
