/*
 * loop_uring — the io_uring engine behind loop.h: completion underneath,
 * readiness on top, so that server.c (and anything else on the loop) runs
 * unchanged on either engine.
 *
 * Why it exists: with epoll a keep-alive request costs the server one recv and
 * one send system call, and every system call on this machine pays a fixed
 * entry cost (docs/PERFORMANCE.md). Here the kernel does the same receiving and
 * sending, but the loop asks for it in batches: one io_uring_enter per loop pass
 * submits every send queued during the pass and collects every completion.
 *
 * What each kind of watch becomes (loop.h):
 * - stream: one multishot recv into a ring of provided buffers (the kernel
 *   picks a free buffer per arrival). Received chunks wait on the descriptor's
 *   slot until loop_recv copies them out, which hands the buffer straight back.
 *   loop_send copies into a send buffer the loop owns and queues an
 *   IORING_OP_SEND; at most one send per descriptor is in flight (two sends on
 *   one socket may complete out of order), the rest waits behind it, and at
 *   LOOP_SEND_QUEUE bytes loop_send says EAGAIN as send() would on a full
 *   socket. Not reading (EPOLLIN dropped from the interest) cancels the recv,
 *   so the client's bytes stay in the kernel, as with epoll; a poll for
 *   POLLRDHUP still reports a hang-up meanwhile.
 * - listener: one multishot accept; accepted descriptors wait on the slot for
 *   loop_accept. Dropping EPOLLIN cancels it (the backlog stays in the kernel).
 * - any other descriptor: a one-shot IORING_OP_POLL_ADD, re-armed after each
 *   event while the interest lasts: level-triggered, like the epoll engine.
 * - timers: the loop's heap as before; its earliest deadline is the timeout of
 *   the io_uring_enter that waits, so no timerfd and no system call to arm one.
 *
 * Readiness is level-triggered as under epoll: after a descriptor's handler
 * ran, if it still has something for its interest (input it did not take,
 * room to send while it wants EPOLLOUT), it is handed the event again on the
 * next pass, and that pass does not wait.
 *
 * A descriptor's state is a slot indexed by the descriptor number, owned by the
 * engine, never the caller's struct io (which may be freed while the kernel
 * still completes operations for it). Completions name the slot by descriptor,
 * the slot's generation (bumped each time it is released) and the operation's
 * arming sequence, so a completion for a closed descriptor, or for an older
 * arming of the same operation, is recognised and dropped. Sends name their
 * buffer instead.
 *
 * Closing a stream with sends still queued keeps the descriptor open until
 * they have left (what close() does for data already in a socket's buffer);
 * a shutdown asked for meanwhile waits for them too.
 *
 * The ring is created disabled by the thread that sets the server up and
 * enabled by the loop's own thread on its first pass: IORING_SETUP_SINGLE_ISSUER
 * and DEFER_TASKRUN (completions are produced only when this thread enters the
 * kernel, in one batch) want a single submitting thread. Kernels without them
 * get a plain ring. Multishot recv and buffer rings need Linux 6.0: older
 * kernels are refused at start-up with the reason, not served badly.
 */
#include "loop_uring.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#define MS 1000000LL
#define RING_ENTRIES 4096     /* submissions per io_uring_enter before one is forced */
#define CQ_ENTRIES 16384
#define BUF_GROUP 1
#define BUF_COUNT 4096        /* provided receive buffers, a power of two: one per */
#define BUF_SIZE 2048         /* connection whose bytes arrive in the same pass */
#define SEND_BLOCK 1024       /* a send buffer for one ordinary answer, recycled */
#define SEND_FREE_MAX 4096    /* recycled send buffers kept */
#define EXIT_WAIT_MS 1000     /* at loop_free, how long queued sends may take to leave */

_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR &&
		       EPOLLHUP == POLLHUP && EPOLLRDHUP == POLLRDHUP,
	       "epoll and poll event bits are the same bits");

/* user_data: a send's buffer pointer (16-byte aligned, low bits 0), or
 * fd << 32 | generation << 12 | arming sequence << 4 | operation. */
enum op { OP_SEND, OP_POLL, OP_RECV, OP_ACCEPT, OP_RDHUP, OP_IGNORE };
#define GEN_MASK 0xfffffu

