/*
 * Every function of tardy.h, every status code and every bad input.
 * Single-threaded except for the tardy_start / get_task-with-timeout part.
 * TARDY_ERR_PANIC and TARDY_ERR_SYSTEM cannot be provoked from C (no
 * panic path is reachable, and thread creation does not fail here): they
 * are checked through tardy_status_str only; the Rust unit tests of the
 * panic boundary cover TARDY_ERR_PANIC.
 * Prints "test_api: ok (N checks)" and exits 0 when every check passes.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tardy.h"

static int checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define EXPECT(call, status)                                                     \
    do {                                                                         \
        tardy_status got_ = (call);                                              \
        checks++;                                                                \
        if (got_ != (status)) {                                                  \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s\n", __FILE__, \
                    __LINE__, #call, (int)got_, tardy_status_str(got_), #status); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* A simulated clock: the scheduler reads *ticks. */
typedef struct {
    uint64_t ticks;
    tardy_scheduler *self; /* for the re-entrance check */
    tardy_status reentered;      /* tardy_now from inside the clock */
    tardy_status reentered_stop; /* tardy_stop from inside the clock */
    tardy_status reentered_drain;
    int reads;
} sim_clock;

static uint64_t sim_now(void *user) {
    sim_clock *c = (sim_clock *)user;
    c->reads++;
    if (c->self != NULL) {
        uint64_t ignored = 0;
        /* Calling back into the same scheduler from its clock is refused. */
        size_t count = 99;
        c->reentered = tardy_now(c->self, &ignored);
        c->reentered_stop = tardy_stop(c->self);
        c->reentered_drain = tardy_drain(c->self, NULL, NULL, &count);
        if (count != 99) {
            c->reentered_drain = TARDY_ERR_PANIC; /* written on failure */
        }
        tardy_free(c->self); /* refused too: does nothing */
    }
    return c->ticks;
}

/* Collects tasks handed back. */
typedef struct {
    tardy_task tasks[64];
    size_t count;
    tardy_scheduler *reenter; /* if set, schedule into "again" from the callback */
    tardy_status reenter_status;
} collector;

static void collect(void *user, const tardy_task *task) {
    collector *c = (collector *)user;
    if (c->count < 64) {
        c->tasks[c->count] = *task;
    }
    c->count++;
    if (c->reenter != NULL) {
        c->reenter_status = tardy_schedule_at(c->reenter, "again", task->subject,
                                              task->user_data, 1000000, NULL);
    }
}

static void test_status_and_version(void) {
    static const tardy_status all[] = {
        TARDY_OK,           TARDY_ERR_NULL,          TARDY_ERR_INVALID_ARG, TARDY_ERR_NO_QUEUE,
        TARDY_ERR_QUEUE_EXISTS, TARDY_ERR_QUEUE_FULL, TARDY_ERR_CAPACITY,   TARDY_ERR_NOT_SCHEDULED,
        TARDY_ERR_EMPTY,    TARDY_ERR_PANIC,         TARDY_ERR_STATE,       TARDY_ERR_SYSTEM,
    };
    size_t n = sizeof all / sizeof all[0];
    const char *unknown = tardy_status_str((tardy_status)12345);
    CHECK(unknown != NULL && strcmp(unknown, "unknown status") == 0);
    CHECK(strcmp(tardy_status_str((tardy_status)1), "unknown status") == 0);
    CHECK(strcmp(tardy_status_str((tardy_status)-12), "unknown status") == 0);
    CHECK(TARDY_OK == 0);
    for (size_t i = 0; i < n; i++) {
        const char *text = tardy_status_str(all[i]);
        CHECK(text != NULL && text[0] != '\0');
        CHECK(strcmp(text, unknown) != 0);
        if (i > 0) {
            CHECK((int)all[i] < 0);
        }
        for (size_t j = 0; j < i; j++) {
            CHECK(all[i] != all[j]);
            CHECK(strcmp(text, tardy_status_str(all[j])) != 0);
        }
    }
    CHECK(tardy_version() != NULL);
    CHECK(strcmp(tardy_version(), TARDY_VERSION) == 0);
    CHECK(TARDY_MAX_NAME_LEN == 31 && TARDY_MAX_CAPACITY >= 65536 && TARDY_MAX_QUEUES >= 2);
}

static void test_new_free(void) {
    tardy_scheduler *s = (tardy_scheduler *)&checks; /* must stay untouched */
    tardy_scheduler *const sentinel = s;
    EXPECT(tardy_new(NULL, NULL, NULL), TARDY_ERR_NULL);
    EXPECT(tardy_new_with_tick(NULL, NULL, 1, NULL), TARDY_ERR_NULL);
    EXPECT(tardy_new_with_tick(NULL, NULL, 0, &s), TARDY_ERR_INVALID_ARG);
    CHECK(s == sentinel);
    EXPECT(tardy_new(NULL, NULL, &s), TARDY_OK);
    CHECK(s != NULL && s != sentinel);
    uint64_t t1 = 0, t2 = 0;
    EXPECT(tardy_now(s, &t1), TARDY_OK);
    EXPECT(tardy_now(s, &t2), TARDY_OK);
    CHECK(t2 >= t1); /* built-in clock: monotonic */
    EXPECT(tardy_now(s, NULL), TARDY_ERR_NULL);
    EXPECT(tardy_now(NULL, &t1), TARDY_ERR_NULL);
    tardy_free(s);
    tardy_free(NULL); /* no-op */
    /* The built-in clock counts nanoseconds: another tick length is refused
     * (a millisecond tick made a 10 ms task wait hours). */
    s = sentinel;
    EXPECT(tardy_new_with_tick(NULL, NULL, 1000000, &s), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_new_with_tick(NULL, NULL, 0, &s), TARDY_ERR_INVALID_ARG);
    CHECK(s == sentinel);
    EXPECT(tardy_new_with_tick(NULL, NULL, 1, &s), TARDY_OK);
    tardy_free(s);
}

