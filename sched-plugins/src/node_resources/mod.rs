//! NodeResourcesFit and NodeResourcesBalancedAllocation
//! (upstream `pkg/scheduler/framework/plugins/noderesources`: `fit.go`,
//! `resource_allocation.go`, `least_allocated.go`, `most_allocated.go`,
//! `requested_to_capacity_ratio.go`, `balanced_allocation.go`; accounting of
//! `NodeInfo.Requested`/`NonZeroRequested` from `pkg/scheduler/framework/types.go`).
//!
//! * [`NodeResourcesFit`]: Filter on allocatable minus the requests already on the node;
//!   Score with the `scoringStrategy` (LeastAllocated, MostAllocated, RequestedToCapacityRatio).
//! * [`NodeResourcesBalancedAllocation`]: Score on how even the resource fractions are.
//!
//! Both build their resource lists once, in the factory: names are classified and interned,
//! so scoring and filtering only compare integers and `Sym`s.

mod balanced_allocation;
mod fit;
mod least_allocated;
mod most_allocated;
mod requested_to_capacity_ratio;
mod resource_allocation;

pub use balanced_allocation::NodeResourcesBalancedAllocation;
pub use fit::NodeResourcesFit;

#[cfg(test)]
mod test_util;

#[cfg(test)]
mod fit_filter_tests;

#[cfg(test)]
mod fit_score_tests;

#[cfg(test)]
mod balanced_allocation_tests;