enum {
	F_USED = 1 << 0,     /* watched, or closing */
	F_READY = 1 << 1,    /* on the ready list */
	F_ARMED = 1 << 2,    /* its recv, accept or poll is in the kernel */
	F_RDHUP = 1 << 3,    /* a POLLRDHUP poll is in the kernel (stream not reading) */
	F_EOF = 1 << 4,      /* the peer's FIN has been received */
	F_CLOSING = 1 << 5,  /* closed by its owner; descriptor open until sends leave */
	F_SHUT = 1 << 6,     /* shutdown(SHUT_WR) once sends leave */
	F_STARVED = 1 << 7,  /* recv ended for want of buffers: re-armed when some return */
	F_KEEPFD = 1 << 8,   /* unwatched, not closed: release without close() */
};

struct usend {
	struct usend *next;  /* the recycled list */
	int fd;
	uint32_t gen;
	uint32_t len, off, cap;
	char data[];
};

struct acceptq {
	int *v;              /* descriptors, or -errno for a failed accept */
	uint32_t head, len, cap;
};

struct slot {
	struct io *io;       /* the owner; NULL while closing or free */
	uint32_t gen;
	uint32_t interest;   /* EPOLL* bits */
	uint32_t revents;    /* polled events not yet handed over */
	uint32_t poll_mask;  /* what the armed poll asks for */
	uint16_t flags;
	uint8_t kind;
	uint8_t seq;         /* arming of the current recv, accept or poll */
	uint8_t rdhup_seq;
	int err;             /* a stream's first send or receive error, as errno */
	int32_t in_head, in_tail; /* received chunks, by buffer id, -1: none */
	uint32_t in_off;     /* bytes of the head chunk already taken */
	uint32_t out_bytes;  /* queued by loop_send, not yet sent */
	struct usend *sending, *queued;
	struct acceptq *acc;
};

struct fdlist {
	int *v;
	uint32_t len, cap;
};

struct uring {
	struct io_uring ring;
	int disabled;        /* created disabled: enable on the loop thread's first pass */
	struct slot *slot;
	uint32_t nslots;
	struct fdlist ready, later, starved;
	struct io_uring_buf_ring *br;
	char *bufs;
	uint32_t chunk_len[BUF_COUNT];
	int32_t chunk_next[BUF_COUNT];
	uint32_t bufs_held;  /* buffers holding received bytes not yet taken */
	struct usend *free_sends;
	uint32_t nfree;
	uint32_t closing;    /* slots waiting for their sends before close() */
};

static uint64_t ud_make(int fd, const struct slot *s, uint8_t seq, enum op op)
{
	return (uint64_t)(uint32_t)fd << 32 | (uint64_t)(s->gen & GEN_MASK) << 12 |
	       (uint64_t)seq << 4 | (uint64_t)op;
}

static int push(struct fdlist *l, int fd)
{
	if (l->len == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 256;
		int *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->len++] = fd;
	return 0;
}

/* An SQE, submitting what is queued first when the ring is full. */
static struct io_uring_sqe *sqe_get(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe == NULL && !u->disabled) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (sqe == NULL) {
		/* Only a disabled ring (set-up, a handful of watches) can be full. */
		fprintf(stderr, "evented: io_uring_get_sqe: submission queue full\n");
		abort();
	}
	return sqe;
}

static void sqe_cancel(struct uring *u, uint64_t ud)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	io_uring_prep_cancel64(sqe, ud, 0);
	io_uring_sqe_set_data64(sqe, OP_IGNORE);
}

static void mark_ready(struct uring *u, struct slot *s, int fd)
{
	if (s->flags & F_READY)
		return;
	if (push(&u->ready, fd) < 0) {
		fprintf(stderr, "evented: io_uring ready list: %s\n", strerror(ENOMEM));
		abort();
	}
	s->flags |= F_READY;
}

/* ---- what a slot has for its owner ---- */

static uint32_t slot_events(const struct slot *s)
{
	uint32_t ev = s->revents;

	switch (s->kind) {
	case URING_STREAM:
		if (s->in_head >= 0 || (s->flags & F_EOF) || s->err)
			ev |= EPOLLIN;
		if (s->flags & F_EOF)
			ev |= EPOLLRDHUP;
		if (s->err)
			ev |= EPOLLERR;
		else if (s->out_bytes < LOOP_SEND_QUEUE && !(s->flags & F_SHUT))
			ev |= EPOLLOUT;
		break;
	case URING_LISTENER:
		if (s->acc && s->acc->head < s->acc->len)
			ev |= EPOLLIN;
		break;
	}
	return ev & (s->interest | EPOLLERR | EPOLLHUP);
}

/* ---- receive buffers ---- */

static void buf_return(struct uring *u, uint32_t bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(BUF_COUNT), 0);
	io_uring_buf_ring_advance(u->br, 1);
}

