//! What every exported function does at the boundary: catch panics, check
//! pointers, validate names, write out-parameters.
//!
//! Nothing here needs `std` except the panic catching itself, so a
//! bare-metal build of the same ABI (built with `panic = "abort"`, where
//! nothing can be caught) reuses it unchanged.

use core::ffi::{c_char, c_void};

use super::status::tardy_status::{self, *};
use super::types::{tardy_task, tardy_task_fn, TARDY_MAX_NAME_LEN};

/// Runs the body, a block evaluating to `Result<(), tardy_status>`, and
/// turns it into a `tardy_status`; a panic inside becomes
/// `TARDY_ERR_PANIC` and never unwinds into C.
///
/// `return` inside the body leaves the body only, so `?` is the way out.
macro_rules! ffi_panic_boundary {
    ($($body:tt)*) => {{
        let body = || -> ::core::result::Result<(), $crate::ffi::tardy_status> { $($body)* };
        $crate::ffi::boundary::status_of($crate::ffi::boundary::catch(body))
    }};
}
pub(crate) use ffi_panic_boundary;

/// Calls `f`, catching a panic as `TARDY_ERR_PANIC`.
#[cfg(feature = "std")]
pub(crate) fn catch<R>(f: impl FnOnce() -> Result<R, tardy_status>) -> Result<R, tardy_status> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(Err(TARDY_ERR_PANIC))
}

/// Calls `f`. Without `std` a panic aborts (or runs the firmware's panic
/// handler) before it could reach C.
#[cfg(not(feature = "std"))]
pub(crate) fn catch<R>(f: impl FnOnce() -> Result<R, tardy_status>) -> Result<R, tardy_status> {
    f()
}

/// `TARDY_OK` or the error.
pub(crate) fn status_of(r: Result<(), tardy_status>) -> tardy_status {
    match r {
        Ok(()) => TARDY_OK,
        Err(e) => e,
    }
}

/// The queue name at `name`, checked: not NULL, 1 to `TARDY_MAX_NAME_LEN`
/// bytes before its NUL, valid UTF-8.
///
/// At most `TARDY_MAX_NAME_LEN + 1` bytes are read, so a name without a NUL
/// in that range is rejected without reading further.
///
/// # Errors
///
/// `TARDY_ERR_NULL` for NULL, `TARDY_ERR_INVALID_ARG` for an empty name, a
/// name too long, or bytes that are not UTF-8.
///
/// # Safety
///
/// - `name` is NULL, or readable up to its terminating NUL or for
///   `TARDY_MAX_NAME_LEN + 1` bytes, whichever comes first;
/// - those bytes are not written to during the call, and the returned
///   string is not used after the call that received `name` returns.
pub(crate) unsafe fn name<'a>(name: *const c_char) -> Result<&'a str, tardy_status> {
    if name.is_null() {
        return Err(TARDY_ERR_NULL);
    }
    let mut len = 0;
    loop {
        if len > TARDY_MAX_NAME_LEN {
            return Err(TARDY_ERR_INVALID_ARG);
        }
        // SAFETY: `len <= TARDY_MAX_NAME_LEN` and no NUL came before it, so
        // the caller promised this byte is readable.
        if unsafe { name.add(len).read() } == 0 {
            break;
        }
        len += 1;
    }
    if len == 0 {
        return Err(TARDY_ERR_INVALID_ARG);
    }
    // SAFETY: the `len` bytes before the NUL were just read, so they are
    // readable; the caller promised they stay unchanged while in use.
    let bytes = unsafe { core::slice::from_raw_parts(name.cast::<u8>(), len) };
    core::str::from_utf8(bytes).map_err(|_| TARDY_ERR_INVALID_ARG)
}

/// Checks that a required out-parameter is usable before anything is done.
///
/// # Errors
///
/// `TARDY_ERR_NULL` for NULL, `TARDY_ERR_INVALID_ARG` for a pointer not
/// aligned for `T`.
pub(crate) fn check_out<T>(out: *mut T) -> Result<(), tardy_status> {
    if out.is_null() {
        Err(TARDY_ERR_NULL)
    } else if !out.is_aligned() {
        Err(TARDY_ERR_INVALID_ARG)
    } else {
        Ok(())
    }
}

