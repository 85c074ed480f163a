/*
 * A stress test of the C API: many threads call every function at once on
 * one scheduler (built-in clock, background thread running):
 *   producers  schedule ITEMS tasks now / after / at, into four queues and
 *              into "churn", a queue that comes and goes;
 *   cancellers cancel and reschedule random tasks by id, and cancel whole
 *              subjects;
 *   a churner  adds and removes "churn" (its tasks handed back);
 *   a runner   calls tardy_run_pending, tardy_run_all, tardy_next_deadline
 *              and tardy_now;
 *   workers    take tasks with short timeouts and mark them done.
 * Then tardy_stop while the workers still wait, and tardy_drain. Every
 * task's user_data is counted wherever it comes back (taken by a worker,
 * cancelled, cancelled by subject, removed with its queue, drained) or
 * refused when scheduled: each must come back exactly once. Bounded: a
 * fixed number of tasks and of operations per thread.
 *
 * STRESS_ITEMS in the environment sets the number of tasks (default 20000).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tardy.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define QUEUES 4
#define PRODUCERS 4
#define CANCELLERS 2
#define WORKERS_PER_QUEUE 2
#define SUBJECTS 64u
#define QUEUE_MAX 64
#define IN_FLIGHT 1500 /* producers wait while more tasks are out */
#define US 1000ull /* built-in clock: ticks are nanoseconds */

static const char *const queue_names[QUEUES + 1] = {"q0", "q1", "q2", "q3", "churn"};

typedef struct {
    atomic_int back;           /* times its user_data came back or was refused */
    _Atomic tardy_task_id id;  /* 0 until scheduled */
} item;

static item *items;
static size_t n_items;
static tardy_scheduler *s;
static atomic_int producers_left;
static atomic_size_t produced;
static atomic_int stats[8]; /* by way back: see the names in main */

enum { TAKEN, CANCELLED, BY_SUBJECT, REMOVED, DRAINED, REFUSED, RESCHEDULED, TIMEOUTS };

