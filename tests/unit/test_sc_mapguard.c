/* test_sc_mapguard.c - slclient's SIGBUS guard (slclient/mapguard.h) against
 * real faults: a file is mapped, cut shorter with ftruncate, and its lost
 * pages read.  Two threads reading at once under their own guards both get
 * SL_ETRUNCATED with the faulting address and the process lives on; a range
 * moved with sc_mapguard_rearm is the one that counts; nesting is refused;
 * and what is not ours is not swallowed: a fault outside the armed range, a
 * fault with no guard running and a SIGBUS sent with raise() still kill the
 * process by SIGBUS, or reach the handler that was there before the guard.
 *
 * Every scenario runs in a forked child that first puts SIGBUS back to its
 * default action (or to a handler of the scenario's own): cmocka installs
 * its own SIGBUS handler around each test and restores the old one after it,
 * which would both replace the guard's handler (installed once per process)
 * and turn a fault we pass on into a cmocka failure.  A child reports with
 * its exit status (0, or the line of the failed check) or its signal. */
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slclient/mapguard.h"

/* In a child: a failed check ends it with the check's line as status. */
#define CHECK(cond)                                                                      \
  do {                                                                                   \
    if (!(cond))                                                                         \
      _exit(__LINE__ % 250 + 1);                                                         \
  } while (0)

#define PAGES 4

/* A file of PAGES pages mapped whole, then cut to one page: pages 1.. are
 * lost and reading them raises SIGBUS.  The file and its directory are
 * removed at once (the mapping keeps the file), so a child that dies leaves
 * nothing behind. */
typedef struct cut_map {
  char *map;
  size_t len, page;
} cut_map;

static void cut_map_open(cut_map *m, const char *name) {
  m->page = (size_t)sysconf(_SC_PAGESIZE);
  m->len = PAGES * m->page;
  char *dir = tu_mkdtemp();
  CHECK(dir != NULL);
  char *path = tu_path(dir, name);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  char *fill = malloc(m->len);
  CHECK(fill != NULL);
  memset(fill, 'x', m->len);
  CHECK(write(fd, fill, m->len) == (ssize_t)m->len);
  free(fill);
  m->map = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
  CHECK(m->map != MAP_FAILED);
  CHECK(ftruncate(fd, (off_t)m->page) == 0);
  close(fd);
  free(path);
  tu_rmtree_free(dir);
}

static void cut_map_close(cut_map *m) {
  munmap(m->map, m->len);
}

/* Reads one byte; the volatile keeps the load. */
typedef struct touch {
  const char *at;
  pthread_barrier_t *both; /* wait here first (both threads inside a run) */
} touch;

static int touch_fn(void *arg) {
  touch *t = arg;
  if (t->both)
    pthread_barrier_wait(t->both);
  return *(const volatile char *)t->at;
}

/* Runs scenario() in a child whose SIGBUS action is `prior` (NULL: the
 * default) before the guard is first used; returns the wait status. */
static int in_child(int (*scenario)(void), void (*prior)(int, siginfo_t *, void *)) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    if (prior) {
      sa.sa_sigaction = prior;
      sa.sa_flags = SA_SIGINFO;
    } else {
      sa.sa_handler = SIG_DFL;
    }
    sigaction(SIGBUS, &sa, NULL);
    _exit(scenario());
  }
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return st;
}

