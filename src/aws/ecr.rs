//! Amazon ECR: the registry's repositories and images (read), and deleting images by digest.

use std::future::Future;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{DescribeImagesFilter, ImageIdentifier, ImageStatusFilter};

use super::AwsError;
use ecr_warden_core::digest::{Digest, DigestError};
use ecr_warden_core::inventory::{Image, ImageStatus, MediaType};

use super::timestamp;

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

/// The ECR calls ecr-warden makes.
pub trait EcrApi: Sync {
    /// This registry's account id.
    fn registry_id(&self) -> impl Future<Output = Result<String, AwsError>> + Send;
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

fn image_from(detail: &aws_sdk_ecr::types::ImageDetail) -> Option<Image> {
    let digest: Digest = detail.image_digest()?.parse().ok()?;
    Some(Image {
        tags: detail.image_tags().to_vec(),
        last_pulled_at: detail.last_recorded_pull_time().map(timestamp),
        media_type: detail
            .image_manifest_media_type()
            .map_or(MediaType::Manifest, MediaType::from_manifest_media_type),
        status: detail
            .image_status()
            .and_then(|s| ImageStatus::from_ecr(s.as_str()))
            .unwrap_or_default(),
        subject: detail
            .subject_manifest_digest()
            .and_then(|d| d.parse().ok()),
        size_bytes: detail.image_size_in_bytes(),
        ..Image::new(
            digest,
            detail.image_pushed_at().map(timestamp).unwrap_or_default(),
        )
    })
}

fn identifier(id: &ImageId) -> ImageIdentifier {
    match id {
        ImageId::Digest(d) => ImageIdentifier::builder()
            .image_digest(d.to_string())
            .build(),
        ImageId::Tag(t) => ImageIdentifier::builder().image_tag(t).build(),
    }
}

/// `CODE: reason` of an image ECR refused to act on.
fn failure_text(f: &aws_sdk_ecr::types::ImageFailure) -> String {
    format!(
        "{}: {}",
        f.failure_code().map(|c| c.as_str()).unwrap_or("failure"),
        f.failure_reason().unwrap_or_default()
    )
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

impl EcrApi for Client {
    async fn registry_id(&self) -> Result<String, AwsError> {
        let out = self
            .describe_registry()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecr:DescribeRegistry", "registry", e))?;
        out.registry_id().map(str::to_string).ok_or_else(|| {
            AwsError::invalid(
                "ecr:DescribeRegistry",
                "registry",
                "no registry id returned",
            )
        })
    }

    async fn list_repositories(&self) -> Result<Vec<String>, AwsError> {
        let repos: Vec<_> = self
            .describe_repositories()
            .max_results(1000)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ecr:DescribeRepositories", "registry", e))?;
        Ok(repos
            .iter()
            .filter_map(|r| r.repository_name().map(str::to_string))
            .collect())
    }

    async fn list_images(&self, repository: &str) -> Result<Vec<Image>, AwsError> {
        let mut details = self
            .describe_images()
            .repository_name(repository)
            .filter(
                DescribeImagesFilter::builder()
                    .image_status(ImageStatusFilter::Any)
                    .build(),
            )
            .max_results(DESCRIBE_IMAGES_PAGE)
            .into_paginator()
            .items()
            .send();
        // Each detail becomes a compact `Image` as it arrives, so a large repository is never
        // held twice.
        let mut images = Vec::new();
        while let Some(detail) = details.next().await {
            let detail = detail.map_err(|e| {
                AwsError::from_sdk("ecr:DescribeImages", format!("repository {repository}"), e)
            })?;
            images.extend(image_from(&detail));
        }
        Ok(images)
    }

    async fn index_children(
        &self,
        repository: &str,
        indexes: &[Digest],
    ) -> Result<Vec<(Digest, Vec<Digest>)>, AwsError> {
        const CALL: &str = "ecr:BatchGetImage";
        let resource = || format!("repository {repository}");
        let mut request = self.batch_get_image().repository_name(repository);
        for d in indexes {
            request = request.image_ids(identifier(&ImageId::Digest(*d)));
        }
        for media_type in MediaType::INDEX_TYPES {
            request = request.accepted_media_types(media_type);
        }
        let out = request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(CALL, resource(), e))?;
        if let Some(f) = out.failures().first() {
            return Err(AwsError::invalid(CALL, resource(), failure_text(f)));
        }
        out.images()
            .iter()
            .map(|image| {
                let digest: Digest = image
                    .image_id()
                    .and_then(|id| id.image_digest())
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| AwsError::invalid(CALL, resource(), "image without a digest"))?;
                let children = parse_index_children(image.image_manifest().unwrap_or("{}"))
                    .map_err(|e| {
                        AwsError::invalid(CALL, resource(), format!("index {digest}: {e}"))
                    })?;
                Ok((digest, children))
            })
            .collect()
    }

