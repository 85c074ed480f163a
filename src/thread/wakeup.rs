//! The wake-up plan: the state shared under the scheduler's one lock
//! ([`State`]), the condition variables beside it ([`Shared`]), and who is
//! notified when ([`Wake`], computed under the lock and sent after it).
//!
//! # How it waits
//!
//! One `Mutex` guards the core; every operation on it is O(log n), so a
//! single lock is held only briefly (moving due tasks, and every task for
//! `run_all`, goes in batches of at most 64, releasing the lock in
//! between; growing the core allocates one segment and copies no task). Four kinds of `Condvar` share
//! that mutex:
//!
//! - `wake`: the scheduler thread sleeps on it with `wait_timeout` until the
//!   earliest deadline (or without timeout when nothing is scheduled),
//!   never longer than `max_sleep` when there is one (by default only for
//!   clocks other than `MonotonicClock`, which may step back). It records
//!   the deadline it sleeps until; scheduling or rescheduling a task for an
//!   earlier time notifies it. Nothing else wakes it: with
//!   `MonotonicClock` there is no polling interval. A full queue regaining room needs no wake-up either:
//!   the core moves the first waiting due task into the queue inside the
//!   `get_task` that made room, under the same lock.
//! - `lead`: at most one worker blocked in
//!   [`get_task`](crate::SchedulerHandle::get_task), the leader, waits on it with a
//!   timeout bounded by the earliest deadline (and by its own timeout). When
//!   it wakes at that deadline it moves the due tasks itself, under the
//!   lock, and takes its own: a due task reaches a waiting worker with one
//!   wake-up instead of two (the thread's, then the worker's), which is what
//!   costs time when the CPUs are busy. The scheduler thread keeps its own
//!   timer: whichever of the two takes the lock first delivers, the other
//!   finds nothing due. A task scheduled earlier than the leader's deadline
//!   notifies `lead` (as it does `wake`). When no worker leads and something
//!   is scheduled, one waiting worker is woken to take the lead (at most one
//!   such wake-up in flight), so other workers never wake for deadlines: no
//!   thundering herd.
//! - `ready[index]`, one per queue index: the other workers blocked in
//!   `get_task` wait on it, without timeout (or their own). Whoever puts
//!   tasks into a queue notifies the leader if it waits for that queue, and
//!   as many other waiters as there are further queued tasks (all of them
//!   when there are at least as many tasks), after releasing the lock, so a
//!   woken worker does not block on the mutex at once.
//! - `idle[index]`: [`join`](crate::SchedulerHandle::join) waits on it;
//!   [`task_done`](crate::SchedulerHandle::task_done) notifies it when the queue
//!   becomes idle.
//!
//! Futures ([`get_task_async`](crate::SchedulerHandle::get_task_async))
//! wait beside the `ready` condition variables: each queue index has a
//! [`WakerList`] in the state, and wherever `ready[index]` is notified, the
//! futures of that queue are woken too, for the tasks that the leader and
//! the blocked workers do not already cover (the oldest futures first,
//! counting those woken and not yet polled). Removing a queue, stopping and
//! the failure of the thread wake every future of the queue or of all
//! queues. A future never leads: it cannot sleep until a deadline on a
//! thread. Due tasks reach it through the scheduler thread, a leading
//! worker, or a poll that finds its queue empty while tasks are due (it
//! moves one batch, as a blocked worker does); before
//! [`start`](crate::SchedulerThread::start), through
//! [`run_pending`](crate::SchedulerHandle::run_pending) and
//! [`run_all`](crate::SchedulerHandle::run_all).
//!
//! A worker in `get_task` that finds its queue empty while tasks are due
//! moves them (a batch of at most 64 at a time), whether it led or not.
//!
//! Every waiter re-checks its condition under the lock after waking, so
//! spurious wake-ups, timeouts racing a notification, and other threads
//! taking the task first are all harmless, and a notification cannot be
//! lost: a waiter is counted in `waiters[index]` (or recorded as the leader)
//! and enters its wait while holding the lock. Stopping, and the failure of
//! the thread, notify every condition variable.
//!
//! A queue index is reused by a queue added after its queue was removed, so
//! an index alone never names a queue: the leader record and the waiter
//! counts name their queue by [`QueueId`] (index and generation), and
//! `remove_queue` wakes the workers of the removed queue before it releases
//! the lock, so none of them is still in a wait set of that index when
//! workers of the new queue arrive. A wake-up for the new queue thus always
//! reaches one of its own workers.
//!
//! The core never delivers a task before the clock reads its deadline, so a
//! wake-up that comes early (spuriously) delivers nothing early: the thread
//! just computes its sleep again, and a worker that wakes early leads
//! again until the same deadline.

