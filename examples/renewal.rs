//! An OCSP-renewal daemon in miniature: what the Python scheduler tardy
//! re-implements was written for.
//!
//! Every certificate (the task's subject) needs its OCSP response renewed
//! every period: one periodic task per certificate, its period the renewal
//! interval. Each period delivers an occurrence into the `ocsp-fetch`
//! queue; fetch workers "fetch" a response (a short sleep standing in for
//! the network). Some fetches fail: the worker schedules the occurrence it
//! holds again with exponential back-off (a one-shot retry, its attempt
//! count growing), and the period goes on undisturbed. A successful
//! response goes to the `ocsp-store` queue, whose worker "writes" it.
//! Halfway through, some certificates are removed: their periodic tasks and
//! pending retries are cancelled by subject. At the end the scheduler stops
//! gracefully and hands back what was still scheduled or queued, and the
//! demo checks that nothing was lost: every periodic task comes back once,
//! every period of every certificate was delivered once (`Task::period`:
//! its index and how many periods it stands for), its next deadline is
//! still on the grid `first + k * period`, and every retry is accounted for.
//!
//! ```sh
//! cargo run --release --example renewal
//! cargo run --release --example renewal -- --certs 10000 --workers 8 --seconds 20 --fail 20
//! cargo run --release --example renewal -- --certs 1000000
//! ```
//!
//! The scheduler grows as certificates are added (no capacity to choose);
//! after the periodic tasks are scheduled the demo reports the memory they
//! take per task: the scheduler's own count of the bytes it allocated, and
//! the growth of the process's resident memory (Linux: `VmRSS` of
//! `/proc/self/status`).
//!
//! Time is compressed: a renewal period is 0.5–2 s instead of hours. With
//! a million certificates the workers cannot keep up (a few thousand
//! fetches a second against hundreds of thousands of periods): occurrences
//! wait for room in the bounded fetch queue and the periods that pass
//! meanwhile are coalesced into them (`missed`).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tardy::{
    MissedTickBehavior, MonotonicClock, Options, QueueId, SchedulerHandle, SchedulerThread,
    SubmitError, TakeError, Task, TaskId, Ticks, Wait, When,
};

/// The most certificates the demo accepts (the scheduler itself holds up
/// to 2^32 - 2 tasks).
const MAX_CERTS: usize = 100_000_000;
/// A fetch that failed this many times is given up: the next period renews
/// the certificate.
const MAX_ATTEMPTS: u32 = 5;
/// Nanoseconds (ticks of `MonotonicClock`) per millisecond.
const MS: Ticks = 1_000_000;

/// What a task asks a worker to do. Periodic tasks clone their payload
/// into every occurrence: a small `Clone` value here (an `Arc` where the
/// payload is large or shared).
#[derive(Clone, Debug)]
enum Job {
    /// Fetch a fresh OCSP response.
    Fetch,
    /// Store a fetched response of this many bytes.
    Store { bytes: usize },
}

type Sched = SchedulerThread<u64, Job, MonotonicClock, 4>;
type Handle = SchedulerHandle<u64, Job, MonotonicClock, 4>;

struct Config {
    certs: usize,
    workers: usize,
    seconds: u64,
    fail_percent: u64,
    seed: u64,
}

const USAGE: &str =
    "usage: renewal [--certs N] [--workers N] [--seconds N] [--fail PERCENT] [--seed N]
  --certs    certificates to keep renewed (default 2000, at most 100000000)
  --workers  fetch worker threads (default 4)
  --seconds  how long the daemon runs (default 6)
  --fail     percent of fetches that fail and are retried (default 10)
  --seed     seed of the pseudo-random choices (default 1)";

