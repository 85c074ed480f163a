//! tardy's C ABI for bare-metal C firmware, as a static library
//! (`libtardy_baremetal.a`): the functions of `tardy::ffi` built without
//! `std` or an allocator, plus the two things a library cannot choose for
//! Rust users but a C library must provide, each behind a feature (both on
//! by default here):
//!
//! - `critical-section-hooks`: critical sections call the host's
//!   `uint32_t tardy_host_critical_enter(void)` and
//!   `void tardy_host_critical_exit(uint32_t state)` (typically: save
//!   PRIMASK and mask interrupts; restore);
//! - `panic-hook`: a panic (none is expected: tardy's core reports every
//!   error as a status) calls the host's
//!   `void tardy_host_panic(const char *file, size_t file_len, uint32_t line)`;
//!   if it returns, the library spins forever.
//!
//! `include/tardy_baremetal.h` (generated with the crate's build script)
//! declares the functions and the hooks.

#![no_std]

// Links tardy's `#[no_mangle]` C functions into the archive.
pub use tardy::ffi::*;

#[cfg(feature = "critical-section-hooks")]
mod host_critical_section {
    extern "C" {
        fn tardy_host_critical_enter() -> u32;
        fn tardy_host_critical_exit(state: u32);
    }

    struct HostCriticalSection;
    critical_section::set_impl!(HostCriticalSection);

    // SAFETY: the host's hooks implement a critical section (the contract
    // of `tardy_baremetal.h`): enter masks everything that may call tardy
    // and returns the state to restore; exit restores it. Nesting is
    // handled by restoring states in reverse order, which critical-section
    // guarantees.
    unsafe impl critical_section::Impl for HostCriticalSection {
        unsafe fn acquire() -> u32 {
            // SAFETY: a C function without arguments, provided by the host.
            unsafe { tardy_host_critical_enter() }
        }

        unsafe fn release(state: u32) {
            // SAFETY: `state` came from the matching `acquire`.
            unsafe { tardy_host_critical_exit(state) }
        }
    }
}

#[cfg(feature = "panic-hook")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    extern "C" {
        fn tardy_host_panic(file: *const u8, file_len: usize, line: u32);
    }
    let (file, line) = info.location().map_or(("", 0), |l| (l.file(), l.line()));
    // SAFETY: `file` is valid for `file.len()` bytes for the call; the hook
    // is the host's.
    unsafe { tardy_host_panic(file.as_ptr(), file.len(), line) };
    loop {
        core::hint::spin_loop();
    }
}