static void test_null_scheduler(void) {
    tardy_task task;
    size_t n;
    uint64_t u;
    tardy_task_id id;
    EXPECT(tardy_add_queue(NULL, "q", 0), TARDY_ERR_NULL);
    EXPECT(tardy_remove_queue(NULL, "q", NULL, NULL), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_now(NULL, "q", 1, NULL, &id), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_after(NULL, "q", 1, NULL, 5, &id), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_at(NULL, "q", 1, NULL, 5, &id), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_at_unix_ns(NULL, "q", 1, NULL, 5, &id), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_periodic_after(NULL, "q", 1, NULL, 0, 5, TARDY_MISSED_TICK_BEHAVIOR_SKIP,
                                         &id),
           TARDY_ERR_NULL);
    EXPECT(tardy_schedule_periodic_at(NULL, "q", 1, NULL, 0, 5, TARDY_MISSED_TICK_BEHAVIOR_SKIP,
                                      &id),
           TARDY_ERR_NULL);
    EXPECT(tardy_reschedule_at(NULL, 1, 5), TARDY_ERR_NULL);
    EXPECT(tardy_cancel(NULL, 1, NULL), TARDY_ERR_NULL);
    EXPECT(tardy_cancel_subject(NULL, 1, NULL, NULL, &n), TARDY_ERR_NULL);
    EXPECT(tardy_get_task(NULL, "q", 0, &task), TARDY_ERR_NULL);
    EXPECT(tardy_task_done(NULL, "q"), TARDY_ERR_NULL);
    EXPECT(tardy_run_pending(NULL, &n), TARDY_ERR_NULL);
    EXPECT(tardy_run_all(NULL, &n), TARDY_ERR_NULL);
    EXPECT(tardy_next_deadline(NULL, &u), TARDY_ERR_NULL);
    EXPECT(tardy_start(NULL), TARDY_ERR_NULL);
    EXPECT(tardy_stop(NULL), TARDY_ERR_NULL);
    EXPECT(tardy_drain(NULL, NULL, NULL, &n), TARDY_ERR_NULL);
    EXPECT(tardy_drain(NULL, collect, NULL, NULL), TARDY_ERR_NULL);
}