use core::task::Waker;
use std::sync::PoisonError;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::channel_queue::ChannelQueue;
use super::error::{Halted, QueueError};
use super::loom::{Condvar, Mutex, MutexGuard};
use super::waker_list::{Key, WakerList};
use crate::clock::{Clock, Ticks};
use crate::error::GetTaskError;
use crate::scheduler::AllocScheduler;
use crate::subject::Subject;
#[cfg(feature = "periodic")]
use crate::task::When;
use crate::task::{QueueId, Task, TaskId};

pub(super) type Core<S, P, C, const QN: usize> =
    AllocScheduler<C, ChannelQueue<Task<S, P>>, S, P, QN>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Created, thread not started: tasks move only with `run_pending`.
    Idle,
    Running,
    /// The thread ended with a panic in user code: see [`Halted::Failed`].
    Failed,
    Stopped,
}

pub(super) struct State<S, P, C, const QN: usize> {
    pub(super) core: Core<S, P, C, QN>,
    pub(super) phase: Phase,
    /// The deadline the scheduler thread sleeps until (`Ticks::MAX`: no
    /// deadline); `None` while it is awake or not running.
    pub(super) sleep_until: Option<Ticks>,
    /// Workers blocked in `get_task` on `ready[index]`, per queue index, for
    /// the queue they wait for (the leader, waiting on `lead`, is not
    /// counted). A count names its queue with its generation: workers of a
    /// removed queue are never counted as waiting for the queue that took
    /// its index.
    pub(super) waiters: [Waiters; QN],
    /// The worker blocked in `get_task` that also waits for the next
    /// deadline, if any: at most one at a time.
    pub(super) leader: Option<Lead>,
    /// A waiting worker was notified to become the leader and has not woken
    /// yet: do not notify another.
    pub(super) promoting: bool,
    /// The futures waiting for a task, per queue index.
    pub(super) wakers: [WakerList; QN],
    /// The longest the thread or the leader sleeps before reading the clock
    /// again (`None`: until the next deadline). Set from the options when
    /// the thread starts.
    pub(super) max_sleep: Option<Duration>,
    /// How long one hold of the lock keeps moving due tasks: [`HOLD_MAX`]
    /// (unbounded in this module's unit tests, which count whole batches,
    /// and under loom).
    pub(super) hold_max: Duration,
    /// The most tasks moved from the schedule under one hold of the lock.
    #[cfg(test)]
    pub(super) largest_batch: usize,
}

/// How many workers wait on one queue index's `ready` condition variable,
/// and for which queue (index and generation).
#[derive(Clone, Copy, Default)]
pub(super) struct Waiters {
    pub(super) queue: Option<QueueId>,
    pub(super) count: usize,
}

/// The leading worker: the queue it waits for (index and generation), and
/// the deadline it sleeps until.
#[derive(Clone, Copy)]
pub(super) struct Lead {
    pub(super) queue: QueueId,
    pub(super) until: Ticks,
}

/// A task that `run_all` lifted out of its way ([`State::lift_newer`]):
/// its handle, its deadline before, and its key while lifted.
#[cfg_attr(not(feature = "periodic"), allow(dead_code))]
pub(super) struct Lifted {
    id: TaskId,
    deadline: Ticks,
    key: (Ticks, u64),
}

/// Which tasks [`State::move_batch`] moves.
#[derive(Clone, Copy)]
enum Due {
    /// Those whose deadline is at most this reading of the clock, in a
    /// pass that began at this tie order (a deadline of `Ticks::MAX` only
    /// for keys not newer: see `Scheduler::due_in_pass`).
    Until(Ticks, u64),
    /// Every scheduled task whose key is not newer than this mark
    /// (`run_all`, see [`State::all_mark`]).
    All(u64),
}

/// The most tasks that any path takes from the schedule under one hold of
/// the lock (the thread, a worker, `run_pending`, `join`, a schedule for a
/// past deadline); it releases the lock and moves the next batch after.
pub(super) const BATCH_MAX: usize = 64;

/// How long one hold of the lock keeps moving due tasks, checked every
/// [`BATCH_STEP`] tasks: the first tasks after a large wave falls due find
/// the heap's upper levels out of the cache and cost several times more
/// than the rest, so a count alone does not bound the hold (64 cold tasks
/// of a 10^6-task heap took up to 170 µs; `cargo bench --bench latency --
/// --only lockhold`).
pub(super) const HOLD_MAX: Duration = Duration::from_micros(50);

/// Due tasks moved between two looks at the time spent.
pub(super) const BATCH_STEP: usize = 8;

