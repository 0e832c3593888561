/*
 * fuzz_load_response — libFuzzer target for bin/load's response handling: the
 * bytes a server answers, read by the load generator's own do_read() from a
 * socket, then the server hangs up. load/runner.c keeps its response path
 * static (it is driven by a worker's epoll loop), so this target includes the
 * .c file and builds a one-user worker by hand, in the open model so that
 * finishing a request queues the user instead of sending again. The worker
 * records into its statistics as in a run: every outcome must be logged as
 * exactly one request, a failure carrying an error text.
 */
#include "../../load/runner.c"

#include <fcntl.h>

static struct runner run;
static struct worker wk;
static struct user us;
static struct user *idle_slot[2];

static void setup(void)
{
	run.c.rate = 1; /* open model: finish() parks the user in the idle pool */
	run.c.n_ep = 1;
	snprintf(run.c.url_base, sizeof run.c.url_base, "http://127.0.0.1:9");
	snprintf(run.c.host, sizeof run.c.host, "127.0.0.1:9");
	snprintf(run.c.ep[0].name, sizeof run.c.ep[0].name, "/async_independent");
	wk.r = &run;
	wk.idle = idle_slot;
	wk.st = run_stats_new(1);
	timer_heap_init(&wk.timers);
	if (!wk.st || timer_heap_reserve(&wk.timers, 2) < 0)
		abort();
	parser_settings.on_status = on_status;
	parser_settings.on_body = on_body;
	parser_settings.on_message_complete = on_complete;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	uint64_t before;

	if (wk.r == NULL)
		setup();
	if (size > 150000)
		return 0; /* more than a socket buffer holds */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	int big = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	for (size_t off = 0; off < size; ) {
		ssize_t n = write(sv[0], data + off, size - off);
		if (n <= 0) {
			close(sv[0]);
			close(sv[1]);
			return 0;
		}
		off += (size_t)n;
	}
	close(sv[0]); /* the server hangs up after its bytes */

	memset(&us, 0, sizeof us);
	us.w = &wk;
	us.fd = sv[1];
	timer_init(&us.timer, on_user_timer);
	us.reused = 1;
	us.retried = 1; /* no reconnect: the target is the parse, not the socket */
	us.state = U_READING;
	us.t_start = us.t_intended = mono_ns();
	http_parser_init(&us.parser, HTTP_RESPONSE);
	us.parser.data = &us;
	wk.idle_n = 0;
	before = wk.st->ep[0].reqs;
	do_read(&wk, &us);
	if (wk.st->ep[0].reqs != before + 1 || wk.idle_n != 1)
		abort(); /* one response read must log exactly one request */
	if (us.fd >= 0)
		close(us.fd);
	if (wk.st->n_err > 0 && wk.st->err[wk.st->n_err - 1].text[0] == '\0')
		abort();
	run_stats_clear(wk.st);
	return 0;
}