fn parse_args() -> Result<Config, String> {
    let mut config = Config {
        certs: 2000,
        workers: 4,
        seconds: 6,
        fail_percent: 10,
        seed: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |min: u64, max: u64| -> Result<u64, String> {
            match value.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(format!(
                    "{flag}: expected a number from {min} to {max}, got {value:?}"
                )),
            }
        };
        match flag.as_str() {
            "--certs" => config.certs = number(1, MAX_CERTS as u64)? as usize,
            "--workers" => config.workers = number(1, 256)? as usize,
            "--seconds" => config.seconds = number(1, 3600)?,
            "--fail" => config.fail_percent = number(0, 100)?,
            "--seed" => config.seed = number(0, u64::MAX)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(config)
}

/// A small deterministic generator (xorshift64*), one per thread.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// A certificate's renewal schedule, a function of the seed and the
/// certificate (so the final check needs no table of them): the first
/// renewal due within the first second after `t0`, then one every 0.5–2 s.
#[derive(Clone, Copy)]
struct Plan {
    first: Ticks,
    period: Ticks,
}

impl Plan {
    fn of(seed: u64, t0: Ticks, cert: u64) -> Self {
        let mut rng = Rng::new(seed ^ cert.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        Self {
            first: t0 + rng.below(1_000) * MS,
            period: (500 + rng.below(1_500)) * MS,
        }
    }
}

/// What the demo knows of one certificate, shared by the threads.
#[derive(Default)]
struct Cert {
    removed: AtomicBool,
    /// The periodic task's handle (`TaskId::get`).
    handle: AtomicU64,
    /// Periods the occurrences seen so far stand for: the sum of
    /// `missed + 1`.
    periods: AtomicU64,
    /// One past the last period seen: the highest `index + missed + 1`.
    end: AtomicU64,
}

#[derive(Default)]
struct Counters {
    /// Occurrences taken by fetch workers.
    occurrences: AtomicU64,
    /// Their `missed` counts, summed: periods coalesced by `Skip`.
    missed: AtomicU64,
    /// The highest period index seen.
    max_index: AtomicU64,
    renewed: AtomicU64,
    /// Retries scheduled (each a one-shot task), and retries taken.
    retried: AtomicU64,
    retries_taken: AtomicU64,
    gave_up: AtomicU64,
    /// Store tasks put into the store queue, and taken from it.
    stores: AtomicU64,
    stores_taken: AtomicU64,
    /// Tasks taken for a certificate after it was removed, dropped.
    dropped: AtomicU64,
    /// Tasks a worker held when the scheduler stopped; scheduling them
    /// again handed them back.
    handed_back_by_workers: AtomicU64,
    stored_bytes: AtomicU64,
    /// Deliveries before the deadline: must stay 0.
    early: AtomicU64,
    max_attempt: AtomicU32,
}

impl Counters {
    /// Counts an occurrence of `cert`'s periodic task (taken by a worker or
    /// handed back by `stop`) against the periods it stands for.
    fn occurrence(&self, cert: &Cert, index: u64, missed: u64) {
        cert.periods.fetch_add(missed + 1, Ordering::Relaxed);
        cert.end.fetch_max(index + missed + 1, Ordering::Relaxed);
        self.missed.fetch_add(missed, Ordering::Relaxed);
        self.max_index.fetch_max(index, Ordering::Relaxed);
    }
}

struct Queues {
    fetch: QueueId,
    store: QueueId,
}

/// Adds one to `counter` when the task was scheduled; a stopped scheduler
/// hands it back through the error, and it is counted as held by a worker.
fn put(
    counters: &Counters,
    counter: &AtomicU64,
    result: Result<TaskId, SubmitError<Task<u64, Job>>>,
) {
    match result {
        Ok(_) => {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Err(SubmitError::Stopped(_)) => {
            counters
                .handed_back_by_workers
                .fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => eprintln!("renewal: cannot schedule: {e}"),
    }
}

/// A fetch worker: returns the lateness of every task it took, in ns.
fn fetch_worker(
    h: Handle,
    q: Queues,
    counters: Arc<Counters>,
    certs: Arc<[Cert]>,
    fail_percent: u64,
    seed: u64,
) -> Vec<u64> {
    let clock = h.clock();
    let mut rng = Rng::new(seed);
    let mut lateness = Vec::new();
    loop {
        let task = match h.get_task(q.fetch, Wait::Forever) {
            Ok(task) => task,
            Err(TakeError::Stopped) => return lateness,
            Err(e) => {
                eprintln!("renewal: fetch worker: {e}");
                return lateness;
            }
        };
        // How late the task reached a worker: now minus its deadline (for an
        // occurrence, the deadline of its period). The scheduler never
        // delivers early, so this never underflows.
        let now = Instant::now();
        let due = clock.instant_at(task.deadline()).unwrap_or(now);
        if now < due {
            counters.early.fetch_add(1, Ordering::Relaxed);
        }
        lateness.push(MonotonicClock::ticks_of(now.saturating_duration_since(due)));
        counters
            .max_attempt
            .fetch_max(task.attempt(), Ordering::Relaxed);
        let cert = &certs[*task.subject() as usize];
        match task.period() {
            Some(p) => {
                counters.occurrences.fetch_add(1, Ordering::Relaxed);
                counters.occurrence(cert, p.index, p.missed);
            }
            // A retry: a one-shot task, which keeps no period.
            None => {
                counters.retries_taken.fetch_add(1, Ordering::Relaxed);
            }
        }
        if cert.removed.load(Ordering::Relaxed) {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            let _ = h.task_done(q.fetch);
            continue;
        }
        // "Fetch" the response: the network, in miniature.
        thread::sleep(Duration::from_micros(200 + rng.below(1_800)));
        if rng.below(100) < fail_percent {
            if task.attempt() < MAX_ATTEMPTS {
                // Retry this renewal: schedule the task held again, a
                // one-shot task with attempt + 1; the periodic task is not
                // touched, its next period stays where it was.
                let backoff = Duration::from_millis(50 << (task.attempt() - 1).min(4));
                put(
                    &counters,
                    &counters.retried,
                    h.schedule_after(task, backoff),
                );
            } else {
                // Given up: the next period renews the certificate.
                counters.gave_up.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            let bytes = 400 + rng.below(1_200) as usize;
            let store = Task::new(q.store, *task.subject(), Job::Store { bytes });
            put(&counters, &counters.stores, h.schedule(store, When::Now));
        }
        let _ = h.task_done(q.fetch);
    }
}

/// The store worker: "writes" responses.
fn store_worker(h: Handle, q: Queues, counters: Arc<Counters>, certs: Arc<[Cert]>) {
    while let Ok(task) = h.get_task(q.store, Wait::Forever) {
        counters.stores_taken.fetch_add(1, Ordering::Relaxed);
        if certs[*task.subject() as usize]
            .removed
            .load(Ordering::Relaxed)
        {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if let Job::Store { bytes } = *task.payload() {
            counters
                .stored_bytes
                .fetch_add(bytes as u64, Ordering::Relaxed);
        }
        counters.renewed.fetch_add(1, Ordering::Relaxed);
    }
}

/// The process's resident memory in bytes (`VmRSS` of
/// `/proc/self/status`); `None` where there is no such file.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1e6
}

fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(config) => config,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("renewal: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("renewal: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What came back from `cancel_by_subject` and `stop`, sorted.
#[derive(Default)]
struct HandedBack {
    /// Periodic tasks (the originals), each checked against its plan.
    periodic: u64,
    retries: u64,
    /// Occurrences still queued.
    occurrences: u64,
    stores: u64,
}

/// Counts the occurrences handed back (still queued) against the periods
/// they stand for.
fn count_occurrences<'a>(
    tasks: impl Iterator<Item = &'a Task<u64, Job>>,
    counters: &Counters,
    certs: &[Cert],
) {
    for task in tasks {
        if let Some(p) = task.period() {
            counters.occurrence(&certs[*task.subject() as usize], p.index, p.missed);
        }
    }
}

/// Sorts the tasks handed back; a periodic task must come back once, with
/// its next deadline on its grid after the periods its occurrences stood
/// for. Returns what is wrong, if anything.
fn sort_handed_back(
    tasks: Vec<Task<u64, Job>>,
    into: &mut HandedBack,
    returned: &mut [u8],
    certs: &[Cert],
    plan: impl Fn(u64) -> Plan,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for task in tasks {
        let cert_id = *task.subject();
        let cert = &certs[cert_id as usize];
        let is_original = task.id().map(TaskId::get) == Some(cert.handle.load(Ordering::Relaxed));
        match (task.payload(), task.period()) {
            (Job::Store { .. }, _) => into.stores += 1,
            // Counted against its periods by `count_occurrences`.
            (Job::Fetch, Some(_)) => into.occurrences += 1,
            (Job::Fetch, None) if is_original => {
                into.periodic += 1;
                returned[cert_id as usize] += 1;
                // Its next deadline: first + k * period, k the periods
                // delivered so far (Skip keeps the grid; nothing drifts).
                // Every occurrence that entered the queue before it came
                // back is counted by now: taken by a worker (all joined) or
                // handed back (`count_occurrences` went first).
                let p = plan(cert_id);
                let k = cert.end.load(Ordering::Relaxed);
                let expected = p.first + k * p.period;
                if task.deadline() != expected {
                    wrong.push(format!(
                        "cert {cert_id}: next deadline {} after {k} periods, expected {expected}",
                        task.deadline()
                    ));
                }
            }
            (Job::Fetch, None) => into.retries += 1,
        }
    }
    wrong
}

fn run(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("ocsp-fetch", 256), ("ocsp-store", 0)],
        Options::new().thread_name("ocsp-scheduler"),
    )?;
    let fetch = sched.queue_id("ocsp-fetch")?;
    let store = sched.queue_id("ocsp-store")?;
    let counters = Arc::new(Counters::default());
    let certs: Arc<[Cert]> = (0..config.certs).map(|_| Cert::default()).collect();
    println!(
        "renewal: {} certificates renewed every 0.5-2 s by periodic tasks (Skip), {} fetch workers + 1 store worker, {} s, {}% of fetches fail",
        config.certs, config.workers, config.seconds, config.fail_percent
    );

    // One periodic task per certificate, its first renewal due within the
    // first second. Missed periods: `Skip`. After a stall (a slow worker, a
    // full fetch queue, a host that slept) the certificate is renewed once,
    // not once per missed period: the occurrence says how many periods it
    // stands for (`missed`), and the schedule stays on its grid
    // `first + k * period` (no drift). `Burst` would fetch the same
    // response again and again to catch up; `Delay` would move every later
    // renewal by the stall.
    let rss_before = resident_bytes();
    let t0 = sched.now();
    let seed = config.seed;
    let plan = move |cert: u64| Plan::of(seed, t0, cert);
    for cert in 0..config.certs as u64 {
        let p = plan(cert);
        let id = sched.schedule_periodic(
            Task::new(fetch, cert, Job::Fetch),
            When::At(p.first),
            p.period,
            MissedTickBehavior::Skip,
        )?;
        certs[cert as usize]
            .handle
            .store(id.get(), Ordering::Relaxed);
    }
    let tasks = sched.scheduled_len()?.max(1);
    let allocated = sched.allocated_bytes();
    let task_size = std::mem::size_of::<Task<u64, Job>>();
    print!(
        "memory: {tasks} tasks scheduled, capacity {} task slots; scheduler {allocated} bytes = {:.1} bytes/task (a task record is {task_size} bytes: handle, queue, deadline, attempt, period, subject, payload)",
        sched.capacity(),
        allocated as f64 / tasks as f64,
    );
    match (rss_before, resident_bytes()) {
        (Some(before), Some(after)) => println!(
            "; resident memory +{} bytes = {:.1} bytes/task",
            after.saturating_sub(before),
            after.saturating_sub(before) as f64 / tasks as f64
        ),
        _ => println!("; resident memory: unknown here"),
    }
    sched.start()?;
    let started = Instant::now();

    let fetchers: Vec<_> = (0..config.workers)
        .map(|i| {
            let (h, c, certs) = (sched.handle(), Arc::clone(&counters), Arc::clone(&certs));
            let (fail, seed) = (config.fail_percent, config.seed ^ (i as u64 + 1) << 32);
            thread::Builder::new()
                .name(format!("fetch-{i}"))
                .spawn(move || fetch_worker(h, Queues { fetch, store }, c, certs, fail, seed))
        })
        .collect::<Result<_, _>>()?;
    let storer = {
        let (h, c, certs) = (sched.handle(), Arc::clone(&counters), Arc::clone(&certs));
        thread::Builder::new()
            .name("store".into())
            .spawn(move || store_worker(h, Queues { fetch, store }, c, certs))?
    };

    // Progress once a second; halfway through, remove some certificates.
    let to_remove = (config.certs / 100).max(1).min(config.certs);
    let mut removed_at = None;
    let mut cancelled = Vec::new();
    for second in 1..=config.seconds {
        let tick = started + Duration::from_secs(second);
        if removed_at.is_none() && second * 2 > config.seconds {
            let half = started + Duration::from_millis(config.seconds * 500);
            thread::sleep(half.saturating_duration_since(Instant::now()));
            let step = (config.certs / to_remove).max(1);
            for cert in (0..config.certs as u64).step_by(step).take(to_remove) {
                certs[cert as usize].removed.store(true, Ordering::Relaxed);
                cancelled.extend(sched.cancel_by_subject(&cert)?);
            }
            println!(
                "[{:5.1}s] removed {to_remove} certificate(s) (cert-00000 ...): {} task(s) cancelled by subject",
                started.elapsed().as_secs_f64(),
                cancelled.len()
            );
            removed_at = Some(started.elapsed());
        }
        thread::sleep(tick.saturating_duration_since(Instant::now()));
        let s = sched.stats(fetch)?;
        println!(
            "[{:5.1}s] occurrences {:7}  renewed {:6}  retried {:5}  scheduled {:7}  fetch queue {:3} (waiting for room {})",
            started.elapsed().as_secs_f64(),
            counters.occurrences.load(Ordering::Relaxed),
            counters.renewed.load(Ordering::Relaxed),
            counters.retried.load(Ordering::Relaxed),
            sched.scheduled_len()?,
            s.queued,
            s.waiting,
        );
    }

    // Graceful stop: the workers get `Stopped`, everything still scheduled
    // or queued comes back.
    let at_stop = sched.stop()?;
    let mut lateness: Vec<u64> = Vec::new();
    for f in fetchers {
        lateness.extend(f.join().map_err(|_| "a fetch worker panicked")?);
    }
    storer.join().map_err(|_| "the store worker panicked")?;
    lateness.sort_unstable();

    // The accounting, once every worker is joined.
    let c = &counters;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mut returned = vec![0u8; config.certs];
    let (mut by_cancel, mut by_stop) = (HandedBack::default(), HandedBack::default());
    count_occurrences(cancelled.iter().chain(&at_stop), c, &certs);
    let mut wrong = sort_handed_back(cancelled, &mut by_cancel, &mut returned, &certs, plan);
    wrong.extend(sort_handed_back(
        at_stop,
        &mut by_stop,
        &mut returned,
        &certs,
        plan,
    ));
    let (mut periods, mut occurrences) = (0, load(&c.occurrences) + by_stop.occurrences);
    for (cert_id, (cert, &times)) in certs.iter().zip(&returned).enumerate() {
        if times != 1 {
            wrong.push(format!(
                "cert {cert_id}: its periodic task came back {times} times"
            ));
        }
        let (seen, end) = (load(&cert.periods), load(&cert.end));
        if seen != end {
            wrong.push(format!(
                "cert {cert_id}: occurrences for {seen} periods, expected periods 0..{end} once each"
            ));
        }
        periods += end;
    }
    let retries_back = by_cancel.retries + by_stop.retries;
    if load(&c.retried) != load(&c.retries_taken) + retries_back {
        wrong.push(format!(
            "{} retries scheduled, {} taken + {retries_back} handed back",
            load(&c.retried),
            load(&c.retries_taken)
        ));
    }
    if load(&c.stores) != load(&c.stores_taken) + by_stop.stores {
        wrong.push(format!(
            "{} store tasks queued, {} taken + {} handed back",
            load(&c.stores),
            load(&c.stores_taken),
            by_stop.stores
        ));
    }
    if by_cancel.occurrences + by_cancel.stores > 0 || load(&c.early) > 0 {
        wrong.push("queued tasks cancelled by subject, or early deliveries".into());
    }
    occurrences = occurrences.max(1);

    println!("\nsummary after {:.1} s:", started.elapsed().as_secs_f64());
    println!(
        "  periods      {periods:7}  periods due, in {occurrences} occurrences (highest index {}; {} missed and coalesced by Skip)",
        load(&c.max_index),
        load(&c.missed),
    );
    println!(
        "  renewed      {:7}  responses stored ({} KiB)",
        load(&c.renewed),
        load(&c.stored_bytes) / 1024
    );
    println!(
        "  retried      {:7}  failed fetches retried with back-off, {} taken (highest attempt {}; {} given up until the next period)",
        load(&c.retried),
        load(&c.retries_taken),
        c.max_attempt.load(Ordering::Relaxed),
        load(&c.gave_up)
    );
    println!(
        "  cancelled    {:7}  periodic tasks and {} retries, by subject at {:.1} s ({} more taken after removal and dropped)",
        by_cancel.periodic,
        by_cancel.retries,
        removed_at.unwrap_or_default().as_secs_f64(),
        load(&c.dropped)
    );
    println!(
        "  handed back  {:7}  periodic tasks at stop, with {} retries, {} occurrences and {} store tasks ({} more held by workers)",
        by_stop.periodic,
        by_stop.retries,
        by_stop.occurrences,
        by_stop.stores,
        load(&c.handed_back_by_workers)
    );
    println!(
        "  lateness     p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  ({} deliveries, {} early; deadline to taken by a worker, busy workers included)",
        percentile(&lateness, 0.50),
        percentile(&lateness, 0.99),
        lateness.last().map_or(0.0, |&m| m as f64 / 1e6),
        lateness.len(),
        load(&c.early)
    );
    if wrong.is_empty() {
        println!(
            "  accounted    every periodic task handed back once, on its grid; every period delivered once; every retry taken or handed back"
        );
        Ok(())
    } else {
        for w in wrong.iter().take(10) {
            eprintln!("  WRONG: {w}");
        }
        Err(format!("{} accounting error(s)", wrong.len()).into())
    }
}
