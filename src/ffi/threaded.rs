//! The threaded backend of the C ABI (feature `capi`): a
//! [`SchedulerThread`] of `u64` subjects and host pointers behind the
//! opaque `tardy_scheduler`, a clock that may be a C callback, the refusal
//! of calls made from inside a clock callback, and what only threads have:
//! `tardy_new_with_tick`, `tardy_options_init`, `tardy_new_with_options`,
//! `tardy_schedule_at_unix_ns`, `tardy_start`, `tardy_stop` and
//! `tardy_drain`. A scheduler grows as
//! tasks come (an `AllocScheduler` core), up to the maximum of its
//! `tardy_options`.
//!
//! The exports shared with the bare-metal backend are in `exports.rs`;
//! this file gives them the same `pub(crate)` methods as `baremetal.rs`.

use core::cell::RefCell;
use core::ffi::{c_char, c_void};
use core::sync::atomic::{AtomicU64, Ordering};
use std::boxed::Box;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};
use std::vec::Vec;

use crate::clock::{Clock, Ticks};
use crate::task::{TaskId, When};
use crate::thread::{MonotonicClock, NewError, Options, SchedulerThread, Wait};

use super::boundary::{check_out, ffi_panic_boundary, sched, write_out};
use super::exports::{hand_back_counted, schedule};
use super::status::tardy_status::{self, *};
use super::types::{
    tardy_clock_fn, tardy_task, tardy_task_fn, tardy_task_id, CTask, HostClock, NewTask, UserData,
};

/// The most queues a scheduler has at once.
#[cfg_attr(docsrs, doc(cfg(feature = "capi")))]
pub const TARDY_MAX_QUEUES: usize = 16;

/// The largest `initial_capacity` and `max_capacity` of `tardy_options`:
/// 2^32 - 2 tasks, the most a scheduler can number.
#[cfg_attr(docsrs, doc(cfg(feature = "capi")))]
pub const TARDY_MAX_CAPACITY: usize = 4_294_967_294;

/// The largest `max_size` of a queue other than 0 (unbounded). A queue
/// allocates nothing for its bound: room is taken as tasks arrive.
#[cfg_attr(docsrs, doc(cfg(feature = "capi")))]
pub const TARDY_MAX_QUEUE_SIZE: usize = TARDY_MAX_CAPACITY;

const _: () = assert!(TARDY_MAX_QUEUES.is_power_of_two() && TARDY_MAX_QUEUES <= 256);
const _: () = assert!(
    TARDY_MAX_CAPACITY == <crate::AllocStorage as crate::Storage>::MAX_SLOTS || usize::BITS < 32
);

/// The settings of `tardy_new_with_options`. Fill it with
/// `tardy_options_init` first, then change the fields you want. A program
/// built against an earlier header (a smaller `size`) gets the defaults of
/// the fields it does not know; one built against a later header (a
/// larger `size`) is refused, so that no setting is silently ignored.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(docsrs, doc(cfg(feature = "capi")))]
pub struct tardy_options {
    /// `sizeof(tardy_options)` as the caller's header declares it, written
    /// by `tardy_options_init`. It lets the structure grow: a library
    /// reads only the fields that fit in `size` bytes (the rest keep their
    /// defaults) and refuses a `size` larger than its own structure, whose
    /// fields it would not know.
    pub size: usize,
    /// Room for this many tasks, allocated by `tardy_new_with_options`.
    /// Default 0: room is allocated as tasks come, 4096 task slots at a
    /// time, never moved once allocated. At most `TARDY_MAX_CAPACITY`.
    pub initial_capacity: usize,
    /// The most tasks scheduled at once: one more is `TARDY_ERR_CAPACITY`.
    /// Default 0: no maximum but `TARDY_MAX_CAPACITY` and the memory the
    /// allocator gives (a refused allocation is also `TARDY_ERR_CAPACITY`,
    /// never an abort). Otherwise at least `initial_capacity` and at most
    /// `TARDY_MAX_CAPACITY`.
    pub max_capacity: usize,
    /// The longest the background thread (and a worker that waits for the
    /// next deadline) sleeps before reading the clock again, in
    /// milliseconds: after a host clock steps back and reads correctly
    /// again, due tasks are delivered within this bound. 0 (the default):
    /// 1000 for a host clock, no bound for the built-in clock, which never
    /// steps back (and is never polled). `UINT64_MAX`: no bound.
    pub max_sleep_ms: u64,
}

