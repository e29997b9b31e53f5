//! AWS clients from the standard settings (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, …), so
//! the same binary runs against AWS or an emulator; and the scopes each run covers, reached when
//! the run needs them (a fan-out's scan of one account reaches that account only).

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_types::retry::RetryConfig;

use super::config::Config;
use crate::aws::sns::SnsTopic;
use crate::scopes::{self, ScopeList, ScopeSettings, Scopes};

/// The SDK configuration and the alert topic.
pub struct Aws {
    pub sdk: SdkConfig,
    pub sns: Option<SnsTopic>,
}

impl Aws {
    /// Standard retries (exponential backoff with jitter) with 8 attempts, unless the standard AWS
    /// settings (`AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS`, the profile) say otherwise. Adaptive mode is
    /// not the default: after one throttle its client-side limiter drops to 0.5 requests per
    /// second and climbs back slowly, which can push a large scan past the Lambda time limit.
    pub async fn connect(config: &Config) -> Result<Aws, String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let configured = ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if !configured {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(8));
        }
        let sdk: SdkConfig = loader.load().await;
        if sdk.region().is_none() {
            return Err("no AWS region: set AWS_REGION (or a profile with a region)".into());
        }
        Ok(Aws {
            sns: config.sns_topic_arn.as_ref().map(|arn| SnsTopic {
                client: aws_sdk_sns::Client::new(&sdk),
                topic_arn: arn.clone(),
            }),
            sdk,
        })
    }

    /// Reaches every scope the settings name (assuming the scan role in other accounts).
    pub async fn scopes(&self, settings: &ScopeSettings) -> Result<Scopes, String> {
        scopes::connect(&self.sdk, settings)
            .await
            .map_err(|e| format!("cannot reach AWS: {e}"))
    }

    /// Lists the account-regions the settings cover, without reaching into them.
    pub async fn list_scopes(&self, settings: &ScopeSettings) -> Result<ScopeList, String> {
        scopes::list(&self.sdk, settings)
            .await
            .map_err(|e| format!("cannot list the scopes: {e}"))
    }
}
