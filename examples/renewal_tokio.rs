//! The OCSP-renewal daemon of `renewal.rs` on tokio: the workers are async
//! tasks awaiting `get_task_async`, so no thread waits for a task; only the
//! scheduler's own thread sleeps until the next deadline.
//!
//! Every certificate (the task's subject) needs its OCSP response renewed
//! every period: one periodic task per certificate (`Skip`: after a stall,
//! renew once, not once per missed period). Fetch workers take each
//! period's occurrence from the `ocsp-fetch` queue and "fetch" a response
//! (an async sleep standing in for the network); a failed fetch is retried
//! by scheduling the occurrence again with exponential back-off (a one-shot
//! task; the period goes on undisturbed). A fetched response goes to the
//! `ocsp-store` queue, whose worker "writes" it. Halfway through, some
//! certificates are removed and everything scheduled for them is cancelled
//! by subject. On Ctrl-C, or when `--seconds` have passed, the daemon stops
//! gracefully: the workers get `Stopped`, and everything still scheduled
//! or queued is handed back.
//!
//! ```sh
//! cargo run --release --example renewal_tokio
//! cargo run --release --example renewal_tokio -- --certs 10000 --workers 64 --seconds 20
//! ```
//!
//! Time is compressed: a renewal period is 0.5–2 s instead of hours.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tardy::{
    MissedTickBehavior, MonotonicClock, Options, QueueId, SchedulerHandle, SchedulerThread,
    SubmitError, TakeError, Task, TaskId,
};

/// Task slots: one periodic task per certificate, plus retries in flight.
const CAPACITY: usize = 1 << 14;
const MAX_CERTS: u64 = 15_000;
/// A fetch that failed this many times is given up until the next period.
const MAX_ATTEMPTS: u32 = 5;

/// What a task asks a worker to do (cloned into every occurrence of a
/// periodic task).
#[derive(Clone, Debug)]
enum Job {
    /// Fetch a fresh OCSP response.
    Fetch,
    /// Store a fetched response of this many bytes.
    Store { bytes: u64 },
}

type Sched = SchedulerThread<u64, Job, MonotonicClock, 4>;
type Handle = SchedulerHandle<u64, Job, MonotonicClock, 4>;

struct Config {
    certs: u64,
    workers: u64,
    seconds: u64,
    fail_percent: u64,
}

const USAGE: &str = "usage: renewal_tokio [--certs N] [--workers N] [--seconds N] [--fail PERCENT]
  --certs    certificates to keep renewed (default 2000, at most 15000)
  --workers  async fetch workers (default 16)
  --seconds  how long the daemon runs unless stopped by Ctrl-C (default 3)
  --fail     percent of fetches that fail and are retried (default 10)";

fn parse_args() -> Result<Config, String> {
    let mut config = Config {
        certs: 2000,
        workers: 16,
        seconds: 3,
        fail_percent: 10,
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
            "--certs" => config.certs = number(1, MAX_CERTS)?,
            "--workers" => config.workers = number(1, 10_000)?,
            "--seconds" => config.seconds = number(1, 3600)?,
            "--fail" => config.fail_percent = number(0, 100)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(config)
}

/// A small deterministic generator (xorshift64*), one per worker.
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
    /// Tasks a worker held when the scheduler stopped (retries, store
    /// tasks); scheduling them again handed them back.
    handed_back_by_workers: AtomicU64,
    /// Deliveries before the deadline: must stay 0.
    early: AtomicU64,
}

struct Shared {
    counters: Counters,
    /// Certificates removed mid-run, by id.
    removed: Vec<AtomicBool>,
    fetch: QueueId,
    store: QueueId,
    fail_percent: u64,
}

impl Shared {
    fn is_removed(&self, cert: u64) -> bool {
        usize::try_from(cert)
            .ok()
            .and_then(|c| self.removed.get(c))
            .is_some_and(|r| r.load(Ordering::Relaxed))
    }