impl tardy_options {
    /// The defaults, with `size` this library's own.
    const DEFAULT: Self = Self {
        size: core::mem::size_of::<Self>(),
        initial_capacity: 0,
        max_capacity: 0,
        max_sleep_ms: 0,
    };

    /// The smallest `size` accepted: the structure as first published
    /// (every field of this version).
    const MIN_SIZE: usize = core::mem::size_of::<Self>();

    /// The options at `opts`, read as far as its `size` goes.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_NULL` for NULL, `TARDY_ERR_INVALID_ARG` for a `size`
    /// smaller than the first version or larger than this library's
    /// structure.
    ///
    /// # Safety
    ///
    /// - `opts` is NULL or readable for `size_of::<usize>()` bytes, and
    ///   then for its `size` field's bytes when that is accepted.
    unsafe fn read(opts: *const Self) -> Result<Self, tardy_status> {
        if opts.is_null() {
            return Err(TARDY_ERR_NULL);
        }
        // SAFETY: the first field is readable (caller's promise);
        // `read_unaligned` asks for no alignment.
        let size = unsafe { opts.cast::<usize>().read_unaligned() };
        if !(Self::MIN_SIZE..=core::mem::size_of::<Self>()).contains(&size) {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        let mut out = Self::DEFAULT;
        // SAFETY: `size` bytes are readable at `opts` (caller's promise),
        // `size` is at most the size of `out`, and every bit pattern is a
        // valid value of each field (all integers).
        unsafe {
            core::ptr::copy_nonoverlapping(
                opts.cast::<u8>(),
                core::ptr::from_mut(&mut out).cast::<u8>(),
                size,
            );
        }
        Ok(out)
    }

    /// The threaded layer's settings, for a scheduler on the host clock
    /// (`host`) or the built-in one.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` for a capacity above `TARDY_MAX_CAPACITY`
    /// or a maximum below the initial capacity.
    fn to_options(self, tick: Duration, host: bool) -> Result<Options, tardy_status> {
        if self.initial_capacity > TARDY_MAX_CAPACITY
            || self.max_capacity > TARDY_MAX_CAPACITY
            || (self.max_capacity != 0 && self.max_capacity < self.initial_capacity)
        {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        let mut options = Options::new()
            .tick(tick)
            .thread_name("tardy")
            .capacity(self.initial_capacity);
        if self.max_capacity != 0 {
            options = options.max_capacity(self.max_capacity);
        }
        options = match self.max_sleep_ms {
            // The threaded layer's default for a clock that may step back.
            0 if host => options,
            0 | u64::MAX => options.max_sleep(Duration::MAX),
            ms => options.max_sleep(Duration::from_millis(ms)),
        };
        Ok(options)
    }
}

/// The tasks a call hands back.
pub(crate) type Tasks = Vec<tardy_task>;

std::thread_local! {
    /// The ids of the schedulers whose clock callback runs on this thread,
    /// innermost last: a clock may call another scheduler, whose clock may
    /// call a third, and a call into any of them from inside would wait
    /// for a lock this thread holds.
    static IN_CLOCK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Ids of schedulers, to recognise calls from inside their clocks. 2^64
/// schedulers are never created, so an id is never reused.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Marks a clock callback of scheduler `id` as running on this thread
/// until dropped (also if the callback unwinds).
struct InClock;

impl InClock {
    fn enter(id: u64) -> Self {
        IN_CLOCK.with(|c| c.borrow_mut().push(id));
        Self
    }
}

impl Drop for InClock {
    fn drop(&mut self) {
        IN_CLOCK.with(|c| c.borrow_mut().pop());
    }
}

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
                let _in_clock = InClock::enter(self.owner);
                clock.now()
            }
        }
    }
}

type Inner = SchedulerThread<u64, UserData, FfiClock, TARDY_MAX_QUEUES>;

/// A scheduler, opaque to C: created by `tardy_new`, destroyed by
/// `tardy_free`.
#[cfg_attr(docsrs, doc(cfg(feature = "capi")))]
pub struct tardy_scheduler {
    id: u64,
    inner: Inner,
    /// A copy of the built-in clock (it reads the same time), to map
    /// wall-clock times; `None` with a host clock.
    builtin: Option<MonotonicClock>,
    /// `None` until `tardy_stop`; then the tasks the stop got back, until
    /// `tardy_drain` hands them to the host. Locked before `inner`'s lock,
    /// never the other way round, and never while a host callback runs.
    set_aside: Mutex<Option<Vec<CTask>>>,
}

