//! Checks triggered by incidents rather than the schedule. Neither ever deletes anything.
//!
//! - [`retirement`]: AWS Health task-retirement events; the replaced tasks' images must exist.
//! - [`pull_failure`]: a task that could not pull its image; why, and what to do.

pub mod lookup;
pub mod pull_failure;
pub mod retirement;

pub use pull_failure::diagnose_pull_failure;
pub use retirement::check_retirement;
