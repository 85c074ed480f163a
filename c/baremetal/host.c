/*
 * A bare-metal C program on libtardy_baremetal.a, for QEMU's mps2-an386
 * (Cortex-M4F): its own vector table and start-up, the critical-section and
 * panic hooks, a simulated clock, and checks of every function of the
 * library (results and error codes). It prints over semihosting and exits
 * with status 0 only if every check passed.
 *
 * Built by run.sh with arm-none-eabi-gcc -Wall -Wextra -Werror -pedantic.
 */
#include <stddef.h>
#include <stdint.h>

#include "tardy_baremetal.h"

/* ----- semihosting ------------------------------------------------------ */

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void print(const char *s) { (void)semihost(0x04, s); /* SYS_WRITE0 */ }

static void print_u32(uint32_t n)
{
    char buf[11];
    int at = 10;
    buf[10] = 0;
    do {
        buf[--at] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0 && at > 0);
    print(&buf[at]);
}

static void exit_qemu(int ok)
{
    /* SYS_EXIT: ADP_Stopped_ApplicationExit is status 0, anything else 1. */
    (void)semihost(0x18, (const void *)(uintptr_t)(ok ? 0x20026 : 0x20023));
    for (;;) {
    }
}

/* ----- hooks the library calls ------------------------------------------ */

static volatile uint32_t critical_depth;
static volatile uint32_t critical_entries;

uint32_t tardy_host_critical_enter(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    critical_depth++;
    critical_entries++;
    return primask;
}

void tardy_host_critical_exit(uint32_t state)
{
    critical_depth--;
    if ((state & 1u) == 0) {
        __asm__ volatile("cpsie i" ::: "memory");
    }
}

void tardy_host_panic(const char *file, size_t file_len, uint32_t line)
{
    (void)file;
    (void)file_len;
    print("tardy baremetal C: FAIL panic at line ");
    print_u32(line);
    print("\n");
    exit_qemu(0);
}

/* ----- the checks ------------------------------------------------------- */

static uint32_t checks, failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            print("tardy baremetal C: check failed at line ");                                     \
            print_u32(__LINE__);                                                                   \
            print(": " #cond "\n");                                                                \
        }                                                                                          \
    } while (0)

static uint64_t ticks;
static uint64_t read_clock(void *user) { return *(const uint64_t *)user; }

struct tally {
    uint32_t count;
    uint64_t subject_sum;
};

static void on_task(void *user, const tardy_task *task)
{
    struct tally *t = user;
    t->count++;
    t->subject_sum += task->subject;
}

static int slots[40];

