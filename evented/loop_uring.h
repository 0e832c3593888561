/*
 * loop_uring — the io_uring engine behind loop.h (LOOP_URING); loop.c calls
 * these when l->uring is set, and the engine calls back loop_run_due for the
 * timers. Not for the loop's users: they see loop.h only.
 *
 * The engine's contract, per kind of watch (loop.h), is the epoll engine's:
 * the same events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR), level-
 * triggered, delivered to io->fn on the loop thread. What differs is who does
 * the I/O and when: see loop_uring.c.
 */
#ifndef LOOP_URING_H
#define LOOP_URING_H

#include "loop.h"

enum uring_kind { URING_POLL, URING_STREAM, URING_LISTENER };

int uring_init(struct loop *l);
void uring_free(struct loop *l);
int uring_watch(struct loop *l, struct io *io, uint32_t events, enum uring_kind kind);
int uring_modify(struct loop *l, struct io *io, uint32_t events);
void uring_unwatch(struct loop *l, struct io *io);
int uring_run_once(struct loop *l, int timeout_ms);

/* loop.c's: runs the timers due now (refreshing l->now first); returns how many. */
int loop_run_due(struct loop *l);

#endif
