/*
 * slclient/mapguard.h - reads of mmap'ed files that survive the file being
 * cut under them.  A segment that another process truncates while we have it
 * mapped (retention, `seglog verify --repair`, a writer's recovery of a torn
 * tail) raises SIGBUS on the first access to a page past the new end of
 * file.  The seglog CLI's offline consume and the seglogfs mount read
 * segments through mappings; both run those reads under this guard, which
 * turns such a fault into an error return instead of a crash.  Documented in
 * docs/CLI.md ("consume") and docs/FUSE.md ("The SIGBUS guard").
 *
 * Design:
 * - One SIGBUS handler for the process (sigaction with SA_SIGINFO),
 *   installed the first time any thread calls sc_mapguard_run.  The action it
 *   replaces is kept and called for every fault that is not ours: a previous
 *   handler is chained to, and a default (or ignored) disposition is restored
 *   and the signal raised again, so a real bug still dies of SIGBUS.
 * - Per-thread state (thread-local: SIGBUS is delivered to the thread that
 *   touched the page): the sigjmp_buf of the thread's current run and the
 *   address range [lo, hi) it armed.  The handler jumps back only when that
 *   thread is inside sc_mapguard_run, the signal comes from the kernel (not
 *   kill or sigqueue) and its address lies in the armed range.  Any number of
 *   threads may run guarded at once, each with its own range.
 * - The handler is async-signal-safe: it reads the thread's state
 *   (initial-exec TLS, no allocation on access), calls siglongjmp, or
 *   sigaction and raise.
 * - Nesting is refused: a thread already inside sc_mapguard_run gets
 *   SL_EINVAL and fn is not called.
 *
 * What fn may do: fn is cut short at the faulting access, so it must leave
 * nothing behind that a jump would break: no lock taken inside fn and held at
 * the fault, no half-updated shared structure the caller cannot reset, no
 * allocation without an owner that outlives fn.  Locks held around
 * sc_mapguard_run are fine (the caller still owns them after the fault).
 *
 * The handler state is process-wide by nature (signal dispositions are): the
 * replaced action is written once, under pthread_once, before the handler is
 * installed, and only read afterwards.
 */
#ifndef SLCLIENT_MAPGUARD_H
#define SLCLIENT_MAPGUARD_H

#include <stddef.h>

#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Runs fn(arg) on this thread with [base, base+len) armed: a SIGBUS at an
 * address in that range (or in the range a later sc_mapguard_rearm set) ends
 * fn there and this call returns SL_ETRUNCATED, with the faulting address in
 * *fault_addr when fault_addr is not NULL.  When fn returns, this call
 * returns 0 and stores fn's value in *result (when result is not NULL).
 * base NULL or len 0 arms nothing (fn runs unguarded until a rearm).
 * SL_EINVAL: this thread is already inside sc_mapguard_run (fn not called);
 * SL_EIO: the handler could not be installed (fn not called).
 * The signal mask is restored on the jump (sigsetjmp saves it).
 */
int sc_mapguard_run(const void *base, size_t len, int (*fn)(void *arg), void *arg,
                    int *result, const void **fault_addr);

/*
 * Inside fn: moves this thread's armed range to [base, base+len) (NULL or 0:
 * none), for a walk that maps another slice as it goes.  Returns 0, or
 * SL_EINVAL (and changes nothing) when the thread is not inside
 * sc_mapguard_run.
 */
int sc_mapguard_rearm(const void *base, size_t len);

#ifdef __cplusplus
}
#endif
#endif
