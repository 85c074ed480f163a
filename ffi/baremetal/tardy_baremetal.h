/*
 * tardy for bare-metal C firmware: what libtardy_baremetal.a adds to and
 * needs beyond include/tardy.h.
 *
 * The library exports the functions of tardy.h except tardy_new_with_tick,
 * tardy_start and tardy_stop (no thread runs), with these differences:
 *
 * - Storage is static or the caller's, never allocated: tardy_new hands out
 *   the one static scheduler (TARDY_ERR_CAPACITY while it is taken; give it
 *   back with tardy_free); tardy_init builds a scheduler in memory the caller
 *   provides. TARDY_CAPACITY and TARDY_MAX_QUEUES of tardy.h do not apply:
 *   the TARDY_BAREMETAL_* limits below do.
 * - The clock is required (NULL: TARDY_ERR_NULL). It runs with interrupts
 *   masked and must not call tardy (such a call returns TARDY_ERR_STATE).
 * - Nothing blocks: tardy_get_task with a non-zero timeout returns
 *   TARDY_ERR_INVALID_ARG. Call tardy_run_pending from the main loop or a
 *   timer interrupt, and sleep until tardy_next_deadline.
 * - Every function runs inside one critical section (the hooks below), so
 *   any function may be called from interrupt handlers and the main loop.
 *   Callbacks (tardy_task_fn) run after it, and may call tardy.
 */
#ifndef TARDY_BAREMETAL_H
#define TARDY_BAREMETAL_H

#include <stddef.h>
#include <stdint.h>

#include "tardy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Task slots of a bare-metal scheduler. */
#define TARDY_BAREMETAL_CAPACITY 32
/* Queues of a bare-metal scheduler. */
#define TARDY_BAREMETAL_MAX_QUEUES 4
/* The most tasks one queue holds (and the largest max_size). */
#define TARDY_BAREMETAL_QUEUE_CAPACITY 16

/* Bytes of memory tardy_init needs. */
size_t tardy_scheduler_size(void);

/* Alignment, in bytes, of the memory tardy_init needs. */
size_t tardy_scheduler_align(void);

/*
 * Builds a scheduler in `mem` (`len` bytes, owned by the caller, aligned to
 * tardy_scheduler_align()) reading clock(clock_user), and writes it to *out.
 * tardy_free empties it; the memory stays the caller's.
 *
 * Errors: TARDY_ERR_NULL (mem, clock or out NULL), TARDY_ERR_INVALID_ARG
 * (len < tardy_scheduler_size(), or mem misaligned).
 * Safety: mem is writable for len bytes and used by nothing else until the
 * scheduler is freed; clock may be called with clock_user from every context
 * that uses the scheduler, with interrupts masked.
 */
tardy_status tardy_init(void *mem, size_t len, tardy_clock_fn clock, void *clock_user,
                        tardy_scheduler **out);

/*
 * Hooks the host provides (with the default features of the library).
 *
 * tardy_host_critical_enter: mask everything that may call tardy (on a
 * single-core Cortex-M: save PRIMASK, then `cpsid i`) and return the state
 * to restore. tardy_host_critical_exit: restore it. Calls nest; states are
 * restored in reverse order.
 *
 * tardy_host_panic: called if the library panics (none is expected: every
 * error is a status). `file` is not NUL-terminated. If it returns, the
 * library spins forever.
 */
uint32_t tardy_host_critical_enter(void);
void tardy_host_critical_exit(uint32_t state);
void tardy_host_panic(const char *file, size_t file_len, uint32_t line);

#ifdef __cplusplus
}
#endif

#endif /* TARDY_BAREMETAL_H */