/// The bound on a sleep for a clock other than
/// [`MonotonicClock`](crate::MonotonicClock) when the options set none:
/// such a clock may step back and forth, and the thread cannot predict when
/// it reads a deadline again.
pub(super) const DEFAULT_MAX_SLEEP: Duration = Duration::from_secs(1);

pub(super) struct Shared<S, P, C, const QN: usize> {
    pub(super) state: Mutex<State<S, P, C, QN>>,
    pub(super) wake: Condvar,
    pub(super) lead: Condvar,
    pub(super) ready: [Condvar; QN],
    pub(super) idle: [Condvar; QN],
    pub(super) tick: Duration,
    /// Held for the whole of a `run_all`, so that one runs at a time: a
    /// run lifts the keys newer than its mark to `Ticks::MAX` until it puts
    /// them back, and a second run's mark would count them as its own.
    /// Taken before `state`, never inside it.
    pub(super) run_all: Mutex<()>,
}

/// Notifications computed under the lock and sent after releasing it.
pub(super) struct Wake<const QN: usize> {
    /// Per queue index: how many `notify_one`, `usize::MAX` for `notify_all`.
    pub(super) ready: [usize; QN],
    /// The wakers of futures to wake.
    pub(super) wakers: Vec<Waker>,
    pub(super) thread: bool,
    pub(super) lead: bool,
}

impl<const QN: usize> Wake<QN> {
    pub(super) const NONE: Self = Self {
        ready: [0; QN],
        wakers: Vec::new(),
        thread: false,
        lead: false,
    };

    pub(super) fn is_empty(&self) -> bool {
        !self.thread && !self.lead && self.wakers.is_empty() && self.ready.iter().all(|&n| n == 0)
    }

    pub(super) fn send(&self, wake: &Condvar, lead: &Condvar, ready: &[Condvar; QN]) {
        if self.thread {
            wake.notify_one();
        }
        if self.lead {
            lead.notify_one();
        }
        for (&n, cv) in self.ready.iter().zip(ready) {
            if n == usize::MAX {
                cv.notify_all();
            } else {
                (0..n).for_each(|_| cv.notify_one());
            }
        }
        self.wakers.iter().for_each(Waker::wake_by_ref);
    }
}

/// The queue index of `q`: where its condition variables, waiter count and
/// waker list are. Two queues share an index one after the other; an index
/// alone never identifies a queue.
pub(super) fn queue_index(q: QueueId) -> usize {
    usize::from(q.index)
}

