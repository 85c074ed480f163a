//! An OCSP-renewal daemon in miniature: what the Python scheduler tardy
//! re-implements was written for.
//!
//! Every certificate (the task's subject) needs its OCSP response renewed
//! periodically. A renewal task becomes due on the scheduler thread, fetch
//! workers take it from the `ocsp-fetch` queue and "fetch" a response (a
//! short sleep standing in for the network); some fetches fail and are put
//! back with exponential back-off, the task counting its attempts. A
//! successful response goes to the `ocsp-store` queue, whose worker "writes"
//! it and schedules the certificate's next renewal. Halfway through, some
//! certificates are removed and everything scheduled for them is cancelled
//! by subject. At the end the scheduler stops gracefully and hands back what
//! was still scheduled or queued.
//!
//! ```sh
//! cargo run --release --example renewal
//! cargo run --release --example renewal -- --certs 10000 --workers 8 --seconds 20 --fail 20
//! cargo run --release --example renewal -- --certs 1000000
//! ```
//!
//! The scheduler grows as certificates are added (no capacity to choose);
//! after the first renewals are scheduled the demo reports the memory they
//! take per task: the scheduler's own count of the bytes it allocated, and
//! the growth of the process's resident memory (Linux: `VmRSS` of
//! `/proc/self/status`).
//!
//! Time is compressed: a renewal period is 0.5–2 s instead of hours.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tardy::{
    MonotonicClock, Options, QueueId, SchedulerHandle, SchedulerThread, SubmitError, TakeError,
    Task, TaskId, Wait, When,
};

/// The most certificates the demo accepts (the scheduler itself holds up
/// to 2^32 - 2 tasks).
const MAX_CERTS: usize = 100_000_000;
/// A fetch that failed this many times is given up until the next period.
const MAX_ATTEMPTS: u32 = 5;

