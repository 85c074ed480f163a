//! [`GetTaskFuture`]: [`get_task`](SchedulerHandle::get_task) as a future,
//! for workers on an async executor (tokio, async-std, smol, any other):
//! it waits without a thread, woken where a blocked worker's condition
//! variable is notified (see the wake-up plan in `wakeup.rs`).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::clock::MonotonicClock;
use super::error::TakeError;
use super::handle::SchedulerHandle;
use super::options::DEFAULT_QUEUES;
use super::waker_list::Key;
use super::wakeup::{queue_index, Phase, Shared, Wake};
use crate::clock::Clock;
use crate::error::GetTaskError;
use crate::subject::Subject;
use crate::task::{QueueId, Task, TaskId};

/// One future's (or stream's) place among the futures waiting for a queue.
#[derive(Debug)]
pub(super) struct Waiter {
    pub(super) queue: QueueId,
    /// Its entry in the waker list of its queue index, while registered.
    key: Option<Key>,
}

impl Waiter {
    pub(super) const fn new(queue: QueueId) -> Self {
        Self { queue, key: None }
    }
}

impl<S, P, C, const QN: usize> Shared<S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    /// One poll for a task of `waiter.queue`: a task, an error, or
    /// `Pending` with the waker of `cx` registered. A task leaves the core
    /// only in the poll that returns it.
    pub(super) fn poll_take(
        &self,
        waiter: &mut Waiter,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Task<S, P>, TakeError>> {
        let queue = waiter.queue;
        let mut wake = Wake::NONE;
        let mut st = self.lock();
        let mut moved = false;
        let taken = loop {
            if let Some(halted) = st.halted() {
                break Some(Err(halted.into()));
            }
            match st.take(queue, &mut wake) {
                Ok(task) => {
                    log_trace!(
                        "tardy: task {} taken by a future, {} ticks after its deadline",
                        task.id().map_or(0, TaskId::get),
                        st.core.now().saturating_sub(task.deadline())
                    );
                    // Out of the list first, so that its wake-up (used
                    // now) is not counted as one in flight.
                    if let Some(key) = waiter.key.take() {
                        if let Some(list) = st.wakers.get_mut(queue_index(queue)) {
                            list.remove(key);
                        }
                    }
                    // Room made may have let a waiting task in, and more
                    // may be queued: tell the next worker or future.
                    st.ready(queue, &mut wake);
                    break Some(Ok(task));
                }
                Err(GetTaskError::Empty) => {}
                Err(e) => break Some(Err(e.into())),
            }
            // Nothing queued but tasks are due: move one batch here, as a
            // blocked worker does, then look again. A future never leads
            // (it cannot sleep until a deadline), so without the thread
            // running it waits for `run_pending`.
            if st.phase == Phase::Running && st.is_due() {
                if !moved {
                    moved = true;
                    st.move_due(&mut wake);
                    continue;
                }
                // More than a batch is due and none of it for this queue
                // yet: come back after the executor ran other tasks,
                // rather than hold the lock for every batch.
                cx.waker().wake_by_ref();
            }
            break None;
        };
        let poll = match taken {
            Some(result) => {
                // Halted or unknown queue: the list was drained, or the
                // entry goes now; no wake-up to hand on.
                if let Some(key) = waiter.key.take() {
                    if let Some(list) = st.wakers.get_mut(queue_index(queue)) {
                        list.remove(key);
                    }
                }
                Poll::Ready(result)
            }
            None => {
                register(&mut st.wakers, waiter, cx.waker());
                Poll::Pending
            }
        };
        drop(st);
        self.send(&wake);
        poll
    }

    /// Takes `waiter` out of its list (the future is dropped), handing on a
    /// wake-up it had received and not used.
    pub(super) fn forget(&self, waiter: &mut Waiter) {
        let Some(key) = waiter.key.take() else {
            return;
        };
        let mut wake = Wake::NONE;
        let mut st = self.lock();
        st.forget_future(waiter.queue, key, &mut wake);
        drop(st);
        self.send(&wake);
    }
}

/// Registers `waiter` (again) with `waker` in the list of its queue index.
fn register<const QN: usize>(
    lists: &mut [super::waker_list::WakerList; QN],
    waiter: &mut Waiter,
    waker: &Waker,
) {
    let Some(list) = lists.get_mut(queue_index(waiter.queue)) else {
        return;
    };
    let rearmed = waiter.key.is_some_and(|key| list.rearm(key, waker));
    if !rearmed {
        waiter.key = Some(list.register(waiter.queue, waker.clone()));
    }
}

