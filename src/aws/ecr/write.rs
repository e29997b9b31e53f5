//! Changing ECR: adding a tag by putting an image's own manifest again, removing one tag, and
//! deleting images by digest (never by tag).

use aws_sdk_ecr::Client;

use ecr_warden_core::digest::Digest;

use super::{DeleteOutcome, EcrWrite, ImageId, StoredManifest, failure_text, identifier};
use crate::aws::AwsError;

impl EcrWrite for Client {
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
