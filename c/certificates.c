/*
 * Many certificates through the defaults: tardy_new (built-in clock, a
 * scheduler that grows as tasks come, no capacity to choose) schedules a
 * periodic renewal of every certificate (first within the next second,
 * then every PERIOD, TARDY_MISSED_TICK_BEHAVIOR_SKIP) before the
 * background thread starts; worker pthreads take the renewals from a
 * queue of QUEUE_SIZE: renewals due while it is full wait for room, and
 * the periods that pass meanwhile are coalesced (missed). The first
 * renewal of every seventh certificate "fails" and is retried 10 ms later
 * as a one-shot task, leaving its periodic task alone. After RENEWALS
 * renewals a worker cancels the certificate's periodic task, which hands
 * its user_data back once.
 *
 * Checks that no renewal is early, that the renewals of each certificate
 * account for each of its periods once (period_index and missed), that
 * every retry is delivered once, that every periodic task is handed back
 * exactly once, and that tardy_drain finds no periodic task left.
 *
 * TARDY_CERTS in the environment sets the number of certificates (default
 * 20000); tests/c_abi.rs runs it plainly and under AddressSanitizer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tardy.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define OK(call)                                                                 \
    do {                                                                         \
        tardy_status st_ = (call);                                               \
        if (st_ != TARDY_OK) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,         \
                    tardy_status_str(st_));                                      \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define WORKERS 4
#define MS 1000000ull /* built-in clock: ticks are nanoseconds */
#define PERIOD (250 * MS)
#define RENEWALS 3
#define QUEUE_SIZE 4096

typedef struct {
    uint64_t cert;
    tardy_task_id renewal; /* the periodic task */
    atomic_int renewals;   /* occurrences handled */
    atomic_int handed_back;
    atomic_int retried;
    /* Every period is accounted for once: the periods the occurrences
     * stand for (1 + missed each) add up to the end of the last one. */
    atomic_ullong periods;
    atomic_ullong end;
} certificate;

static certificate *certs;
static size_t n_certs;
static atomic_size_t finished;      /* certificates whose renewal was cancelled */
static atomic_size_t retries_left;  /* retries scheduled, not yet delivered */
static atomic_size_t early;
static atomic_size_t renewals;
static atomic_size_t coalesced;     /* periods skipped by slow workers */
static tardy_scheduler *sched;

static void *worker(void *arg) {
    (void)arg;
    tardy_task task;
    while (atomic_load(&finished) < n_certs || atomic_load(&retries_left) > 0) {
        tardy_status st = tardy_get_task(sched, "renew", 100, &task);
        if (st == TARDY_ERR_EMPTY) {
            continue;
        }
        OK(st);
        uint64_t now = 0;
        OK(tardy_now(sched, &now));
        if (now < task.deadline) {
            atomic_fetch_add(&early, 1);
        }
        certificate *c = (certificate *)task.user_data;
        CHECK(c >= certs && c < certs + n_certs && task.subject == c->cert);
        if (!task.periodic) {
            /* A retry: an ordinary one-shot task. */
            CHECK(atomic_load(&c->retried) == 1);
            atomic_fetch_sub(&retries_left, 1);
            OK(tardy_task_done(sched, "renew"));
            continue;
        }
        CHECK(task.id != c->renewal);
        atomic_fetch_add(&c->periods, 1 + task.missed);
        unsigned long long end = task.period_index + task.missed + 1;
        unsigned long long seen = atomic_load(&c->end);
        while (seen < end && !atomic_compare_exchange_weak(&c->end, &seen, end)) {
        }
        atomic_fetch_add(&coalesced, task.missed);
        atomic_fetch_add(&renewals, 1);
        if (task.period_index == 0 && c->cert % 7 == 0) {
            /* The fetch failed: retry this renewal alone, 10 ms later. */
            atomic_fetch_add(&c->retried, 1);
            atomic_fetch_add(&retries_left, 1);
            OK(tardy_schedule_after(sched, "renew", task.subject, task.user_data, 10 * MS, NULL));
        }
        if (atomic_fetch_add(&c->renewals, 1) + 1 == RENEWALS) {
            void *back = NULL;
            OK(tardy_cancel(sched, c->renewal, &back));
            CHECK(back == c);
            atomic_fetch_add(&c->handed_back, 1);
            atomic_fetch_add(&finished, 1);
        }
        OK(tardy_task_done(sched, "renew"));
    }
    return NULL;
}

/* Counts what tardy_drain hands back: [0] periodic tasks, [1] occurrences
 * still queued (renewals that came after the cancel). */
static void on_drained(void *user, const tardy_task *task) {
    ((size_t *)user)[task->periodic ? 1 : 0]++;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(void) {
    const char *env = getenv("TARDY_CERTS");
    n_certs = env ? (size_t)strtoull(env, NULL, 10) : 20000;
    CHECK(n_certs > 0);
    certs = calloc(n_certs, sizeof *certs);
    CHECK(certs != NULL);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);

    OK(tardy_new(NULL, NULL, &sched));
    OK(tardy_add_queue(sched, "renew", QUEUE_SIZE));
    uint32_t rng = 12345u;
    for (size_t i = 0; i < n_certs; i++) {
        rng = rng * 1103515245u + 12345u;
        certs[i].cert = 1000000000ull + i;
        uint64_t delay = (uint64_t)(rng >> 8) % 1000 * MS; /* within a second */
        OK(tardy_schedule_periodic_after(sched, "renew", certs[i].cert, &certs[i], delay, PERIOD,
                                         TARDY_MISSED_TICK_BEHAVIOR_SKIP, &certs[i].renewal));
        CHECK(certs[i].renewal != 0);
    }
    double scheduled_at = seconds_since(&start);
    OK(tardy_start(sched));

    pthread_t workers[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        CHECK(pthread_create(&workers[w], NULL, worker, NULL) == 0);
    }
    for (int w = 0; w < WORKERS; w++) {
        CHECK(pthread_join(workers[w], NULL) == 0);
    }
    double done_at = seconds_since(&start);

    OK(tardy_stop(sched));
    size_t left[2] = {0, 0}, count = 0;
    OK(tardy_drain(sched, on_drained, left, &count));
    CHECK(left[0] == 0 && count == left[1]);
    tardy_free(sched);

    size_t retries = 0;
    for (size_t i = 0; i < n_certs; i++) {
        certificate *c = &certs[i];
        CHECK(atomic_load(&c->renewals) >= RENEWALS);
        CHECK(atomic_load(&c->handed_back) == 1);
        CHECK(atomic_load(&c->periods) == atomic_load(&c->end));
        CHECK(atomic_load(&c->retried) == (c->cert % 7 == 0));
        retries += (size_t)atomic_load(&c->retried);
    }
    CHECK(atomic_load(&retries_left) == 0);
    CHECK(atomic_load(&early) == 0);
    free(certs);
    printf("certificates: ok (%zu periodic renewals scheduled through tardy_new in %.2f s; %zu "
           "renewals, %zu periods coalesced, %zu retries, each periodic task handed back once, "
           "by %.2f s; 0 early, %zu occurrences left to drain)\n",
           n_certs, scheduled_at, (size_t)atomic_load(&renewals), (size_t)atomic_load(&coalesced),
           retries, done_at, left[1]);
    return 0;
}
