//! KubeSchedulerConfiguration (placeholder).