static void assert_child_ok(int st) {
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fail_msg("child: %s %d", WIFEXITED(st) ? "exit" : "signal",
             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static void assert_child_sigbus(int st) {
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGBUS)
    fail_msg("child did not die by SIGBUS: %s %d", WIFEXITED(st) ? "exit" : "signal",
             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* A cmocka test: scenario() passes in a child with the default action. */
#define CHILD_OK_TEST(name, scenario)                                                    \
  static void name(void **state) {                                                       \
    (void)state;                                                                         \
    assert_child_ok(in_child(scenario, NULL));                                           \
  }

/* ---- faults in the armed range: an error, and the process lives on ---- */

static int scen_intact_page(void) {
  cut_map m;
  cut_map_open(&m, "intact");
  touch t = {m.map + 10, NULL};
  int result = 0;
  const void *fault = NULL;
  CHECK(sc_mapguard_run(m.map, m.len, touch_fn, &t, &result, &fault) == 0);
  CHECK(result == 'x');
  CHECK(fault == NULL);
  cut_map_close(&m);
  return 0;
}

CHILD_OK_TEST(test_intact_page_reads, scen_intact_page)

typedef struct reader {
  pthread_barrier_t *both;
  int rc, again_rc, again_result;
  const void *fault;
  const char *expect_fault;
} reader;

/* One thread: its own mapping, its own guard, a read of a lost page while
 * the other thread is inside its own run. */
static void *reader_main(void *arg) {
  reader *r = arg;
  cut_map m;
  cut_map_open(&m, "cut");
  touch t = {m.map + 2 * m.page + 7, r->both};
  r->expect_fault = t.at;
  int result = -1;
  r->rc = sc_mapguard_run(m.map, m.len, touch_fn, &t, &result, &r->fault);
  /* Past the fault the thread goes on, and its guard works again. */
  touch ok = {m.map, NULL};
  r->again_rc = sc_mapguard_run(m.map, m.len, touch_fn, &ok, &r->again_result, NULL);
  cut_map_close(&m);
  return NULL;
}

static int scen_two_threads(void) {
  pthread_barrier_t both;
  pthread_barrier_init(&both, NULL, 2);
  reader r[2];
  pthread_t th[2];
  memset(r, 0, sizeof(r));
  for (int i = 0; i < 2; i++) {
    r[i].both = &both;
    CHECK(pthread_create(&th[i], NULL, reader_main, &r[i]) == 0);
  }
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&both);
  for (int i = 0; i < 2; i++) {
    CHECK(r[i].rc == SL_ETRUNCATED);
    CHECK(r[i].fault == r[i].expect_fault);
    CHECK(r[i].again_rc == 0 && r[i].again_result == 'x');
  }
  return 0;
}

CHILD_OK_TEST(test_two_threads_fault, scen_two_threads)

/* fn moves the armed range from an intact buffer to the cut mapping. */
typedef struct rearm_arg {
  cut_map *to;
  int rearm_rc;
} rearm_arg;

static int rearm_fn(void *arg) {
  rearm_arg *a = arg;
  a->rearm_rc = sc_mapguard_rearm(a->to->map, a->to->len);
  return *(const volatile char *)(a->to->map + 3 * a->to->page);
}

static int nested_fn(void *arg) {
  cut_map *m = arg;
  touch t = {m->map, NULL};
  return sc_mapguard_run(m->map, m->len, touch_fn, &t, NULL, NULL);
}

static const char other[64]; /* a range that never faults */

static int scen_rearm_nesting(void) {
  cut_map m;
  cut_map_open(&m, "cut");
  rearm_arg a = {&m, -1};
  const void *fault = NULL;
  CHECK(sc_mapguard_run(other, sizeof(other), rearm_fn, &a, NULL, &fault) ==
        SL_ETRUNCATED);
  CHECK(a.rearm_rc == 0);
  CHECK(fault == m.map + 3 * m.page);
  /* Outside a run there is nothing to move; inside one, no second run. */
  CHECK(sc_mapguard_rearm(m.map, m.len) == SL_EINVAL);
  int result = 0;
  CHECK(sc_mapguard_run(m.map, m.len, nested_fn, &m, &result, NULL) == 0);
  CHECK(result == SL_EINVAL);
  cut_map_close(&m);
  return 0;
}

CHILD_OK_TEST(test_rearm_and_nesting, scen_rearm_nesting)

/* ---- what is not ours is not swallowed ---- */

/* Each first runs a guard that catches a fault (so the handler is installed
 * and has jumped once), then does something foreign; reaching the end means
 * the SIGBUS was swallowed. */
static void warm_up(cut_map *m) {
  cut_map_open(m, "cut");
  touch t = {m->map + 2 * m->page, NULL};
  CHECK(sc_mapguard_run(m->map, m->len, touch_fn, &t, NULL, NULL) == SL_ETRUNCATED);
}

static int scen_outside_range(void) {
  cut_map m;
  warm_up(&m);
  touch t = {m.map + 2 * m.page, NULL};
  (void)sc_mapguard_run(other, sizeof(other), touch_fn, &t, NULL, NULL);
  return 100;
}

static int scen_unguarded(void) {
  cut_map m;
  warm_up(&m);
  touch t = {m.map + 2 * m.page, NULL};
  (void)touch_fn(&t);
  return 100;
}

static int raise_fn(void *arg) {
  (void)arg;
  raise(SIGBUS);
  return 0;
}

static int scen_raised(void) {
  cut_map m;
  warm_up(&m);
  /* Sent, not a fault: not ours even with the whole mapping armed. */
  (void)sc_mapguard_run(m.map, m.len, raise_fn, NULL, NULL, NULL);
  return 100;
}

static void test_foreign_faults_kill(void **state) {
  (void)state;
  assert_child_sigbus(in_child(scen_outside_range, NULL));
  assert_child_sigbus(in_child(scen_unguarded, NULL));
  assert_child_sigbus(in_child(scen_raised, NULL));
}

/* A handler that was there before the guard gets the faults that are not
 * the guard's. */
static void prior_handler(int sig, siginfo_t *si, void *uctx) {
  (void)uctx;
  _exit(sig == SIGBUS && si && si->si_code > 0 ? 42 : 43);
}

static void test_foreign_fault_chains(void **state) {
  (void)state;
  int st = in_child(scen_outside_range, prior_handler);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 42);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_intact_page_reads),
      cmocka_unit_test(test_two_threads_fault),
      cmocka_unit_test(test_rearm_and_nesting),
      cmocka_unit_test(test_foreign_faults_kill),
      cmocka_unit_test(test_foreign_fault_chains),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
