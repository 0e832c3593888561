/*
 * cpu_task — one CPU task: real work on the calling thread until that thread's
 * own CPU clock (CLOCK_THREAD_CPUTIME_ID) has advanced by `ms` milliseconds.
 * Time the thread spends preempted does not count, so on a busy machine the
 * task takes longer by the wall clock, as real computation would; it never
 * sleeps. The work is a hash chain whose result is returned, so the compiler
 * cannot drop it.
 *
 * cpu_task_run() returns the chain's value (any number; callers may ignore it).
 * It cannot fail: the thread CPU clock is always present on Linux.
 */
#ifndef CPU_TASK_H
#define CPU_TASK_H

#include <stdint.h>

uint64_t cpu_task_run(long ms);

#endif
