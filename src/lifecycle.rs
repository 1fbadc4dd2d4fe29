//! Whether this Apache child is being told to stop, so open WebSockets can
//! be closed with 1001 instead of holding the child until it is killed.
use crate::apache::mpm;

/// True when the child is stopping for good (`apachectl stop`,
/// `graceful-stop`), false on a graceful restart: then the parent has moved
/// to a new generation, and open WebSockets may finish on this old child.
pub fn server_is_stopping() -> bool {
    if !mpm::is_stopping() {
        return false;
    }
    match (mpm::running_generation(), mpm::generation()) {
        (Some(running), Some(generation)) => running == generation,
        // No scoreboard, or no generation: assume the worst.
        _ => true,
    }
}
