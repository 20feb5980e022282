//! Placer plugins.
