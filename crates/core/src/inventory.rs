//! What ECR holds: repositories and their images, as the inventory scan found them.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::reference::Registry;
use crate::time::Timestamp;

/// The images of one registry (an account in a region), by repository name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// The registry's account, when known; references to other accounts' ECR are not ours.
    #[serde(default)]
    pub account: Option<String>,
    /// The registry's region, when known.
    #[serde(default)]
    pub region: Option<String>,
    pub repositories: BTreeMap<String, Repository>,
    /// True when the list of repositories itself could not be read: a repository absent from
    /// `repositories` may still exist, so it is never reported as not found.
    #[serde(default)]
    pub incomplete: bool,
    /// The registry's policy (JSON text), if it has one: with `REGISTRY_POLICY_SCOPE` V2 (the
    /// default) it can grant pull on any repository.
    #[serde(default)]
    pub registry_policy: Option<String>,
    /// The registry's replication rules.
    #[serde(default)]
    pub replication: Vec<ReplicationRule>,
}

/// A replication rule: which repositories it copies, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationRule {
    /// (registry id, region) of each destination.
    pub destinations: Vec<(String, String)>,
    /// Repository-name prefixes it applies to; empty means every repository.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// True when deletions (and tag removals) are replicated too: deleting here deletes there.
    #[serde(default)]
    pub delete_replication: bool,
}

impl ReplicationRule {
    /// True when the rule copies this repository.
    pub fn applies_to(&self, repository: &str) -> bool {
        self.prefixes.is_empty()
            || self
                .prefixes
                .iter()
                .any(|p| repository.starts_with(p.as_str()))
    }
}

/// One ECR repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// `Complete` when every image was listed; `Partial` when only images that something references
    /// were looked up. Nothing is ever deleted from a partial listing.
    #[serde(default)]
    pub listing: Listing,
    pub images: Vec<Image>,
    /// The repository's lifecycle policy (JSON text), if it has one.
    #[serde(default)]
    pub lifecycle_policy: Option<String>,
    /// Why the lifecycle policy could not be read, if it could not.
    #[serde(default)]
    pub lifecycle_error: Option<String>,
    /// The repository's policy (JSON text), if it has one.
    #[serde(default)]
    pub policy: Option<String>,
}

/// How much of a repository the scan listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    #[default]
    Complete,
    Partial,
    /// Listing failed: its images are unknown. Nothing in it is deleted or reported missing.
    Unavailable,
}

/// One image (manifest, image index or artifact) in a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub digest: Digest,
    #[serde(default)]
    pub tags: Vec<String>,
    pub pushed_at: Timestamp,
    #[serde(default)]
    pub last_pulled_at: Option<Timestamp>,
    #[serde(default)]
    pub media_type: MediaType,
    #[serde(default)]
    pub status: ImageStatus,
    /// For an image index: the digests of the manifests it lists.
    #[serde(default)]
    pub children: Vec<Digest>,
    /// For a referrer (signature, SBOM, attestation): the digest of the image it refers to.
    #[serde(default)]
    pub subject: Option<Digest>,
    /// `imageSizeInBytes`: the compressed size of the image's layers (ECR counts layers shared
    /// with other images in each of them).
    #[serde(default)]
    pub size_bytes: Option<i64>,
}

impl Image {
    /// A plain, active, untagged image manifest pushed at `pushed_at`.
    pub fn new(digest: Digest, pushed_at: Timestamp) -> Self {
        Image {
            digest,
            tags: Vec::new(),
            pushed_at,
            last_pulled_at: None,
            media_type: MediaType::Manifest,
            status: ImageStatus::Active,
            children: Vec::new(),
            subject: None,
            size_bytes: None,
        }
    }

    /// True for image indexes (multi-architecture manifest lists).
    pub fn is_index(&self) -> bool {
        self.media_type == MediaType::Index
    }

    /// Orders images newest push first; equal push times by digest, so the order is total.
    pub fn newest_first(a: &Image, b: &Image) -> Ordering {
        b.pushed_at.cmp(&a.pushed_at).then(a.digest.cmp(&b.digest))
    }
}

/// The kind of manifest, as far as the planner cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// A single-platform image manifest or an artifact manifest.
    #[default]
    Manifest,
    /// An OCI image index or a Docker manifest list.
    Index,
}

impl MediaType {
    /// Media types that denote an image index.
    pub const INDEX_TYPES: [&'static str; 2] = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    /// Classifies an ECR `imageManifestMediaType`.
    pub fn from_manifest_media_type(media_type: &str) -> Self {
        if Self::INDEX_TYPES.contains(&media_type) {
            MediaType::Index
        } else {
            MediaType::Manifest
        }
    }
}

/// ECR's storage status of an image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    #[default]
    Active,
    /// Moved to the archive storage class: cannot be pulled until restored.
    Archived,
    /// Being restored from the archive: not pullable yet.
    Activating,
}

impl ImageStatus {
    /// Parses ECR's `imageStatus` (`ACTIVE`, `ARCHIVED`, `ACTIVATING`); unknown values are `None`.
    pub fn from_ecr(status: &str) -> Option<Self> {
        match status {
            "ACTIVE" => Some(ImageStatus::Active),
            "ARCHIVED" => Some(ImageStatus::Archived),
            "ACTIVATING" => Some(ImageStatus::Activating),
            _ => None,
        }
    }
}

impl Inventory {
    /// An empty inventory of the registry in `region`.
    pub fn for_region(region: Option<&str>) -> Inventory {
        Inventory {
            region: region.map(str::to_string),
            ..Inventory::default()
        }
    }

    /// The ARN of one of this registry's repositories (partition left as `aws`: policies are
    /// matched without it).
    pub fn repository_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:ecr:{}:{}:repository/{name}",
            self.region.as_deref().unwrap_or("*"),
            self.account.as_deref().unwrap_or("*")
        )
    }

    /// True when a reference's registry is this one: ECR in this account and region (any ECR
    /// registry while they are unknown).
    pub fn is_ours(&self, registry: &Registry) -> bool {
        match (registry, &self.account, &self.region) {
            (Registry::Ecr { account, region }, Some(a), Some(r)) => account == a && region == r,
            (Registry::Ecr { .. }, _, _) => true,
            (Registry::Other { .. }, _, _) => false,
        }
    }

    /// Total number of images across repositories.
    pub fn image_count(&self) -> usize {
        self.repositories.values().map(|r| r.images.len()).sum()
    }
}
