//! Reading ECR: the registry, its repositories, every image (archived ones included), index
//! children, lookups by id, manifests and lifecycle policies.

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{DescribeImagesFilter, ImageStatusFilter};

use ecr_warden_core::digest::Digest;
use ecr_warden_core::inventory::{Image, ImageStatus, MediaType};

use super::{
    ALL_MANIFEST_TYPES, DESCRIBE_IMAGES_PAGE, EcrApi, ImageId, RegistryInfo, StoredManifest,
    failure_text, identifier, optional, parse_index_children, registry,
};
use crate::aws::{AwsError, timestamp};

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

impl EcrApi for Client {
    async fn registry(&self) -> Result<RegistryInfo, AwsError> {
        registry::describe(self).await
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
        let answer = self
            .get_lifecycle_policy()
            .repository_name(repository)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "ecr:GetLifecyclePolicy",
                    format!("repository {repository}"),
                    e,
                )
            });
        let text = optional(answer, "LifecyclePolicyNotFoundException")?;
        Ok(text.and_then(|o| o.lifecycle_policy_text().map(str::to_string)))
    }

    async fn repository_policy(&self, repository: &str) -> Result<Option<String>, AwsError> {
        let answer = self
            .get_repository_policy()
            .repository_name(repository)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "ecr:GetRepositoryPolicy",
                    format!("repository {repository}"),
                    e,
                )
            });
        let text = optional(answer, "RepositoryPolicyNotFoundException")?;
        Ok(text.and_then(|o| o.policy_text().map(str::to_string)))
    }

    async fn registry_policy(&self) -> Result<Option<String>, AwsError> {
        let answer = (self.get_registry_policy().send().await)
            .map_err(|e| AwsError::from_sdk("ecr:GetRegistryPolicy", "registry", e));
        let text = optional(answer, "RegistryPolicyNotFoundException")?;
        Ok(text.and_then(|o| o.policy_text().map(str::to_string)))
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
}