static void check_static_scheduler(void)
{
    tardy_scheduler *s = NULL, *again = NULL;
    tardy_task task;
    tardy_task_id id = 0, first = 0;
    uint64_t next = 0;
    size_t moved = 99, count = 0;
    void *user_data = NULL;
    struct tally tally = {0, 0};
    int i;

    CHECK(tardy_new(NULL, &ticks, &s) == TARDY_ERR_NULL);
    CHECK(tardy_new(read_clock, &ticks, NULL) == TARDY_ERR_NULL);
    CHECK(tardy_new(read_clock, &ticks, &s) == TARDY_OK && s != NULL);
    CHECK(tardy_new(read_clock, &ticks, &again) == TARDY_ERR_CAPACITY && again == NULL);

    /* queues */
    CHECK(tardy_add_queue(s, "work", 0) == TARDY_OK);
    CHECK(tardy_add_queue(s, "work", 0) == TARDY_ERR_QUEUE_EXISTS);
    CHECK(tardy_add_queue(s, "", 0) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_add_queue(s, "a-name-longer-than-thirty-one-bytes", 0) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_add_queue(s, "big", TARDY_BAREMETAL_QUEUE_CAPACITY + 1) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_add_queue(NULL, "work", 0) == TARDY_ERR_NULL);
    CHECK(tardy_add_queue(s, NULL, 0) == TARDY_ERR_NULL);
    CHECK(tardy_add_queue(s, "small", 2) == TARDY_OK);

    /* deadline order, ties in scheduling order, never early */
    ticks = 0;
    CHECK(tardy_schedule_at(s, "work", 3, &slots[3], 30, &id) == TARDY_OK && id != 0);
    CHECK(tardy_schedule_at(s, "work", 1, &slots[1], 10, &first) == TARDY_OK);
    CHECK(tardy_schedule_at(s, "work", 2, &slots[2], 10, NULL) == TARDY_OK);
    CHECK(tardy_schedule_after(s, "work", 4, &slots[4], 25, NULL) == TARDY_OK);
    CHECK(tardy_schedule_at(s, "nope", 9, NULL, 1, NULL) == TARDY_ERR_NO_QUEUE);
    CHECK(tardy_next_deadline(s, &next) == TARDY_OK && next == 10);
    ticks = 9;
    CHECK(tardy_run_pending(s, &moved) == TARDY_OK && moved == 0);
    CHECK(tardy_get_task(s, "work", 0, &task) == TARDY_ERR_EMPTY);
    ticks = 26;
    CHECK(tardy_run_pending(s, &moved) == TARDY_OK && moved == 3);
    CHECK(tardy_get_task(s, "work", 0, &task) == TARDY_OK && task.subject == 1 &&
          task.user_data == &slots[1] && task.deadline == 10 && task.id == first);
    CHECK(tardy_get_task(s, "work", 0, &task) == TARDY_OK && task.subject == 2);
    CHECK(tardy_get_task(s, "work", 0, &task) == TARDY_OK && task.subject == 4 &&
          task.deadline == 25);
    CHECK(tardy_get_task(s, "work", 5, &task) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_get_task(s, "work", 0, NULL) == TARDY_ERR_NULL);
    CHECK(tardy_get_task(s, "nope", 0, &task) == TARDY_ERR_NO_QUEUE);
    CHECK(tardy_task_done(s, "work") == TARDY_OK);
    CHECK(tardy_task_done(s, "work") == TARDY_OK);
    CHECK(tardy_task_done(s, "work") == TARDY_OK);
    CHECK(tardy_task_done(s, "work") == TARDY_ERR_INVALID_ARG);

    /* reschedule, cancel, stale ids */
    CHECK(tardy_reschedule_at(s, id, 100) == TARDY_OK);
    CHECK(tardy_next_deadline(s, &next) == TARDY_OK && next == 100);
    CHECK(tardy_cancel(s, id, &user_data) == TARDY_OK && user_data == &slots[3]);
    CHECK(tardy_cancel(s, id, &user_data) == TARDY_ERR_NOT_SCHEDULED);
    CHECK(tardy_cancel(s, first, NULL) == TARDY_ERR_NOT_SCHEDULED);
    CHECK(tardy_reschedule_at(s, id, 5) == TARDY_ERR_NOT_SCHEDULED);
    CHECK(tardy_reschedule_at(s, 0, 5) == TARDY_ERR_NOT_SCHEDULED);
    CHECK(tardy_next_deadline(s, &next) == TARDY_ERR_EMPTY);

    /* full queue: ASAP refused, scheduled ones wait in order */
    CHECK(tardy_schedule_now(s, "small", 7, NULL, NULL) == TARDY_OK);
    CHECK(tardy_schedule_now(s, "small", 7, NULL, NULL) == TARDY_OK);
    CHECK(tardy_schedule_now(s, "small", 7, NULL, NULL) == TARDY_ERR_QUEUE_FULL);
    CHECK(tardy_schedule_at(s, "small", 8, NULL, 0, NULL) == TARDY_OK);
    CHECK(tardy_run_pending(s, &moved) == TARDY_OK && moved == 0);
    CHECK(tardy_get_task(s, "small", 0, &task) == TARDY_OK && task.subject == 7);
    CHECK(tardy_get_task(s, "small", 0, &task) == TARDY_OK && task.subject == 7);
    CHECK(tardy_get_task(s, "small", 0, &task) == TARDY_OK && task.subject == 8);

    /* cancel by subject, with the callback */
    for (i = 0; i < 5; i++) {
        CHECK(tardy_schedule_after(s, "work", (uint64_t)(i % 2 ? 20 : 21), &slots[i], 1000,
                                   NULL) == TARDY_OK);
    }
    CHECK(tardy_cancel_subject(s, 21, on_task, &tally, &count) == TARDY_OK && count == 3 &&
          tally.count == 3 && tally.subject_sum == 63);
    CHECK(tardy_cancel_subject(s, 21, NULL, NULL, &count) == TARDY_OK && count == 0);

    /* capacity: every slot, then TARDY_ERR_CAPACITY */
    for (i = 0; i < TARDY_BAREMETAL_CAPACITY - 2; i++) {
        CHECK(tardy_schedule_after(s, "work", 30, NULL, 500, NULL) == TARDY_OK);
    }
    CHECK(tardy_schedule_after(s, "work", 30, NULL, 500, NULL) == TARDY_ERR_CAPACITY);

    /* remove_queue hands everything back */
    tally.count = 0;
    tally.subject_sum = 0;
    CHECK(tardy_remove_queue(s, "work", on_task, &tally) == TARDY_OK &&
          tally.count == TARDY_BAREMETAL_CAPACITY);
    CHECK(tardy_remove_queue(s, "work", NULL, NULL) == TARDY_ERR_NO_QUEUE);
    CHECK(tardy_now(s, &next) == TARDY_OK && next == ticks);

    /* run_all ignores deadlines */
    CHECK(tardy_schedule_at(s, "small", 1, NULL, UINT64_MAX, NULL) == TARDY_OK);
    CHECK(tardy_run_all(s, &moved) == TARDY_OK && moved == 1);

    /* the static scheduler can be taken again once freed */
    tardy_free(s);
    tardy_free(NULL);
    CHECK(tardy_new(read_clock, &ticks, &again) == TARDY_OK && again == s);
    CHECK(tardy_get_task(again, "small", 0, &task) == TARDY_ERR_NO_QUEUE);
    tardy_free(again);
}

