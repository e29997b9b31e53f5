//! Why a variable cannot be used: one line that names it and says what it takes.

use ecr_warden_core::policy::PolicyError;

/// A variable that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable}={value:?} is not a whole number; set it to 0 or more")]
    Number {
        variable: &'static str,
        value: String,
    },
    #[error("{variable}={value:?} is not true or false")]
    Bool {
        variable: &'static str,
        value: String,
    },
    #[error("{variable}={value:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")]
    Topic {
        variable: &'static str,
        value: String,
    },
    #[error(
        "{variable}={value:?} must be 1 to 100 of A-Z a-z 0-9 _ . - and start with a letter or digit"
    )]
    TagPrefix {
        variable: &'static str,
        value: String,
    },
    #[error("{variable}={value:?} must be between {range}")]
    Range {
        variable: &'static str,
        value: String,
        range: &'static str,
    },
    #[error(
        "{variable}: {value:?} is not a kind of consumer; use a comma-separated list of ecs, lambda, eventbridge, scheduler, batch, apprunner"
    )]
    Source {
        variable: &'static str,
        value: String,
    },
    #[error(
        "{variable}: {value:?} is not a usage document location; use a file path, s3://bucket/key or s3://bucket/prefix/"
    )]
    UsageSource {
        variable: &'static str,
        value: String,
    },
    #[error("{variable}: {value:?} {problem}")]
    Invalid {
        variable: &'static str,
        value: String,
        problem: &'static str,
    },
    #[error(transparent)]
    Policy(#[from] PolicyError),
}