static void chunk_add(struct uring *u, struct slot *s, uint32_t bid, uint32_t len)
{
	u->chunk_len[bid] = len;
	u->chunk_next[bid] = -1;
	if (s->in_tail >= 0)
		u->chunk_next[s->in_tail] = (int32_t)bid;
	else
		s->in_head = (int32_t)bid;
	s->in_tail = (int32_t)bid;
	u->bufs_held++;
}

static void chunks_drop(struct uring *u, struct slot *s)
{
	while (s->in_head >= 0) {
		int32_t bid = s->in_head;
		s->in_head = u->chunk_next[bid];
		buf_return(u, (uint32_t)bid);
		u->bufs_held--;
	}
	s->in_tail = -1;
	s->in_off = 0;
}

/* ---- arming ---- */

static void arm_recv(struct uring *u, struct slot *s, int fd)
{
	struct io_uring_sqe *sqe;

	if ((s->flags & (F_ARMED | F_EOF | F_CLOSING | F_STARVED)) || s->err ||
	    !(s->interest & EPOLLIN))
		return;
	sqe = sqe_get(u);
	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BUF_GROUP;
	s->seq++;
	io_uring_sqe_set_data64(sqe, ud_make(fd, s, s->seq, OP_RECV));
	s->flags |= F_ARMED;
}

static void arm_poll(struct uring *u, struct slot *s, int fd, enum op op, uint32_t mask)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	uint8_t seq;

	io_uring_prep_poll_add(sqe, fd, mask);
	if (op == OP_RDHUP) {
		seq = ++s->rdhup_seq;
		s->flags |= F_RDHUP;
	} else {
		seq = ++s->seq;
		s->flags |= F_ARMED;
		s->poll_mask = mask;
	}
	io_uring_sqe_set_data64(sqe, ud_make(fd, s, seq, op));
}

static void arm_accept(struct uring *u, struct slot *s, int fd)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	s->seq++;
	io_uring_sqe_set_data64(sqe, ud_make(fd, s, s->seq, OP_ACCEPT));
	s->flags |= F_ARMED;
}

/* Brings what is in the kernel in line with s->interest, and queues the slot
 * when it already has something for its owner. */
static void arm(struct uring *u, struct slot *s, int fd)
{
	uint32_t want = s->interest & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI);

	switch (s->kind) {
	case URING_POLL:
		if ((s->flags & F_ARMED) && s->poll_mask != want) {
			struct io_uring_sqe *sqe = sqe_get(u);
			io_uring_prep_poll_remove(sqe, ud_make(fd, s, s->seq, OP_POLL));
			io_uring_sqe_set_data64(sqe, OP_IGNORE);
			s->flags &= (uint16_t)~F_ARMED;
		}
		if (want && !(s->flags & F_ARMED))
			arm_poll(u, s, fd, OP_POLL, want);
		break;
	case URING_STREAM:
		if (!(s->interest & EPOLLIN) && (s->flags & F_ARMED)) {
			sqe_cancel(u, ud_make(fd, s, s->seq, OP_RECV));
			s->flags &= (uint16_t)~F_ARMED;
		}
		arm_recv(u, s, fd);
		/* Not reading: a hang-up must still be heard. */
		if (!(s->interest & EPOLLIN) && (s->interest & EPOLLRDHUP) &&
		    !(s->flags & (F_RDHUP | F_EOF)))
			arm_poll(u, s, fd, OP_RDHUP, POLLRDHUP);
		break;
	case URING_LISTENER:
		if (!(s->interest & EPOLLIN) && (s->flags & F_ARMED)) {
			sqe_cancel(u, ud_make(fd, s, s->seq, OP_ACCEPT));
			s->flags &= (uint16_t)~F_ARMED;
		}
		if ((s->interest & EPOLLIN) && !(s->flags & F_ARMED))
			arm_accept(u, s, fd);
		break;
	}
	if (s->io && slot_events(s))
		mark_ready(u, s, fd);
}

/* Cancels what s has in the kernel; the cancelled operations' last
 * completions find the slot released (or re-armed) and are dropped. */
static void disarm(struct uring *u, struct slot *s, int fd)
{
	if (s->flags & F_ARMED) {
		if (s->kind == URING_POLL) {
			struct io_uring_sqe *sqe = sqe_get(u);
			io_uring_prep_poll_remove(sqe, ud_make(fd, s, s->seq, OP_POLL));
			io_uring_sqe_set_data64(sqe, OP_IGNORE);
		} else {
			sqe_cancel(u, ud_make(fd, s, s->seq,
					      s->kind == URING_STREAM ? OP_RECV : OP_ACCEPT));
		}
	}
	if (s->flags & F_RDHUP) {
		struct io_uring_sqe *sqe = sqe_get(u);
		io_uring_prep_poll_remove(sqe, ud_make(fd, s, s->rdhup_seq, OP_RDHUP));
		io_uring_sqe_set_data64(sqe, OP_IGNORE);
	}
	s->flags &= (uint16_t)~(F_ARMED | F_RDHUP);
}

