//! Benches support.
