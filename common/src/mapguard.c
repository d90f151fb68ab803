/*
 * mapguard.c - the SIGBUS guard for reads of mmap'ed files that another
 * process may truncate: one process-wide handler, per-thread jump buffer and
 * armed range (slclient/mapguard.h has the design and the contract;
 * docs/CLI.md "consume", docs/FUSE.md "The SIGBUS guard").
 */
#include "slclient/mapguard.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* A thread's guard.  Everything the handler reads is volatile: it is written
 * by the thread itself and read by the same thread in the handler, so
 * ordering against the compiler is all that is needed. */
typedef struct mapguard_state {
  sigjmp_buf env;
  const char *volatile lo, *volatile hi; /* armed range, [lo, hi) */
  void *volatile fault;                  /* si_addr of the fault we jumped on */
  volatile sig_atomic_t running;         /* inside sc_mapguard_run */
} mapguard_state;

/* initial-exec: the handler's access to it is a plain offset from the thread
 * pointer, never a call into the dynamic loader (which may allocate). */
static _Thread_local mapguard_state t_guard __attribute__((tls_model("initial-exec")));

/* The action our handler replaced (written once under g_once, read-only
 * afterwards) and whether installing succeeded. */
static struct sigaction g_prev;
static int g_install_rc;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* A fault that is not ours: what would have happened without the guard. */
static void pass_on(int sig, siginfo_t *si, void *uctx) {
  void (*h)(int) = g_prev.sa_handler; /* shares storage with sa_sigaction */
  if (h != SIG_DFL && h != SIG_IGN) {
    if (g_prev.sa_flags & SA_SIGINFO)
      g_prev.sa_sigaction(sig, si, uctx);
    else
      h(sig);
    return;
  }
  /* A SIGBUS someone sent while it was ignored stays ignored; a real fault
   * (the kernel never lets one be ignored) or a sent one under the default
   * action kills the process by SIGBUS, with its core. */
  if (h == SIG_IGN && si && si->si_code <= 0)
    return;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  raise(sig); /* pending until the handler returns (SIGBUS is blocked here) */
}

static void on_sigbus(int sig, siginfo_t *si, void *uctx) {
  mapguard_state *t = &t_guard;
  /* si_code > 0: raised by the kernel for an access, so si_addr is the
   * address touched (kill and sigqueue give SI_USER / negative codes). */
  if (t->running && si && si->si_code > 0) {
    const char *a = si->si_addr, *lo = t->lo, *hi = t->hi;
    if (lo && a >= lo && a < hi) {
      t->lo = t->hi = NULL;
      t->fault = si->si_addr;
      siglongjmp(t->env, 1);
    }
  }
  pass_on(sig, si, uctx);
}

static void install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  /* The old action is read first, so that it is in place before our handler
   * can run. */
  g_install_rc =
      sigaction(SIGBUS, NULL, &g_prev) == 0 && sigaction(SIGBUS, &sa, NULL) == 0 ? SL_OK
                                                                                 : SL_EIO;
}

static void arm(mapguard_state *t, const void *base, size_t len) {
  t->lo = t->hi = NULL; /* never a range mixing the old and the new bounds */
  atomic_signal_fence(memory_order_seq_cst);
  if (base && len) {
    t->hi = (const char *)base + len;
    t->lo = base;
  }
  atomic_signal_fence(memory_order_seq_cst);
}

int sc_mapguard_run(const void *base, size_t len, int (*fn)(void *arg), void *arg,
                    int *result, const void **fault_addr) {
  mapguard_state *t = &t_guard;
  pthread_once(&g_once, install);
  if (g_install_rc != SL_OK)
    return g_install_rc;
  if (t->running)
    return SL_EINVAL;
  if (sigsetjmp(t->env, 1) != 0) {
    /* The handler jumped: fn touched a lost page of the armed range. */
    t->running = 0;
    if (fault_addr)
      *fault_addr = t->fault;
    return SL_ETRUNCATED;
  }
  arm(t, base, len);
  t->running = 1;
  atomic_signal_fence(memory_order_seq_cst);
  int rc = fn(arg);
  atomic_signal_fence(memory_order_seq_cst);
  t->running = 0;
  arm(t, NULL, 0);
  if (result)
    *result = rc;
  return SL_OK;
}

int sc_mapguard_rearm(const void *base, size_t len) {
  mapguard_state *t = &t_guard;
  if (!t->running)
    return SL_EINVAL;
  arm(t, base, len);
  return SL_OK;
}