    async fn find_images(
        &self,
        repository: &str,
        ids: &[ImageId],
    ) -> Result<Option<Vec<Image>>, AwsError> {
        const CALL: &str = "ecr:DescribeImages";
        let ask = |ids: &[ImageId]| {
            self.describe_images()
                .repository_name(repository)
                .set_image_ids(Some(ids.iter().map(identifier).collect()))
                .filter(
                    DescribeImagesFilter::builder()
                        .image_status(ImageStatusFilter::Any)
                        .build(),
                )
                .send()
        };
        let resource = format!("repository {repository}");
        match ask(ids).await {
            Ok(out) => {
                return Ok(Some(
                    out.image_details().iter().filter_map(image_from).collect(),
                ));
            }
            Err(e) => {
                let e = AwsError::from_sdk(CALL, resource.clone(), e);
                match e.code.as_deref() {
                    Some("RepositoryNotFoundException") => return Ok(None),
                    Some("ImageNotFoundException") if ids.len() > 1 => {}
                    Some("ImageNotFoundException") => return Ok(Some(Vec::new())),
                    _ => return Err(e),
                }
            }
        }
        // One of several ids does not exist, and ECR fails the whole call: ask one at a time.
        let mut found = Vec::new();
        for id in ids {
            match ask(std::slice::from_ref(id)).await {
                Ok(out) => found.extend(out.image_details().iter().filter_map(image_from)),
                Err(e) => {
                    let e = AwsError::from_sdk(CALL, resource.clone(), e);
                    if e.code.as_deref() != Some("ImageNotFoundException") {
                        return Err(e);
                    }
                }
            }
        }
        found.sort_by_key(|i| i.digest);
        found.dedup_by_key(|i| i.digest);
        Ok(Some(found))
    }

    async fn lifecycle_policy(&self, repository: &str) -> Result<Option<String>, AwsError> {
        match self
            .get_lifecycle_policy()
            .repository_name(repository)
            .send()
            .await
        {
            Ok(out) => Ok(out.lifecycle_policy_text().map(str::to_string)),
            Err(e) => {
                let e = AwsError::from_sdk(
                    "ecr:GetLifecyclePolicy",
                    format!("repository {repository}"),
                    e,
                );
                if e.code.as_deref() == Some("LifecyclePolicyNotFoundException") {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn manifests(
        &self,
        repository: &str,
        digests: &[Digest],
    ) -> Result<Vec<StoredManifest>, AwsError> {
        const CALL: &str = "ecr:BatchGetImage";
        let mut request = self.batch_get_image().repository_name(repository);
        for d in digests {
            request = request.image_ids(identifier(&ImageId::Digest(*d)));
        }
        for media_type in ALL_MANIFEST_TYPES {
            request = request.accepted_media_types(media_type);
        }
        let out = request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(CALL, format!("repository {repository}"), e))?;
        Ok(out
            .images()
            .iter()
            .filter_map(|image| {
                Some(StoredManifest {
                    digest: image.image_id()?.image_digest()?.parse().ok()?,
                    manifest: image.image_manifest()?.to_string(),
                    media_type: image.image_manifest_media_type().map(str::to_string),
                })
            })
            .collect())
    }

    async fn put_tag(
        &self,
        repository: &str,
        manifest: &StoredManifest,
        tag: &str,
    ) -> Result<(), AwsError> {
        let result = self
            .put_image()
            .repository_name(repository)
            .image_manifest(&manifest.manifest)
            .set_image_manifest_media_type(manifest.media_type.clone())
            .image_digest(manifest.digest.to_string())
            .image_tag(tag)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::from_sdk(
                    "ecr:PutImage",
                    format!("repository {repository}, tag {tag}"),
                    e,
                );
                // The image carries the tag already: nothing to do.
                if e.code.as_deref() == Some("ImageAlreadyExistsException") {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn untag(&self, repository: &str, tag: &str) -> Result<(), AwsError> {
        const CALL: &str = "ecr:BatchDeleteImage";
        let resource = || format!("repository {repository}, tag {tag}");
        let out = self
            .batch_delete_image()
            .repository_name(repository)
            .image_ids(identifier(&ImageId::Tag(tag.to_string())))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(CALL, resource(), e))?;
        match out.failures().first() {
            None => Ok(()),
            Some(f) => Err(AwsError::invalid(CALL, resource(), failure_text(f))),
        }
    }

    async fn delete_images(
        &self,
        repository: &str,
        digests: &[Digest],
    ) -> Result<DeleteOutcome, AwsError> {
        let mut request = self.batch_delete_image().repository_name(repository);
        for d in digests {
            request = request.image_ids(identifier(&ImageId::Digest(*d)));
        }
        let out = request.send().await.map_err(|e| {
            AwsError::from_sdk(
                "ecr:BatchDeleteImage",
                format!("repository {repository}"),
                e,
            )
        })?;
        let mut outcome = DeleteOutcome::default();
        for id in out.image_ids() {
            if let Some(d) = id.image_digest().and_then(|d| d.parse().ok())
                && !outcome.deleted.contains(&d)
            {
                outcome.deleted.push(d);
            }
        }
        for f in out.failures() {
            if let Some(d) = f
                .image_id()
                .and_then(|id| id.image_digest())
                .and_then(|d| d.parse().ok())
            {
                outcome.failures.push((
                    d,
                    f.failure_code()
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    f.failure_reason().unwrap_or_default().to_string(),
                ));
            }
        }
        Ok(outcome)
    }
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
