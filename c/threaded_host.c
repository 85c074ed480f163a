/*
 * A threaded host: tardy_start's background thread delivers; worker
 * pthreads take tasks from two queues with timeouts; producers schedule
 * thousands of tasks with delays; some are cancelled by id, one subject is
 * cancelled as a whole. Then more tasks are left in the scheduler (far in
 * the future, queued in a queue nobody reads, due but waiting for room in
 * it), tardy_stop is called while the workers still wait in
 * tardy_get_task (they wake with TARDY_ERR_STATE), and tardy_drain hands
 * back what the stop set aside. Checks that every task was delivered
 * exactly once or handed back exactly once.
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

#define OK(call)                                                                 \
    do {                                                                         \
        tardy_status st_ = (call);                                               \
        if (st_ != TARDY_OK) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,         \
                    tardy_status_str(st_));                                      \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define TASKS 6000
#define IDLE_MAX 16 /* "idle" has no worker: its tasks stay until the stop */
#define LEFT_FAR 100
#define LEFT_QUEUED IDLE_MAX
#define LEFT_WAITING 50
#define LEFT (LEFT_FAR + LEFT_QUEUED + LEFT_WAITING)
#define ALL (TASKS + LEFT)
#define LEFT_SUBJECT 1000u
#define PRODUCERS 2
#define WORKERS_PER_QUEUE 2
#define DOOMED_SUBJECT 42u
#define MS 1000000ull /* built-in clock: ticks are nanoseconds */
#define MAX_CAPACITY 1024 /* tasks scheduled at once: producers wait for room */

typedef struct {
    atomic_int delivered;
    atomic_int handed_back;
    uint64_t subject;
} item;

static item items[ALL];
static atomic_int accounted; /* delivered (and marked done) + handed back */
static atomic_int timeouts;
static tardy_scheduler *sched;
static const char *const queues[2] = {"fast", "slow"};

static atomic_int capacity_retries;

/* tardy_schedule_after, waiting for a free slot when all MAX_CAPACITY
 * are in use (the workers free them as tasks are delivered). */
static void schedule_after(const char *queue, item *it, uint64_t delay, tardy_task_id *id) {
    tardy_status st;
    while ((st = tardy_schedule_after(sched, queue, it->subject, it, delay, id)) ==
           TARDY_ERR_CAPACITY) {
        atomic_fetch_add(&capacity_retries, 1);
        sched_yield();
    }
    OK(st);
}

static void account(item *it, int delivered) {
    int before = delivered ? atomic_fetch_add(&it->delivered, 1)
                           : atomic_fetch_add(&it->handed_back, 1);
    CHECK(before == 0);
    atomic_fetch_add(&accounted, 1);
}

static void on_cancelled(void *user, const tardy_task *task) {
    int *count = (int *)user;
    item *it = (item *)task->user_data;
    CHECK(task->subject == DOOMED_SUBJECT && it->subject == DOOMED_SUBJECT);
    account(it, 0);
    (*count)++;
}

static void *producer(void *arg) {
    int p = (int)(intptr_t)arg;
    uint32_t rng = 7u + (uint32_t)p;
    for (int i = p; i < TASKS; i += PRODUCERS) {
        item *it = &items[i];
        rng = rng * 1103515245u + 12345u;
        const char *queue = queues[i % 2];
        tardy_task_id id = 0;
        if (it->subject == DOOMED_SUBJECT) {
            /* Far away: still scheduled when the subject is cancelled. */
            schedule_after(queue, it, 3600000 * MS, &id);
        } else if (i % 10 == 0) {
            tardy_status st = tardy_schedule_now(sched, queue, it->subject, it, &id);
            if (st == TARDY_ERR_QUEUE_FULL) { /* "fast" is bounded: retry later */
                schedule_after(queue, it, 1 * MS, &id);
            } else {
                OK(st);
            }
        } else if (i % 10 == 3) {
            /* Scheduled late, then cancelled by id right away. */
            schedule_after(queue, it, 1000 * MS, &id);
            void *back = NULL;
            OK(tardy_cancel(sched, id, &back));
            CHECK(back == it);
            account(it, 0);
            CHECK(tardy_cancel(sched, id, &back) == TARDY_ERR_NOT_SCHEDULED);
        } else {
            uint64_t delay = (uint64_t)((rng >> 8) % 3000) * 1000; /* up to 3 ms */
            schedule_after(queue, it, delay, &id);
            if (i % 10 == 7) {
                /* Cancel a short one: it may have been delivered already. */
                void *back = NULL;
                tardy_status st = tardy_cancel(sched, id, &back);
                if (st == TARDY_OK) {
                    CHECK(back == it);
                    account(it, 0);
                } else {
                    CHECK(st == TARDY_ERR_NOT_SCHEDULED);
                }
            }
        }
        CHECK(id != 0);
    }
    return NULL;
}

/* Runs until tardy_stop wakes it with TARDY_ERR_STATE. */
static void *worker(void *arg) {
    const char *queue = (const char *)arg;
    for (;;) {
        tardy_task task;
        tardy_status st = tardy_get_task(sched, queue, 20, &task);
        if (st == TARDY_ERR_EMPTY) {
            atomic_fetch_add(&timeouts, 1);
            continue;
        }
        if (st == TARDY_ERR_STATE) {
            return NULL;
        }
        OK(st);
        item *it = (item *)task.user_data;
        CHECK(it >= items && it < items + TASKS);
        CHECK(task.subject == it->subject && task.subject != DOOMED_SUBJECT);
        CHECK(queue == queues[(it - items) % 2]);
        OK(tardy_task_done(sched, queue));
        account(it, 1);
    }
}

