//! Thin adapters over the AWS SDK. Each module defines a small trait in the domain's terms and
//! implements it on the SDK client; sources, the inventory scan and the pruner only see the traits.
//! SDK types stop here: answers leave as the core's types ([`Digest`](ecr_warden_core::Digest),
//! [`Timestamp`], [`Image`](ecr_warden_core::Image)), failures as [`AwsError`].

pub mod apprunner;
pub mod batch;
pub mod ecr;
pub mod ecs;
pub mod events;
pub mod identity;
pub mod lambda;
pub mod s3;
pub mod scheduler;
pub mod sns;

use std::fmt;

use aws_sdk_ecs::error::ProvideErrorMetadata;

use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::ScanGap;

/// A failed AWS call, after the SDK's retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{call} on {resource} failed: {message}")]
pub struct AwsError {
    /// The operation, as `service:Operation`.
    pub call: &'static str,
    /// What it was about.
    pub resource: String,
    /// The service's error code, when it sent one (`ThrottlingException`, `AccessDeniedException`).
    pub code: Option<String>,
    /// A readable description.
    pub message: String,
}

impl AwsError {
    /// Wraps an SDK error, keeping its code and its full chain of causes.
    pub fn from_sdk<E>(call: &'static str, resource: impl Into<String>, error: E) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        tracing::debug!(call, error = ?error, "AWS error in full");
        let code = error.code().map(str::to_string);
        let message = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_string(),
            _ => error_chain(&error),
        };
        AwsError {
            call,
            resource: resource.into(),
            code,
            message,
        }
    }

    /// A problem the adapter found in an answer (a truncated page, a malformed field).
    pub fn invalid(
        call: &'static str,
        resource: impl Into<String>,
        message: impl fmt::Display,
    ) -> Self {
        AwsError {
            call,
            resource: resource.into(),
            code: None,
            message: message.to_string(),
        }
    }

    /// True when the error code names a resource that does not exist.
    pub fn is_not_found(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.ends_with("NotFoundException"))
    }
}

impl From<AwsError> for ScanGap {
    fn from(e: AwsError) -> Self {
        ScanGap::new(e.call.to_string(), e.resource, e.message)
    }
}

/// An error and its causes in one line (`dispatch failure: io error: … Connection refused`), or
/// the service's `code: message` when a cause carries one, without the SDK's debug dump.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let meta = e.downcast_ref::<aws_smithy_types::error::ErrorMetadata>();
        if let Some((meta, message)) = meta.and_then(|m| Some((m, m.message()?))) {
            parts.push(match meta.code() {
                Some(code) => format!("{code}: {message}"),
                None => message.to_string(),
            });
            break;
        }
        let text = e.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The last segment of an ARN (`arn:aws:ecs:r:a:service/cluster/name` → `name`), or the input.
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// An SDK timestamp as the core's whole-second [`Timestamp`].
pub fn timestamp(t: &aws_smithy_types::DateTime) -> Timestamp {
    Timestamp(t.secs())
}

/// The SDK clients for one account and region.
#[derive(Debug, Clone)]
pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    pub batch: aws_sdk_batch::Client,
    pub apprunner: aws_sdk_apprunner::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    /// Clients for every service, from one SDK configuration. S3 uses path-style addresses when
    /// an endpoint is configured (an emulator), as virtual-host addresses need DNS for buckets.
    pub fn new(sdk: &aws_config::SdkConfig) -> Clients {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Clients {
            ecs: aws_sdk_ecs::Client::new(sdk),
            ecr: aws_sdk_ecr::Client::new(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            scheduler: aws_sdk_scheduler::Client::new(sdk),
            batch: aws_sdk_batch::Client::new(sdk),
            apprunner: aws_sdk_apprunner::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_smithy_types::error::ErrorMetadata;

    use super::error_chain;

    #[test]
    fn an_error_chain_is_one_line_ending_in_the_services_words() {
        let denied = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("not authorized to perform: sts:AssumeRole")
            .build();
        let e = CredentialsError::provider_error(denied);
        assert_eq!(
            error_chain(&e),
            "an error occurred while loading credentials: AccessDenied: not authorized to perform: sts:AssumeRole"
        );
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e = CredentialsError::provider_error(refused);
        assert_eq!(
            error_chain(&e),
            "an error occurred while loading credentials: Connection refused"
        );
    }
}
