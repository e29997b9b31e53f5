//! Acting on a plan: deleting what it says to delete, and adding or removing guard tags. Both
//! re-read ECR right before they change it, and both stop at the run's [`Deadline`].

pub mod deadline;
pub mod guard;
pub mod prune;

pub use deadline::Deadline;
pub use guard::apply_guards;
pub use prune::prune;