/// The future returned by
/// [`SchedulerHandle::get_task_async`]: the oldest task of a queue, once
/// there is one. See that method for what it answers and its cancel
/// safety.
#[must_use = "futures do nothing unless polled"]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct GetTaskFuture<'a, S, P, C = MonotonicClock, const QN: usize = DEFAULT_QUEUES>
where
    S: Subject,
    C: Clock,
{
    handle: &'a SchedulerHandle<S, P, C, QN>,
    waiter: Waiter,
}

impl<S, P, C, const QN: usize> Future for GetTaskFuture<'_, S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    type Output = Result<Task<S, P>, TakeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.handle.shared.poll_take(&mut this.waiter, cx)
    }
}

impl<S, P, C, const QN: usize> Drop for GetTaskFuture<'_, S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    fn drop(&mut self) {
        self.handle.shared.forget(&mut self.waiter);
    }
}

impl<S, P, C, const QN: usize> fmt::Debug for GetTaskFuture<'_, S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetTaskFuture")
            .field("queue", &self.waiter.queue)
            .field("registered", &self.waiter.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<S, P, C, const QN: usize> SchedulerHandle<S, P, C, QN>
where
    S: Subject,
    C: Clock,
{
    /// Takes the oldest task from `queue` once there is one: the future of
    /// [`get_task`](Self::get_task) with [`Wait::Forever`](crate::Wait::Forever),
    /// for workers on an async executor. Any executor drives it (it only
    /// uses the [`Waker`] it is polled with); while it waits, no thread
    /// waits.
    ///
    /// A waiting future is woken when a task enters `queue` (moved there at
    /// its deadline by the scheduler thread, by a leading worker or by
    /// another future's poll; scheduled with [`When::Now`](crate::When::Now);
    /// let in from the due tasks waiting for room when a task is taken),
    /// when `queue` is removed, and when the scheduler stops or fails. When
    /// several futures and blocked workers wait for one queue, each task
    /// wakes one of them, the oldest future first. A poll that finds
    /// `queue` empty while tasks are due moves a batch of them (at most 64)
    /// itself. Futures never wait for a deadline themselves: due tasks reach
    /// them through the scheduler thread, so
    /// [`start`](crate::SchedulerThread::start) it (before it is started,
    /// tasks move only with [`run_pending`](Self::run_pending) or
    /// [`run_all`](Self::run_all), as for `get_task`).
    ///
    /// A timeout comes from the executor, for example
    /// `tokio::time::timeout` (see below). Polling the future again after
    /// it completed takes the next task, as a new call would. Mark a task
    /// done with [`task_done`](Self::task_done) if anyone
    /// [`join`](Self::join)s the queue.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. A task is taken from the queue only in
    /// the poll that returns it, so if the future is dropped before it
    /// completes (a `tokio::select!` whose other branch completed first, a
    /// timeout), no task was taken and none is lost. A future woken for a
    /// task and dropped before it took it hands that wake-up on to the next
    /// waiting future or worker.
    ///
    /// # Errors
    ///
    /// [`TakeError::UnknownQueue`] (also when the queue is removed while
    /// waiting), [`TakeError::Stopped`] (also when the scheduler stops
    /// while waiting), [`TakeError::Failed`] (also when the scheduler
    /// thread fails while waiting). Never `Empty` or `TimedOut`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tardy::{MonotonicClock, Options, SchedulerThread, Task};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sched: SchedulerThread<u32, &str> =
    ///     SchedulerThread::new(MonotonicClock::new(), &[("renew", 0)], Options::new())?;
    /// sched.start()?;
    /// let renew = sched.queue_id("renew")?;
    ///
    /// let worker = {
    ///     let h = sched.handle();
    ///     tokio::spawn(async move {
    ///         let task = h.get_task_async(renew).await.unwrap();
    ///         h.task_done(renew).unwrap();
    ///         task.into_payload()
    ///     })
    /// };
    /// sched.schedule_after(Task::new(renew, 42, "example.org"), Duration::from_millis(1))?;
    /// assert_eq!(worker.await?, "example.org");
    ///
    /// // A timeout from the runtime: nothing is due within 10 ms, and the
    /// // task stays scheduled.
    /// sched.schedule_after(Task::new(renew, 7, "later.example"), Duration::from_secs(3600))?;
    /// let waited = tokio::time::timeout(Duration::from_millis(10), sched.get_task_async(renew));
    /// assert!(waited.await.is_err());
    /// assert_eq!(sched.stop()?.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_task_async(&self, queue: QueueId) -> GetTaskFuture<'_, S, P, C, QN> {
        GetTaskFuture {
            handle: self,
            waiter: Waiter::new(queue),
        }
    }
}