impl<S, P, C, const QN: usize> State<S, P, C, QN>
where
    C: Clock,
    S: Subject,
{
    /// Why the scheduler takes no more work, if it does not.
    pub(super) fn halted(&self) -> Option<Halted> {
        match self.phase {
            Phase::Idle | Phase::Running => None,
            Phase::Failed => Some(Halted::Failed),
            Phase::Stopped => Some(Halted::Stopped),
        }
    }

    /// Counts a worker that is about to wait for `q` (a live queue: the
    /// count of a removed queue at the same index is dropped).
    pub(super) fn begin_wait(&mut self, q: QueueId) {
        if let Some(w) = self.waiters.get_mut(queue_index(q)) {
            if w.queue == Some(q) {
                w.count += 1;
            } else {
                *w = Waiters {
                    queue: Some(q),
                    count: 1,
                };
            }
        }
    }

    /// Uncounts a worker that waited for `q`.
    pub(super) fn end_wait(&mut self, q: QueueId) {
        if let Some(w) = self.waiters.get_mut(queue_index(q)) {
            if w.queue == Some(q) {
                w.count = w.count.saturating_sub(1);
            }
        }
    }

    /// Plans to wake as many workers of `q` as it has queued tasks: the
    /// leader first if it waits for `q`, then the others, then futures for
    /// the tasks left over.
    pub(super) fn ready(&mut self, q: QueueId, wake: &mut Wake<QN>) {
        let Self {
            core,
            leader,
            waiters,
            wakers,
            ..
        } = self;
        plan_ready(core, *leader, waiters, wakers, q, wake);
    }

    /// Takes the oldest task of `q` ([`Scheduler::get_task`]) and, when a
    /// periodic task whose occurrence entered the room made is re-armed
    /// earlier than anything scheduled before, plans to wake whoever waits
    /// for the next deadline (the thread may be asleep with nothing
    /// scheduled). The caller then plans the wake-up of the next worker or
    /// future of `q` ([`ready`](Self::ready)): a waiting task may have
    /// entered.
    ///
    /// [`Scheduler::get_task`]: crate::Scheduler::get_task
    pub(super) fn take(
        &mut self,
        q: QueueId,
        wake: &mut Wake<QN>,
    ) -> Result<Task<S, P>, GetTaskError> {
        let before = self.core.next_deadline();
        let task = self.core.get_task(q)?;
        if let Some(after) = self.core.next_deadline() {
            if before.is_none_or(|b| after < b) {
                self.deadline_set(after, wake);
            }
        }
        Ok(task)
    }

    /// When something is scheduled and no worker leads, plans to wake one
    /// waiting worker (of the first live queue that has one) so that it
    /// becomes the leader. O(QN), and at most one such wake-up in flight.
    pub(super) fn promote(&mut self, wake: &mut Wake<QN>) {
        if self.phase != Phase::Running
            || self.leader.is_some()
            || self.promoting
            || self.core.next_deadline().is_none()
        {
            return;
        }
        let core = &self.core;
        let follower = wake
            .ready
            .iter_mut()
            .zip(&self.waiters)
            .find(|(_, w)| w.count > 0 && w.queue.is_some_and(|q| core.stats(q).is_ok()));
        if let Some((n, _)) = follower {
            *n = n.saturating_add(1);
            self.promoting = true;
        }
    }

    /// [`ready`](Self::ready) for every queue with waiting workers.
    pub(super) fn all_ready(&mut self, wake: &mut Wake<QN>) {
        let Self {
            core,
            leader,
            waiters,
            wakers,
            ..
        } = self;
        for q in core.queue_ids() {
            plan_ready(core, *leader, waiters, wakers, q, wake);
        }
    }

    /// Removes the future `key` waiting for `q`. When it had been woken
    /// and not polled since, its wake-up is handed on to the next future
    /// or worker, if tasks are queued.
    pub(super) fn forget_future(&mut self, q: QueueId, key: Key, wake: &mut Wake<QN>) {
        let notified = self
            .wakers
            .get_mut(queue_index(q))
            .and_then(|list| list.remove(key));
        if notified == Some(true) {
            self.ready(q, wake);
        }
    }

    /// Plans to wake every future waiting for `q` (removed).
    pub(super) fn drain_futures(&mut self, q: QueueId, wake: &mut Wake<QN>) {
        if let Some(list) = self.wakers.get_mut(queue_index(q)) {
            if list.len(q) > 0 {
                list.drain(&mut wake.wakers);
            }
        }
    }

    /// Takes at most [`BATCH_MAX`] due tasks from the schedule into their
    /// queues, for at most about [`HOLD_MAX`], and plans to wake their
    /// workers; returns how many entered. Every path that moves due tasks
    /// under the lock goes through here, [`move_until`](Self::move_until)
    /// or [`move_all`](Self::move_all).
    pub(super) fn move_due(&mut self, wake: &mut Wake<QN>) -> usize {
        let (until, mark) = (self.core.now(), self.all_mark());
        self.move_until(until, mark, wake)
    }

    /// As [`move_due`](Self::move_due), for the tasks due at the clock
    /// reading `until` (taken earlier): a periodic task whose next
    /// occurrence falls due while it moves (a period shorter than a batch)
    /// does not keep the batch going, in a pass that began at the tie
    /// order `mark` ([`all_mark`](Self::all_mark)): see the core's
    /// `due_in_pass`.
    pub(super) fn move_until(&mut self, until: Ticks, mark: u64, wake: &mut Wake<QN>) -> usize {
        self.move_batch(wake, Due::Until(until, mark))
    }

    /// As [`move_due`](Self::move_due), whatever the tasks' deadlines, for
    /// the tasks whose keys are not newer than `mark` (`run_all`: one
    /// occurrence of each periodic task, see [`all_mark`](Self::all_mark)).
    pub(super) fn move_all(&mut self, mark: u64, wake: &mut Wake<QN>) -> usize {
        self.move_batch(wake, Due::All(mark))
    }

    fn move_batch(&mut self, wake: &mut Wake<QN>, due: Due) -> usize {
        let start = Instant::now();
        #[cfg(test)]
        let before = self.core.len();
        let (mut moved, mut budget) = (0, BATCH_MAX);
        while budget > 0 {
            let step = budget.min(BATCH_STEP);
            moved += match due {
                Due::Until(..) => self.core.run_pending_max(step),
                Due::All(mark) => self.run_all_step(mark, step),
            };
            budget -= step;
            let more = match due {
                Due::Until(until, mark) => self.core.due_in_pass(until, mark),
                Due::All(mark) => self.older_left(mark),
            };
            if !more || start.elapsed() >= self.hold_max {
                break;
            }
        }
        #[cfg(test)]
        {
            let batch = before.saturating_sub(self.core.len());
            self.largest_batch = self.largest_batch.max(batch);
        }
        if moved > 0 {
            self.all_ready(wake);
        }
        moved
    }

    /// `true` when a task is due (not counting due tasks that wait for
    /// room), see [`due_by`](Self::due_by).
    pub(super) fn is_due(&self) -> bool {
        self.due_by(self.core.now())
    }

    /// `true` when a task is due at the clock reading `until`. A deadline
    /// of `Ticks::MAX` counts as never reached here: a periodic task whose
    /// deadlines saturated there would be due again after every delivery.
    /// (Every path that moves tasks moves such a task when it is due, in
    /// its first step.)
    pub(super) fn due_by(&self, until: Ticks) -> bool {
        self.core
            .next_deadline()
            .is_some_and(|d| d <= until && d < Ticks::MAX)
    }

    /// The mark of a `run_all` called now: the keys it moves are not newer
    /// (a periodic task's next occurrence, re-armed during the run, is).
    pub(super) fn all_mark(&self) -> u64 {
        #[cfg(feature = "periodic")]
        return self.core.last_order();
        #[cfg(not(feature = "periodic"))]
        u64::MAX
    }

    /// Takes at most `max` tasks whose keys are not newer than `mark` out
    /// of the schedule, whatever their deadlines.
    fn run_all_step(&mut self, mark: u64, max: usize) -> usize {
        #[cfg(feature = "periodic")]
        return self.core.run_all_older_max(mark, max);
        #[cfg(not(feature = "periodic"))]
        {
            let _ = mark;
            self.core.run_all_max(max)
        }
    }

    /// `true` while the first key of the schedule is not newer than `mark`.
    fn older_left(&self, mark: u64) -> bool {
        #[cfg(feature = "periodic")]
        return self
            .core
            .first_key()
            .is_some_and(|(_, _, order)| order <= mark);
        #[cfg(not(feature = "periodic"))]
        {
            let _ = mark;
            self.core.next_deadline().is_some()
        }
    }

    /// After a `run_all` batch: lifts the keys newer than `mark` that come
    /// before the tasks it has still to move (a periodic task re-armed
    /// during the run, a task scheduled since it began) to `Ticks::MAX`,
    /// behind every older key, recording each in `lifted` to be put back
    /// by [`put_back`](Self::put_back); at most [`BATCH_MAX`] per hold.
    /// `true` while older keys are left to move (or newer ones to lift).
    pub(super) fn lift_newer(&mut self, mark: u64, lifted: &mut Vec<Lifted>) -> bool {
        #[cfg(feature = "periodic")]
        for _ in 0..BATCH_MAX {
            match self.core.first_key() {
                Some((_, _, order)) if order <= mark => return true,
                Some((id, deadline, _)) if deadline < Ticks::MAX => {
                    if self.core.reschedule(id, When::At(Ticks::MAX)).is_err() {
                        return false; // the first key names a scheduled task
                    }
                    let Some(key) = self.core.key_of(id) else {
                        return false;
                    };
                    lifted.push(Lifted { id, deadline, key });
                }
                // Nothing left, or only newer keys at `Ticks::MAX`, which
                // come after every older key.
                _ => return false,
            }
        }
        #[cfg(not(feature = "periodic"))]
        let _ = lifted;
        self.older_left(mark)
    }

    /// Puts tasks lifted by [`lift_newer`](Self::lift_newer) back at their
    /// deadlines, those still where the lift left them (not cancelled,
    /// rescheduled or handed back since), and plans the wake-ups as a
    /// reschedule does.
    pub(super) fn put_back(&mut self, lifted: &[Lifted], wake: &mut Wake<QN>) {
        #[cfg(feature = "periodic")]
        for l in lifted {
            if self.core.key_of(l.id) == Some(l.key) {
                if let Ok(deadline) = self.core.reschedule(l.id, When::At(l.deadline)) {
                    self.deadline_set(deadline, wake);
                }
            }
        }
        #[cfg(not(feature = "periodic"))]
        let _ = (lifted, wake);
    }

    /// After a task got `deadline`: deliver it at once if it is already due
    /// and the thread runs (one batch; the thread is woken for any further
    /// due tasks), or wake the thread if it sleeps past `deadline`.
    pub(super) fn deadline_set(&mut self, deadline: Ticks, wake: &mut Wake<QN>) {
        if self.phase != Phase::Running {
            return;
        }
        if deadline <= self.core.now() {
            self.move_due(wake);
            if self.is_due() && self.sleep_until.is_some() {
                self.sleep_until = None;
                wake.thread = true;
            }
        } else {
            if self.sleep_until.is_some_and(|t| deadline < t) {
                self.sleep_until = None;
                wake.thread = true;
            }
            match &mut self.leader {
                Some(lead) if deadline < lead.until => {
                    lead.until = deadline;
                    wake.lead = true;
                }
                Some(_) => {}
                None => self.promote(wake),
            }
        }
    }

    pub(super) fn is_idle(&self, q: QueueId) -> Result<bool, QueueError> {
        let s = self.core.stats(q)?;
        Ok(s.queued == 0 && s.waiting == 0 && s.done >= s.taken)
    }
}

