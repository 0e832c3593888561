/*
 * sched_slice — asks the scheduler for short time slices for the calling
 * thread (Linux 6.12+: sched_attr.sched_runtime of a SCHED_OTHER thread, the
 * EEVDF "custom slice"; no privilege needed).
 *
 * Why a latency-bound thread wants it: on a CPU it shares, a thread that wakes
 * (a timer due, a socket readable) while another thread runs a CPU-bound
 * stretch waits until that thread's slice ends: about 3 ms by default (seen
 * on this lab's machine: an event loop's timers 2-5 ms late, each time a
 * neighbour's process had the CPU). A thread with a shorter slice gets an
 * earlier virtual deadline, and EEVDF lets such a waking thread preempt the
 * running one. Its share of the CPU (its weight, its nice value) is not
 * changed: it gets the same time, in shorter pieces, sooner.
 *
 * Only a SCHED_OTHER (SCHED_NORMAL) thread is changed: one that runs under
 * another policy, e.g. started with `chrt -f 1` as make bench's 10,000-user
 * row does, keeps it (custom slices are for the fair class only).
 */
#ifndef SCHED_SLICE_H
#define SCHED_SLICE_H

#define SCHED_SLICE_NS 100000 /* 0.1 ms: the kernel's lower bound */

/* Returns 0 (also when the thread is not SCHED_OTHER and is left alone), or
 * -1 with errno set where the kernel has no custom slices
 * (EINVAL before 6.12) or refused: the thread then keeps the default, which
 * is a slower answer, never a wrong one, so callers need not report it. */
int sched_slice_set(unsigned long long ns);

#endif
