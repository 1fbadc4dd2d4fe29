//! Apache glue.
