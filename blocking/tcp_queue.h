/*
 * tcp_queue — the server's queue as the kernel sees it, read from /proc/net/tcp:
 * how many connections to our port are owed an answer (in the kernel's accept
 * queue, in CivetWeb's connection ring, or on a worker), and how many of those
 * still sit in the kernel's accept queue. CivetWeb keeps no such count itself.
 *
 * tcp_queue_read() returns 0, or -1 when /proc/net/tcp cannot be read (then the
 * caller shows no queue figures rather than wrong ones). O(sockets on the host):
 * fine for a scrape, not for a request path.
 */
#ifndef TCP_QUEUE_H
#define TCP_QUEUE_H

struct tcp_queue {
	long owed;      /* ESTABLISHED or CLOSE_WAIT with our port as the local one */
	long backlog;   /* accepted by the kernel, not yet by the server (listen rx queue) */
};

int tcp_queue_read(int port, struct tcp_queue *out);

#endif