static uint64_t storage[4096];

static void check_caller_storage(void)
{
    tardy_scheduler *s = NULL;
    tardy_task task;
    uint64_t local = 50;
    size_t size = tardy_scheduler_size();

    CHECK(size > 0 && size <= sizeof storage);
    CHECK(tardy_scheduler_align() <= 8);
    CHECK(tardy_init(storage, size - 1, read_clock, &local, &s) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_init((char *)storage + 1, size, read_clock, &local, &s) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_init(NULL, size, read_clock, &local, &s) == TARDY_ERR_NULL);
    CHECK(tardy_init(storage, size, NULL, &local, &s) == TARDY_ERR_NULL);
    CHECK(s == NULL);
    CHECK(tardy_init(storage, sizeof storage, read_clock, &local, &s) == TARDY_OK &&
          (void *)s == (void *)storage);
    CHECK(tardy_add_queue(s, "q", 0) == TARDY_OK);
    CHECK(tardy_schedule_after(s, "q", 5, NULL, 10, NULL) == TARDY_OK);
    local = 59;
    CHECK(tardy_run_pending(s, NULL) == TARDY_OK);
    CHECK(tardy_get_task(s, "q", 0, &task) == TARDY_ERR_EMPTY);
    local = 60;
    CHECK(tardy_run_pending(s, NULL) == TARDY_OK);
    CHECK(tardy_get_task(s, "q", 0, &task) == TARDY_OK && task.deadline == 60);
    tardy_free(s);
}

