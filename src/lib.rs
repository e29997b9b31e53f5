//! # ecr-warden
//!
//! Keeps Amazon ECR tidy without ever deleting an image that something still needs, and raises
//! the alarm when an image that a workload needs is already gone. The same binary is an AWS Lambda
//! function and an operator's command line.
//!
//! ## Layout
//!
//! A functional core with an imperative shell. The core is its own crate,
//! [`ecr_warden_core`] (`crates/core/`): inventory, usage, policy, the revision and lifecycle rules,
//! the planner (where the safety property lives), the report and the alert's text. It has no I/O,
//! no clock and no AWS SDK. This crate is the shell:
//!
//! - [`aws`]: thin adapters, one small trait per AWS service, implemented on the SDK clients; SDK
//!   types stop there.
//! - [`sources`]: usage sources, one file per kind of consumer behind [`sources::UsageSource`];
//!   [`inventory`]: the ECR listing. Every failed call is a gap, and a gap means nothing is deleted.
//! - [`act`]: acting on a plan: deleting by digest, guard tags, the deadline.
//! - [`app`]: the application: one run wired end to end, incident checks, events, the handler,
//!   configuration, the CLI and Lambda entry points, output.
//! - [`limit`]: limits on calls in flight and on the ECS call rate. [`scopes`]: every account ×
//!   region scanned, with its clients (other accounts through the scan role). [`progress`]: bars
//!   on a terminal, plain lines elsewhere.
//!
//! Where to add things: a consumer is a file in `src/sources/` and a line in
//! [`sources::SOURCES`]; a finding is a type in the core's `plan/finding.rs` and a section in its
//! `alert/sections.rs`; an event is a detail type in `src/app/event/` and an arm in
//! `src/app/handler.rs`.

pub mod act;
pub mod app;
pub mod aws;
pub mod cache;
pub mod inventory;
pub mod limit;
pub mod progress;
pub mod scopes;
pub mod sources;
