/*
 * Many certificates through the defaults: tardy_new (built-in clock, a
 * scheduler that grows as tasks come, no capacity to choose) schedules the
 * renewal of every certificate, due within the next second, before the
 * background thread starts; worker pthreads take them from an unbounded
 * queue. Checks that every certificate is delivered exactly once, never
 * before its deadline, that nothing is left for tardy_drain, and that no
 * schedule call is refused.
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

typedef struct {
    atomic_int delivered;
    uint64_t cert;
} certificate;

static certificate *certs;
static size_t n_certs;
static atomic_size_t delivered;
static atomic_size_t early;
static tardy_scheduler *sched;

static void *worker(void *arg) {
    (void)arg;
    tardy_task task;
    while (atomic_load(&delivered) < n_certs) {
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
        CHECK(atomic_fetch_add(&c->delivered, 1) == 0);
        OK(tardy_task_done(sched, "renew"));
        atomic_fetch_add(&delivered, 1);
    }
    return NULL;
}

static void on_drained(void *user, const tardy_task *task) {
    (void)task;
    ++*(size_t *)user;
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
    OK(tardy_add_queue(sched, "renew", 0)); /* unbounded */
    uint32_t rng = 12345u;
    for (size_t i = 0; i < n_certs; i++) {
        rng = rng * 1103515245u + 12345u;
        certs[i].cert = 1000000000ull + i;
        uint64_t delay = (uint64_t)(rng >> 8) % 1000 * MS; /* within a second */
        tardy_task_id id = 0;
        OK(tardy_schedule_after(sched, "renew", certs[i].cert, &certs[i], delay, &id));
        CHECK(id != 0);
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
    double delivered_at = seconds_since(&start);

    OK(tardy_stop(sched));
    size_t left = 0, count = 0;
    OK(tardy_drain(sched, on_drained, &left, &count));
    CHECK(left == 0 && count == 0);
    tardy_free(sched);

    for (size_t i = 0; i < n_certs; i++) {
        CHECK(atomic_load(&certs[i].delivered) == 1);
    }
    CHECK(atomic_load(&delivered) == n_certs);
    CHECK(atomic_load(&early) == 0);
    free(certs);
    printf("certificates: ok (%zu scheduled through tardy_new in %.2f s, %zu delivered once each "
           "by %.2f s, 0 early, 0 left)\n",
           n_certs, scheduled_at, n_certs, delivered_at);
    return 0;
}