fn c_task(t: &CTask) -> tardy_task {
    tardy_task::from(t)
}

fn c_tasks(tasks: &[CTask]) -> Tasks {
    tasks.iter().map(c_task).collect()
}

impl tardy_scheduler {
    /// A scheduler on the host clock `clock` (NULL: the built-in clock)
    /// whose background thread takes a tick for `ns_per_tick` nanoseconds,
    /// with the capacities and sleep bound of `opts`.
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` when `ns_per_tick` is 0, or not 1 with the
    /// built-in clock (which counts nanoseconds), or for a field of `opts`
    /// out of range; `TARDY_ERR_CAPACITY` when the allocator refused the
    /// initial capacity.
    fn new(
        opts: tardy_options,
        clock: tardy_clock_fn,
        clock_user: *mut c_void,
        ns_per_tick: u64,
    ) -> Result<Self, tardy_status> {
        let source = match clock {
            Some(func) if ns_per_tick > 0 => Source::Host(HostClock {
                func,
                user: clock_user,
            }),
            None if ns_per_tick == 1 => Source::Monotonic(MonotonicClock::new()),
            _ => return Err(TARDY_ERR_INVALID_ARG),
        };
        let host = matches!(source, Source::Host(_));
        let builtin = match source {
            Source::Monotonic(clock) => Some(clock),
            Source::Host(_) => None,
        };
        let options = opts.to_options(Duration::from_nanos(ns_per_tick), host)?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let clock = FfiClock { owner: id, source };
        let inner = Inner::new(clock, &[], options).map_err(|e| match e {
            NewError::Alloc => TARDY_ERR_CAPACITY,
            _ => TARDY_ERR_INVALID_ARG,
        })?;
        Ok(Self {
            id,
            inner,
            builtin,
            set_aside: Mutex::new(None),
        })
    }

    /// A new scheduler on the heap, for `tardy_new`: the default options,
    /// ticks of the host clock taken for nanoseconds.
    ///
    /// # Errors
    ///
    /// As for `new`.
    pub(crate) fn create(
        clock: tardy_clock_fn,
        clock_user: *mut c_void,
    ) -> Result<*mut Self, tardy_status> {
        Self::create_with(tardy_options::DEFAULT, clock, clock_user, 1)
    }

    /// A new scheduler on the heap, for `tardy_new_with_tick` and
    /// `tardy_new_with_options`.
    ///
    /// # Errors
    ///
    /// As for `new`.
    fn create_with(
        opts: tardy_options,
        clock: tardy_clock_fn,
        clock_user: *mut c_void,
        ns_per_tick: u64,
    ) -> Result<*mut Self, tardy_status> {
        Ok(Box::into_raw(Box::new(Self::new(
            opts,
            clock,
            clock_user,
            ns_per_tick,
        )?)))
    }

    /// Destroys the scheduler `s` made by [`create`](Self::create).
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` (nothing is freed) from inside one of its
    /// clock callbacks.
    ///
    /// # Safety
    ///
    /// - `s` came from `create`, is not yet freed and is used by nobody
    ///   else during or after the call.
    pub(crate) unsafe fn free(s: *mut Self) -> Result<(), tardy_status> {
        // SAFETY: live by the caller's promise.
        unsafe { &*s }.enter()?;
        // SAFETY: `s` came from `Box::into_raw` in `create`, and nobody
        // else uses it any more (caller's promise).
        drop(unsafe { Box::from_raw(s) });
        Ok(())
    }

    /// The tasks set aside by `stop`, also after a panic elsewhere while it
    /// was locked: every change to it is a single assignment or `take`, so
    /// it is never half done.
    fn set_aside(&self) -> MutexGuard<'_, Option<Vec<CTask>>> {
        self.set_aside
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `TARDY_ERR_INVALID_ARG` when a clock callback of this scheduler runs
    /// on this thread, however deep inside other schedulers' clocks (the
    /// call would wait for a lock this thread holds).
    fn enter(&self) -> Result<&Inner, tardy_status> {
        if IN_CLOCK.with(|c| c.borrow().contains(&self.id)) {
            Err(TARDY_ERR_INVALID_ARG)
        } else {
            Ok(&self.inner)
        }
    }

