//! Placer's scheduling core.
pub mod config;
pub mod quantity;
