//! The C ABI's operations on the core [`Scheduler`], with C arguments in and
//! [`tardy_status`] out.
//!
//! This is the part of the C ABI that does not depend on how the scheduler
//! is shared: the threaded build wraps it in a mutex, a bare-metal build can
//! wrap it in a critical section. Nothing here allocates, blocks or calls a
//! host callback other than the clock.

use crate::clock::{Clock, Ticks};
use crate::queue::TaskQueue;
use crate::scheduler::Scheduler;
use crate::task::{QueueId, Task, TaskId, When};

use super::status::tardy_status::{self, *};
use super::types::{tardy_task, tardy_task_id, CTask, UserData, TARDY_CAPACITY, TARDY_MAX_QUEUES};

/// The core scheduler behind a `tardy_scheduler`: subjects are `u64`,
/// payloads the host's pointers, `TARDY_CAPACITY` task slots and
/// `TARDY_MAX_QUEUES` queues.
pub(crate) type Core<C, Q> = Scheduler<C, Q, u64, UserData, TARDY_CAPACITY, TARDY_MAX_QUEUES>;

/// The queue named `name`.
///
/// # Errors
///
/// `TARDY_ERR_NO_QUEUE`.
pub(crate) fn queue<C: Clock, Q: TaskQueue<CTask>>(
    core: &Core<C, Q>,
    name: &str,
) -> Result<QueueId, tardy_status> {
    Ok(core.queue_id(name)?)
}

/// Adds a queue; `max_size` 0 means `TARDY_CAPACITY`.
///
/// # Errors
///
/// `TARDY_ERR_INVALID_ARG` for `max_size > TARDY_CAPACITY` or a bad name,
/// `TARDY_ERR_QUEUE_EXISTS`, `TARDY_ERR_CAPACITY` when `TARDY_MAX_QUEUES`
/// queues exist.
pub(crate) fn add_queue<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    name: &str,
    max_size: usize,
) -> Result<QueueId, tardy_status> {
    if max_size > TARDY_CAPACITY {
        return Err(TARDY_ERR_INVALID_ARG);
    }
    let max_size = if max_size == 0 {
        TARDY_CAPACITY
    } else {
        max_size
    };
    Ok(core.add_queue(name, max_size)?)
}

/// Removes the queue `name`, handing every task scheduled for it or in it
/// to `hand_back`; returns the removed queue's id.
///
/// # Errors
///
/// `TARDY_ERR_NO_QUEUE`; nothing is handed back.
pub(crate) fn remove_queue<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    name: &str,
    mut hand_back: impl FnMut(tardy_task),
) -> Result<QueueId, tardy_status> {
    let q = queue(core, name)?;
    core.remove_queue(q, |t| hand_back(tardy_task::from(&t)))?;
    Ok(q)
}

/// Schedules a new task for the queue `name`.
///
/// # Errors
///
/// `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_QUEUE_FULL` (only for [`When::Now`]),
/// `TARDY_ERR_CAPACITY`.
pub(crate) fn schedule<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    name: &str,
    subject: u64,
    user_data: UserData,
    when: When,
) -> Result<(QueueId, TaskId), tardy_status> {
    let q = queue(core, name)?;
    let id = core.schedule(Task::new(q, subject, user_data), when)?;
    Ok((q, id))
}

/// The task id `raw`, if it can name a task.
///
/// # Errors
///
/// `TARDY_ERR_NOT_SCHEDULED` for 0.
pub(crate) fn task_id(raw: tardy_task_id) -> Result<TaskId, tardy_status> {
    TaskId::from_raw(raw).ok_or(TARDY_ERR_NOT_SCHEDULED)
}

/// Moves the scheduled task `id` to `deadline`.
///
/// # Errors
///
/// `TARDY_ERR_NOT_SCHEDULED`.
pub(crate) fn reschedule_at<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    id: tardy_task_id,
    deadline: Ticks,
) -> Result<(), tardy_status> {
    Ok(core.reschedule(task_id(id)?, When::At(deadline))?)
}

/// Cancels the scheduled task `id`; returns its `user_data`.
///
/// # Errors
///
/// `TARDY_ERR_NOT_SCHEDULED`.
pub(crate) fn cancel<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    id: tardy_task_id,
) -> Result<UserData, tardy_status> {
    Ok(core.cancel(task_id(id)?)?.into_payload())
}

/// Cancels every scheduled task about `subject`, handing each to
/// `hand_back`; returns how many.
pub(crate) fn cancel_subject<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    subject: u64,
    mut hand_back: impl FnMut(tardy_task),
) -> usize {
    core.cancel_by_subject(&subject, |t| hand_back(tardy_task::from(&t)))
}

/// Takes the oldest task of queue `q`, without waiting.
///
/// # Errors
///
/// `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_EMPTY`.
pub(crate) fn get_task<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    q: QueueId,
) -> Result<tardy_task, tardy_status> {
    Ok(tardy_task::from(&core.get_task(q)?))
}

/// Marks one task taken from the queue `name` as done.
///
/// # Errors
///
/// `TARDY_ERR_NO_QUEUE`, `TARDY_ERR_INVALID_ARG` when every task taken is
/// already done.
pub(crate) fn task_done<C: Clock, Q: TaskQueue<CTask>>(
    core: &mut Core<C, Q>,
    name: &str,
) -> Result<(), tardy_status> {
    let q = queue(core, name)?;
    Ok(core.task_done(q)?)
}

/// The earliest deadline.
///
/// # Errors
///
/// `TARDY_ERR_EMPTY` when nothing is scheduled.
pub(crate) fn next_deadline<C: Clock, Q: TaskQueue<CTask>>(
    core: &Core<C, Q>,
) -> Result<Ticks, tardy_status> {
    core.next_deadline().ok_or(TARDY_ERR_EMPTY)
}

/// `true` when queue `q` exists and holds a task a worker can take now.
pub(crate) fn has_tasks<C: Clock, Q: TaskQueue<CTask>>(core: &Core<C, Q>, q: QueueId) -> bool {
    core.stats(q)
        .is_ok_and(|s| s.queued > 0 || (s.waiting > 0 && s.room > 0))
}
