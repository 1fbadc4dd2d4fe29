//! Threads of the module's own in an Apache child.

/// Runs `f` (which starts threads) with every signal blocked, so the
/// threads it starts inherit that: Apache's signals (graceful stop,
/// restart; under prefork they must interrupt the child's own thread)
/// never land on them.
pub fn without_signals<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: zeroed sigset_t values are valid storage for sigfillset and
    // pthread_sigmask, which only write to them; both are local.
    let old = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    };
    let result = f();
    // SAFETY: `old` is the mask pthread_sigmask returned above.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
    result
}