static void test_names_and_queues(void) {
    sim_clock clock = {100, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
    tardy_scheduler *s = NULL;
    EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
    char longest[TARDY_MAX_NAME_LEN + 1];
    char too_long[TARDY_MAX_NAME_LEN + 2];
    memset(longest, 'a', TARDY_MAX_NAME_LEN);
    longest[TARDY_MAX_NAME_LEN] = '\0';
    memset(too_long, 'b', TARDY_MAX_NAME_LEN + 1);
    too_long[TARDY_MAX_NAME_LEN + 1] = '\0';
    static const char bad_utf8[] = {(char)0xff, (char)0xfe, 0};
    static const char truncated_utf8[] = {'q', (char)0xc3, 0};

    EXPECT(tardy_add_queue(s, NULL, 0), TARDY_ERR_NULL);
    EXPECT(tardy_add_queue(s, "", 0), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_add_queue(s, too_long, 0), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_add_queue(s, bad_utf8, 0), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_add_queue(s, truncated_utf8, 0), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_add_queue(s, "q", (size_t)TARDY_MAX_QUEUE_SIZE + 1), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_add_queue(s, "q", SIZE_MAX), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_add_queue(s, longest, 0), TARDY_OK);
    EXPECT(tardy_add_queue(s, longest, 0), TARDY_ERR_QUEUE_EXISTS);
    /* A large bound allocates nothing. */
    EXPECT(tardy_add_queue(s, "h\xc3\xa9", (size_t)TARDY_MAX_QUEUE_SIZE), TARDY_OK); /* UTF-8 "hé" */
    for (int i = 2; i < TARDY_MAX_QUEUES; i++) {
        char name[16];
        snprintf(name, sizeof name, "q%d", i);
        EXPECT(tardy_add_queue(s, name, 1), TARDY_OK);
    }
    EXPECT(tardy_add_queue(s, "one-too-many", 0), TARDY_ERR_CAPACITY);

    /* Every function taking a name validates it the same way. */
    tardy_task task;
    tardy_task_id id = 777;
    const char *bad[] = {"", too_long, bad_utf8};
    for (size_t i = 0; i < 3; i++) {
        EXPECT(tardy_remove_queue(s, bad[i], NULL, NULL), TARDY_ERR_INVALID_ARG);
        EXPECT(tardy_schedule_now(s, bad[i], 1, NULL, &id), TARDY_ERR_INVALID_ARG);
        EXPECT(tardy_schedule_after(s, bad[i], 1, NULL, 1, &id), TARDY_ERR_INVALID_ARG);
        EXPECT(tardy_schedule_at(s, bad[i], 1, NULL, 1, &id), TARDY_ERR_INVALID_ARG);
        EXPECT(tardy_get_task(s, bad[i], 0, &task), TARDY_ERR_INVALID_ARG);
        EXPECT(tardy_task_done(s, bad[i]), TARDY_ERR_INVALID_ARG);
    }
    EXPECT(tardy_remove_queue(s, NULL, NULL, NULL), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_now(s, NULL, 1, NULL, &id), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_after(s, NULL, 1, NULL, 1, &id), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_at(s, NULL, 1, NULL, 1, &id), TARDY_ERR_NULL);
    EXPECT(tardy_get_task(s, NULL, 0, &task), TARDY_ERR_NULL);
    EXPECT(tardy_task_done(s, NULL), TARDY_ERR_NULL);
    CHECK(id == 777); /* never written on failure */

    /* Unknown queues. */
    EXPECT(tardy_remove_queue(s, "nope", NULL, NULL), TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_schedule_now(s, "nope", 1, NULL, &id), TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_schedule_after(s, "nope", 1, NULL, 1, &id), TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_schedule_at(s, "nope", 1, NULL, 1, &id), TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_get_task(s, "nope", 0, &task), TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_get_task(s, "nope", 5, &task), TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_task_done(s, "nope"), TARDY_ERR_NO_QUEUE);
    CHECK(id == 777);

    /* Removing a queue frees its slot and its name. */
    EXPECT(tardy_remove_queue(s, longest, NULL, NULL), TARDY_OK);
    EXPECT(tardy_remove_queue(s, longest, NULL, NULL), TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_add_queue(s, "one-too-many", 0), TARDY_OK);
    tardy_free(s);
}

static void test_schedule_deliver(void) {
    sim_clock clock = {1000, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
    tardy_scheduler *s = NULL;
    EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "work", 0), TARDY_OK);
    int payload[8];
    tardy_task_id ids[8];
    tardy_task task;
    size_t moved = 99;
    uint64_t deadline = 0;

    EXPECT(tardy_next_deadline(s, &deadline), TARDY_ERR_EMPTY);
    EXPECT(tardy_next_deadline(s, NULL), TARDY_ERR_NULL);
    CHECK(deadline == 0);

    /* Deadline order, ties in scheduling order. */
    EXPECT(tardy_schedule_at(s, "work", 1, &payload[0], 1030, &ids[0]), TARDY_OK);
    EXPECT(tardy_schedule_after(s, "work", 2, &payload[1], 10, &ids[1]), TARDY_OK); /* 1010 */
    EXPECT(tardy_schedule_at(s, "work", 3, &payload[2], 1010, &ids[2]), TARDY_OK);
    EXPECT(tardy_schedule_at(s, "work", 4, &payload[3], 1020, NULL), TARDY_OK);
    CHECK(ids[0] != 0 && ids[1] != 0 && ids[2] != 0);
    CHECK(ids[0] != ids[1] && ids[1] != ids[2]);
    EXPECT(tardy_next_deadline(s, &deadline), TARDY_OK);
    CHECK(deadline == 1010);

    EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
    CHECK(moved == 0); /* nothing early */
    EXPECT(tardy_get_task(s, "work", 0, &task), TARDY_ERR_EMPTY);
    clock.ticks = 1020;
    EXPECT(tardy_run_pending(s, NULL), TARDY_OK);
    EXPECT(tardy_get_task(s, "work", 0, NULL), TARDY_ERR_NULL); /* the task is not lost */
    EXPECT(tardy_get_task(s, "work", 0, &task), TARDY_OK);
    CHECK(task.id == ids[1] && task.subject == 2 && task.user_data == &payload[1] &&
          task.deadline == 1010);
    EXPECT(tardy_get_task(s, "work", 0, &task), TARDY_OK);
    CHECK(task.id == ids[2] && task.deadline == 1010);
    EXPECT(tardy_get_task(s, "work", 0, &task), TARDY_OK);
    CHECK(task.subject == 4 && task.deadline == 1020);
    EXPECT(tardy_get_task(s, "work", 1, &task), TARDY_ERR_EMPTY); /* waits 1 ms, nothing */

    /* task_done counts. */
    EXPECT(tardy_task_done(s, "work"), TARDY_OK);
    EXPECT(tardy_task_done(s, "work"), TARDY_OK);
    EXPECT(tardy_task_done(s, "work"), TARDY_OK);
    EXPECT(tardy_task_done(s, "work"), TARDY_ERR_INVALID_ARG);

    /* A clock going backwards delivers nothing early. */
    clock.ticks = 500;
    moved = 99;
    EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
    CHECK(moved == 0);
    clock.ticks = 1030;
    EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
    CHECK(moved == 1);
    EXPECT(tardy_get_task(s, "work", 0, &task), TARDY_OK);
    CHECK(task.id == ids[0]);

    /* Stale ids are harmless. */
    void *out = (void *)&clock;
    EXPECT(tardy_cancel(s, ids[0], &out), TARDY_ERR_NOT_SCHEDULED);
    EXPECT(tardy_cancel(s, 0, &out), TARDY_ERR_NOT_SCHEDULED);
    EXPECT(tardy_cancel(s, UINT64_MAX, &out), TARDY_ERR_NOT_SCHEDULED);
    CHECK(out == (void *)&clock);
    EXPECT(tardy_reschedule_at(s, ids[0], 5), TARDY_ERR_NOT_SCHEDULED);
    EXPECT(tardy_reschedule_at(s, 0, 5), TARDY_ERR_NOT_SCHEDULED);

    /* reschedule_at and cancel. */
    tardy_task_id a, b;
    EXPECT(tardy_schedule_after(s, "work", 5, &payload[4], 100, &a), TARDY_OK);
    EXPECT(tardy_schedule_after(s, "work", 6, &payload[5], 200, &b), TARDY_OK);
    EXPECT(tardy_reschedule_at(s, b, 1040), TARDY_OK);
    EXPECT(tardy_next_deadline(s, &deadline), TARDY_OK);
    CHECK(deadline == 1040);
    EXPECT(tardy_cancel(s, a, &out), TARDY_OK);
    CHECK(out == &payload[4]);
    EXPECT(tardy_cancel(s, a, &out), TARDY_ERR_NOT_SCHEDULED);
    EXPECT(tardy_cancel(s, b, NULL), TARDY_OK);
    EXPECT(tardy_next_deadline(s, &deadline), TARDY_ERR_EMPTY);

    /* Saturating deadlines: UINT64_MAX is "never, unless run_all". */
    EXPECT(tardy_schedule_after(s, "work", 7, &payload[6], UINT64_MAX, &a), TARDY_OK);
    EXPECT(tardy_next_deadline(s, &deadline), TARDY_OK);
    CHECK(deadline == UINT64_MAX);
    clock.ticks = UINT64_MAX - 1;
    EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
    CHECK(moved == 0);
    EXPECT(tardy_run_all(s, &moved), TARDY_OK);
    CHECK(moved == 1);
    EXPECT(tardy_run_all(s, NULL), TARDY_OK);
    EXPECT(tardy_get_task(s, "work", 0, &task), TARDY_OK);
    CHECK(task.id == a && task.deadline == UINT64_MAX);

    /* ASAP tasks and full queues. */
    EXPECT(tardy_add_queue(s, "small", 2), TARDY_OK);
    clock.ticks = 2000;
    tardy_task_id now_id = 0, kept = 4242;
    EXPECT(tardy_schedule_now(s, "small", 8, &payload[7], &now_id), TARDY_OK);
    CHECK(now_id != 0);
    EXPECT(tardy_schedule_now(s, "small", 8, NULL, NULL), TARDY_OK);
    EXPECT(tardy_schedule_now(s, "small", 8, NULL, &kept), TARDY_ERR_QUEUE_FULL);
    CHECK(kept == 4242);
    /* A due task for a full queue waits for room instead. */
    EXPECT(tardy_schedule_at(s, "small", 9, NULL, 1, &kept), TARDY_OK);
    EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
    CHECK(moved == 0);
    EXPECT(tardy_get_task(s, "small", 0, &task), TARDY_OK);
    CHECK(task.id == now_id && task.deadline == 2000 && task.user_data == &payload[7]);
    EXPECT(tardy_get_task(s, "small", 0, &task), TARDY_OK);
    EXPECT(tardy_get_task(s, "small", 0, &task), TARDY_OK);
    CHECK(task.id == kept && task.subject == 9);
    EXPECT(tardy_get_task(s, "small", 0, &task), TARDY_ERR_EMPTY);

    /* tardy_new grows: far more tasks than any fixed size. */
    enum { MANY = 50000 };
    for (int i = 0; i < MANY; i++) {
        EXPECT(tardy_schedule_after(s, "work", 100, NULL, 1000000, NULL), TARDY_OK);
    }
    size_t count = 0;
    EXPECT(tardy_cancel_subject(s, 100, NULL, NULL, &count), TARDY_OK);
    CHECK(count == MANY);
    tardy_free(s);

    /* A maximum capacity: one task more is TARDY_ERR_CAPACITY, handed back. */
    tardy_options opts;
    EXPECT(tardy_options_init(&opts), TARDY_OK);
    opts.initial_capacity = 64;
    opts.max_capacity = 64;
    EXPECT(tardy_new_with_options(&opts, sim_now, &clock, 1, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "work", 0), TARDY_OK);
    for (int i = 0; i < 64; i++) {
        EXPECT(tardy_schedule_after(s, "work", 100, NULL, 1000000, NULL), TARDY_OK);
    }
    kept = 4242;
    EXPECT(tardy_schedule_after(s, "work", 101, NULL, 1, &kept), TARDY_ERR_CAPACITY);
    EXPECT(tardy_schedule_at(s, "work", 101, NULL, 1, &kept), TARDY_ERR_CAPACITY);
    CHECK(kept == 4242);
    EXPECT(tardy_schedule_now(s, "work", 101, NULL, NULL), TARDY_OK); /* takes no slot */
    EXPECT(tardy_cancel_subject(s, 100, NULL, NULL, &count), TARDY_OK);
    CHECK(count == 64);
    EXPECT(tardy_schedule_after(s, "work", 101, NULL, 1, &kept), TARDY_OK);
    tardy_free(s); /* drops the scheduled task; nothing to free on our side */
}

