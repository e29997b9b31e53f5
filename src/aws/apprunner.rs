//! AWS App Runner, read-only: services whose source is an ECR image.

use std::future::Future;

use aws_sdk_apprunner::Client;
use aws_sdk_apprunner::types::ImageRepositoryType;

use super::AwsError;

/// An App Runner service that runs an ECR image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageService {
    pub name: String,
    /// `ImageIdentifier`: the image as configured (a tag, or a digest).
    pub image: String,
    /// With automatic deployment, every push of the tag deploys it; without, the service may run
    /// an older digest than the tag's, which the API does not show.
    pub auto_deploy: bool,
}

/// The App Runner calls the usage scan makes.
pub trait AppRunnerApi: Sync {
    /// Every service's ARN.
    fn list_services(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// The service's ECR image, if its source is one.
    fn image_service(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<ImageService>, AwsError>> + Send;
}

impl AppRunnerApi for Client {
    async fn list_services(&self) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .list_services()
                .max_results(20)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("apprunner:ListServices", "account", e))?;
            arns.extend(
                out.service_summary_list()
                    .iter()
                    .filter_map(|s| s.service_arn().map(str::to_string)),
            );
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(arns);
            }
        }
    }

    async fn image_service(&self, arn: &str) -> Result<Option<ImageService>, AwsError> {
        let out = self
            .describe_service()
            .service_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("apprunner:DescribeService", arn, e))?;
        let Some(service) = out.service() else {
            return Ok(None);
        };
        let source = service.source_configuration();
        let Some(repo) = source.and_then(|s| s.image_repository()) else {
            return Ok(None);
        };
        if *repo.image_repository_type() != ImageRepositoryType::Ecr {
            return Ok(None);
        }
        Ok(Some(ImageService {
            name: service.service_name().to_string(),
            image: repo.image_identifier().to_string(),
            auto_deploy: source
                .and_then(|s| s.auto_deployments_enabled())
                .unwrap_or(false),
        }))
    }
}
