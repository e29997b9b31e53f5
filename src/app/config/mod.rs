//! Configuration from environment variables, the same for the Lambda function and the CLI. Invalid
//! values stop start-up with a message that names the variable.

use std::collections::HashMap;

mod cache;
mod error;
mod scopes;
mod vars;

use ecr_warden_core::policy::{Policy, PolicySettings, setting};
use ecr_warden_core::report::DEFAULT_PRICE_PER_GB_MONTH;

use crate::cache::CacheLocation;
use crate::scopes::ScopeSettings;
use crate::sources::{OPTIONAL_SOURCES, ScanSettings};
use vars::Vars;

pub use error::ConfigError;

/// Everything the environment configures.
#[derive(Debug, Clone)]
pub struct Config {
    /// SNS topic for alerts; without one, alerts go to the log.
    pub sns_topic_arn: Option<String>,
    pub policy: Policy,
    pub scan: ScanSettings,
    /// True unless `DRY_RUN=false`: nothing is deleted until the operator says so.
    pub dry_run: bool,
    /// Guard-tag prefix (`GUARD_TAG_PREFIX`); unset: no guard tags.
    pub guard_tag_prefix: Option<String>,
    /// Other accounts and regions (`ACCOUNTS`, `REGIONS`, `SCAN_ROLE_NAME`, `SCAN_ROLE_EXTERNAL_ID`).
    pub scopes: ScopeSettings,
    /// Where answers that never change are kept between runs (`CACHE_URI`).
    pub cache: CacheLocation,
    /// The Lambda function's memory in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, set by Lambda).
    pub memory_limit_mb: Option<u64>,
    /// ECR storage price in US dollars per GB-month, for the monthly saving.
    pub storage_price: f64,
}

/// Every variable the tool reads, for documentation and the deployment template.
pub const VARIABLES: [&str; 23] = [
    "SNS_TOPIC_ARN",
    "CLUSTERS",
    setting::REPOSITORIES,
    setting::KEEP_TAG_PATTERNS,
    setting::KEEP_RECENT,
    setting::KEEP_PUSHED_WITHIN_DAYS,
    setting::KEEP_PULLED_WITHIN_DAYS,
    setting::ROLLBACK_REVISIONS,
    "DRY_RUN",
    "SCAN_LAMBDA",
    "LAMBDA_VERSIONS",
    "SCAN_CONCURRENCY",
    "GUARD_TAG_PREFIX",
    "ECS_REQUESTS_PER_SECOND",
    "SCAN_SOURCES",
    "USAGE_SOURCES",
    "USAGE_MAX_AGE_HOURS",
    "ACCOUNTS",
    "REGIONS",
    "SCAN_ROLE_NAME",
    "SCAN_ROLE_EXTERNAL_ID",
    "CACHE_URI",
    "STORAGE_PRICE_PER_GB_MONTH",
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(&std::env::vars().collect())
    }

    /// Reads a map of variables (empty values count as unset).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let vars = Vars(vars);
        let policy = policy(&vars)?;
        Ok(Config {
            sns_topic_arn: topic(&vars)?,
            guard_tag_prefix: guard_tag_prefix(&vars)?,
            scan: scan_settings(&vars, &policy)?,
            policy,
            dry_run: vars.boolean("DRY_RUN", true)?,
            scopes: scopes::scope_settings(&vars)?,
            cache: cache::cache_location(&vars)?,
            memory_limit_mb: vars
                .get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
                .and_then(|v| v.parse().ok()),
            storage_price: storage_price(&vars)?,
        })
    }
}

/// `STORAGE_PRICE_PER_GB_MONTH`: dollars, 0 or more.
fn storage_price(vars: &Vars) -> Result<f64, ConfigError> {
    const NAME: &str = "STORAGE_PRICE_PER_GB_MONTH";
    let Some(value) = vars.get(NAME) else {
        return Ok(DEFAULT_PRICE_PER_GB_MONTH);
    };
    match value.parse::<f64>() {
        Ok(price) if price.is_finite() && price >= 0.0 => Ok(price),
        _ => Err(ConfigError::Invalid {
            variable: NAME,
            value,
            problem: "is not a price: give US dollars per GB-month, e.g. 0.10",
        }),
    }
}