    /// Counts a task that a stopped scheduler handed back when a worker
    /// scheduled it again.
    fn put_back(&self, result: Result<TaskId, SubmitError<Task<u64, Job>>>) {
        match result {
            Ok(_) => {}
            Err(SubmitError::Stopped(_)) => {
                let c = &self.counters;
                c.handed_back_by_workers.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => eprintln!("renewal_tokio: cannot schedule: {e}"),
        }
    }
}

/// A fetch worker: returns the lateness of every task it took, in ns.
async fn fetch_worker(h: Handle, shared: Arc<Shared>, seed: u64) -> Vec<u64> {
    let clock = h.clock();
    let mut rng = Rng::new(seed);
    let mut lateness = Vec::new();
    let c = &shared.counters;
    loop {
        let task = match h.get_task_async(shared.fetch).await {
            Ok(task) => task,
            Err(TakeError::Stopped) => return lateness,
            Err(e) => {
                eprintln!("renewal_tokio: fetch worker: {e}");
                return lateness;
            }
        };
        let now = Instant::now();
        let due = clock.instant_at(task.deadline()).unwrap_or(now);
        if now < due {
            c.early.fetch_add(1, Ordering::Relaxed);
        }
        lateness.push(MonotonicClock::ticks_of(now.saturating_duration_since(due)));
        c.delivered.fetch_add(1, Ordering::Relaxed);
        let cert = *task.subject();
        if shared.is_removed(cert) {
            c.dropped.fetch_add(1, Ordering::Relaxed);
            let _ = h.task_done(shared.fetch);
            continue;
        }
        // "Fetch" the response: the network, in miniature.
        tokio::time::sleep(Duration::from_micros(200 + rng.below(1_800))).await;
        if rng.below(100) < shared.fail_percent {
            if task.attempt() < MAX_ATTEMPTS {
                // Retry: the occurrence held, scheduled again (attempt + 1).
                c.retried.fetch_add(1, Ordering::Relaxed);
                let backoff = Duration::from_millis(50 << (task.attempt() - 1).min(4));
                shared.put_back(h.schedule_after(task, backoff));
            } else {
                // Given up: the next period renews the certificate.
                c.gave_up.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            let bytes = 400 + rng.below(1_200);
            shared.put_back(h.schedule(
                Task::new(shared.store, cert, Job::Store { bytes }),
                tardy::When::Now,
            ));
        }
        let _ = h.task_done(shared.fetch);
    }
}

/// The store worker: "writes" responses. Returns the bytes stored.
async fn store_worker(h: Handle, shared: Arc<Shared>) -> u64 {
    let mut stored = 0;
    while let Ok(task) = h.get_task_async(shared.store).await {
        let cert = *task.subject();
        if shared.is_removed(cert) {
            shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if let Job::Store { bytes } = task.payload() {
            stored += bytes;
        }
        shared.counters.renewed.fetch_add(1, Ordering::Relaxed);
    }
    stored
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
                eprintln!("renewal_tokio: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("renewal_tokio: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("renewal_tokio: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let sched = Sched::new(
        MonotonicClock::new(),
        &[("ocsp-fetch", 256), ("ocsp-store", 0)],
        Options::new()
            .thread_name("ocsp-scheduler")
            .max_capacity(CAPACITY),
    )?;
    let shared = Arc::new(Shared {
        counters: Counters::default(),
        removed: (0..config.certs).map(|_| AtomicBool::new(false)).collect(),
        fetch: sched.queue_id("ocsp-fetch")?,
        store: sched.queue_id("ocsp-store")?,
        fail_percent: config.fail_percent,
    });
    println!(
        "renewal_tokio: {} certificates, {} async fetch workers + 1 store worker, {} s (or Ctrl-C), {}% of fetches fail",
        config.certs, config.workers, config.seconds, config.fail_percent
    );

    // One periodic task per certificate, its first renewal within the
    // first second. `Skip`: periods missed in a stall are coalesced into
    // one renewal, and later ones stay on the grid `first + k * period`.
    let mut rng = Rng::new(1);
    let mut handles = Vec::new();
    for cert in 0..config.certs {
        let first = Duration::from_millis(rng.below(1_000));
        handles.push(sched.schedule_periodic_after(
            Task::new(shared.fetch, cert, Job::Fetch),
            first,
            rng.period(),
            MissedTickBehavior::Skip,
        )?);
    }
    sched.start()?;
    let started = Instant::now();

    let fetchers: Vec<_> = (0..config.workers)
        .map(|i| tokio::spawn(fetch_worker(sched.handle(), Arc::clone(&shared), i + 1)))
        .collect();
    let storer = tokio::spawn(store_worker(sched.handle(), Arc::clone(&shared)));

    // Progress once a second, removals halfway, until the time is up or
    // Ctrl-C.
    let end = tokio::time::Instant::now() + Duration::from_secs(config.seconds);
    let half = tokio::time::Instant::now() + Duration::from_millis(config.seconds * 500);
    let mut progress = tokio::time::interval(Duration::from_secs(1));
    progress.tick().await; // the first tick is immediate
    let mut removed_at = None;
    let mut removed_certs = 0;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let reason = loop {
        tokio::select! {
            _ = &mut ctrl_c => break "Ctrl-C",
            () = tokio::time::sleep_until(end) => break "time is up",
            () = tokio::time::sleep_until(half), if removed_at.is_none() => {
                let to_remove = (config.certs / 100).max(1).min(config.certs);
                let step = (config.certs / to_remove.max(1)).max(1);
                let mut cancelled = 0;
                for cert in (0..config.certs).step_by(usize::try_from(step)?).take(usize::try_from(to_remove)?) {
                    shared.removed[usize::try_from(cert)?].store(true, Ordering::Relaxed);
                    cancelled += sched.cancel_by_subject(&cert)?.len() as u64;
                }
                shared.counters.cancelled.fetch_add(cancelled, Ordering::Relaxed);
                removed_certs = to_remove;
                println!(
                    "[{:5.1}s] removed {to_remove} certificate(s): {cancelled} scheduled task(s) cancelled by subject",
                    started.elapsed().as_secs_f64()
                );
                removed_at = Some(started.elapsed());
            }
            _ = progress.tick() => {
                let c = &shared.counters;
                let s = sched.stats(shared.fetch)?;
                println!(
                    "[{:5.1}s] delivered {:6}  renewed {:6}  retried {:5}  scheduled {:5}  fetch queue {:3} (waiting for room {})",
                    started.elapsed().as_secs_f64(),
                    c.delivered.load(Ordering::Relaxed),
                    c.renewed.load(Ordering::Relaxed),
                    c.retried.load(Ordering::Relaxed),
                    sched.scheduled_len()?,
                    s.queued,
                    s.waiting,
                );
            }
        }
    };

    // Graceful stop: every waiting worker's future answers `Stopped`, and
    // everything still scheduled or queued comes back. `stop` joins the
    // scheduler thread, which ends at once: a short blocking call.
    let handed_back = sched.stop()?;
    let mut lateness: Vec<u64> = Vec::new();
    for f in fetchers {
        lateness.extend(f.await?);
    }
    let stored = storer.await?;
    lateness.sort_unstable();

    let c = &shared.counters;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "\nstopped ({reason}); summary after {:.1} s:",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  delivered    {:7}  renewal tasks taken by async fetch workers",
        load(&c.delivered)
    );
    println!(
        "  renewed      {:7}  responses stored ({} KiB)",
        load(&c.renewed),
        stored / 1024
    );
    println!(
        "  retried      {:7}  failed fetches put back with back-off ({} given up until next period)",
        load(&c.retried),
        load(&c.gave_up)
    );
    match removed_at {
        Some(at) => println!(
            "  cancelled    {:7}  by subject at {:.1} s ({} more taken after removal and dropped)",
            load(&c.cancelled),
            at.as_secs_f64(),
            load(&c.dropped)
        ),
        None => println!("        -          no certificate removed (stopped before halfway)"),
    }
    println!(
        "  handed back  {:7}  still scheduled or queued at stop ({} more held by workers)",
        handed_back.len(),
        load(&c.handed_back_by_workers)
    );
    // Each certificate still kept has exactly one periodic task, and
    // `stop` handed each back once (a worker never holds one: it takes
    // occurrences).
    let kept = config.certs - removed_certs;
    let mut back = vec![0u32; handles.len()];
    for t in &handed_back {
        let cert = usize::try_from(*t.subject())?;
        if t.id() == Some(handles[cert]) {
            back[cert] += 1;
        }
    }
    let back_kept = back
        .iter()
        .enumerate()
        .filter(|&(cert, &n)| n == 1 && !shared.is_removed(cert as u64))
        .count() as u64;
    let twice = back.iter().filter(|&&n| n > 1).count();
    println!(
        "  accounted    {back_kept:7}  periodic tasks handed back once, of {kept} certificates kept (0 lost, {twice} twice)"
    );
    println!(
        "  lateness     p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  ({} deliveries, {} early; deadline to taken by a worker)",
        percentile(&lateness, 0.50),
        percentile(&lateness, 0.99),
        lateness.last().map_or(0.0, |&m| m as f64 / 1e6),
        lateness.len(),
        load(&c.early)
    );
    if back_kept != kept || twice != 0 || load(&c.early) != 0 {
        return Err(format!(
            "{back_kept} renewals came back for {kept} certificates kept, {} early",
            load(&c.early)
        )
        .into());
    }
    Ok(())
}
