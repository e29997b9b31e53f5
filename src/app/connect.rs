//! AWS clients from the standard settings (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, …), so
//! the same binary runs against AWS or an emulator; and the scopes each run covers, reached when
//! the run needs them (a fan-out's scan of one account reaches that account only).

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_types::retry::RetryConfig;

use super::config::Config;
use crate::aws::sns::SnsTopic;
use crate::aws::{AwsError, identity};
use crate::scopes::{self, ScopeList, ScopeSettings, Scopes};

/// Why AWS could not be reached, in words that say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no AWS region: set AWS_REGION (or --regions), or a region in the profile (AWS_PROFILE)"
    )]
    NoRegion,
    #[error(
        "no AWS credentials found: the default chain looks at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then the profile (AWS_PROFILE, ~/.aws/config and ~/.aws/credentials; run `aws sso login` for SSO), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the ECS task role and the EC2 instance role"
    )]
    NoCredentials,
    #[error(
        "cannot reach AWS at {endpoint}: {cause}; check AWS_ENDPOINT_URL, the network or a proxy (HTTPS_PROXY)"
    )]
    Unreachable { endpoint: String, cause: String },
    #[error("cannot reach AWS: {0}")]
    Other(String),
}

impl ConnectError {
    /// 2 for what the operator must set up first (a region, credentials), 1 otherwise.
    pub fn exit_code(&self) -> std::process::ExitCode {
        match self {
            ConnectError::NoRegion | ConnectError::NoCredentials => std::process::ExitCode::from(2),
            _ => std::process::ExitCode::FAILURE,
        }
    }

    fn of(e: AwsError, sdk: &SdkConfig) -> ConnectError {
        match e.code.as_deref() {
            Some(identity::NO_CREDENTIALS) => ConnectError::NoCredentials,
            Some(identity::UNREACHABLE) => ConnectError::Unreachable {
                endpoint: sdk.endpoint_url().map_or_else(
                    || {
                        let region = sdk.region().map(ToString::to_string).unwrap_or_default();
                        format!("https://sts.{region}.amazonaws.com")
                    },
                    str::to_string,
                ),
                cause: e.message,
            },
            _ => ConnectError::Other(e.to_string()),
        }
    }
}

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
    pub async fn connect(config: &Config) -> Result<Aws, ConnectError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let configured = ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if !configured {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(8));
        }
        let sdk: SdkConfig = loader.load().await;
        if sdk.region().is_none() {
            return Err(ConnectError::NoRegion);
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
    pub async fn scopes(&self, settings: &ScopeSettings) -> Result<Scopes, ConnectError> {
        scopes::connect(&self.sdk, settings)
            .await
            .map_err(|e| ConnectError::of(e, &self.sdk))
    }

    /// The same, without the alert topic: nothing will be published.
    pub fn without_alerts(self) -> Aws {
        Aws { sns: None, ..self }
    }

    /// Lists the account-regions the settings cover, without reaching into them.
    pub async fn list_scopes(&self, settings: &ScopeSettings) -> Result<ScopeList, String> {
        scopes::list(&self.sdk, settings)
            .await
            .map_err(|e| format!("cannot list the scopes: {e}"))
    }
}