/// The retention policy's variables.
fn policy(vars: &Vars) -> Result<Policy, ConfigError> {
    let defaults = PolicySettings::default();
    let number = |name, default| vars.number(name, default);
    Ok(Policy::new(PolicySettings {
        repositories: vars.list(setting::REPOSITORIES),
        keep_tag_patterns: vars.list(setting::KEEP_TAG_PATTERNS),
        keep_recent: number(setting::KEEP_RECENT, defaults.keep_recent)?,
        keep_pushed_within_days: number(
            setting::KEEP_PUSHED_WITHIN_DAYS,
            defaults.keep_pushed_within_days,
        )?,
        keep_pulled_within_days: number(
            setting::KEEP_PULLED_WITHIN_DAYS,
            defaults.keep_pulled_within_days,
        )?,
        rollback_revisions: number(setting::ROLLBACK_REVISIONS, defaults.rollback_revisions)?,
    })?)
}

/// What the usage scan looks at, and how hard it pushes.
fn scan_settings(vars: &Vars, policy: &Policy) -> Result<ScanSettings, ConfigError> {
    let concurrency = vars.number("SCAN_CONCURRENCY", 8)?;
    if !(1..=64).contains(&concurrency) {
        return Err(ConfigError::Range {
            variable: "SCAN_CONCURRENCY",
            value: concurrency.to_string(),
            range: "1 and 64",
        });
    }
    let ecs_rate = vars.number("ECS_REQUESTS_PER_SECOND", 20)?;
    if !(0..=1000).contains(&ecs_rate) {
        return Err(ConfigError::Number {
            variable: "ECS_REQUESTS_PER_SECOND",
            value: ecs_rate.to_string(),
        });
    }
    let lambda_versions = vars.number("LAMBDA_VERSIONS", 3)?;
    if lambda_versions < 0 {
        return Err(ConfigError::Number {
            variable: "LAMBDA_VERSIONS",
            value: lambda_versions.to_string(),
        });
    }
    Ok(ScanSettings {
        clusters: vars.list("CLUSTERS"),
        concurrency: concurrency as usize,
        stopped_tasks: true,
        rollback_revisions: policy.rollback_revisions,
        sources: sources(vars)?,
        usage_sources: usage_sources(vars)?,
        usage_max_age_hours: match vars.number("USAGE_MAX_AGE_HOURS", 48)? {
            hours @ 1..=8760 => hours as u32,
            hours => {
                return Err(ConfigError::Range {
                    variable: "USAGE_MAX_AGE_HOURS",
                    value: hours.to_string(),
                    range: "1 and 8760",
                });
            }
        },
        lambda_versions: lambda_versions as usize,
        ecs_requests_per_second: ecs_rate as f64,
        expected_scopes: Vec::new(),
        documents_only: false,
    })
}

/// The kinds of consumer to scan: `SCAN_SOURCES` (default all), less Lambda with
/// `SCAN_LAMBDA=false`.
fn sources(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let mut sources = vars.list("SCAN_SOURCES");
    if sources.is_empty() {
        sources = OPTIONAL_SOURCES.iter().map(|s| s.to_string()).collect();
    }
    if let Some(unknown) = sources
        .iter()
        .find(|s| !OPTIONAL_SOURCES.contains(&s.as_str()))
    {
        return Err(ConfigError::Source {
            variable: "SCAN_SOURCES",
            value: unknown.clone(),
        });
    }
    if !vars.boolean("SCAN_LAMBDA", true)? {
        sources.retain(|s| s != "lambda");
    }
    Ok(sources)
}

/// `USAGE_SOURCES`: local paths, `s3://bucket/key` or `s3://bucket/prefix/`.
fn usage_sources(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let sources = vars.list("USAGE_SOURCES");
    let bad = sources.iter().find(|s| {
        s.strip_prefix("s3://")
            .is_some_and(|p| p.is_empty() || p.starts_with('/'))
    });
    match bad {
        Some(s) => Err(ConfigError::UsageSource {
            variable: "USAGE_SOURCES",
            value: s.clone(),
        }),
        None => Ok(sources),
    }
}

fn topic(vars: &Vars) -> Result<Option<String>, ConfigError> {
    let arn = vars.get("SNS_TOPIC_ARN");
    match arn {
        Some(arn) if !(arn.starts_with("arn:") && arn.split(':').nth(2) == Some("sns")) => {
            Err(ConfigError::Topic {
                variable: "SNS_TOPIC_ARN",
                value: arn,
            })
        }
        arn => Ok(arn),
    }
}