static void test_options(void) {
    tardy_options opts;
    tardy_scheduler *s = (tardy_scheduler *)&checks; /* must stay untouched */
    tardy_scheduler *const sentinel = s;
    EXPECT(tardy_options_init(NULL), TARDY_ERR_NULL);
    EXPECT(tardy_options_init(&opts), TARDY_OK);
    CHECK(opts.size == sizeof opts && opts.initial_capacity == 0 && opts.max_capacity == 0 &&
          opts.max_sleep_ms == 0);
    EXPECT(tardy_new_with_options(NULL, NULL, NULL, 1, &s), TARDY_ERR_NULL);
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, NULL), TARDY_ERR_NULL);
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 0, &s), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1000, &s), TARDY_ERR_INVALID_ARG);
    opts.size = sizeof opts + 8; /* a later header's: refused, not ignored */
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, &s), TARDY_ERR_INVALID_ARG);
    opts.size = 0;
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, &s), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_options_init(&opts), TARDY_OK);
    opts.initial_capacity = 100;
    opts.max_capacity = 99;
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, &s), TARDY_ERR_INVALID_ARG);
    opts.initial_capacity = SIZE_MAX;
    opts.max_capacity = 0;
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, &s), TARDY_ERR_INVALID_ARG);
    opts.initial_capacity = 0;
    opts.max_capacity = SIZE_MAX;
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, &s), TARDY_ERR_INVALID_ARG);
    CHECK(s == sentinel);
    /* Accepted: room for 10 000 tasks now, at most a million, a 20 ms
     * sleep bound on the built-in clock (which needs none). */
    opts.initial_capacity = 10000;
    opts.max_capacity = 1000000;
    opts.max_sleep_ms = 20;
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, &s), TARDY_OK);
    CHECK(s != sentinel && s != NULL);
    tardy_free(s);
}

static void test_hand_back(void) {
    sim_clock clock = {0, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
    tardy_scheduler *s = NULL;
    EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "a", 0), TARDY_OK);
    EXPECT(tardy_add_queue(s, "b", 0), TARDY_OK);
    EXPECT(tardy_add_queue(s, "again", 0), TARDY_OK);
    int x[6];
    for (int i = 0; i < 3; i++) {
        EXPECT(tardy_schedule_after(s, "a", 42, &x[i], (uint64_t)(10 + i), NULL), TARDY_OK);
    }
    EXPECT(tardy_schedule_after(s, "b", 42, &x[3], 5, NULL), TARDY_OK);
    EXPECT(tardy_schedule_after(s, "b", 43, &x[4], 5, NULL), TARDY_OK);
    EXPECT(tardy_schedule_now(s, "b", 42, &x[5], NULL), TARDY_OK); /* queued: stays */

    /* cancel_subject, with a callback that calls back into the scheduler. */
    collector got;
    memset(&got, 0, sizeof got);
    got.reenter = s;
    got.reenter_status = TARDY_ERR_PANIC;
    size_t count = 0;
    EXPECT(tardy_cancel_subject(s, 42, collect, &got, &count), TARDY_OK);
    CHECK(count == 4 && got.count == 4);
    CHECK(got.reenter_status == TARDY_OK);
    int seen = 0;
    for (size_t i = 0; i < got.count; i++) {
        CHECK(got.tasks[i].subject == 42 && got.tasks[i].id != 0);
        for (int j = 0; j < 4; j++) {
            if (got.tasks[i].user_data == &x[j]) {
                seen |= 1 << j;
            }
        }
    }
    CHECK(seen == 0xf);
    /* The tasks the callback scheduled for subject 42 are not cancelled. */
    count = 99;
    EXPECT(tardy_cancel_subject(s, 42, NULL, NULL, &count), TARDY_OK);
    CHECK(count == 4); /* the four re-scheduled into "again" */
    EXPECT(tardy_cancel_subject(s, 42, NULL, NULL, &count), TARDY_OK);
    CHECK(count == 0);
    EXPECT(tardy_cancel_subject(s, 42, NULL, NULL, NULL), TARDY_OK);

    /* remove_queue hands back scheduled and queued tasks. */
    memset(&got, 0, sizeof got);
    EXPECT(tardy_remove_queue(s, "b", collect, &got), TARDY_OK);
    CHECK(got.count == 2);
    CHECK((got.tasks[0].user_data == &x[4] && got.tasks[1].user_data == &x[5]) ||
          (got.tasks[0].user_data == &x[5] && got.tasks[1].user_data == &x[4]));
    EXPECT(tardy_remove_queue(s, "a", NULL, NULL), TARDY_OK);
    EXPECT(tardy_remove_queue(s, "a", collect, &got), TARDY_ERR_NO_QUEUE);
    CHECK(got.count == 2);
    tardy_free(s);
}