/* ---- sends ---- */

static struct usend *usend_new(struct uring *u, uint32_t need)
{
	struct usend *b;

	if (need <= SEND_BLOCK && u->free_sends) {
		b = u->free_sends;
		u->free_sends = b->next;
		u->nfree--;
	} else {
		uint32_t cap = need <= SEND_BLOCK ? SEND_BLOCK : need;
		b = malloc(sizeof *b + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
	}
	b->len = b->off = 0;
	return b;
}

static void usend_free(struct uring *u, struct usend *b)
{
	if (b == NULL)
		return;
	if (b->cap == SEND_BLOCK && u->nfree < SEND_FREE_MAX) {
		b->next = u->free_sends;
		u->free_sends = b;
		u->nfree++;
	} else {
		free(b);
	}
}

static void submit_send(struct uring *u, struct usend *b)
{
	struct io_uring_sqe *sqe = sqe_get(u);
	io_uring_prep_send(sqe, b->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)b);
}

static void slot_release(struct uring *u, struct slot *s, int fd)
{
	if (!(s->flags & F_KEEPFD))
		close(fd);
	if (s->flags & F_CLOSING)
		u->closing--;
	chunks_drop(u, s);
	if (s->acc) {
		for (uint32_t i = s->acc->head; i < s->acc->len; i++)
			if (s->acc->v[i] >= 0)
				close(s->acc->v[i]);
		free(s->acc->v);
		free(s->acc);
		s->acc = NULL;
	}
	usend_free(u, s->sending);
	usend_free(u, s->queued);
	s->sending = s->queued = NULL;
	s->io = NULL;
	s->gen++;
	s->flags &= F_READY; /* the ready list may still name it: keep them in step */
}

static void send_done(struct loop *l, struct usend *b, int res)
{
	struct uring *u = l->uring;
	int fd = b->fd;
	struct slot *s = &u->slot[fd];

	if (res == -EINTR || res == -EAGAIN) {
		submit_send(u, b);
		return;
	}
	if (res == 0)
		res = -EPIPE; /* no progress on a non-empty send: the socket is done */
	if (res > 0 && b->off + (uint32_t)res < b->len) {
		b->off += (uint32_t)res; /* short: the rest, still first in line */
		submit_send(u, b);
		return;
	}
	s->sending = NULL;
	if (res < 0) {
		if (!s->err)
			s->err = -res;
		usend_free(u, b);
		usend_free(u, s->queued);
		s->queued = NULL;
		s->out_bytes = 0;
		s->flags &= (uint16_t)~F_SHUT;
		if (s->io)
			mark_ready(u, s, fd);
	} else {
		s->out_bytes -= b->len;
		usend_free(u, b);
		if (s->queued) {
			s->sending = s->queued;
			s->queued = NULL;
			submit_send(u, s->sending);
		} else if (s->flags & F_SHUT) {
			s->flags &= (uint16_t)~F_SHUT;
			shutdown(fd, SHUT_WR);
		}
		if (s->io && (s->interest & EPOLLOUT))
			mark_ready(u, s, fd);
	}
	if (s->sending == NULL && (s->flags & F_CLOSING))
		slot_release(u, s, fd);
}

/* ---- completions ---- */