fn guard_tag_prefix(vars: &Vars) -> Result<Option<String>, ConfigError> {
    let Some(prefix) = vars.get("GUARD_TAG_PREFIX") else {
        return Ok(None);
    };
    let b = prefix.as_bytes();
    let valid = b.len() <= 100
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !valid {
        return Err(ConfigError::TagPrefix {
            variable: "GUARD_TAG_PREFIX",
            value: prefix,
        });
    }
    Ok(Some(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_safe() {
        let c = Config::from_vars(&HashMap::new()).unwrap();
        assert!(c.dry_run, "the tool deletes nothing until told");
        assert_eq!(c.policy.keep_recent, 10);
        assert_eq!(c.policy.rollback_revisions, 1);
        assert!(c.scan.clusters.is_empty());
        assert!(c.policy.manages("any"));
        assert_eq!(c.sns_topic_arn, None);
    }

    #[test]
    fn reads_every_variable() {
        let c = Config::from_vars(&vars(&[
            ("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts"),
            ("CLUSTERS", "prod, staging,"),
            ("REPOSITORIES", "team-a/*,sidecar"),
            ("KEEP_TAG_PATTERNS", "release-*"),
            ("KEEP_RECENT", "5"),
            ("KEEP_PUSHED_WITHIN_DAYS", "0"),
            ("KEEP_PULLED_WITHIN_DAYS", "7"),
            ("ROLLBACK_REVISIONS", "2"),
            ("DRY_RUN", "false"),
            ("SCAN_LAMBDA", "no"),
            ("LAMBDA_VERSIONS", "1"),
            ("SCAN_CONCURRENCY", "4"),
            ("GUARD_TAG_PREFIX", "inuse-"),
        ]))
        .unwrap();
        assert_eq!(c.scan.clusters, vec!["prod", "staging"]);
        assert!(c.policy.manages("team-a/api") && !c.policy.manages("team-b/api"));
        assert_eq!(
            c.policy.kept_tag(&["release-1".into()]),
            Some(("release-*", "release-1"))
        );
        assert_eq!(
            (
                c.policy.keep_recent,
                c.policy.keep_pushed_within_days,
                c.policy.keep_pulled_within_days
            ),
            (5, 0, 7)
        );
        assert_eq!(c.scan.rollback_revisions, 2);
        assert!(!c.dry_run && !c.scan.sources.contains(&"lambda".to_string()));
        assert_eq!((c.scan.lambda_versions, c.scan.concurrency), (1, 4));
        assert_eq!(c.guard_tag_prefix.as_deref(), Some("inuse-"));
    }

    #[test]
    fn reads_accounts_regions_and_the_scan_role() {
        let c = Config::from_vars(&vars(&[
            ("ACCOUNTS", "111111111111, 222222222222"),
            ("REGIONS", "us-east-1,eu-west-1"),
            ("SCAN_ROLE_NAME", "warden-scan"),
            ("SCAN_ROLE_EXTERNAL_ID", "ext-42"),
        ]))
        .unwrap();
        assert_eq!(
            c.scopes.accounts,
            crate::scopes::Accounts::List(vec!["111111111111".into(), "222222222222".into()])
        );
        assert_eq!(c.scopes.regions, vec!["us-east-1", "eu-west-1"]);
        assert_eq!(c.scopes.role_name, "warden-scan");
        assert_eq!(c.scopes.external_id.as_deref(), Some("ext-42"));
        let org = Config::from_vars(&vars(&[("ACCOUNTS", "organization")])).unwrap();
        assert_eq!(org.scopes.accounts, crate::scopes::Accounts::Organization);
        let default = Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(default.scopes.accounts, crate::scopes::Accounts::This);
        assert_eq!(default.scopes.role_name, "ecr-warden-scan");
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let cases = [
            (
                ("KEEP_RECENT", "ten"),
                "KEEP_RECENT=\"ten\" is not a whole number",
            ),
            (("KEEP_RECENT", "-3"), "KEEP_RECENT: -3 is negative"),
            (
                ("DRY_RUN", "maybe"),
                "DRY_RUN=\"maybe\" is not true or false",
            ),
            (
                ("SNS_TOPIC_ARN", "alerts"),
                "SNS_TOPIC_ARN=\"alerts\" is not an SNS topic ARN",
            ),
            (("KEEP_TAG_PATTERNS", "a[b"), "KEEP_TAG_PATTERNS:"),
            (
                ("SCAN_CONCURRENCY", "0"),
                "SCAN_CONCURRENCY=\"0\" must be between 1 and 64",
            ),
            (
                ("ACCOUNTS", "1234,organization"),
                "ACCOUNTS: \"1234\" is not a 12-digit",
            ),
            (
                ("REGIONS", "Europe"),
                "REGIONS: \"Europe\" is not a region name",
            ),
            (
                ("SCAN_ROLE_NAME", "a role"),
                "SCAN_ROLE_NAME: \"a role\" is not an IAM role name",
            ),
        ];
        for ((k, v), expected) in cases {
            let err = Config::from_vars(&vars(&[(k, v)])).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{k}={v}: {err}");
        }
    }
}
