//! # ecr-warden-core
//!
//! The pure core of ecr-warden: what ECR holds, what uses it, the retention policy, and the planner
//! that decides, image by image, what to keep (with every reason) and what to delete. No I/O, no
//! clock, no AWS SDK and no async runtime: this crate's `Cargo.toml` lists none, and `make test`
//! fails if one appears. Time is an argument (`now`), never read.
//!
//! ## Layout
//!
//! Values and rules:
//! - [`digest`], [`time`], [`reference`]: digests, timestamps, image references (every ECR host
//!   form, other registries).
//! - [`document`]: usage documents, for consumers ecr-warden cannot scan itself.
//! - [`inventory`]: what ECR holds. [`usage`]: what uses images ([`Use`], [`Consumer`]) and the
//!   gaps of an incomplete scan ([`ScanGap`]).
//! - [`access`]: who else a repository's or the registry's policy lets pull.
//! - [`policy`]: retention settings, validated. [`revisions`]: the task-definition revision rule.
//!   [`lifecycle`]: ECR's native lifecycle rules, evaluated locally.
//!
//! Decisions:
//! - [`plan`](mod@plan): the planner, where the safety property lives: nothing in use is ever
//!   planned for deletion, and an incomplete scan deletes nothing.
//! - [`guard`]: which guard tags to add and remove. [`preview`]: a lifecycle policy next to the plan.
//!
//! What a run tells the operator:
//! - [`outcome`]: what deleting did, as data. [`report`]: the run's report. [`alert`]: the one
//!   message a run sends.
//!
//! Adding a kind of consumer: a [`Consumer`] variant (with its `Display`, which is how reports
//! name it); the planner protects any [`Use`] by image and digest without further change. Adding a
//! finding: a type in `plan/finding.rs`, its field on [`Plan`] and [`report::Report`], and a
//! section in `alert/sections.rs`.

pub mod access;
pub mod alert;
pub mod digest;
pub mod document;
pub mod guard;
pub mod inventory;
pub mod lifecycle;
pub mod outcome;
pub mod plan;
pub mod policy;
pub mod preview;
pub mod reference;
pub mod report;
pub mod revisions;
pub mod time;
pub mod usage;

pub use digest::Digest;
pub use inventory::{Image, ImageStatus, Inventory, Listing, MediaType, Repository};
pub use plan::{Plan, plan};
pub use policy::{Policy, PolicySettings};
pub use reference::ImageRef;
pub use time::Timestamp;
pub use usage::{Consumer, ContainerImage, Deployment, Family, ScanGap, Usage, Use};
