//! Exact Kubernetes quantities (placeholder).