    pub(crate) fn add_queue(&self, name: &str, max_size: usize) -> Result<(), tardy_status> {
        // 0: unbounded; a queue allocates nothing for its bound.
        if max_size > TARDY_MAX_QUEUE_SIZE {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        self.enter()?.add_queue(name, max_size)?;
        Ok(())
    }

    pub(crate) fn remove_queue(&self, name: &str) -> Result<Tasks, tardy_status> {
        let inner = self.enter()?;
        let tasks = inner.remove_queue(inner.queue_id(name)?)?;
        Ok(c_tasks(&tasks))
    }

    /// Schedules a task, one-shot or periodic, for the queue `name`,
    /// resolving the name under the same lock hold as the scheduling.
    pub(crate) fn schedule(&self, name: &str, new: NewTask) -> Result<u64, tardy_status> {
        let inner = self.enter()?;
        let scheduled = match new.every {
            None => inner.schedule_made::<tardy_status>(
                |core| Ok(new.into_task(core.queue_id(name)?)),
                new.when,
            ),
            Some(every) => inner.schedule_periodic_made::<tardy_status>(
                |core| Ok(new.into_task(core.queue_id(name)?)),
                new.when,
                every.period,
                every.missed,
            ),
        };
        Ok(scheduled?.get())
    }

    /// The deadline of a task due at the wall-clock time `unix_ns`
    /// (nanoseconds since the Unix epoch), mapped to the built-in clock now
    /// as [`MonotonicClock::ticks_at_system_time`] does; a time beyond
    /// `SystemTime`'s range is never due (`Ticks::MAX`).
    ///
    /// # Errors
    ///
    /// `TARDY_ERR_INVALID_ARG` with a host clock, whose ticks have no known
    /// relation to the wall clock, and from inside a clock callback of this
    /// scheduler.
    fn when_at_unix_ns(&self, unix_ns: u64) -> Result<When, tardy_status> {
        self.enter()?;
        let clock = self.builtin.ok_or(TARDY_ERR_INVALID_ARG)?;
        let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_nanos(unix_ns));
        Ok(When::At(
            at.map_or(Ticks::MAX, |at| clock.ticks_at_system_time(at)),
        ))
    }

    pub(crate) fn reschedule_at(&self, id: u64, deadline: Ticks) -> Result<(), tardy_status> {
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        Ok(self.enter()?.reschedule(id, When::At(deadline))?)
    }

    pub(crate) fn cancel(&self, id: u64) -> Result<UserData, tardy_status> {
        let id = TaskId::from_raw(id).ok_or(TARDY_ERR_NOT_SCHEDULED)?;
        Ok(self.enter()?.cancel(id)?.into_payload())
    }

    pub(crate) fn cancel_subject(&self, subject: u64) -> Result<Tasks, tardy_status> {
        Ok(c_tasks(&self.enter()?.cancel_by_subject(&subject)?))
    }

    pub(crate) fn get_task(&self, name: &str, timeout_ms: u64) -> Result<tardy_task, tardy_status> {
        let inner = self.enter()?;
        let q = inner.queue_id(name)?;
        let wait = match timeout_ms {
            0 => Wait::NoWait,
            u64::MAX => Wait::Forever,
            ms => Wait::Timeout(Duration::from_millis(ms)),
        };
        Ok(c_task(&inner.get_task(q, wait)?))
    }