/* A sensor sampled by a periodic task, on caller storage. */
static void check_periodic(void)
{
    tardy_scheduler *s = NULL;
    tardy_task task;
    tardy_task_id sampler = 0, id = 77;
    uint64_t local = 0, next = 0;
    size_t moved = 0, count = 0;
    void *user_data = NULL;
    struct tally tally = {0, 0};
    static int sensor;

    CHECK(tardy_init(storage, sizeof storage, read_clock, &local, &s) == TARDY_OK);
    CHECK(tardy_add_queue(s, "sample", 2) == TARDY_OK);
    CHECK(tardy_schedule_periodic_at(s, "sample", 5, &sensor, 10, 0,
                                     TARDY_MISSED_TICK_BEHAVIOR_SKIP, &id) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_schedule_periodic_at(s, "sample", 5, &sensor, 10, 10,
                                     (tardy_missed_tick_behavior)3, &id) == TARDY_ERR_INVALID_ARG);
    CHECK(tardy_schedule_periodic_after(s, "nope", 5, &sensor, 10, 10,
                                        TARDY_MISSED_TICK_BEHAVIOR_SKIP, &id) == TARDY_ERR_NO_QUEUE);
    CHECK(id == 77);
    CHECK(tardy_schedule_periodic_at(s, "sample", 5, &sensor, 10, 10,
                                     TARDY_MISSED_TICK_BEHAVIOR_SKIP, &sampler) == TARDY_OK);

    /* On time at 10: period 0. */
    local = 10;
    CHECK(tardy_run_pending(s, &moved) == TARDY_OK && moved == 1);
    CHECK(tardy_get_task(s, "sample", 0, &task) == TARDY_OK && task.periodic == 1 &&
          task.user_data == &sensor && task.subject == 5 && task.deadline == 10 &&
          task.period_index == 0 && task.missed == 0 && task.id != sampler);
    /* The main loop was busy until 45: one sample for periods 1 to 3. */
    local = 45;
    CHECK(tardy_run_pending(s, &moved) == TARDY_OK && moved == 1);
    CHECK(tardy_get_task(s, "sample", 0, &task) == TARDY_OK && task.deadline == 20 &&
          task.period_index == 1 && task.missed == 2);
    CHECK(tardy_get_task(s, "sample", 0, &task) == TARDY_ERR_EMPTY);
    CHECK(tardy_next_deadline(s, &next) == TARDY_OK && next == 50); /* on the grid */

    /* Handed back once, as itself. */
    CHECK(tardy_cancel(s, sampler, &user_data) == TARDY_OK && user_data == &sensor);
    CHECK(tardy_cancel(s, sampler, &user_data) == TARDY_ERR_NOT_SCHEDULED);
    CHECK(tardy_schedule_periodic_after(s, "sample", 6, &sensor, 0, 10,
                                        TARDY_MISSED_TICK_BEHAVIOR_BURST, &sampler) == TARDY_OK);
    CHECK(tardy_cancel_subject(s, 6, on_task, &tally, &count) == TARDY_OK && count == 1 &&
          tally.count == 1 && tally.subject_sum == 6);
    CHECK(tardy_next_deadline(s, &next) == TARDY_ERR_EMPTY);
    tardy_free(s);
}

static void check_misc(void)
{
    const char *v = tardy_version();
    CHECK(v != NULL && v[0] != 0);
    CHECK(tardy_status_str(TARDY_ERR_CAPACITY) != NULL);
    CHECK(tardy_status_str((tardy_status)-100) != NULL); /* unknown value */
}

int main(void)
{
    check_misc();
    check_static_scheduler();
    check_caller_storage();
    check_periodic();
    CHECK(critical_entries > 0);
    CHECK(critical_depth == 0);

    print("tardy baremetal C: ");
    print_u32(checks - failures);
    print(" passed, ");
    print_u32(failures);
    print(" failed; critical sections entered ");
    print_u32(critical_entries);
    print("\n");
    print(failures == 0 ? "tardy baremetal C: PASS\n" : "tardy baremetal C: FAIL\n");
    exit_qemu(failures == 0);
    return 0;
}

/* ----- start-up ----------------------------------------------------------- */

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;

void reset_handler(void);
void default_handler(void);

void default_handler(void)
{
    print("tardy baremetal C: FAIL unexpected exception\n");
    exit_qemu(0);
}

void reset_handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss; dst++) {
        *dst = 0;
    }
    /* The library is built for the hard-float ABI: enable the FPU (CPACR). */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    (void)main();
    exit_qemu(0);
}

__attribute__((section(".vectors"), used)) static const uintptr_t vectors[16] = {
    (uintptr_t)&_estack,        (uintptr_t)reset_handler,   (uintptr_t)default_handler,
    (uintptr_t)default_handler, (uintptr_t)default_handler, (uintptr_t)default_handler,
    (uintptr_t)default_handler, 0,
    0,
    0,
    0,
    (uintptr_t)default_handler, (uintptr_t)default_handler, 0,
    (uintptr_t)default_handler, (uintptr_t)default_handler,
};
