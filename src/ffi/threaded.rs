//! The threaded `tardy_scheduler`: a [`SchedulerThread`] of `u64` subjects
//! and host pointers, plus what only C needs: a clock that may be a C
//! callback, and the refusal of calls made from inside that callback.

use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use std::vec::Vec;

use crate::clock::{Clock, Ticks};
use crate::task::{QueueId, Task, When};
use crate::thread::{MonotonicClock, Options, SchedulerThread, Wait};

use super::status::tardy_status::{self, *};
use super::types::{tardy_task, CTask, HostClock, UserData, TARDY_CAPACITY, TARDY_MAX_QUEUES};

std::thread_local! {
    /// The id of the scheduler whose clock callback this thread is in, 0
    /// when none.
    static IN_CLOCK: Cell<u64> = const { Cell::new(0) };
}

/// Ids of schedulers, to recognise calls from a scheduler's own clock.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The clock of a C scheduler: the host's callback, or the built-in
/// [`MonotonicClock`] (nanoseconds since the scheduler was created).
#[derive(Debug)]
pub(crate) struct FfiClock {
    /// The id of the scheduler it belongs to.
    owner: u64,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Monotonic(MonotonicClock),
    Host(HostClock),
}

impl Clock for FfiClock {
    fn now(&self) -> Ticks {
        match &self.source {
            Source::Monotonic(clock) => clock.now(),
            Source::Host(clock) => {
                let prev = IN_CLOCK.with(|c| c.replace(self.owner));
                let now = clock.now();
                IN_CLOCK.with(|c| c.set(prev));
                now
            }
        }
    }
}

type Inner = SchedulerThread<u64, UserData, FfiClock, TARDY_CAPACITY, TARDY_MAX_QUEUES>;

/// A scheduler, opaque to C: created by `tardy_new`, destroyed by
/// `tardy_free`.
pub struct tardy_scheduler {
    id: u64,
    inner: Inner,
    /// `None` until `tardy_stop`; then the tasks the stop got back, until
    /// `tardy_drain` hands them to the host. Locked before `inner`'s lock,
    /// never the other way round, and never while a host callback runs.
    set_aside: Mutex<Option<Vec<CTask>>>,
}

fn c_task(t: &Task<u64, UserData>) -> tardy_task {
    tardy_task::from(t)
}