static uint64_t rng_next(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static item *item_of(void *user_data) {
    item *it = (item *)user_data;
    CHECK(it >= items && it < items + n_items);
    return it;
}

static atomic_size_t accounted;

static void came_back(void *user_data, int way) {
    atomic_fetch_add(&item_of(user_data)->back, 1);
    atomic_fetch_add(&stats[way], 1);
    atomic_fetch_add(&accounted, 1);
}

static void on_subject(void *user, const tardy_task *task) {
    (void)user;
    came_back(task->user_data, BY_SUBJECT);
}

static void on_removed(void *user, const tardy_task *task) {
    (void)user;
    came_back(task->user_data, REMOVED);
}

static void on_drained(void *user, const tardy_task *task) {
    (void)user;
    came_back(task->user_data, DRAINED);
}

static void *producer(void *arg) {
    uint64_t r = 0x9e3779b97f4a7c15ull ^ (uintptr_t)arg;
    for (;;) {
        size_t i = atomic_fetch_add(&produced, 1);
        if (i >= n_items) {
            break;
        }
        while (i > atomic_load(&accounted) + IN_FLIGHT) {
            sched_yield();
        }
        uint64_t x = rng_next(&r);
        const char *q = queue_names[x % (QUEUES + 1)];
        uint64_t subject = (x >> 8) % SUBJECTS;
        tardy_task_id id = 0;
        tardy_status st;
        uint64_t now = 0;
        if (i % 50 == 0) {
            /* Far in the future, of a subject never cancelled: scheduled until
             * the stop, then drained (unless cancelled by id). */
            st = tardy_schedule_at(s, q, SUBJECTS, &items[i], UINT64_MAX - 1, &id);
        } else switch ((x >> 16) % 3) {
        case 0:
            st = tardy_schedule_now(s, q, subject, &items[i], &id);
            break;
        case 1:
            st = tardy_schedule_after(s, q, subject, &items[i], (x >> 24) % (300 * US), &id);
            break;
        default:
            CHECK(tardy_now(s, &now) == TARDY_OK);
            st = tardy_schedule_at(s, q, subject, &items[i], now + (x >> 24) % (400 * US) - 100 * US,
                                   &id);
            break;
        }
        if (st == TARDY_OK) {
            CHECK(id != 0);
            atomic_store(&items[i].id, id);
        } else {
            CHECK(st == TARDY_ERR_QUEUE_FULL || st == TARDY_ERR_CAPACITY ||
                  st == TARDY_ERR_NO_QUEUE);
            CHECK(id == 0);
            came_back(&items[i], REFUSED);
        }
    }
    atomic_fetch_sub(&producers_left, 1);
    return NULL;
}

static void *canceller(void *arg) {
    uint64_t r = 0x2545f4914f6cdd1dull ^ (uintptr_t)arg;
    while (atomic_load(&producers_left) > 0) {
        uint64_t x = rng_next(&r);
        size_t i = (size_t)(x % n_items);
        tardy_task_id id = atomic_load(&items[i].id);
        tardy_status st;
        unsigned op = (unsigned)((x >> 32) % 64);
        if (op == 0) {
            size_t count = 0;
            CHECK(tardy_cancel_subject(s, (x >> 40) % SUBJECTS, on_subject, NULL, &count) ==
                  TARDY_OK);
        } else if (op < 32) {
            uint64_t now = 0;
            CHECK(tardy_now(s, &now) == TARDY_OK);
            st = tardy_reschedule_at(s, id, now + (x >> 40) % (300 * US));
            CHECK(st == TARDY_OK || st == TARDY_ERR_NOT_SCHEDULED);
            if (st == TARDY_OK) {
                atomic_fetch_add(&stats[RESCHEDULED], 1);
            }
        } else {
            void *user_data = NULL;
            st = tardy_cancel(s, id, &user_data);
            CHECK(st == TARDY_OK || st == TARDY_ERR_NOT_SCHEDULED);
            if (st == TARDY_OK) {
                CHECK(user_data == &items[i]);
                came_back(user_data, CANCELLED);
            }
        }
    }
    return NULL;
}

static void *churner(void *arg) {
    (void)arg;
    unsigned n = 0;
    while (atomic_load(&producers_left) > 0) {
        tardy_status st = tardy_add_queue(s, "churn", (n++ % 3) * 8);
        CHECK(st == TARDY_OK);
        for (int spin = 0; spin < 200; spin++) {
            uint64_t now;
            CHECK(tardy_now(s, &now) == TARDY_OK);
        }
        CHECK(tardy_remove_queue(s, "churn", on_removed, NULL) == TARDY_OK);
    }
    return NULL;
}

static void *runner(void *arg) {
    (void)arg;
    unsigned n = 0;
    while (atomic_load(&producers_left) > 0) {
        size_t moved = 0;
        uint64_t next = 0, now = 0;
        /* tardy_run_all in the first half only: it delivers the far tasks
         * too, and some should still be there at the stop. */
        if (++n % 64 == 0 && atomic_load(&produced) < n_items / 2) {
            CHECK(tardy_run_all(s, &moved) == TARDY_OK);
        } else {
            CHECK(tardy_run_pending(s, &moved) == TARDY_OK);
        }
        tardy_status st = tardy_next_deadline(s, &next);
        CHECK(st == TARDY_OK || st == TARDY_ERR_EMPTY);
        CHECK(tardy_now(s, &now) == TARDY_OK);
    }
    return NULL;
}

static void *worker(void *arg) {
    const char *q = queue_names[(uintptr_t)arg % QUEUES];
    uint64_t timeout = 1 + (uintptr_t)arg % 3; /* ms */
    for (;;) {
        tardy_task task;
        tardy_status st = tardy_get_task(s, q, timeout, &task);
        if (st == TARDY_OK) {
            CHECK(task.id != 0);
            came_back(task.user_data, TAKEN);
            /* TARDY_ERR_STATE: the scheduler stopped since the take. */
            st = tardy_task_done(s, q);
            CHECK(st == TARDY_OK || st == TARDY_ERR_STATE);
        } else if (st == TARDY_ERR_EMPTY) {
            atomic_fetch_add(&stats[TIMEOUTS], 1);
        } else {
            CHECK(st == TARDY_ERR_STATE); /* stopped */
            return NULL;
        }
    }
}

int main(void) {
    const char *env = getenv("STRESS_ITEMS");
    n_items = env ? (size_t)strtoull(env, NULL, 10) : 20000;
    CHECK(n_items > 0);
    items = calloc(n_items, sizeof *items);
    CHECK(items != NULL);

    /* Bounded, so that TARDY_ERR_CAPACITY (the task refused, counted back)
     * is among the answers under load. */
    tardy_options opts;
    CHECK(tardy_options_init(&opts) == TARDY_OK);
    opts.max_capacity = 1024;
    CHECK(tardy_new_with_options(&opts, NULL, NULL, 1, &s) == TARDY_OK);
    for (int q = 0; q < QUEUES; q++) {
        CHECK(tardy_add_queue(s, queue_names[q], QUEUE_MAX) == TARDY_OK);
    }
    CHECK(tardy_start(s) == TARDY_OK);

    pthread_t workers[QUEUES * WORKERS_PER_QUEUE], others[PRODUCERS + CANCELLERS + 2];
    for (uintptr_t w = 0; w < QUEUES * WORKERS_PER_QUEUE; w++) {
        CHECK(pthread_create(&workers[w], NULL, worker, (void *)w) == 0);
    }
    atomic_store(&producers_left, PRODUCERS);
    int n = 0;
    for (uintptr_t p = 0; p < PRODUCERS; p++) {
        CHECK(pthread_create(&others[n++], NULL, producer, (void *)(p + 1)) == 0);
    }
    for (uintptr_t c = 0; c < CANCELLERS; c++) {
        CHECK(pthread_create(&others[n++], NULL, canceller, (void *)(c + 1)) == 0);
    }
    CHECK(pthread_create(&others[n++], NULL, churner, NULL) == 0);
    CHECK(pthread_create(&others[n++], NULL, runner, NULL) == 0);
    for (int i = 0; i < n; i++) {
        CHECK(pthread_join(others[i], NULL) == 0);
    }

    /* The workers still wait: the stop wakes them with TARDY_ERR_STATE. */
    CHECK(tardy_stop(s) == TARDY_OK);
    for (int w = 0; w < QUEUES * WORKERS_PER_QUEUE; w++) {
        CHECK(pthread_join(workers[w], NULL) == 0);
    }
    size_t drained = 0, again = 99;
    CHECK(tardy_drain(s, on_drained, NULL, &drained) == TARDY_OK);
    CHECK(tardy_drain(s, on_drained, NULL, &again) == TARDY_OK && again == 0);
    tardy_free(s);

    size_t lost = 0, twice = 0;
    for (size_t i = 0; i < n_items; i++) {
        int back = atomic_load(&items[i].back);
        lost += back == 0;
        twice += back > 1;
    }
    printf("stress_api: %zu tasks: %d taken, %d cancelled, %d by subject, %d removed with "
           "their queue, %d drained, %d refused; %d rescheduled, %d worker timeouts\n",
           n_items, stats[TAKEN], stats[CANCELLED], stats[BY_SUBJECT], stats[REMOVED],
           stats[DRAINED], stats[REFUSED], stats[RESCHEDULED], stats[TIMEOUTS]);
    CHECK(lost == 0 && twice == 0);
    CHECK((size_t)(stats[TAKEN] + stats[CANCELLED] + stats[BY_SUBJECT] + stats[REMOVED] +
                   stats[DRAINED] + stats[REFUSED]) == n_items);
    free(items);
    printf("stress_api: ok\n");
    return 0;
}