/// [`State::ready`] on the fields it needs, so that
/// [`State::all_ready`] can walk the queues while it plans.
fn plan_ready<S, P, C, const QN: usize>(
    core: &Core<S, P, C, QN>,
    leader: Option<Lead>,
    waiters: &[Waiters; QN],
    wakers: &mut [WakerList; QN],
    q: QueueId,
    wake: &mut Wake<QN>,
) where
    C: Clock,
    S: Subject,
{
    let leads = leader.is_some_and(|l| l.queue == q);
    let waiters = waiters
        .get(queue_index(q))
        .filter(|w| w.queue == Some(q))
        .map_or(0, |w| w.count);
    let futures = wakers.get(queue_index(q)).map_or(0, |l| l.len(q));
    if !leads && waiters == 0 && futures == 0 {
        return;
    }
    let mut queued = core.stats(q).map_or(0, |s| s.queued);
    if leads && queued > 0 {
        wake.lead = true;
        queued -= 1;
    }
    if waiters > 0 && queued > 0 {
        if let Some(n) = wake.ready.get_mut(queue_index(q)) {
            let want = if queued >= waiters {
                usize::MAX
            } else {
                queued
            };
            *n = (*n).max(want);
        }
        queued -= queued.min(waiters);
    }
    if futures > 0 && queued > 0 {
        if let Some(list) = wakers.get_mut(queue_index(q)) {
            list.notify(q, queued, &mut wake.wakers);
        }
    }
}

