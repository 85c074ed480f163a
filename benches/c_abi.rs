//! `c_abi`: schedule + cancel through the exported `extern "C"` functions,
//! called directly from Rust, against the same through the Rust API of
//! `SchedulerThread` (same capacity, same built-in monotonic clock, thread
//! not started in either), in one criterion group.
//!
//! `cargo bench --features capi --bench c_abi`

use std::hint::black_box;
use std::ptr::null_mut;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tardy::ffi::{
    tardy_add_queue, tardy_cancel, tardy_free, tardy_new, tardy_schedule_after, tardy_scheduler,
    tardy_status, tardy_task_id,
};
use tardy::{MonotonicClock, Options, SchedulerThread, Task};

/// An hour in the C scheduler's ticks (nanoseconds): never due here.
const HOUR_NS: u64 = 3_600_000_000_000;

fn c_abi(c: &mut Criterion) {
    let mut g = c.benchmark_group("c_abi");

    let mut s: *mut tardy_scheduler = null_mut();
    // SAFETY: `&mut s` is valid for writing a pointer; no clock callback.
    let st = unsafe { tardy_new(None, null_mut(), &mut s) };
    assert_eq!(st, tardy_status::TARDY_OK);
    // SAFETY: `s` is live; the name is a NUL-terminated string.
    let st = unsafe { tardy_add_queue(s, c"q".as_ptr(), 0) };
    assert_eq!(st, tardy_status::TARDY_OK);
    g.bench_function("c/schedule_after+cancel", |b| {
        b.iter(|| {
            let mut id: tardy_task_id = 0;
            // SAFETY: `s` is live, the name NUL-terminated, `id` writable,
            // user data NULL (never dereferenced by tardy).
            let st = unsafe {
                tardy_schedule_after(s, c"q".as_ptr(), black_box(7), null_mut(), HOUR_NS, &mut id)
            };
            debug_assert_eq!(st, tardy_status::TARDY_OK);
            // SAFETY: `s` is live; a NULL out-pointer is allowed.
            let st = unsafe { tardy_cancel(s, black_box(id), null_mut()) };
            assert_eq!(st, tardy_status::TARDY_OK);
        });
    });
    // SAFETY: `s` came from `tardy_new` and is not used after this.
    unsafe { tardy_free(s) };

    let sched =
        SchedulerThread::<u64, usize>::new(MonotonicClock::new(), &[("q", 0)], Options::new())
            .expect("new");
    let h = sched.handle();
    let q = h.queue_id("q").expect("queue");
    g.bench_function("rust/schedule_after+cancel", |b| {
        b.iter(|| {
            let task = Task::new(q, black_box(7u64), 0usize);
            let id = h
                .schedule_after(task, Duration::from_nanos(HOUR_NS))
                .expect("schedule");
            black_box(h.cancel(black_box(id)).expect("cancel"));
        });
    });
    // The C functions name the queue with a string on every call: the same
    // look-up through the Rust API.
    g.bench_function("rust/queue_id+schedule_after+cancel", |b| {
        b.iter(|| {
            let q = h.queue_id(black_box("q")).expect("queue");
            let task = Task::new(q, black_box(7u64), 0usize);
            let id = h
                .schedule_after(task, Duration::from_nanos(HOUR_NS))
                .expect("schedule");
            black_box(h.cancel(black_box(id)).expect("cancel"));
        });
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = c_abi
}
criterion_main!(benches);