static void complete(struct loop *l, const struct io_uring_cqe *cqe)
{
	struct uring *u = l->uring;
	uint64_t ud = cqe->user_data;
	int res = cqe->res, fd, live, more = (cqe->flags & IORING_CQE_F_MORE) != 0;
	enum op op = (enum op)(ud & 15);
	uint8_t seq;
	struct slot *s;

	if (ud == LIBURING_UDATA_TIMEOUT || op == OP_IGNORE)
		return;
	if (op == OP_SEND) {
		send_done(l, (struct usend *)(uintptr_t)ud, res);
		return;
	}
	fd = (int)(ud >> 32);
	seq = (uint8_t)(ud >> 4);
	s = (uint32_t)fd < u->nslots ? &u->slot[fd] : NULL;
	live = s && (s->flags & F_USED) && (s->gen & GEN_MASK) == ((ud >> 12) & GEN_MASK);

	switch (op) {
	case OP_RECV:
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			if (res > 0 && live && s->io) {
				chunk_add(u, s, bid, (uint32_t)res);
				mark_ready(u, s, fd);
			} else {
				buf_return(u, bid);
			}
		}
		if (!live)
			return;
		if (res == 0) {
			s->flags |= F_EOF;
		} else if (res < 0 && res != -ENOBUFS && res != -ECANCELED) {
			if (!s->err)
				s->err = -res;
		}
		if (res <= 0 && res != -ENOBUFS && res != -ECANCELED && s->io)
			mark_ready(u, s, fd);
		if (!more && seq == s->seq && (s->flags & F_ARMED)) {
			s->flags &= (uint16_t)~F_ARMED;
			if (res == -ENOBUFS) {
				/* Every buffer holds bytes not yet taken: wait for some. */
				s->flags |= F_STARVED;
				if (push(&u->starved, fd) < 0)
					s->flags &= (uint16_t)~F_STARVED;
			} else if (res > 0) {
				arm_recv(u, s, fd); /* the kernel ended it early (CQ full) */
			}
		}
		return;
	case OP_ACCEPT:
		if (!live || !s->io) {
			if (res >= 0)
				close(res);
			return;
		}
		if (res >= 0 || (res != -ECANCELED && res != -EAGAIN && res != -EINTR &&
				 res != -ECONNABORTED)) {
			struct acceptq *q = s->acc;
			if (q->len == q->cap) {
				uint32_t cap = q->cap ? q->cap * 2 : 64;
				int *v = realloc(q->v, cap * sizeof *v);
				if (v == NULL) {
					if (res >= 0)
						close(res);
					return;
				}
				q->v = v;
				q->cap = cap;
			}
			q->v[q->len++] = res;
			mark_ready(u, s, fd);
		}
		if (!more && seq == s->seq && (s->flags & F_ARMED)) {
			s->flags &= (uint16_t)~F_ARMED;
			/* A failed accept (descriptors ran out) ends the multishot: the
			 * owner hears the error and re-arms through loop_modify. */
			if (res >= 0 || res == -EAGAIN || res == -EINTR || res == -ECONNABORTED)
				arm(u, s, fd);
		}
		return;
	case OP_POLL:
		if (!live || seq != s->seq || !(s->flags & F_ARMED))
			return;
		s->flags &= (uint16_t)~F_ARMED;
		if (res == -ECANCELED)
			return;
		s->revents |= res < 0 ? EPOLLERR : (uint32_t)res;
		if (s->io)
			mark_ready(u, s, fd);
		else
			arm(u, s, fd);
		return;
	case OP_RDHUP:
		if (!live || seq != s->rdhup_seq || !(s->flags & F_RDHUP))
			return;
		s->flags &= (uint16_t)~F_RDHUP;
		if (res > 0) {
			s->revents |= (uint32_t)res & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
			if (s->io)
				mark_ready(u, s, fd);
		}
		return;
	default:
		return;
	}
}

static unsigned reap(struct loop *l)
{
	struct uring *u = l->uring;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		complete(l, cqe);
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	return n;
}

/* ---- the loop.h calls ---- */

/* The slot of a watched descriptor, or NULL (errno EBADF): a call on a
 * descriptor the loop does not watch fails as the system call would. */
static struct slot *watched(struct uring *u, int fd)
{
	if ((uint32_t)fd >= u->nslots || !(u->slot[fd].flags & F_USED) || u->slot[fd].io == NULL) {
		errno = EBADF;
		return NULL;
	}
	return &u->slot[fd];
}

static struct slot *slot_for(struct uring *u, int fd)
{
	if (fd < 0)
		return NULL;
	if ((uint32_t)fd >= u->nslots) {
		uint32_t n = u->nslots ? u->nslots : 1024;
		struct slot *v;
		while (n <= (uint32_t)fd)
			n *= 2;
		v = realloc(u->slot, n * sizeof *v);
		if (v == NULL)
			return NULL;
		memset(v + u->nslots, 0, (n - u->nslots) * sizeof *v);
		for (uint32_t i = u->nslots; i < n; i++)
			v[i].in_head = v[i].in_tail = -1;
		u->slot = v;
		u->nslots = n;
	}
	return &u->slot[fd];
}

