//! Why an image is kept or deleted: every decision in the plan carries one of these, and the report
//! prints them as they read here.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::digest::Digest;
use crate::usage::Consumer;

/// Why an image is kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Something uses it. The consumer is shared by every image it protects.
    InUse { consumer: Arc<Consumer>, via: Via },
    /// It is listed by an image index that is kept.
    IndexChild { index: Digest },
    /// It refers to (signs, describes) an image that is kept.
    Referrer { subject: Digest },
    /// A tag matches a keep pattern.
    KeepTag { pattern: String, tag: String },
    /// Among the N most recently pushed images of the repository.
    Recent { rank: u32, keep: u32 },
    /// Pushed within the configured number of days.
    PushedWithin { days: u32 },
    /// Pulled within the configured number of days.
    PulledWithin { days: u32 },
    /// The usage scan is incomplete, so nothing is deleted.
    ScanIncomplete,
    /// Principals ecr-warden did not scan can pull from the repository, so nothing is deleted.
    Unscanned,
}

impl Reason {
    /// True for reasons that come from usage (directly or through an index or subject).
    pub fn is_use(&self) -> bool {
        matches!(
            self,
            Reason::InUse { .. } | Reason::IndexChild { .. } | Reason::Referrer { .. }
        )
    }
}

/// How a use reaches an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The consumer is pinned to the digest.
    Digest,
    /// The consumer names a tag that points to the image now.
    Tag(String),
}

/// Why an image is deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeleteReason {
    /// Nothing uses it and no retention rule keeps it.
    Unused,
    /// It belongs to an image index that is deleted, and nothing else keeps it.
    ChildOfDeletedIndex { index: Digest },
    /// It refers to an image that is deleted, and nothing else keeps it.
    ReferrerOfDeletedImage { subject: Digest },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::InUse { consumer, via } => match via {
                Via::Digest => write!(f, "in use by {consumer} (by digest)"),
                Via::Tag(tag) => write!(f, "in use by {consumer} (through tag {tag})"),
            },
            Reason::IndexChild { index } => {
                write!(f, "listed by kept image index {}", index.short_hex(12))
            }
            Reason::Referrer { subject } => {
                write!(f, "refers to kept image {}", subject.short_hex(12))
            }
            Reason::KeepTag { pattern, tag } => {
                write!(f, "tag {tag} matches keep pattern {pattern}")
            }
            Reason::Recent { rank, keep } => {
                write!(f, "#{rank} of the {keep} most recently pushed")
            }
            Reason::PushedWithin { days } => write!(f, "pushed within {days} days"),
            Reason::PulledWithin { days } => write!(f, "pulled within {days} days"),
            Reason::ScanIncomplete => write!(f, "usage scan incomplete: nothing is deleted"),
            Reason::Unscanned => write!(
                f,
                "pulled by principals ecr-warden did not scan (unscanned_consumers): nothing is deleted here"
            ),
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::Unused => write!(f, "not in use and no retention rule keeps it"),
            DeleteReason::ChildOfDeletedIndex { index } => {
                write!(f, "belongs to deleted image index {}", index.short_hex(12))
            }
            DeleteReason::ReferrerOfDeletedImage { subject } => {
                write!(f, "refers to deleted image {}", subject.short_hex(12))
            }
        }
    }
}
