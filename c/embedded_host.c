/*
 * An embedded-style host: one thread, its own clock (simulated timer ticks
 * of 1 ms), and a main loop that
 *   1. delivers due tasks with tardy_run_pending,
 *   2. drains its queues with tardy_get_task(..., 0, ...),
 *   3. "sleeps" until tardy_next_deadline (here: moves the tick counter).
 * A periodic sensor task samples every SENSOR_PERIOD ticks (one
 * tardy_schedule_periodic_after, cancelled at END_TICK); network jobs
 * arrive with pseudo-random delays, some are cancelled; the "uart" queue
 * holds 2 tasks, so due tasks wait for room. Checks that nothing is early,
 * nothing is lost, that tasks come out in deadline order, and that the
 * sensor's samples are on the grid SENSOR_PERIOD * (k + 1) with no period
 * missed.
 */
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

#define OK(call) CHECK((call) == TARDY_OK)

#define END_TICK 20000u
#define SENSOR_PERIOD 10u
#define NET_JOBS 500u

/* The hardware timer: incremented by the "sleep" below. */
static volatile uint64_t ticks;

static uint64_t timer_now(void *user) {
    (void)user;
    return ticks;
}

static uint32_t rng = 12345u;
static uint32_t next_random(void) {
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffu;
}

typedef struct {
    unsigned delivered;
    unsigned cancelled;
    uint64_t last_deadline;
} job;

static job jobs[NET_JOBS];
static int sensor; /* the sensor's user_data: shared by every sample */

int main(void) {
    tardy_scheduler *s = NULL;
    /* All the memory up front and no growth, as firmware would have it:
     * room for every job and sensor task at once, and no more. */
    tardy_options opts;
    OK(tardy_options_init(&opts));
    opts.initial_capacity = NET_JOBS + 8;
    opts.max_capacity = NET_JOBS + 8;
    OK(tardy_new_with_options(&opts, timer_now, NULL, 1000000 /* 1 ms per tick */, &s));
    OK(tardy_add_queue(s, "sensor", 4));
    OK(tardy_add_queue(s, "net", 0));
    OK(tardy_add_queue(s, "uart", 2));

    tardy_task_id sampler = 0;
    OK(tardy_schedule_periodic_after(s, "sensor", 0, &sensor, SENSOR_PERIOD, SENSOR_PERIOD,
                                     TARDY_MISSED_TICK_BEHAVIOR_SKIP, &sampler));
    tardy_task_id ids[NET_JOBS];
    for (unsigned i = 0; i < NET_JOBS; i++) {
        uint64_t delay = next_random() % (END_TICK / 2);
        const char *queue = (i % 5 == 0) ? "uart" : "net";
        OK(tardy_schedule_after(s, queue, i, &jobs[i], delay, &ids[i]));
    }
    unsigned cancelled = 0;
    for (unsigned i = 0; i < NET_JOBS; i += 7) {
        void *user = NULL;
        if (tardy_cancel(s, ids[i], &user) == TARDY_OK) {
            CHECK(user == &jobs[i]);
            jobs[i].cancelled++;
            cancelled++;
        }
    }
    CHECK(cancelled > 0);

    unsigned sensor_runs = 0, net_runs = 0, uart_runs = 0, sleeps = 0;
    uint64_t last_net = 0, last_uart = 0;
    for (;;) {
        size_t moved = 0;
        OK(tardy_run_pending(s, &moved));

        tardy_task task;
        tardy_status st;
        while ((st = tardy_get_task(s, "sensor", 0, &task)) == TARDY_OK) {
            CHECK(task.deadline <= ticks); /* never early */
            CHECK(task.deadline == ticks); /* simulated time: never late either */
            CHECK(task.periodic && task.user_data == &sensor && task.id != sampler);
            CHECK(task.period_index == sensor_runs && task.missed == 0);
            CHECK(task.deadline == SENSOR_PERIOD * (task.period_index + 1)); /* no drift */
            sensor_runs++;
            if (ticks + SENSOR_PERIOD > END_TICK) {
                void *back = NULL;
                OK(tardy_cancel(s, sampler, &back)); /* handed back once */
                CHECK(back == &sensor);
                CHECK(tardy_cancel(s, sampler, &back) == TARDY_ERR_NOT_SCHEDULED);
            }
            OK(tardy_task_done(s, "sensor"));
        }
        CHECK(st == TARDY_ERR_EMPTY);
        while ((st = tardy_get_task(s, "net", 0, &task)) == TARDY_OK) {
            job *j = (job *)task.user_data;
            CHECK(task.deadline <= ticks && task.deadline >= last_net);
            last_net = task.deadline;
            CHECK(j == &jobs[task.subject]);
            j->delivered++;
            net_runs++;
            OK(tardy_task_done(s, "net"));
        }
        CHECK(st == TARDY_ERR_EMPTY);
        /* The UART is slow: one task per loop; the rest wait for room. */
        if ((st = tardy_get_task(s, "uart", 0, &task)) == TARDY_OK) {
            job *j = (job *)task.user_data;
            CHECK(task.deadline <= ticks && task.deadline >= last_uart);
            last_uart = task.deadline;
            j->delivered++;
            uart_runs++;
            OK(tardy_task_done(s, "uart"));
            continue; /* more may be waiting: loop again without sleeping */
        }
        CHECK(st == TARDY_ERR_EMPTY);

        uint64_t next = 0;
        st = tardy_next_deadline(s, &next);
        if (st == TARDY_ERR_EMPTY) {
            break; /* nothing scheduled: done */
        }
        OK(st);
        CHECK(next > ticks); /* run_pending delivered everything due */
        ticks = next;        /* "sleep until the next deadline" */
        sleeps++;
    }

    unsigned delivered = 0;
    for (unsigned i = 0; i < NET_JOBS; i++) {
        CHECK(jobs[i].delivered + jobs[i].cancelled == 1);
        delivered += jobs[i].delivered;
    }
    CHECK(delivered + cancelled == NET_JOBS);
    CHECK(net_runs + uart_runs == delivered);
    CHECK(sensor_runs == END_TICK / SENSOR_PERIOD);
    size_t left = 99;
    OK(tardy_run_all(s, &left));
    CHECK(left == 0);
    tardy_free(s);
    printf("embedded_host: ok (sensor %u, net %u, uart %u, cancelled %u, %u sleeps, "
           "ended at tick %llu)\n",
           sensor_runs, net_runs, uart_runs, cancelled, sleeps, (unsigned long long)ticks);
    return 0;
}