int uring_watch(struct loop *l, struct io *io, uint32_t events, enum uring_kind kind)
{
	struct uring *u = l->uring;
	struct slot *s = slot_for(u, io->fd);

	if (s == NULL) {
		fprintf(stderr, "evented: io_uring watch fd %d: %s\n", io->fd, strerror(ENOMEM));
		return -1;
	}
	if (s->flags & F_USED) {
		/* The number came back from the kernel, so whatever was watched
		 * under it was closed without loop_unwatch: forget it (epoll forgets
		 * a closed descriptor by itself). */
		disarm(u, s, io->fd);
		s->flags |= F_KEEPFD;
		slot_release(u, s, io->fd);
	}
	s->flags = (uint16_t)((s->flags & F_READY) | F_USED);
	s->io = io;
	s->kind = (uint8_t)kind;
	s->interest = events;
	s->revents = 0;
	s->err = 0;
	s->in_head = s->in_tail = -1;
	s->in_off = s->out_bytes = 0;
	if (kind == URING_LISTENER) {
		s->acc = calloc(1, sizeof *s->acc);
		if (s->acc == NULL) {
			fprintf(stderr, "evented: io_uring watch fd %d: %s\n", io->fd, strerror(ENOMEM));
			s->flags &= F_READY;
			s->io = NULL;
			return -1;
		}
	}
	arm(u, s, io->fd);
	return 0;
}

int uring_modify(struct loop *l, struct io *io, uint32_t events)
{
	struct uring *u = l->uring;
	struct slot *s = watched(u, io->fd);

	if (s == NULL) {
		fprintf(stderr, "evented: io_uring modify fd %d: %s\n", io->fd, strerror(errno));
		return -1;
	}
	s->interest = events;
	arm(u, s, io->fd);
	return 0;
}

void uring_unwatch(struct loop *l, struct io *io)
{
	struct uring *u = l->uring;
	struct slot *s = slot_for(u, io->fd);

	if (s == NULL || !(s->flags & F_USED) || s->io != io)
		return;
	disarm(u, s, io->fd);
	s->io = NULL;
	s->flags |= F_KEEPFD;
	if (s->sending) {
		s->flags |= F_CLOSING;
		u->closing++;
	} else {
		slot_release(u, s, io->fd);
	}
}

ssize_t uring_recv(struct loop *l, struct io *io, void *buf, size_t len)
{
	struct uring *u = l->uring;
	struct slot *s = watched(u, io->fd);
	size_t got = 0;

	if (s == NULL)
		return -1;
	if (s->in_head < 0 && !(s->flags & F_EOF) && !s->err && (s->flags & F_ARMED)) {
		/* Asked outside an event (a timeout looking at what arrived in time):
		 * collect what the kernel already holds for us first. */
		reap(l);
		if (s->in_head < 0 && !(s->flags & F_EOF) && !s->err) {
			io_uring_get_events(&u->ring);
			reap(l);
		}
	}
	while (s->in_head >= 0 && got < len) {
		int32_t bid = s->in_head;
		uint32_t avail = u->chunk_len[bid] - s->in_off;
		size_t n = avail < len - got ? avail : len - got;

		memcpy((char *)buf + got, u->bufs + (size_t)bid * BUF_SIZE + s->in_off, n);
		got += n;
		s->in_off += (uint32_t)n;
		if (s->in_off == u->chunk_len[bid]) {
			s->in_head = u->chunk_next[bid];
			if (s->in_head < 0)
				s->in_tail = -1;
			s->in_off = 0;
			buf_return(u, (uint32_t)bid);
			u->bufs_held--;
		}
	}
	if (got > 0)
		return (ssize_t)got;
	if (s->err) {
		errno = s->err;
		return -1;
	}
	if (s->flags & F_EOF)
		return 0;
	errno = EAGAIN;
	return -1;
}

ssize_t uring_send(struct loop *l, struct io *io, const void *buf, size_t len)
{
	struct uring *u = l->uring;
	struct slot *s = watched(u, io->fd);
	uint32_t room, n;

	if (s == NULL)
		return -1;
	if (s->err) {
		errno = s->err;
		return -1;
	}
	if (s->flags & F_SHUT) {
		errno = EPIPE;
		return -1;
	}
	room = LOOP_SEND_QUEUE - s->out_bytes;
	if (room == 0) {
		errno = EAGAIN;
		return -1;
	}
	n = len < room ? (uint32_t)len : room;
	if (s->sending == NULL) {
		struct usend *b = usend_new(u, n);
		if (b == NULL)
			return -1;
		memcpy(b->data, buf, n);
		b->len = n;
		b->fd = io->fd;
		b->gen = s->gen;
		s->sending = b;
		submit_send(u, b);
	} else {
		struct usend *q = s->queued;
		if (q == NULL || q->len + n > q->cap) {
			uint32_t have = q ? q->len : 0;
			struct usend *b = usend_new(u, have + n > SEND_BLOCK ? 2 * (have + n) : have + n);
			if (b == NULL)
				return -1;
			if (q)
				memcpy(b->data, q->data, have);
			b->len = have;
			b->fd = io->fd;
			b->gen = s->gen;
			usend_free(u, q);
			s->queued = q = b;
		}
		memcpy(q->data + q->len, buf, n);
		q->len += n;
	}
	s->out_bytes += n;
	return (ssize_t)n;
}