/// What a task asks a worker to do.
#[derive(Debug)]
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
        let number = |max: u64| -> Result<u64, String> {
            match value.parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(format!(
                    "{flag}: expected a number up to {max}, got {value:?}"
                )),
            }
        };
        match flag.as_str() {
            "--certs" => config.certs = number(MAX_CERTS as u64)? as usize,
            "--workers" => config.workers = number(256)?.max(1) as usize,
            "--seconds" => config.seconds = number(3600)?.max(1),
            "--fail" => config.fail_percent = number(100)?,
            "--seed" => config.seed = number(u64::MAX)?,
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
    /// A renewal period: 0.5–2 s.
    fn period(&mut self) -> Duration {
        Duration::from_millis(500 + self.below(1500))
    }
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    renewed: AtomicU64,
    retried: AtomicU64,
    gave_up: AtomicU64,
    cancelled: AtomicU64,
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

/// Certificates removed mid-run, by id.
struct Removed(Vec<AtomicBool>);

impl Removed {
    fn contains(&self, cert: u64) -> bool {
        self.0
            .get(cert as usize)
            .is_some_and(|r| r.load(Ordering::Relaxed))
    }
}

struct Queues {
    fetch: QueueId,
    store: QueueId,
}

/// Schedules again a task taken from the scheduler; a stopped scheduler hands
/// it back through the error, and it is counted.
fn put_back(counters: &Counters, result: Result<TaskId, SubmitError<Task<u64, Job>>>) {
    match result {
        Ok(_) => {}
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
    removed: Arc<Removed>,
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
        // How late the task reached a worker: now minus its deadline. The
        // scheduler never delivers early, so this never underflows.
        let now = Instant::now();
        let due = clock.instant_at(task.deadline()).unwrap_or(now);
        if now < due {
            counters.early.fetch_add(1, Ordering::Relaxed);
        }
        lateness.push(MonotonicClock::ticks_of(now.saturating_duration_since(due)));
        counters.delivered.fetch_add(1, Ordering::Relaxed);
        counters
            .max_attempt
            .fetch_max(task.attempt(), Ordering::Relaxed);
        let cert = *task.subject();
        if removed.contains(cert) {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            let _ = h.task_done(q.fetch);
            continue;
        }
        // "Fetch" the response: the network, in miniature.
        thread::sleep(Duration::from_micros(200 + rng.below(1_800)));
        let result = if rng.below(100) < fail_percent {
            if task.attempt() < MAX_ATTEMPTS {
                // Retry the same context: its attempt count grows.
                counters.retried.fetch_add(1, Ordering::Relaxed);
                let backoff = Duration::from_millis(50 << (task.attempt() - 1).min(4));
                h.schedule_after(task, backoff)
            } else {
                // Give up until the next period, with a fresh context.
                counters.gave_up.fetch_add(1, Ordering::Relaxed);
                h.schedule_after(Task::new(q.fetch, cert, Job::Fetch), rng.period())
            }
        } else {
            let bytes = 400 + rng.below(1_200) as usize;
            h.schedule(Task::new(q.store, cert, Job::Store { bytes }), When::Now)
        };
        put_back(&counters, result);
        let _ = h.task_done(q.fetch);
    }
}

/// The store worker: "writes" responses, schedules the next renewal.
fn store_worker(h: Handle, q: Queues, counters: Arc<Counters>, removed: Arc<Removed>, seed: u64) {
    let mut rng = Rng::new(seed);
    while let Ok(task) = h.get_task(q.store, Wait::Forever) {
        let cert = *task.subject();
        if removed.contains(cert) {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if let Job::Store { bytes } = *task.payload() {
            counters
                .stored_bytes
                .fetch_add(bytes as u64, Ordering::Relaxed);
        }
        counters.renewed.fetch_add(1, Ordering::Relaxed);
        let next = h.schedule_after(Task::new(q.fetch, cert, Job::Fetch), rng.period());
        put_back(&counters, next);
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

fn run(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("ocsp-fetch", 256), ("ocsp-store", 0)],
        Options::new().thread_name("ocsp-scheduler"),
    )?;
    let fetch = sched.queue_id("ocsp-fetch")?;
    let store = sched.queue_id("ocsp-store")?;
    let counters = Arc::new(Counters::default());
    let removed = Arc::new(Removed(
        (0..config.certs).map(|_| AtomicBool::new(false)).collect(),
    ));
    println!(
        "renewal: {} certificates, {} fetch workers + 1 store worker, {} s, {}% of fetches fail",
        config.certs, config.workers, config.seconds, config.fail_percent
    );

    // Every certificate gets its first renewal within the first second.
    let rss_before = resident_bytes();
    let mut rng = Rng::new(config.seed);
    for cert in 0..config.certs as u64 {
        let first = Duration::from_millis(rng.below(1_000));
        sched.schedule_after(Task::new(fetch, cert, Job::Fetch), first)?;
    }
    let tasks = sched.scheduled_len()?.max(1);
    let allocated = sched.allocated_bytes();
    let task_size = std::mem::size_of::<Task<u64, Job>>();
    print!(
        "memory: {tasks} tasks scheduled, capacity {} task slots; scheduler {allocated} bytes = {:.1} bytes/task (a task record is {task_size} bytes: handle, queue, deadline, attempt, subject, payload)",
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
            let (h, c, r) = (sched.handle(), Arc::clone(&counters), Arc::clone(&removed));
            let (fail, seed) = (config.fail_percent, config.seed ^ (i as u64 + 1) << 32);
            thread::Builder::new()
                .name(format!("fetch-{i}"))
                .spawn(move || fetch_worker(h, Queues { fetch, store }, c, r, fail, seed))
        })
        .collect::<Result<_, _>>()?;
    let storer = {
        let (h, c, r) = (sched.handle(), Arc::clone(&counters), Arc::clone(&removed));
        let seed = config.seed ^ 0xABCD;
        thread::Builder::new()
            .name("store".into())
            .spawn(move || store_worker(h, Queues { fetch, store }, c, r, seed))?
    };

    // Progress once a second; halfway through, remove some certificates.
    let to_remove = (config.certs / 100).max(1).min(config.certs);
    let mut removed_at = None;
    for second in 1..=config.seconds {
        let tick = started + Duration::from_secs(second);
        if removed_at.is_none() && second * 2 > config.seconds {
            let half = started + Duration::from_millis(config.seconds * 500);
            thread::sleep(half.saturating_duration_since(Instant::now()));
            let mut cancelled = 0;
            let mut names = HashSet::new();
            for cert in (0..config.certs as u64)
                .step_by((config.certs / to_remove).max(1))
                .take(to_remove)
            {
                removed.0[cert as usize].store(true, Ordering::Relaxed);
                cancelled += sched.cancel_by_subject(&cert)?.len();
                names.insert(cert);
            }
            counters
                .cancelled
                .fetch_add(cancelled as u64, Ordering::Relaxed);
            let first = names.iter().min().copied().unwrap_or(0);
            println!(
                "[{:5.1}s] removed {} certificate(s) (cert-{first:05} ...): {cancelled} scheduled task(s) cancelled by subject",
                started.elapsed().as_secs_f64(),
                names.len()
            );
            removed_at = Some(started.elapsed());
        }
        thread::sleep(tick.saturating_duration_since(Instant::now()));
        let s = sched.stats(fetch)?;
        println!(
            "[{:5.1}s] delivered {:6}  renewed {:6}  retried {:5}  scheduled {:5}  fetch queue {:3} (waiting for room {})",
            started.elapsed().as_secs_f64(),
            counters.delivered.load(Ordering::Relaxed),
            counters.renewed.load(Ordering::Relaxed),
            counters.retried.load(Ordering::Relaxed),
            sched.scheduled_len()?,
            s.queued,
            s.waiting,
        );
    }

    // Graceful stop: the workers get `Stopped`, everything still scheduled
    // or queued comes back.
    let handed_back = sched.stop()?;
    let mut lateness: Vec<u64> = Vec::new();
    for f in fetchers {
        lateness.extend(f.join().map_err(|_| "a fetch worker panicked")?);
    }
    storer.join().map_err(|_| "the store worker panicked")?;
    lateness.sort_unstable();

    let c = &counters;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let by_workers = load(&c.handed_back_by_workers);
    println!("\nsummary after {:.1} s:", started.elapsed().as_secs_f64());
    println!(
        "  delivered    {:7}  renewal tasks taken by fetch workers",
        load(&c.delivered)
    );
    println!(
        "  renewed      {:7}  responses stored ({} KiB)",
        load(&c.renewed),
        load(&c.stored_bytes) / 1024
    );
    println!(
        "  retried      {:7}  failed fetches put back with back-off (highest attempt {}; {} given up until next period)",
        load(&c.retried),
        c.max_attempt.load(Ordering::Relaxed),
        load(&c.gave_up)
    );
    println!(
        "  cancelled    {:7}  by subject at {:.1} s ({} more taken after removal and dropped)",
        load(&c.cancelled),
        removed_at.unwrap_or_default().as_secs_f64(),
        load(&c.dropped)
    );
    println!(
        "  handed back  {:7}  still scheduled or queued at stop ({} more held by workers)",
        handed_back.len(),
        by_workers
    );
    println!(
        "  lateness     p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  ({} deliveries, {} early; deadline to taken by a worker, busy workers included)",
        percentile(&lateness, 0.50),
        percentile(&lateness, 0.99),
        lateness.last().map_or(0.0, |&m| m as f64 / 1e6),
        lateness.len(),
        load(&c.early)
    );
    Ok(())
}
