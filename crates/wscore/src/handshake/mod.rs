//! Opening handshakes.
