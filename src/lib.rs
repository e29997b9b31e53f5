//! # ecr-warden
//!
//! Keeps Amazon ECR tidy without ever deleting an image that ECS or Lambda still needs, and raises
//! the alarm when an image that a workload needs is already gone.
//!
//! ## Layout
//!
//! The crate is a functional core with an imperative shell.
//!
//! Core (pure, no I/O, no clock):
//! - [`digest`]: `sha256:` digests as 32 bytes.
//! - [`time`]: timestamps; `now` is always an argument.
//! - [`reference`]: image references (`repo:tag@sha256:…`, ECR hosts, other registries).
//! - [`inventory`]: what ECR holds: repositories and images.
//! - [`usage`]: what uses images: tasks, services, task-definition families, Lambda functions, and
//!   the gaps of an incomplete scan.
//! - [`policy`]: retention settings, validated.
//! - [`revisions`]: the task-definition revision rule (newer revisions, rollback, standalone).
//! - [`plan`]: the planner: keep or delete every image, with reasons, and the findings
//!   (`missing`, `at_risk`). This is where the safety property lives.
//! - [`report`]: the run's report; [`alert`]: the one message a run sends.
//!
//! Shell (I/O):
//! - [`aws`]: thin adapters, one small trait per service (ECS, ECR, Lambda, SNS), implemented on the
//!   SDK clients.
//! - [`scan`]: the usage and inventory scans; every failed call becomes a gap, and a gap means
//!   nothing is deleted.
//! - [`prune`]: deletes by digest in batches, indexes first, after re-reading each repository.
//! - [`run`]: one run wired end to end: scan, plan, prune, alert, report.
//! - [`incident`]: the checks incidents trigger: task retirement, image pull failure.
//! - [`event`]: the events the function receives; [`handler`]: one event in, one report out.
//! - [`config`]: environment variables; [`cli`]: the command line and the Lambda entry point;
//!   [`output`]: the readable table.

pub mod alert;
pub mod aws;
pub mod cli;
pub mod config;
pub mod digest;
pub mod event;
pub mod guard;
pub mod handler;
pub mod incident;
pub mod inventory;
pub mod lifecycle;
pub mod output;
pub mod plan;
pub mod policy;
pub mod prune;
pub mod reference;
pub mod report;
pub mod revisions;
pub mod run;
pub mod scan;
pub mod time;
pub mod usage;

pub use digest::Digest;
pub use inventory::{Image, ImageStatus, Inventory, Listing, MediaType, Repository};
pub use plan::{Plan, plan};
pub use policy::{Policy, PolicySettings};
pub use reference::ImageRef;
pub use time::Timestamp;
pub use usage::{Consumer, ContainerImage, Deployment, Family, ScanGap, Usage, Use};
