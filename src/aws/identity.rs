//! Who the credentials are, asked first and quickly: the one call that tells a missing
//! credential or an unreachable endpoint apart from everything else, before a scan retries its way
//! through a minute of failures.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::SdkError;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use super::{AwsError, error_chain};

/// The code of an [`AwsError`] when no credentials were found.
pub const NO_CREDENTIALS: &str = "NoCredentials";
/// The code of an [`AwsError`] when the endpoint could not be reached.
pub const UNREACHABLE: &str = "Unreachable";

/// The account the credentials belong to (`sts:GetCallerIdentity`), with two attempts and a
/// five-second connect timeout. Missing credentials and an unreachable endpoint are told apart
/// by their codes.
pub async fn caller_account(base: &SdkConfig) -> Result<String, AwsError> {
    let config = aws_sdk_sts::config::Builder::from(base)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    let answer = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await;
    match answer {
        Ok(identity) => Ok(identity.account().unwrap_or_default().to_string()),
        Err(e) => Err(classify(e)),
    }
}

fn classify<E>(e: SdkError<E, aws_smithy_runtime_api::http::Response>) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::debug!(error = ?e, "sts:GetCallerIdentity failed");
    let call = "sts:GetCallerIdentity";
    if no_credentials(&e) {
        return AwsError {
            code: Some(NO_CREDENTIALS.into()),
            ..AwsError::invalid(call, "credentials", "no credentials found")
        };
    }
    if let SdkError::DispatchFailure(d) = &e
        && (d.is_io() || d.is_timeout())
    {
        let cause = match d.as_connector_error() {
            Some(connector) => match std::error::Error::source(connector) {
                Some(source) => error_chain(source),
                None => error_chain(connector),
            },
            None => "no answer".to_string(),
        };
        return AwsError {
            code: Some(UNREACHABLE.into()),
            ..AwsError::invalid(call, "credentials", cause)
        };
    }
    AwsError::from_sdk(call, "credentials", e)
}

/// True when a cause of the error is the credential chain finding nothing.
fn no_credentials(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(CredentialsError::CredentialsNotLoaded(_)) =
            e.downcast_ref::<CredentialsError>()
        {
            return true;
        }
        next = e.source();
    }
    false
}