impl tardy_scheduler {
    /// A scheduler on the host clock `host` (`None`: the built-in clock)
    /// whose background thread takes a tick for `tick` long.
    ///
    /// # Errors
    ///
    /// None in practice: `TARDY_ERR_PANIC` if the scheduler could not be
    /// built.
    pub(crate) fn new(host: Option<HostClock>, tick: Duration) -> Result<Self, tardy_status> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let source = match host {
            Some(h) => Source::Host(h),
            None => Source::Monotonic(MonotonicClock::new()),
        };
        let clock = FfiClock { owner: id, source };
        let options = Options::new().tick(tick).thread_name("tardy");
        // No queue is given, so no queue error can come back.
        let inner = Inner::with_clock(clock, &[], options).map_err(|_| TARDY_ERR_PANIC)?;
        Ok(Self {
            id,
            inner,
            set_aside: Mutex::new(None),
        })
    }

    /// The tasks set aside by `stop`, also after a panic elsewhere while it
    /// was locked: every change to it is a single assignment or `take`, so
    /// it is never half done.
    fn set_aside(&self) -> MutexGuard<'_, Option<Vec<CTask>>> {
        self.set_aside
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `TARDY_ERR_INVALID_ARG` when this thread is inside this scheduler's
    /// clock callback (the call would deadlock).
    pub(crate) fn enter(&self) -> Result<&Inner, tardy_status> {
        if self.in_own_clock() {
            Err(TARDY_ERR_INVALID_ARG)
        } else {
            Ok(&self.inner)
        }
    }

    /// `true` inside this scheduler's clock callback.
    pub(crate) fn in_own_clock(&self) -> bool {
        IN_CLOCK.with(|c| c.get() == self.id)
    }

    fn queue(&self, name: &str) -> Result<QueueId, tardy_status> {
        Ok(self.enter()?.queue_id(name)?)
    }

    pub(crate) fn add_queue(&self, name: &str, max_size: usize) -> Result<(), tardy_status> {
        // 0: as large as the store allows, the scheduler's task capacity.
        let max_size = match max_size {
            0 => TARDY_CAPACITY,
            n if n > TARDY_CAPACITY => return Err(TARDY_ERR_INVALID_ARG),
            n => n,
        };
        self.enter()?.add_queue(name, max_size)?;
        Ok(())
    }

    pub(crate) fn remove_queue(&self, name: &str) -> Result<Vec<tardy_task>, tardy_status> {
        let q = self.queue(name)?;
        let tasks = self.enter()?.remove_queue(q)?;
        Ok(tasks.iter().map(c_task).collect())
    }

    pub(crate) fn schedule(
        &self,
        name: &str,
        subject: u64,
        user_data: UserData,
        when: When,
    ) -> Result<u64, tardy_status> {
        let q = self.queue(name)?;
        let id = self
            .enter()?
            .schedule(Task::new(q, subject, user_data), when)?;
        Ok(id.get())
    }

    pub(crate) fn reschedule_at(&self, id: u64, deadline: Ticks) -> Result<(), tardy_status> {
        let id = crate::TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        Ok(self.enter()?.reschedule(id, When::At(deadline))?)
    }

    pub(crate) fn cancel(&self, id: u64) -> Result<UserData, tardy_status> {
        let id = crate::TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        Ok(self.enter()?.cancel(id)?.into_payload())
    }

    pub(crate) fn cancel_subject(&self, subject: u64) -> Result<Vec<tardy_task>, tardy_status> {
        let tasks = self.enter()?.cancel_by_subject(&subject)?;
        Ok(tasks.iter().map(c_task).collect())
    }

    pub(crate) fn get_task(&self, name: &str, timeout_ms: u64) -> Result<tardy_task, tardy_status> {
        let q = self.queue(name)?;
        let wait = match timeout_ms {
            0 => Wait::NoWait,
            u64::MAX => Wait::Forever,
            ms => Wait::Timeout(Duration::from_millis(ms)),
        };
        Ok(c_task(&self.enter()?.get_task(q, wait)?))
    }

    pub(crate) fn task_done(&self, name: &str) -> Result<(), tardy_status> {
        let q = self.queue(name)?;
        Ok(self.enter()?.task_done(q)?)
    }

    pub(crate) fn run_pending(&self) -> Result<usize, tardy_status> {
        Ok(self.enter()?.run_pending()?)
    }

    pub(crate) fn run_all(&self) -> Result<usize, tardy_status> {
        Ok(self.enter()?.run_all()?)
    }

    pub(crate) fn next_deadline(&self) -> Result<Ticks, tardy_status> {
        self.enter()?.next_deadline()?.ok_or(TARDY_ERR_EMPTY)
    }

    pub(crate) fn now(&self) -> Result<Ticks, tardy_status> {
        Ok(self.enter()?.now())
    }

    pub(crate) fn start(&self) -> Result<(), tardy_status> {
        Ok(self.enter()?.start()?)
    }

    /// Stops the thread for good and sets aside every task it still held
    /// (scheduled, waiting for room, or queued) for [`drain`](Self::drain).
    ///
    /// The set-aside lock is held across the stop, so a concurrent `drain`
    /// sees either "not stopped" or every task of the stop, never a stopped
    /// scheduler with its tasks missing. The stop waits for the background
    /// thread, which never takes that lock (its clock callback cannot call
    /// in: [`enter`](Self::enter) refuses it before any lock is taken).
    pub(crate) fn stop(&self) -> Result<(), tardy_status> {
        self.enter()?;
        let mut aside = self.set_aside();
        let tasks = self.inner.stop()?;
        *aside = Some(tasks);
        Ok(())
    }

    /// Takes every task set aside by [`stop`](Self::stop), converted for C.
    /// With `has_callback` false it takes nothing, and fails if there was
    /// something to take: a task handed to nobody would be lost.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_STATE` before `stop`; `TARDY_ERR_NULL` when tasks are set
    /// aside and `has_callback` is false; `TARDY_ERR_INVALID_ARG` from
    /// inside the clock callback.
    pub(crate) fn drain(&self, has_callback: bool) -> Result<Vec<tardy_task>, tardy_status> {
        self.enter()?;
        let mut aside = self.set_aside();
        let tasks = aside.as_mut().ok_or(TARDY_ERR_STATE)?;
        if !has_callback && !tasks.is_empty() {
            return Err(TARDY_ERR_NULL);
        }
        let taken = core::mem::take(tasks);
        drop(aside);
        Ok(taken.iter().map(c_task).collect())
    }
}
