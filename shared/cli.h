/*
 * cli — what every program's command line needs: numbers in a range, a listen
 * address, and the one-line usage error.
 *
 * Parsers return 0 on success and -1 when the text is not acceptable; they never
 * print. cli_die_usage() prints "PROG: reason" plus a pointer to --help on stderr
 * and exits 2, the project's "bad usage" code.
 */
#ifndef CLI_H
#define CLI_H

#include <netinet/in.h>

/* A whole decimal number in [lo, hi]; no sign unless lo < 0, no trailing junk. */
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* A flag's value parsed as by cli_parse_long, or cli_die_usage() naming the flag
 * and the range: "PROG: --threads must be an integer from 1 to 10000, not 'x'". */
long cli_flag_long(const char *prog, const char *flag, const char *value, long lo, long hi);

/* "HOST:PORT" with HOST a dotted IPv4 address or "localhost", PORT 0..65535. */
int cli_parse_hostport(const char *s, struct sockaddr_in *out);

__attribute__((noreturn, format(printf, 2, 3)))
void cli_die_usage(const char *prog, const char *fmt, ...);

#endif