    pub(crate) fn task_done(&self, name: &str) -> Result<(), tardy_status> {
        let inner = self.enter()?;
        Ok(inner.task_done(inner.queue_id(name)?)?)
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

    fn start(&self) -> Result<(), tardy_status> {
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
    fn stop(&self) -> Result<(), tardy_status> {
        let inner = self.enter()?;
        let mut aside = self.set_aside();
        let tasks = inner.stop()?;
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
    /// inside a clock callback of this scheduler.
    fn drain(&self, has_callback: bool) -> Result<Tasks, tardy_status> {
        self.enter()?;
        let mut aside = self.set_aside();
        let tasks = aside.as_mut().ok_or(TARDY_ERR_STATE)?;
        if !has_callback && !tasks.is_empty() {
            return Err(TARDY_ERR_NULL);
        }
        let taken = core::mem::take(tasks);
        drop(aside);
        Ok(c_tasks(&taken))
    }
}

/// As `tardy_new`, and declares that one tick of `clock` lasts
/// `ns_per_tick` nanoseconds (1000000 for a millisecond clock).
///
/// Only the background thread of `tardy_start` uses the tick length, to
/// turn "the next deadline is N ticks away" into a sleep; after it, it
/// reads the clock again, so a wrong tick length never delivers a task
/// early: too long makes deliveries late, too short wakes the thread early
/// for nothing. The built-in clock (`clock` NULL) counts nanoseconds: its
/// tick length is 1, and any other is refused.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `out` is NULL, `TARDY_ERR_INVALID_ARG` when
/// `ns_per_tick` is 0, or not 1 with `clock` NULL.
///
/// # Safety
///
/// As for `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_new_with_tick(
    clock: tardy_clock_fn,
    clock_user: *mut c_void,
    ns_per_tick: u64,
    out: *mut *mut tardy_scheduler,
) -> tardy_status {
    ffi_panic_boundary! {
        check_out(out)?;
        let s = tardy_scheduler::create_with(tardy_options::DEFAULT, clock, clock_user, ns_per_tick)?;
        // SAFETY: `out` was checked and is writable by the caller's promise.
        unsafe { write_out(out, s) };
        Ok(())
    }
}

/// Fills `*opts` with the defaults of `tardy_new`: `size` set to
/// `sizeof(tardy_options)`, no initial capacity, no maximum, the default
/// sleep bound. Call it before setting fields, so that a field added in a
/// later version gets its default.
///
/// # Errors
///
/// `TARDY_ERR_NULL` when `opts` is NULL, `TARDY_ERR_INVALID_ARG` when it is
/// misaligned (nothing written).
///
/// # Safety
///
/// - `opts` is NULL or valid for writing a `tardy_options`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_options_init(opts: *mut tardy_options) -> tardy_status {
    ffi_panic_boundary! {
        check_out(opts)?;
        // SAFETY: `opts` was checked and is writable by the caller's promise.
        unsafe { write_out(opts, tardy_options::DEFAULT) };
        Ok(())
    }
}

/// As `tardy_new_with_tick`, with the settings of `*opts` (filled by
/// `tardy_options_init`, then changed): an initial and a maximum task
/// capacity, and the bound on the background thread's sleep. `*opts` is
/// read during the call only.
///
/// # Errors
///
/// - `TARDY_ERR_NULL` when `opts` or `out` is NULL;
/// - `TARDY_ERR_INVALID_ARG`, nothing created, for: `opts->size` smaller
///   than the first version of `tardy_options` or larger than this
///   library's (a program built against a later header); `initial_capacity`
///   or `max_capacity` above `TARDY_MAX_CAPACITY`; a `max_capacity` other
///   than 0 below `initial_capacity`; `ns_per_tick` 0, or not 1 with
///   `clock` NULL;
/// - `TARDY_ERR_CAPACITY` when the allocator refused `initial_capacity`.
///
/// # Safety
///
/// As for `tardy_new`, and:
/// - `opts` is NULL or readable for `opts->size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_new_with_options(
    opts: *const tardy_options,
    clock: tardy_clock_fn,
    clock_user: *mut c_void,
    ns_per_tick: u64,
    out: *mut *mut tardy_scheduler,
) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: NULL or readable for its `size` (caller's promise).
        let opts = unsafe { tardy_options::read(opts) }?;
        check_out(out)?;
        let s = tardy_scheduler::create_with(opts, clock, clock_user, ns_per_tick)?;
        // SAFETY: `out` was checked and is writable by the caller's promise.
        unsafe { write_out(out, s) };
        Ok(())
    }
}

/// Schedules a new task for the queue `queue`, due at the wall-clock time
/// `unix_ns`: nanoseconds since the Unix epoch (1970-01-01 00:00:00 UTC),
/// as `clock_gettime(CLOCK_REALTIME)` or `timespec_get` give it
/// (`tv_sec * 1000000000 + tv_nsec`). Writes its id to `*out_id` unless
/// `out_id` is NULL.
///
/// The time is mapped to the built-in clock once, now: the deadline is the
/// clock's reading plus how far `unix_ns` lies ahead of the wall clock's
/// reading (`tardy_next_deadline` shows it, in nanoseconds of the built-in
/// clock). A later change of the wall clock (a step by NTP or by hand) does
/// not move the task. A time in the past is due at once. Any value is
/// accepted; one beyond what the system's time can represent is never due
/// but for `tardy_run_all`.
///
/// Only with the built-in clock (`clock` NULL at creation): the ticks of a
/// host clock have no known relation to the wall clock, so the call is
/// refused; map the time to the host clock's ticks and call
/// `tardy_schedule_at`.
///
/// # Errors
///
/// As for `tardy_schedule_after`, and `TARDY_ERR_INVALID_ARG` (nothing
/// scheduled) on a scheduler with a host clock.
///
/// # Safety
///
/// As for `tardy_schedule_now`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_schedule_at_unix_ns(
    s: *mut tardy_scheduler,
    queue: *const c_char,
    subject: u64,
    user_data: *mut c_void,
    unix_ns: u64,
    out_id: *mut tardy_task_id,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe {
        schedule(
            s,
            queue,
            subject,
            user_data,
            |s| s.when_at_unix_ns(unix_ns),
            None,
            out_id,
        )
    }
}