static void test_clock_reentrance(void) {
    sim_clock clock = {5, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
    tardy_scheduler *s = NULL;
    EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
    clock.self = s;
    uint64_t now = 0;
    EXPECT(tardy_now(s, &now), TARDY_OK);
    CHECK(now == 5 && clock.reads > 0);
    CHECK(clock.reentered == TARDY_ERR_INVALID_ARG);
    CHECK(clock.reentered_stop == TARDY_ERR_INVALID_ARG);
    CHECK(clock.reentered_drain == TARDY_ERR_INVALID_ARG);
    /* Still alive, and not stopped, after the refused calls: */
    EXPECT(tardy_add_queue(s, "alive", 0), TARDY_OK);
    clock.self = NULL;
    tardy_free(s);
}

/* tardy_stop sets every task aside; tardy_drain hands each back once. */
static void test_stop_drain(void) {
    sim_clock clock = {0, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
    tardy_scheduler *s = NULL;
    tardy_task task;
    EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "a", 0), TARDY_OK);
    EXPECT(tardy_add_queue(s, "full", 1), TARDY_OK);
    EXPECT(tardy_add_queue(s, "again", 0), TARDY_OK);
    int x[6];
    /* 0: scheduled; 1: queued; 2: fills "full"; 3: due, waits for room in
     * "full"; 4: scheduled for never; 5: delivered, the worker's. */
    EXPECT(tardy_schedule_after(s, "a", 10, &x[0], 100, NULL), TARDY_OK);
    EXPECT(tardy_schedule_now(s, "a", 11, &x[1], NULL), TARDY_OK);
    EXPECT(tardy_schedule_now(s, "full", 12, &x[2], NULL), TARDY_OK);
    EXPECT(tardy_schedule_after(s, "full", 13, &x[3], 1, NULL), TARDY_OK);
    EXPECT(tardy_schedule_at(s, "a", 14, &x[4], UINT64_MAX, NULL), TARDY_OK);
    EXPECT(tardy_schedule_now(s, "again", 15, &x[5], NULL), TARDY_OK);
    EXPECT(tardy_get_task(s, "again", 0, &task), TARDY_OK);
    CHECK(task.user_data == &x[5]);
    clock.ticks = 5;
    size_t count = 99;
    EXPECT(tardy_run_pending(s, &count), TARDY_OK);
    CHECK(count == 0); /* 3 waits for room */

    /* Not stopped: nothing to drain (and nothing written). */
    collector got;
    memset(&got, 0, sizeof got);
    count = 99;
    EXPECT(tardy_drain(s, collect, &got, &count), TARDY_ERR_STATE);
    EXPECT(tardy_drain(s, NULL, NULL, &count), TARDY_ERR_STATE);
    CHECK(count == 99 && got.count == 0);

    EXPECT(tardy_stop(s), TARDY_OK);
    /* Tasks are set aside: a NULL callback would drop them, refused. */
    EXPECT(tardy_drain(s, NULL, NULL, &count), TARDY_ERR_NULL);
    EXPECT(tardy_drain(s, NULL, NULL, NULL), TARDY_ERR_NULL);
    CHECK(count == 99);

    /* The callback calls back in: scheduling is refused after the stop. */
    got.reenter = s;
    got.reenter_status = TARDY_ERR_PANIC;
    EXPECT(tardy_drain(s, collect, &got, &count), TARDY_OK);
    CHECK(count == 5 && got.count == 5);
    CHECK(got.reenter_status == TARDY_ERR_STATE);
    static const uint64_t subjects[5] = {10, 11, 12, 13, 14};
    static const uint64_t deadlines[5] = {100, 0, 0, 1, UINT64_MAX};
    for (int j = 0; j < 5; j++) {
        int found = 0;
        for (size_t i = 0; i < got.count; i++) {
            if (got.tasks[i].user_data == &x[j]) {
                found++;
                CHECK(got.tasks[i].subject == subjects[j]);
                CHECK(got.tasks[i].deadline == deadlines[j]);
                CHECK(got.tasks[i].id != 0);
            }
        }
        CHECK(found == 1);
    }
    for (size_t i = 0; i < got.count; i++) {
        CHECK(got.tasks[i].user_data != &x[5]); /* delivered: not handed back */
    }

    /* Handed back once: a second drain finds nothing; NULL is then fine. */
    count = 99;
    EXPECT(tardy_drain(s, collect, &got, &count), TARDY_OK);
    CHECK(count == 0 && got.count == 5);
    EXPECT(tardy_drain(s, NULL, NULL, &count), TARDY_OK);
    EXPECT(tardy_drain(s, NULL, NULL, NULL), TARDY_OK);
    EXPECT(tardy_stop(s), TARDY_ERR_STATE);
    tardy_free(s);
}

