//! Compiled-in handlers.
