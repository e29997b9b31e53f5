//! Amazon ECR: reading the registry's repositories, images and policies ([`EcrApi`], in
//! [`read`]), and changing it: guard tags and deleting images by digest ([`EcrWrite`], in
//! [`write`]).

mod read;
pub mod registry;
mod write;

use std::future::Future;

use aws_sdk_ecr::types::ImageIdentifier;

use super::AwsError;
use ecr_warden_core::digest::{Digest, DigestError};
use ecr_warden_core::inventory::Image;

pub use registry::RegistryInfo;

/// DescribeImages returns at most this many images per page.
pub const DESCRIBE_IMAGES_PAGE: i32 = 1000;
/// BatchGetImage, BatchDeleteImage and DescribeImages-by-id take at most this many image ids.
pub const IMAGE_ID_BATCH: usize = 100;

/// An image named by digest or by tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImageId {
    Digest(Digest),
    Tag(String),
}

/// An image manifest as ECR stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManifest {
    pub digest: Digest,
    pub manifest: String,
    pub media_type: Option<String>,
}

/// Every manifest media type, so that ECR returns each manifest as stored, never converted.
const ALL_MANIFEST_TYPES: [&str; 5] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// The outcome of one BatchDeleteImage call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOutcome {
    pub deleted: Vec<Digest>,
    /// (digest, failure code, reason) for each image ECR did not delete.
    pub failures: Vec<(Digest, String, String)>,
}

/// The ECR calls that read a registry: repositories, images, manifests, policies.
pub trait EcrApi: Sync {
    /// This registry's account id and replication rules.
    fn registry(&self) -> impl Future<Output = Result<RegistryInfo, AwsError>> + Send;
    /// Every repository name.
    fn list_repositories(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Every image of a repository, archived ones included (index children not filled in).
    fn list_images(
        &self,
        repository: &str,
    ) -> impl Future<Output = Result<Vec<Image>, AwsError>> + Send;
    /// The manifests listed by each image index (at most [`IMAGE_ID_BATCH`] indexes).
    fn index_children(
        &self,
        repository: &str,
        indexes: &[Digest],
    ) -> impl Future<Output = Result<Vec<(Digest, Vec<Digest>)>, AwsError>> + Send;
    /// Looks up images by digest or tag; ids that do not exist are left out. A repository that
    /// does not exist is `Ok(None)`.
    fn find_images(
        &self,
        repository: &str,
        ids: &[ImageId],
    ) -> impl Future<Output = Result<Option<Vec<Image>>, AwsError>> + Send;
    /// The repository's policy text, or `None` when it has none.
    fn repository_policy(
        &self,
        repository: &str,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    /// The registry's policy text, or `None` when it has none.
    fn registry_policy(&self) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    /// The repository's lifecycle policy text, or `None` when it has none.
    fn lifecycle_policy(
        &self,
        repository: &str,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    /// Each image's manifest and media type, exactly as stored (at most [`IMAGE_ID_BATCH`]).
    fn manifests(
        &self,
        repository: &str,
        digests: &[Digest],
    ) -> impl Future<Output = Result<Vec<StoredManifest>, AwsError>> + Send;
}

/// The ECR calls that change a registry: guard tags and deletion. Only acting on a plan uses them.
pub trait EcrWrite: Sync {
    /// Adds a tag to an existing image by putting its own manifest again (the digest is checked).
    fn put_tag(
        &self,
        repository: &str,
        manifest: &StoredManifest,
        tag: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Removes one tag. ECR deletes the image if it was its last tag: callers check first.
    fn untag(
        &self,
        repository: &str,
        tag: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Deletes images by digest (at most [`IMAGE_ID_BATCH`]); never by tag.
    fn delete_images(
        &self,
        repository: &str,
        digests: &[Digest],
    ) -> impl Future<Output = Result<DeleteOutcome, AwsError>> + Send;
}

pub(super) fn identifier(id: &ImageId) -> ImageIdentifier {
    match id {
        ImageId::Digest(d) => ImageIdentifier::builder()
            .image_digest(d.to_string())
            .build(),
        ImageId::Tag(t) => ImageIdentifier::builder().image_tag(t).build(),
    }
}

/// `CODE: reason` of an image ECR refused to act on.
pub(super) fn failure_text(f: &aws_sdk_ecr::types::ImageFailure) -> String {
    format!(
        "{}: {}",
        f.failure_code().map(|c| c.as_str()).unwrap_or("failure"),
        f.failure_reason().unwrap_or_default()
    )
}

/// The value of a call that answers "not found" when there is nothing: `None` then.
pub(super) fn optional<T>(
    result: Result<T, AwsError>,
    not_found: &str,
) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code.as_deref() == Some(not_found) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The digests an image index lists (`manifests[].digest`).
pub fn parse_index_children(manifest: &str) -> Result<Vec<Digest>, String> {
    #[derive(serde::Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        digest: String,
    }
    let index: Index = serde_json::from_str(manifest).map_err(|e| e.to_string())?;
    index
        .manifests
        .iter()
        .map(|m| m.digest.parse().map_err(|e: DigestError| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_children_of_an_oci_index() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{{"digest":"{a}","platform":{{"architecture":"amd64"}}}},{{"digest":"{b}"}}]}}"#
        );
        let children = parse_index_children(&manifest).unwrap();
        assert_eq!(
            children.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![a, b]
        );
        assert!(parse_index_children("not json").is_err());
        assert!(parse_index_children(r#"{"manifests":[{"digest":"md5:1"}]}"#).is_err());
    }
}