/* A real clock in microseconds, for the background thread. */
static uint64_t micros(void *user) {
    struct timespec ts;
    (void)user;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_start_stop(void) {
    tardy_scheduler *s = NULL;
    tardy_task task;
    EXPECT(tardy_new(NULL, NULL, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "w", 0), TARDY_OK);
    EXPECT(tardy_stop(s), TARDY_OK); /* never started: stops for good */
    EXPECT(tardy_start(s), TARDY_ERR_STATE);
    EXPECT(tardy_stop(s), TARDY_ERR_STATE);
    EXPECT(tardy_add_queue(s, "x", 0), TARDY_ERR_STATE);
    EXPECT(tardy_schedule_now(s, "w", 1, NULL, NULL), TARDY_ERR_STATE);
    EXPECT(tardy_get_task(s, "w", 0, &task), TARDY_ERR_STATE);
    size_t count = 99;
    EXPECT(tardy_drain(s, NULL, NULL, &count), TARDY_OK); /* nothing was left */
    CHECK(count == 0);
    tardy_free(s);

    EXPECT(tardy_new(NULL, NULL, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "w", 0), TARDY_OK);
    EXPECT(tardy_start(s), TARDY_OK);
    EXPECT(tardy_start(s), TARDY_ERR_STATE);
    int x = 0;
    /* The background thread delivers it; get_task waits for it. */
    EXPECT(tardy_schedule_after(s, "w", 1, &x, 2000000 /* 2 ms */, NULL), TARDY_OK);
    EXPECT(tardy_get_task(s, "w", UINT64_MAX, &task), TARDY_OK);
    CHECK(task.user_data == &x);
    EXPECT(tardy_task_done(s, "w"), TARDY_OK);
    EXPECT(tardy_schedule_after(s, "w", 1, &x, 3600000000000ull, NULL), TARDY_OK);
    EXPECT(tardy_get_task(s, "w", 2, &task), TARDY_ERR_EMPTY); /* timed out */
    EXPECT(tardy_stop(s), TARDY_OK);
    EXPECT(tardy_stop(s), TARDY_ERR_STATE);
    EXPECT(tardy_start(s), TARDY_ERR_STATE);
    /* The task an hour away was set aside by the stop, not dropped. */
    collector got;
    memset(&got, 0, sizeof got);
    count = 99;
    EXPECT(tardy_drain(s, collect, &got, &count), TARDY_OK);
    CHECK(count == 1 && got.count == 1 && got.tasks[0].user_data == &x);
    tardy_free(s);

    /* A custom clock in microseconds, declared to the background thread. */
    EXPECT(tardy_new_with_tick(micros, NULL, 1000, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "w", 0), TARDY_OK);
    EXPECT(tardy_start(s), TARDY_OK);
    tardy_task_id id = 0;
    EXPECT(tardy_schedule_after(s, "w", 2, &x, 3000 /* 3 ms */, &id), TARDY_OK);
    EXPECT(tardy_get_task(s, "w", UINT64_MAX, &task), TARDY_OK);
    uint64_t now = 0;
    EXPECT(tardy_now(s, &now), TARDY_OK);
    CHECK(task.id == id && now >= task.deadline); /* never early */
    EXPECT(tardy_stop(s), TARDY_OK);
    tardy_free(s);

    /* Freeing a running scheduler stops its thread. */
    EXPECT(tardy_new_with_tick(NULL, NULL, 1, &s), TARDY_OK);
    EXPECT(tardy_start(s), TARDY_OK);
    tardy_free(s);
}

/* The whole life of a scheduler on a thread with a 128 KiB stack (musl's
 * default): nothing of the scheduler's size is built on the caller's
 * stack, whatever its capacity. */
static void *small_stack_body(void *arg) {
    (void)arg;
    tardy_scheduler *s = NULL;
    tardy_options opts;
    size_t count = 0;
    EXPECT(tardy_new(NULL, NULL, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "q", 0), TARDY_OK);
    EXPECT(tardy_schedule_after(s, "q", 1, NULL, 3600000000000ull, NULL), TARDY_OK);
    EXPECT(tardy_start(s), TARDY_OK);
    EXPECT(tardy_stop(s), TARDY_OK);
    EXPECT(tardy_drain(s, NULL, NULL, &count), TARDY_ERR_NULL); /* one set aside */
    tardy_free(s);
    EXPECT(tardy_options_init(&opts), TARDY_OK);
    opts.initial_capacity = 100000;
    EXPECT(tardy_new_with_options(&opts, NULL, NULL, 1, &s), TARDY_OK);
    tardy_free(s);
    return NULL;
}

static void test_small_stack(void) {
    pthread_attr_t attr;
    pthread_t thread;
    CHECK(pthread_attr_init(&attr) == 0);
    CHECK(pthread_attr_setstacksize(&attr, 128 * 1024) == 0);
    CHECK(pthread_create(&thread, &attr, small_stack_body, NULL) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(pthread_attr_destroy(&attr) == 0);
}

/* The wall clock now, in nanoseconds since the Unix epoch. */
static uint64_t unix_ns_now(void) {
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* tardy_schedule_at_unix_ns: a wall-clock time (a certificate's next
 * update) mapped to the built-in clock when scheduled; refused on a host
 * clock. */
static void test_wall_clock(void) {
    const uint64_t minute = UINT64_C(60000000000);
    tardy_scheduler *s = NULL;
    sim_clock clock = {0, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
    tardy_task_id id = 0, later = 0;
    uint64_t now = 0, deadline = 0;
    size_t n = 0;
    tardy_task task;

    EXPECT(tardy_new(NULL, NULL, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "renew", 0), TARDY_OK);
    /* An hour ahead on the wall clock: about an hour of ticks ahead. */
    EXPECT(tardy_schedule_at_unix_ns(s, "renew", 42, NULL, unix_ns_now() + 60 * minute, &later),
           TARDY_OK);
    EXPECT(tardy_now(s, &now), TARDY_OK);
    EXPECT(tardy_next_deadline(s, &deadline), TARDY_OK);
    CHECK(deadline > now + 59 * minute && deadline < now + 61 * minute);
    /* A minute ago: due at once. */
    EXPECT(tardy_schedule_at_unix_ns(s, "renew", 7, &n, unix_ns_now() - minute, &id), TARDY_OK);
    EXPECT(tardy_run_pending(s, &n), TARDY_OK);
    CHECK(n == 1);
    EXPECT(tardy_get_task(s, "renew", 0, &task), TARDY_OK);
    CHECK(task.id == id && task.subject == 7 && task.user_data == &n);
    EXPECT(tardy_task_done(s, "renew"), TARDY_OK);
    /* Bad input: a named error, out_id untouched. */
    id = 0;
    EXPECT(tardy_schedule_at_unix_ns(s, NULL, 1, NULL, 0, &id), TARDY_ERR_NULL);
    EXPECT(tardy_schedule_at_unix_ns(s, "", 1, NULL, 0, &id), TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_schedule_at_unix_ns(s, "nope", 1, NULL, 0, &id), TARDY_ERR_NO_QUEUE);
    CHECK(id == 0);
    EXPECT(tardy_cancel(s, later, NULL), TARDY_OK);
    EXPECT(tardy_next_deadline(s, &deadline), TARDY_ERR_EMPTY);
    tardy_free(s);

    /* A host clock's ticks have no known relation to the wall clock. */
    EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "renew", 0), TARDY_OK);
    EXPECT(tardy_schedule_at_unix_ns(s, "renew", 1, NULL, unix_ns_now(), &id),
           TARDY_ERR_INVALID_ARG);
    CHECK(id == 0);
    EXPECT(tardy_next_deadline(s, &deadline), TARDY_ERR_EMPTY);
    tardy_free(s);
}

/* Takes every occurrence waiting in `queue`; checks each belongs to the
 * periodic task `id` (subject 9, user_data `data`) and writes (deadline,
 * period_index, missed) of each to `out`; returns how many. */
static size_t take_occurrences(tardy_scheduler *s, const char *queue, tardy_task_id id,
                               void *data, uint64_t out[][3], size_t max) {
    tardy_task task;
    size_t n = 0;
    while (tardy_get_task(s, queue, 0, &task) == TARDY_OK) {
        CHECK(task.periodic == 1 && task.subject == 9 && task.user_data == data);
        CHECK(task.id != 0 && task.id != id);
        /* An occurrence's own id names no scheduled task. */
        EXPECT(tardy_cancel(s, task.id, NULL), TARDY_ERR_NOT_SCHEDULED);
        EXPECT(tardy_task_done(s, queue), TARDY_OK);
        CHECK(n < max);
        out[n][0] = task.deadline;
        out[n][1] = task.period_index;
        out[n][2] = task.missed;
        n++;
    }
    return n;
}

/* Each policy against the timeline of tardy_missed_tick_behavior: period 10,
 * first deadline 0, on time at 0 and 10, then no tardy_run_pending until
 * 35. Each row: the time, then up to two occurrences (deadline, index,
 * missed); a deadline of UINT64_MAX marks an unused entry. */
static void test_periodic_policies(void) {
    static const struct {
        tardy_missed_tick_behavior missed;
        uint64_t steps[5][1 + 2 * 3];
        uint64_t next_after_35;
    } cases[] = {
        {TARDY_MISSED_TICK_BEHAVIOR_BURST,
         {{0, 0, 0, 0, UINT64_MAX, 0, 0},
          {10, 10, 1, 0, UINT64_MAX, 0, 0},
          {35, 20, 2, 0, 30, 3, 0},
          {40, 40, 4, 0, UINT64_MAX, 0, 0},
          {50, 50, 5, 0, UINT64_MAX, 0, 0}},
         40},
        {TARDY_MISSED_TICK_BEHAVIOR_SKIP,
         {{0, 0, 0, 0, UINT64_MAX, 0, 0},
          {10, 10, 1, 0, UINT64_MAX, 0, 0},
          {35, 20, 2, 1, UINT64_MAX, 0, 0},
          {40, 40, 4, 0, UINT64_MAX, 0, 0},
          {50, 50, 5, 0, UINT64_MAX, 0, 0}},
         40},
        {TARDY_MISSED_TICK_BEHAVIOR_DELAY,
         {{0, 0, 0, 0, UINT64_MAX, 0, 0},
          {10, 10, 1, 0, UINT64_MAX, 0, 0},
          {35, 20, 2, 1, UINT64_MAX, 0, 0},
          {45, 45, 4, 0, UINT64_MAX, 0, 0},
          {55, 55, 5, 0, UINT64_MAX, 0, 0}},
         45},
    };
    int shared = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sim_clock clock = {0, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
        tardy_scheduler *s = NULL;
        tardy_task_id id = 0;
        size_t moved = 0;
        uint64_t next = 0;
        EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
        EXPECT(tardy_add_queue(s, "q", 0), TARDY_OK);
        EXPECT(tardy_schedule_periodic_after(s, "q", 9, &shared, 0, 10, cases[c].missed, &id),
               TARDY_OK);
        CHECK(id != 0);
        for (size_t i = 0; i < 5; i++) {
            const uint64_t *step = cases[c].steps[i];
            size_t want = step[4] == UINT64_MAX ? 1 : 2;
            uint64_t got[4][3];
            clock.ticks = step[0];
            EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
            CHECK(moved == want);
            CHECK(take_occurrences(s, "q", id, &shared, got, 4) == want);
            for (size_t k = 0; k < want; k++) {
                CHECK(got[k][0] == step[1 + 3 * k] && got[k][1] == step[2 + 3 * k] &&
                      got[k][2] == step[3 + 3 * k]);
            }
            EXPECT(tardy_next_deadline(s, &next), TARDY_OK);
            CHECK(next > step[0]);
            if (step[0] == 35) {
                CHECK(next == cases[c].next_after_35);
            }
        }
        /* Handed back once, as itself, by tardy_cancel. */
        void *back = NULL;
        EXPECT(tardy_cancel(s, id, &back), TARDY_OK);
        CHECK(back == &shared);
        EXPECT(tardy_cancel(s, id, &back), TARDY_ERR_NOT_SCHEDULED);
        EXPECT(tardy_next_deadline(s, &next), TARDY_ERR_EMPTY);
        tardy_free(s);
    }
}

/* Bad periodic arguments get their named error; user_data of a periodic
 * task comes back once through every hand-back path, in a record with
 * periodic 0; queued occurrences handed over with it have periodic 1. */
static void test_periodic_hand_back_and_errors(void) {
    sim_clock clock = {0, NULL, TARDY_OK, TARDY_OK, TARDY_OK, 0};
    tardy_scheduler *s = NULL;
    tardy_task_id id = 77, a = 0, b = 0, c = 0;
    size_t count = 0, moved = 0;
    uint64_t next = 0;
    int x[3];
    EXPECT(tardy_new(sim_now, &clock, &s), TARDY_OK);
    EXPECT(tardy_add_queue(s, "a", 0), TARDY_OK);
    EXPECT(tardy_add_queue(s, "b", 0), TARDY_OK);

    /* Any int may come as the policy: only the three values are taken. */
    const int bad[] = {3, -1, 1000, -2147483647 - 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tardy_missed_tick_behavior policy = (tardy_missed_tick_behavior)bad[i];
        EXPECT(tardy_schedule_periodic_after(s, "a", 1, &x[0], 0, 10, policy, &id),
               TARDY_ERR_INVALID_ARG);
        EXPECT(tardy_schedule_periodic_at(s, "a", 1, &x[0], 0, 10, policy, &id),
               TARDY_ERR_INVALID_ARG);
    }
    EXPECT(tardy_schedule_periodic_after(s, "a", 1, &x[0], 0, 0, TARDY_MISSED_TICK_BEHAVIOR_BURST,
                                         &id),
           TARDY_ERR_INVALID_ARG); /* period 0 */
    EXPECT(tardy_schedule_periodic_at(s, "a", 1, &x[0], 5, 0, TARDY_MISSED_TICK_BEHAVIOR_SKIP, &id),
           TARDY_ERR_INVALID_ARG);
    EXPECT(tardy_schedule_periodic_at(s, "nope", 1, &x[0], 5, 1, TARDY_MISSED_TICK_BEHAVIOR_SKIP,
                                      &id),
           TARDY_ERR_NO_QUEUE);
    EXPECT(tardy_schedule_periodic_at(s, NULL, 1, &x[0], 5, 1, TARDY_MISSED_TICK_BEHAVIOR_SKIP, &id),
           TARDY_ERR_NULL);
    EXPECT(tardy_schedule_periodic_at(s, "", 1, &x[0], 5, 1, TARDY_MISSED_TICK_BEHAVIOR_SKIP, &id),
           TARDY_ERR_INVALID_ARG);
    CHECK(id == 77);
    EXPECT(tardy_next_deadline(s, &next), TARDY_ERR_EMPTY);

    EXPECT(tardy_schedule_periodic_after(s, "a", 1, &x[0], 0, 5, TARDY_MISSED_TICK_BEHAVIOR_BURST,
                                         &a),
           TARDY_OK);
    EXPECT(tardy_schedule_periodic_after(s, "b", 2, &x[1], 0, 5, TARDY_MISSED_TICK_BEHAVIOR_SKIP,
                                         &b),
           TARDY_OK);
    EXPECT(tardy_schedule_periodic_at(s, "b", 3, &x[2], 100, 5, TARDY_MISSED_TICK_BEHAVIOR_DELAY,
                                      &c),
           TARDY_OK);
    clock.ticks = 5;
    EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
    CHECK(moved == 3); /* a: #0 and #1 (BURST); b: #0+1 (SKIP) */

    /* By subject: the periodic task itself, once; its occurrences stay. */
    collector got;
    memset(&got, 0, sizeof got);
    EXPECT(tardy_cancel_subject(s, 1, collect, &got, &count), TARDY_OK);
    CHECK(count == 1 && got.count == 1);
    CHECK(got.tasks[0].id == a && got.tasks[0].user_data == &x[0] && got.tasks[0].periodic == 0);
    CHECK(got.tasks[0].deadline == 10);
    EXPECT(tardy_cancel_subject(s, 1, collect, &got, &count), TARDY_OK);
    CHECK(count == 0 && got.count == 1);
    EXPECT(tardy_cancel(s, a, NULL), TARDY_ERR_NOT_SCHEDULED);
    tardy_task task;
    for (uint64_t k = 0; k < 2; k++) {
        EXPECT(tardy_get_task(s, "a", 0, &task), TARDY_OK);
        CHECK(task.periodic == 1 && task.period_index == k && task.user_data == &x[0]);
    }
    EXPECT(tardy_get_task(s, "a", 0, &task), TARDY_ERR_EMPTY);

    /* With its queue: each periodic task once (periodic 0), and the
     * occurrence waiting there (periodic 1). */
    memset(&got, 0, sizeof got);
    EXPECT(tardy_remove_queue(s, "b", collect, &got), TARDY_OK);
    CHECK(got.count == 3);
    int originals = 0, occurrences = 0;
    for (size_t i = 0; i < got.count; i++) {
        if (got.tasks[i].periodic == 0) {
            originals++;
            CHECK((got.tasks[i].id == b && got.tasks[i].user_data == &x[1]) ||
                  (got.tasks[i].id == c && got.tasks[i].user_data == &x[2]));
        } else {
            occurrences++;
            CHECK(got.tasks[i].user_data == &x[1] && got.tasks[i].period_index == 0 &&
                  got.tasks[i].missed == 1);
        }
    }
    CHECK(originals == 2 && occurrences == 1);
    EXPECT(tardy_cancel(s, b, NULL), TARDY_ERR_NOT_SCHEDULED);
    EXPECT(tardy_cancel(s, c, NULL), TARDY_ERR_NOT_SCHEDULED);
    EXPECT(tardy_next_deadline(s, &next), TARDY_ERR_EMPTY);

    /* tardy_stop sets it aside; tardy_drain hands it back once. */
    EXPECT(tardy_schedule_periodic_at(s, "a", 4, &x[0], 0, 7, TARDY_MISSED_TICK_BEHAVIOR_SKIP, &a),
           TARDY_OK);
    EXPECT(tardy_run_pending(s, &moved), TARDY_OK);
    CHECK(moved == 1);
    EXPECT(tardy_stop(s), TARDY_OK);
    memset(&got, 0, sizeof got);
    EXPECT(tardy_drain(s, collect, &got, &count), TARDY_OK);
    CHECK(count == 2 && got.count == 2);
    originals = 0;
    for (size_t i = 0; i < got.count; i++) {
        CHECK(got.tasks[i].user_data == &x[0]);
        if (got.tasks[i].periodic == 0) {
            originals++;
            CHECK(got.tasks[i].id == a && got.tasks[i].deadline == 7);
        }
    }
    CHECK(originals == 1);
    EXPECT(tardy_drain(s, collect, &got, &count), TARDY_OK);
    CHECK(count == 0);
    tardy_free(s);
}

int main(void) {
    test_status_and_version();
    test_new_free();
    test_options();
    test_null_scheduler();
    test_names_and_queues();
    test_schedule_deliver();
    test_wall_clock();
    test_hand_back();
    test_clock_reentrance();
    test_stop_drain();
    test_start_stop();
    test_small_stack();
    test_periodic_policies();
    test_periodic_hand_back_and_errors();
    printf("test_api: ok (%d checks)\n", checks);
    return 0;
}