impl<S, P, C, const QN: usize> Shared<S, P, C, QN> {
    /// The state, also when a thread panicked while holding the lock: every
    /// core operation leaves the core consistent between calls, so the data
    /// is still usable (a panic in user code on the scheduler thread marks
    /// the scheduler failed instead).
    pub(super) fn lock(&self) -> MutexGuard<'_, State<S, P, C, QN>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, or why the scheduler takes no more work.
    pub(super) fn lock_open(&self) -> Result<MutexGuard<'_, State<S, P, C, QN>>, Halted> {
        let st = self.lock();
        match st.phase {
            Phase::Idle | Phase::Running => Ok(st),
            Phase::Failed => Err(Halted::Failed),
            Phase::Stopped => Err(Halted::Stopped),
        }
    }

    pub(super) fn send(&self, wake: &Wake<QN>) {
        wake.send(&self.wake, &self.lead, &self.ready);
    }

    /// Wakes every waiter of every kind (stop, failure), futures included.
    /// Called after the phase changed, without the lock.
    pub(super) fn notify_everyone(&self) {
        self.wake.notify_all();
        self.lead.notify_all();
        for cv in self.ready.iter().chain(&self.idle) {
            cv.notify_all();
        }
        let mut wakers = Vec::new();
        let mut st = self.lock();
        for list in &mut st.wakers {
            list.drain(&mut wakers);
        }
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }

    pub(super) fn ticks_to_duration(&self, ticks: Ticks) -> Duration {
        let nanos = u128::from(ticks).saturating_mul(self.tick.as_nanos());
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::When;
    use crate::thread::{MonotonicClock, Options, SchedulerThread};

    type Sched = SchedulerThread<u32, u32>;

    #[test]
    fn tick_conversion_saturates_and_zero_tick_is_one_ns() {
        let s = Sched::new(
            MonotonicClock::new(),
            &[],
            Options::new().tick(Duration::ZERO),
        )
        .unwrap();
        assert_eq!(s.handle.shared.tick, Duration::from_nanos(1));
        assert_eq!(
            s.handle.shared.ticks_to_duration(5),
            Duration::from_nanos(5)
        );
        let hour = Sched::new(
            MonotonicClock::new(),
            &[],
            Options::new().tick(Duration::from_secs(3600)),
        )
        .unwrap();
        let far = hour.handle.shared.ticks_to_duration(Ticks::MAX);
        assert_eq!(far, Duration::from_nanos(u64::MAX));
    }

    /// The scheduler thread records the deadline it sleeps until, and an
    /// earlier deadline resets it (the wake-up), a later one does not.
    #[test]
    fn only_an_earlier_deadline_wakes_the_thread() {
        let s = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        let now = s.now();
        let mut st = s.handle.shared.lock();
        st.phase = Phase::Running; // as if started, without a thread
        st.sleep_until = Some(now + 1_000_000_000);
        let mut wake = Wake::NONE;
        st.deadline_set(now + 2_000_000_000, &mut wake);
        assert!(!wake.thread);
        assert_eq!(st.sleep_until, Some(now + 1_000_000_000));
        st.deadline_set(now + 500_000_000, &mut wake);
        assert!(wake.thread);
        assert_eq!(st.sleep_until, None);
        // Already due: delivered on the spot, no wake-up needed.
        let mut wake = Wake::NONE;
        st.core.schedule(Task::new(q, 0, 7), When::At(0)).unwrap();
        st.deadline_set(0, &mut wake);
        assert!(!wake.thread);
        assert_eq!(st.core.stats(q).unwrap().queued, 1);
        st.phase = Phase::Stopped;
    }

    /// The sequence of a lost wake-up: a worker leads while waiting for
    /// queue `x`; `x` is removed and added again in the same queue index; a
    /// second worker waits for the new `x`; a task is queued there. The
    /// wake-up goes to the second worker, not to the leader, which waits
    /// for a queue that no longer exists.
    #[test]
    fn a_wake_up_is_not_credited_to_the_leader_of_a_removed_queue() {
        let s = Sched::new(MonotonicClock::new(), &[("x", 0)], Options::new()).unwrap();
        let x = s.queue_id("x").unwrap();
        let mut st = s.handle.shared.lock();
        st.phase = Phase::Running; // as if started, without a thread
        st.leader = Some(Lead {
            queue: x,
            until: Ticks::MAX,
        });
        st.core.remove_queue(x, drop).unwrap();
        let x2 = st.core.add_queue("x", 0).unwrap();
        assert_eq!((queue_index(x2), x2 == x), (queue_index(x), false));
        st.begin_wait(x2);
        st.core.schedule(Task::new(x2, 0, 1), When::Now).unwrap();
        let mut wake = Wake::NONE;
        st.ready(x2, &mut wake);
        assert!(!wake.lead, "credited to the leader of the removed queue");
        assert_eq!(
            wake.ready[queue_index(x2)],
            usize::MAX,
            "the waiter of x2 is woken"
        );
        st.phase = Phase::Stopped;
    }

    /// Every path that moves due tasks moves at most `BATCH_MAX` under one
    /// hold of the lock: a schedule for a past deadline (the rest is left
    /// to the thread, which is woken), `run_pending`, and the thread and
    /// workers while `join` waits.
    #[test]
    fn due_tasks_move_in_bounded_batches() {
        const TASKS: u32 = 1000;
        let s = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        for p in 0..TASKS {
            s.schedule(Task::new(q, p, p), When::At(0)).unwrap();
        }
        {
            let mut st = s.handle.shared.lock();
            st.phase = Phase::Running; // as if started, without a thread
            st.sleep_until = Some(Ticks::MAX);
        }
        s.schedule(Task::new(q, 0, TASKS), When::At(0)).unwrap();
        {
            let mut st = s.handle.shared.lock();
            assert_eq!(st.core.stats(q).unwrap().queued, BATCH_MAX);
            assert_eq!(st.sleep_until, None, "the thread is woken for the rest");
            assert_eq!(st.largest_batch, BATCH_MAX);
            st.phase = Phase::Idle;
        }
        assert_eq!(s.run_pending(), Ok(TASKS as usize + 1 - BATCH_MAX));
        assert_eq!(s.handle.shared.lock().largest_batch, BATCH_MAX);

        let s = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        for p in 0..TASKS {
            s.schedule(Task::new(q, p, p), When::At(0)).unwrap();
        }
        s.start().unwrap();
        let worker = {
            let h = s.handle();
            std::thread::spawn(move || {
                for _ in 0..TASKS {
                    h.get_task(q, crate::thread::Wait::Forever).unwrap();
                    h.task_done(q).unwrap();
                }
            })
        };
        s.join(q).unwrap();
        worker.join().unwrap();
        assert_eq!(s.handle.shared.lock().largest_batch, BATCH_MAX);
        s.stop().unwrap();
    }

    /// A hold also stops when its time is up: with no time at all, each
    /// hold moves one step of `BATCH_STEP` tasks, and every task still
    /// arrives.
    #[test]
    fn a_hold_stops_moving_when_its_time_is_up() {
        const TASKS: u32 = 100;
        let s = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
        s.handle.shared.lock().hold_max = Duration::ZERO;
        let q = s.queue_id("q").unwrap();
        for p in 0..TASKS {
            s.schedule(Task::new(q, p, p), When::At(0)).unwrap();
        }
        assert_eq!(s.run_pending(), Ok(TASKS as usize));
        let st = s.handle.shared.lock();
        assert_eq!(st.largest_batch, BATCH_STEP);
        assert_eq!(st.core.stats(q).unwrap().queued, TASKS as usize);
    }

    /// `run_all` moves every scheduled task, whatever its deadline, in
    /// batches of at most `BATCH_MAX` with the lock released in between,
    /// also while the thread runs.
    #[test]
    fn run_all_moves_in_bounded_batches() {
        const TASKS: u32 = 1000;
        let s = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        for p in 0..TASKS {
            s.schedule(Task::new(q, p, p), When::At(Ticks::MAX - u64::from(p)))
                .unwrap();
        }
        assert_eq!(s.run_all(), Ok(TASKS as usize));
        let st = s.handle.shared.lock();
        assert_eq!(st.largest_batch, BATCH_MAX);
        assert_eq!(st.core.stats(q).unwrap().queued, TASKS as usize);
        assert_eq!(st.core.len(), 0);
        drop(st);
        // In deadline order: the latest scheduled is due first.
        let first = s.get_task(q, crate::thread::Wait::NoWait).unwrap();
        assert_eq!(*first.subject(), TASKS - 1);

        let s = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        for p in 0..TASKS {
            s.schedule(Task::new(q, p, p), When::At(Ticks::MAX))
                .unwrap();
        }
        s.start().unwrap();
        assert_eq!(s.run_all(), Ok(TASKS as usize));
        assert_eq!(s.handle.shared.lock().largest_batch, BATCH_MAX);
        assert_eq!(s.stop().unwrap().len(), TASKS as usize);
    }

    /// A clock other than `MonotonicClock` gets a bound on every sleep when
    /// the thread starts (it may step back); `MonotonicClock` none, and an
    /// explicit bound is kept.
    #[test]
    fn max_sleep_defaults_by_clock() {
        #[derive(Clone, Copy)]
        struct Fixed;
        impl Clock for Fixed {
            fn now(&self) -> Ticks {
                0
            }
        }
        let mono = Sched::new(MonotonicClock::new(), &[], Options::new()).unwrap();
        mono.start().unwrap();
        assert_eq!(mono.handle.shared.lock().max_sleep, None);
        let fixed: SchedulerThread<u32, u32, Fixed> =
            SchedulerThread::new(Fixed, &[], Options::new()).unwrap();
        assert_eq!(fixed.handle.shared.lock().max_sleep, None);
        fixed.start().unwrap();
        assert_eq!(
            fixed.handle.shared.lock().max_sleep,
            Some(DEFAULT_MAX_SLEEP)
        );
        let ms = Duration::from_millis(5);
        let set: SchedulerThread<u32, u32, Fixed> =
            SchedulerThread::new(Fixed, &[], Options::new().max_sleep(ms)).unwrap();
        set.start().unwrap();
        assert_eq!(set.handle.shared.lock().max_sleep, Some(ms));
        // `Duration::MAX`: no bound at all, with any clock.
        let unbounded: SchedulerThread<u32, u32, Fixed> =
            SchedulerThread::new(Fixed, &[], Options::new().max_sleep(Duration::MAX)).unwrap();
        unbounded.start().unwrap();
        assert_eq!(unbounded.handle.shared.lock().max_sleep, None);
    }

    #[cfg(feature = "log")]
    #[test]
    fn logs_scheduling_and_delivery() {
        use std::sync::atomic::{AtomicBool, Ordering};

        struct Capture;
        static SCHEDULED: AtomicBool = AtomicBool::new(false);
        static TAKEN: AtomicBool = AtomicBool::new(false);
        impl log::Log for Capture {
            fn enabled(&self, _: &log::Metadata<'_>) -> bool {
                true
            }
            fn log(&self, record: &log::Record<'_>) {
                let text = std::format!("{}", record.args());
                if text.contains("scheduled at tick") {
                    SCHEDULED.store(true, Ordering::SeqCst);
                }
                if text.contains("taken") && text.contains("after its deadline") {
                    TAKEN.store(true, Ordering::SeqCst);
                }
            }
            fn flush(&self) {}
        }
        static CAPTURE: Capture = Capture;
        log::set_logger(&CAPTURE).unwrap();
        log::set_max_level(log::LevelFilter::Trace);

        let s = Sched::new(MonotonicClock::new(), &[("q", 0)], Options::new()).unwrap();
        let q = s.queue_id("q").unwrap();
        s.schedule(Task::new(q, 0, 1), When::At(0)).unwrap();
        s.run_pending().unwrap();
        s.get_task(q, crate::thread::Wait::NoWait).unwrap();
        assert!(SCHEDULED.load(Ordering::SeqCst) && TAKEN.load(Ordering::SeqCst));
    }
}