int uring_accept(struct loop *l, struct io *io)
{
	struct slot *s = watched(l->uring, io->fd);
	struct acceptq *q = s ? s->acc : NULL;
	int v;

	if (s == NULL)
		return -1;
	if (q == NULL || q->head == q->len) {
		errno = EAGAIN;
		return -1;
	}
	v = q->v[q->head++];
	if (q->head == q->len)
		q->head = q->len = 0;
	if (v < 0) {
		errno = -v;
		return -1;
	}
	return v;
}

int uring_shutdown(struct loop *l, struct io *io)
{
	struct slot *s = watched(l->uring, io->fd);

	if (s == NULL)
		return -1;
	if (s->sending) {
		s->flags |= F_SHUT; /* after what was queued */
		return 0;
	}
	return shutdown(io->fd, SHUT_WR);
}

void uring_close(struct loop *l, struct io *io)
{
	struct uring *u = l->uring;
	struct slot *s = slot_for(u, io->fd);

	if (s == NULL || !(s->flags & F_USED)) {
		close(io->fd);
		return;
	}
	disarm(u, s, io->fd);
	chunks_drop(u, s);
	s->io = NULL;
	if (s->sending) {
		s->flags |= F_CLOSING;
		u->closing++;
		return;
	}
	slot_release(u, s, io->fd);
}

/* ---- the pass ---- */

static int enter_error(const char *call, int rc)
{
	fprintf(stderr, "evented: %s: %s\n", call, strerror(-rc));
	return -1;
}

int uring_run_once(struct loop *l, int timeout_ms)
{
	struct uring *u = l->uring;
	struct io_uring_cqe *cqe;
	int rc, handled = 0;

	if (u->disabled) {
		rc = io_uring_register(u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
		if (rc < 0)
			return enter_error("io_uring_register ENABLE_RINGS", rc == -1 ? -errno : rc);
		u->disabled = 0;
		/* Registered, the ring's descriptor is not looked up on every
		 * io_uring_enter; per thread, hence here. Optional. */
		io_uring_register_ring_fd(&u->ring);
	}
	if (u->ready.len > 0) {
		/* Leftovers from the last pass: submit and collect, don't wait. */
		rc = io_uring_submit_and_get_events(&u->ring);
	} else {
		struct __kernel_timespec ts, *tsp = NULL;
		int64_t wait = timer_heap_next(&l->timers, loop_clock());
		if (timeout_ms >= 0 && (wait < 0 || timeout_ms * MS < wait))
			wait = timeout_ms * MS;
		if (wait >= 0) {
			ts.tv_sec = wait / (1000 * MS);
			ts.tv_nsec = wait % (1000 * MS);
			tsp = &ts;
		}
		rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, tsp, NULL);
	}
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
		return enter_error("io_uring_submit_and_wait_timeout", rc);
	l->now = loop_clock();
	reap(l);

	/* Handlers may queue more slots (a recv that reaped): they run this pass. */
	for (uint32_t i = 0; i < u->ready.len; i++) {
		int fd = u->ready.v[i];
		struct slot *s = &u->slot[fd];
		uint32_t ev;

		s->flags &= (uint16_t)~F_READY;
		if (s->io == NULL)
			continue;
		ev = slot_events(s);
		if (s->kind == URING_POLL)
			s->revents = 0;
		if (ev) {
			s->io->fn(s->io, ev);
			if (++handled % TIMER_CHECK_EVERY == 0)
				handled += loop_run_due(l);
			s = &u->slot[fd]; /* a handler's watch may have moved the table */
		}
		if (s->io == NULL || (s->flags & F_READY))
			continue;
		if (s->kind == URING_POLL)
			arm(u, s, fd);
		else if (slot_events(s) && push(&u->later, fd) == 0)
			s->flags |= F_READY; /* level-triggered: again next pass */
	}
	{
		struct fdlist t = u->ready;
		u->ready = u->later;
		u->later = t;
		u->later.len = 0;
	}
	if (u->starved.len > 0 && u->bufs_held < BUF_COUNT / 2) {
		for (uint32_t i = 0; i < u->starved.len; i++) {
			int fd = u->starved.v[i];
			struct slot *s = &u->slot[fd];
			if (!(s->flags & F_STARVED))
				continue;
			s->flags &= (uint16_t)~F_STARVED;
			if (s->io)
				arm_recv(u, s, fd);
		}
		u->starved.len = 0;
	}
	handled += loop_run_due(l);
	return handled;
}