/// Checks an optional out-parameter: NULL is fine.
///
/// # Errors
///
/// `TARDY_ERR_INVALID_ARG` for a pointer not aligned for `T`.
pub(crate) fn check_opt_out<T>(out: *mut T) -> Result<(), tardy_status> {
    if out.is_null() || out.is_aligned() {
        Ok(())
    } else {
        Err(TARDY_ERR_INVALID_ARG)
    }
}

/// Writes `value` to `out` unless `out` is NULL.
///
/// # Safety
///
/// - `out` is NULL or passed [`check_out`] / [`check_opt_out`], and points
///   to memory valid for writing a `T` that nothing else accesses during
///   the call.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, aligned (checked before) and writable by the
        // caller's promise.
        unsafe { out.write(value) };
    }
}

/// The scheduler behind `s`.
///
/// # Errors
///
/// `TARDY_ERR_NULL` for NULL.
///
/// # Safety
///
/// - `s` is NULL or points to a live scheduler, made by the backend's
///   constructor and not yet freed, for as long as the reference is used.
pub(crate) unsafe fn sched<'a, T>(s: *mut T) -> Result<&'a T, tardy_status> {
    // SAFETY: by the caller's promise, a non-NULL `s` points to a live
    // scheduler; every use goes through its own locks (or critical
    // section), so a shared reference is enough, also while other threads
    // hold one.
    unsafe { s.cast_const().as_ref() }.ok_or(TARDY_ERR_NULL)
}

/// Hands `tasks` to `f`, one call each; the caller holds no lock.
///
/// # Safety
///
/// - `f`, if not NULL, is safe to call with `user` and a valid task.
pub(crate) unsafe fn hand_back(f: tardy_task_fn, user: *mut c_void, tasks: &[tardy_task]) {
    if let Some(f) = f {
        for task in tasks {
            // SAFETY: `task` is valid for the call; `f` and `user` are the
            // caller's, who promised they may be called this way.
            unsafe { f(user, task) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(panic: bool) -> tardy_status {
        ffi_panic_boundary! {
            if panic {
                panic!("a bug inside the library");
            }
            Err(TARDY_ERR_EMPTY)
        }
    }

    #[test]
    fn a_panic_becomes_a_status() {
        assert_eq!(guarded(true), TARDY_ERR_PANIC);
        assert_eq!(guarded(false), TARDY_ERR_EMPTY);
    }

    #[test]
    fn out_pointers_are_checked() {
        let mut v = 0u64;
        assert_eq!(check_out::<u64>(core::ptr::null_mut()), Err(TARDY_ERR_NULL));
        assert_eq!(check_out(&raw mut v), Ok(()));
        assert_eq!(check_opt_out::<u64>(core::ptr::null_mut()), Ok(()));
        let odd = (&raw mut v).cast::<u8>().wrapping_add(1).cast::<u64>();
        assert_eq!(check_opt_out(odd), Err(TARDY_ERR_INVALID_ARG));
        // SAFETY: checked, valid.
        unsafe { write_out(&raw mut v, 7) };
        assert_eq!(v, 7);
    }

    #[test]
    fn names_are_checked() {
        // SAFETY: NUL-terminated literals.
        unsafe {
            assert_eq!(name(c"queue".as_ptr()), Ok("queue"));
            assert_eq!(name(core::ptr::null()), Err(TARDY_ERR_NULL));
            assert_eq!(name(c"".as_ptr()), Err(TARDY_ERR_INVALID_ARG));
            assert_eq!(name(c"\xff".as_ptr()), Err(TARDY_ERR_INVALID_ARG));
            let longest = c"0123456789012345678901234567890";
            assert_eq!(name(longest.as_ptr()).map(str::len), Ok(TARDY_MAX_NAME_LEN));
            let too_long = c"01234567890123456789012345678901";
            assert_eq!(name(too_long.as_ptr()), Err(TARDY_ERR_INVALID_ARG));
        }
    }
}