/* Receives the tasks tardy_stop set aside. */
static void on_drained(void *user, const tardy_task *task) {
    int *count = (int *)user;
    item *it = (item *)task->user_data;
    CHECK(it >= items + TASKS && it < items + ALL); /* only the ones left */
    CHECK(task->subject == it->subject && task->id != 0);
    account(it, 0);
    (*count)++;
}

int main(void) {
    int doomed = 0;
    for (int i = 0; i < TASKS; i++) {
        items[i].subject = (uint64_t)(i % 100);
        doomed += items[i].subject == DOOMED_SUBJECT;
    }
    for (int i = TASKS; i < ALL; i++) {
        items[i].subject = LEFT_SUBJECT;
    }
    tardy_options opts;
    OK(tardy_options_init(&opts));
    opts.max_capacity = MAX_CAPACITY;
    OK(tardy_new_with_options(&opts, NULL, NULL, 1, &sched));
    OK(tardy_add_queue(sched, queues[0], 64));
    OK(tardy_add_queue(sched, queues[1], 0));
    OK(tardy_add_queue(sched, "idle", IDLE_MAX));
    OK(tardy_start(sched));

    pthread_t workers[2 * WORKERS_PER_QUEUE], producers[PRODUCERS];
    for (int w = 0; w < 2 * WORKERS_PER_QUEUE; w++) {
        CHECK(pthread_create(&workers[w], NULL, worker, (void *)queues[w % 2]) == 0);
    }
    for (int p = 0; p < PRODUCERS; p++) {
        CHECK(pthread_create(&producers[p], NULL, producer, (void *)(intptr_t)p) == 0);
    }
    for (int p = 0; p < PRODUCERS; p++) {
        CHECK(pthread_join(producers[p], NULL) == 0);
    }
    /* Every task of the doomed subject is still scheduled: cancel them all. */
    int handed = 0;
    size_t count = 0;
    OK(tardy_cancel_subject(sched, DOOMED_SUBJECT, on_cancelled, &handed, &count));
    CHECK((int)count == doomed && handed == doomed);

    /* The workers mark each task done before accounting for it: once all
     * are accounted for, the scheduler is quiet (the workers wait). */
    while (atomic_load(&accounted) < TASKS) {
        sched_yield();
    }
    uint64_t next = 0;
    CHECK(tardy_next_deadline(sched, &next) == TARDY_ERR_EMPTY);
    tardy_task task;
    CHECK(tardy_get_task(sched, "fast", 0, &task) == TARDY_ERR_EMPTY);
    CHECK(tardy_get_task(sched, "slow", 0, &task) == TARDY_ERR_EMPTY);
    CHECK(tardy_task_done(sched, "fast") == TARDY_ERR_INVALID_ARG); /* all marked done */

    /* Leave tasks behind: an hour away on the worked queues, queued in
     * "idle" until it is full, and due but waiting for room in "idle". */
    int i = TASKS;
    for (; i < TASKS + LEFT_FAR; i++) {
        OK(tardy_schedule_after(sched, queues[i % 2], LEFT_SUBJECT, &items[i], 3600000 * MS,
                                NULL));
    }
    for (; i < TASKS + LEFT_FAR + LEFT_QUEUED; i++) {
        OK(tardy_schedule_now(sched, "idle", LEFT_SUBJECT, &items[i], NULL));
    }
    CHECK(tardy_schedule_now(sched, "idle", LEFT_SUBJECT, &items[i], NULL) ==
          TARDY_ERR_QUEUE_FULL);
    for (; i < ALL; i++) {
        OK(tardy_schedule_after(sched, "idle", LEFT_SUBJECT, &items[i], 0, NULL));
    }
    CHECK(tardy_drain(sched, on_drained, NULL, &count) == TARDY_ERR_STATE); /* not stopped */

    /* Stop while the workers wait in tardy_get_task: they return
     * TARDY_ERR_STATE; nothing still in the scheduler is dropped. */
    OK(tardy_stop(sched));
    for (int w = 0; w < 2 * WORKERS_PER_QUEUE; w++) {
        CHECK(pthread_join(workers[w], NULL) == 0);
    }
    CHECK(tardy_stop(sched) == TARDY_ERR_STATE);
    CHECK(tardy_drain(sched, NULL, NULL, &count) == TARDY_ERR_NULL); /* would drop them */
    int drained = 0;
    count = 0;
    OK(tardy_drain(sched, on_drained, &drained, &count));
    CHECK((int)count == LEFT && drained == LEFT);
    OK(tardy_drain(sched, on_drained, &drained, &count));
    CHECK(count == 0 && drained == LEFT); /* handed back once */

    int delivered = 0, back = 0;
    for (int k = 0; k < ALL; k++) {
        int d = atomic_load(&items[k].delivered), h = atomic_load(&items[k].handed_back);
        CHECK(d + h == 1);
        delivered += d;
        back += h;
    }
    CHECK(atomic_load(&accounted) == ALL);
    tardy_free(sched);
    printf("threaded_host: ok (%d tasks: %d delivered, %d handed back, %d of them by "
           "subject, %d drained after the stop; %d get_task timeouts, %d retries for a "
           "free slot)\n",
           ALL, delivered, back, doomed, drained, atomic_load(&timeouts),
           atomic_load(&capacity_retries));
    return 0;
}