/* ---- set-up and tear-down ---- */

/* Multishot recv and buffer rings are Linux 6.0's. */
static int kernel_too_old(void)
{
	struct utsname un;
	int major = 0, minor = 0;

	if (uname(&un) < 0 || sscanf(un.release, "%d.%d", &major, &minor) != 2)
		return 0; /* can't tell: let io_uring itself answer */
	if (major > 6 || (major == 6 && minor >= 0))
		return 0;
	fprintf(stderr, "evented: --io uring needs Linux 6.0 or later (multishot recv), "
			"this is %s; --io epoll runs anywhere\n", un.release);
	return 1;
}

int uring_init(struct loop *l)
{
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct uring *u;
	struct io_uring_buf_reg reg;
	size_t br_size = BUF_COUNT * sizeof(struct io_uring_buf);
	int rc = -EINVAL;
	unsigned flags = 0;

	if (kernel_too_old())
		return -1;
	u = calloc(1, sizeof *u);
	if (u == NULL) {
		fprintf(stderr, "evented: calloc: %s\n", strerror(errno));
		return -1;
	}
	u->br = MAP_FAILED;
	u->bufs = MAP_FAILED;
	u->ring.ring_fd = -1;
	for (size_t i = 0; i < sizeof tries / sizeof tries[0] && rc == -EINVAL; i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof p);
		flags = tries[i];
		p.flags = flags | IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		rc = io_uring_queue_init_params(RING_ENTRIES, &u->ring, &p);
	}
	if (rc < 0) {
		fprintf(stderr, "evented: io_uring_queue_init: %s (--io epoll needs no io_uring)\n",
			strerror(-rc));
		u->ring.ring_fd = -1;
		goto fail;
	}
	u->disabled = (flags & IORING_SETUP_R_DISABLED) != 0;
	u->br = mmap(NULL, br_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u->bufs = mmap(NULL, (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->br == MAP_FAILED || u->bufs == MAP_FAILED) {
		fprintf(stderr, "evented: mmap: %s\n", strerror(errno));
		goto fail;
	}
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (uint64_t)(uintptr_t)u->br;
	reg.ring_entries = BUF_COUNT;
	reg.bgid = BUF_GROUP;
	rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (rc < 0) {
		fprintf(stderr, "evented: io_uring_register_buf_ring: %s (needs Linux 5.19)\n",
			strerror(-rc));
		goto fail;
	}
	io_uring_buf_ring_init(u->br);
	for (uint32_t i = 0; i < BUF_COUNT; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * BUF_SIZE, BUF_SIZE,
				      (unsigned short)i, io_uring_buf_ring_mask(BUF_COUNT), (int)i);
	io_uring_buf_ring_advance(u->br, BUF_COUNT);
	l->uring = u;
	return 0;
fail:
	if (u->ring.ring_fd >= 0)
		io_uring_queue_exit(&u->ring);
	if (u->br != MAP_FAILED)
		munmap(u->br, br_size);
	if (u->bufs != MAP_FAILED)
		munmap(u->bufs, (size_t)BUF_COUNT * BUF_SIZE);
	free(u);
	return -1;
}

void uring_free(struct loop *l)
{
	struct uring *u = l->uring;
	int64_t deadline = loop_clock() + EXIT_WAIT_MS * MS;

	/* Answers queued by connections already closed leave first, as they
	 * would from a socket's buffer after close(). */
	while (!u->disabled && u->closing > 0 && loop_clock() < deadline) {
		struct __kernel_timespec ts = { 0, 50 * MS };
		struct io_uring_cqe *cqe;
		io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
		reap(l);
	}
	/* The ring first: once it is gone no operation in flight can still read
	 * a send buffer or write a receive buffer freed below. */
	io_uring_queue_exit(&u->ring);
	for (uint32_t fd = 0; fd < u->nslots; fd++) {
		struct slot *s = &u->slot[fd];
		if (s->flags & F_CLOSING)
			slot_release(u, s, (int)fd);
		else if (s->flags & F_USED) {
			s->flags |= F_KEEPFD; /* its owner closes it */
			slot_release(u, s, (int)fd);
		}
	}
	munmap(u->br, BUF_COUNT * sizeof(struct io_uring_buf));
	munmap(u->bufs, (size_t)BUF_COUNT * BUF_SIZE);
	while (u->free_sends) {
		struct usend *b = u->free_sends;
		u->free_sends = b->next;
		free(b);
	}
	free(u->slot);
	free(u->ready.v);
	free(u->later.v);
	free(u->starved.v);
	free(u);
	l->uring = NULL;
}