/// Starts the background thread, which delivers every due task into its
/// queue as its deadline passes: it sleeps until the next deadline and is
/// woken early when an earlier task is scheduled. Workers then only call
/// `tardy_get_task` / `tardy_task_done`.
///
/// The thread only moves tasks: it never calls a `tardy_task_fn`. It calls
/// the clock. With a custom clock it sleeps for (deadline - now) ticks,
/// converted with the tick length of `tardy_new_with_tick` (`tardy_new`:
/// ticks are nanoseconds), then reads the clock again, so nothing is
/// delivered early; ticks longer than declared make deliveries late,
/// shorter ones wake it early for nothing. A simulated clock that the host
/// moves by hand is a poor match for the thread: such hosts call
/// `tardy_run_pending` themselves instead.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_STATE` when it runs already or after
/// `tardy_stop`, `TARDY_ERR_SYSTEM` when no thread could be started,
/// `TARDY_ERR_INVALID_ARG` from inside a clock callback of `s`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_start(s: *mut tardy_scheduler) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        s.start()
    }
}

/// Stops the scheduler for good: stops the background thread if it runs
/// (waiting for it), wakes every worker waiting in `tardy_get_task` (they
/// return `TARDY_ERR_STATE`), and sets aside every task still scheduled,
/// waiting for room in a full queue, or queued. Nothing is dropped and no
/// callback runs: `tardy_drain` then hands the tasks set aside to the host.
/// Tasks that workers already took are theirs.
///
/// Every later call but `tardy_drain` and `tardy_free` returns
/// `TARDY_ERR_STATE`. Call `tardy_drain` before `tardy_free`: `tardy_free`
/// drops what is still set aside.
///
/// # Errors
///
/// `TARDY_ERR_NULL`, `TARDY_ERR_STATE` when it was already stopped (the
/// tasks set aside by the first stop stay set aside),
/// `TARDY_ERR_INVALID_ARG` from inside a clock callback of `s`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_stop(s: *mut tardy_scheduler) -> tardy_status {
    ffi_panic_boundary! {
        // SAFETY: `s` is NULL or live (caller's promise).
        let s = unsafe { sched(s) }?;
        s.stop()
    }
}

/// Hands every task that `tardy_stop` set aside to `on_task(user, task)`,
/// once each, and writes how many to `*out_count` unless that is NULL. The
/// tasks come queue by queue, in no order to rely on within a queue. Each
/// task is handed back by exactly one call of `tardy_drain`: a second call,
/// or a call made from `on_task`, finds nothing (count 0).
///
/// `on_task` may be NULL only when nothing is set aside (the call then
/// just reports 0); with tasks set aside a NULL `on_task` is
/// `TARDY_ERR_NULL` and they stay set aside, since dropping them is what
/// `tardy_stop` avoids.
///
/// Only a stopped scheduler can be drained: before `tardy_stop`, take
/// tasks back with `tardy_cancel`, `tardy_cancel_subject` or
/// `tardy_remove_queue` instead (the threaded layer has no way to empty a
/// running scheduler at once without stopping it).
///
/// `on_task` runs on the calling thread, with no lock held, before this
/// function returns; it may call tardy functions on `s` (they answer as
/// after `tardy_stop`), but not `tardy_free`.
///
/// # Errors
///
/// `TARDY_ERR_NULL` (`s`, or `on_task` with tasks set aside),
/// `TARDY_ERR_STATE` before `tardy_stop`, `TARDY_ERR_INVALID_ARG` from
/// inside a clock callback of `s`.
///
/// # Safety
///
/// - `s` is NULL or a live scheduler from `tardy_new`;
/// - `on_task`, if not NULL, is safe to call with `user` and follows the
///   rules of `tardy_task_fn`;
/// - `out_count` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tardy_drain(
    s: *mut tardy_scheduler,
    on_task: tardy_task_fn,
    user: *mut c_void,
    out_count: *mut usize,
) -> tardy_status {
    // SAFETY: the same obligations, passed on.
    unsafe { hand_back_counted(s, on_task, user, out_count, |s| s.drain(on_task.is_some())) }
}
