//! The command line's arguments. Every setting is a flag that also reads its environment variable
//! (the Lambda function reads the same variables), with its default shown in `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keeps ECR tidy without deleting images that anything still uses, and says when an image a
/// workload needs is gone.
///
/// AWS access comes from the standard settings (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, …).
/// Logs go to stderr (RUST_LOG=debug for more), the report to stdout. Exit status: 0 all is well;
/// 1 an in-use image is missing or threatened, the scan was incomplete or a deletion failed;
/// 2 a configuration error, a malformed event, or a prune with no one to ask and no --yes.
#[derive(Debug, Parser)]
#[command(name = "ecr-warden", version, max_term_width = 110)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
    /// Finish the whole run within this many seconds: a scan that cannot finish in time stops and
    /// deletes nothing; deletions stop when a tenth of the time (at most 20 s) is left.
    #[arg(long, env = "RUN_DEADLINE_SECONDS", value_name = "SECONDS", global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub deadline: Option<u64>,
    /// Only report: delete nothing (DRY_RUN=true does the same).
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Delete without asking (DRY_RUN=false does the same).
    #[arg(long, short = 'y', global = true, conflicts_with = "dry_run")]
    pub yes: bool,
    /// Publish the run's alert to SNS_TOPIC_ARN, as the Lambda function always does. Without it,
    /// the command line never pages anyone.
    #[arg(long, global = true)]
    pub alert: bool,
    /// Show progress as log lines and AWS errors in full.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what would be kept and deleted, and why. Never deletes.
    Plan,
    /// Delete unused images. On a terminal it shows the plan and asks first; elsewhere it needs
    /// --yes (or DRY_RUN=false).
    Prune,
    /// Verify that every in-use image exists; exit status 1 when one is missing.
    Check,
    /// Show what a repository's own lifecycle policy would do to each image, next to what is in
    /// use; exit status 1 when it would remove an image in use, 2 when there is no such
    /// repository.
    LifecyclePreview {
        /// The repository.
        repository: String,
    },
    /// Scan one account and region into a usage document, for a prune that reads every scope's
    /// document (USAGE_SOURCES); exit status 1 when the scan missed something. Never deletes.
    ScanUsage {
        /// The account (12 digits): this one, or another through the scan role.
        #[arg(long)]
        account: String,
        /// The region.
        #[arg(long)]
        region: String,
        /// Where to write the document: a path or s3://bucket/key.
        #[arg(long)]
        out: String,
    },
    /// Run the Lambda handler on an event file, exactly as Lambda would.
    Invoke {
        /// A JSON event (see events/).
        #[arg(long)]
        event: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// The settings, each a flag and an environment variable (the flag wins).
#[derive(Debug, Args)]
#[command(next_help_heading = "Settings (each also read from the variable named)")]
pub struct Settings {
    /// SNS topic for alerts (published from here only with --alert).
    #[arg(long, env = "SNS_TOPIC_ARN", value_name = "ARN", global = true)]
    pub sns_topic_arn: Option<String>,
    /// ECS clusters to scan, comma-separated names or ARNs [default: every cluster]
    #[arg(long, env = "CLUSTERS", value_name = "LIST", global = true)]
    pub clusters: Option<String>,
    /// Repositories to manage, comma-separated globs (team-a/*) [default: every repository]
    #[arg(long, env = "REPOSITORIES", value_name = "GLOBS", global = true)]
    pub repositories: Option<String>,
    /// Tag globs whose images are always kept (release-*)
    #[arg(long, env = "KEEP_TAG_PATTERNS", value_name = "GLOBS", global = true)]
    pub keep_tag_patterns: Option<String>,
    /// Keep the N most recently pushed images of each repository
    #[arg(
        long,
        env = "KEEP_RECENT",
        value_name = "N",
        default_value = "10",
        global = true
    )]
    pub keep_recent: String,
    /// Keep images pushed within D days (0: off)
    #[arg(
        long,
        env = "KEEP_PUSHED_WITHIN_DAYS",
        value_name = "D",
        default_value = "14",
        global = true
    )]
    pub keep_pushed_within_days: String,
    /// Keep images pulled within D days (0: off)
    #[arg(
        long,
        env = "KEEP_PULLED_WITHIN_DAYS",
        value_name = "D",
        default_value = "30",
        global = true
    )]
    pub keep_pulled_within_days: String,
    /// Older task-definition revisions kept per family for rollback
    #[arg(
        long,
        env = "ROLLBACK_REVISIONS",
        value_name = "N",
        default_value = "1",
        global = true
    )]
    pub rollback_revisions: String,
    /// Kinds of consumer to scan; one left out is reported as not scanned
    #[arg(
        long,
        env = "SCAN_SOURCES",
        value_name = "LIST",
        global = true,
        default_value = "ecs,lambda,eventbridge,scheduler,batch,apprunner"
    )]
    pub scan_sources: String,
    /// false leaves lambda out of --scan-sources
    #[arg(
        long,
        env = "SCAN_LAMBDA",
        value_name = "BOOL",
        default_value = "true",
        global = true
    )]
    pub scan_lambda: String,
    /// Newest published versions kept per Lambda function, besides $LATEST and aliased ones
    #[arg(
        long,
        env = "LAMBDA_VERSIONS",
        value_name = "N",
        default_value = "3",
        global = true
    )]
    pub lambda_versions: String,
    /// AWS calls in flight at once (1-64)
    #[arg(
        long,
        env = "SCAN_CONCURRENCY",
        value_name = "N",
        default_value = "8",
        global = true
    )]
    pub scan_concurrency: String,
    /// ECS calls per second per throttling category, account and region, after its burst (0: no limit)
    #[arg(
        long,
        env = "ECS_REQUESTS_PER_SECOND",
        value_name = "N",
        default_value = "20",
        global = true
    )]
    pub ecs_requests_per_second: String,
    /// Tag every in-use digest with this prefix plus 12 hex digits of it [default: off]
    #[arg(long, env = "GUARD_TAG_PREFIX", value_name = "PREFIX", global = true)]
    pub guard_tag_prefix: Option<String>,
    /// Usage documents: file paths, s3://bucket/key or s3://bucket/prefix/, comma-separated
    #[arg(long, env = "USAGE_SOURCES", value_name = "LIST", global = true)]
    pub usage_sources: Option<String>,
    /// A usage document older than this stops deletion (1-8760)
    #[arg(
        long,
        env = "USAGE_MAX_AGE_HOURS",
        value_name = "H",
        default_value = "48",
        global = true
    )]
    pub usage_max_age_hours: String,
    /// Other accounts to scan: 12-digit ids, or "organization" [default: this account only]
    #[arg(long, env = "ACCOUNTS", value_name = "LIST", global = true)]
    pub accounts: Option<String>,
    /// Regions to scan in every account, and whose registries are managed [default: AWS_REGION]
    #[arg(long, env = "REGIONS", value_name = "LIST", global = true)]
    pub regions: Option<String>,
    /// The role assumed in other accounts
    #[arg(
        long,
        env = "SCAN_ROLE_NAME",
        value_name = "NAME",
        default_value = "ecr-warden-scan",
        global = true
    )]
    pub scan_role_name: String,
    /// The external id the scan role requires, if any
    #[arg(
        long,
        env = "SCAN_ROLE_EXTERNAL_ID",
        value_name = "ID",
        hide_env_values = true,
        global = true
    )]
    pub scan_role_external_id: Option<String>,
    /// Where answers that never change are kept: a path, s3://bucket/key, or off
    /// [default: $XDG_CACHE_HOME/ecr-warden/cache.json or ~/.cache/ecr-warden/cache.json]
    #[arg(long, env = "CACHE_URI", value_name = "URI", global = true)]
    pub cache_uri: Option<String>,
    /// ECR storage price, US dollars per GB-month, for the monthly saving
    #[arg(
        long,
        env = "STORAGE_PRICE_PER_GB_MONTH",
        value_name = "USD",
        default_value = "0.10",
        global = true
    )]
    pub storage_price_per_gb_month: String,
}

impl Settings {
    /// Every setting given (by flag, variable or default), as the variable it stands for.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        let optional = [
            ("SNS_TOPIC_ARN", &self.sns_topic_arn),
            ("CLUSTERS", &self.clusters),
            ("REPOSITORIES", &self.repositories),
            ("KEEP_TAG_PATTERNS", &self.keep_tag_patterns),
            ("GUARD_TAG_PREFIX", &self.guard_tag_prefix),
            ("USAGE_SOURCES", &self.usage_sources),
            ("ACCOUNTS", &self.accounts),
            ("REGIONS", &self.regions),
            ("SCAN_ROLE_EXTERNAL_ID", &self.scan_role_external_id),
            ("CACHE_URI", &self.cache_uri),
        ];
        let given = [
            ("KEEP_RECENT", &self.keep_recent),
            ("KEEP_PUSHED_WITHIN_DAYS", &self.keep_pushed_within_days),
            ("KEEP_PULLED_WITHIN_DAYS", &self.keep_pulled_within_days),
            ("ROLLBACK_REVISIONS", &self.rollback_revisions),
            ("SCAN_SOURCES", &self.scan_sources),
            ("SCAN_LAMBDA", &self.scan_lambda),
            ("LAMBDA_VERSIONS", &self.lambda_versions),
            ("SCAN_CONCURRENCY", &self.scan_concurrency),
            ("ECS_REQUESTS_PER_SECOND", &self.ecs_requests_per_second),
            ("USAGE_MAX_AGE_HOURS", &self.usage_max_age_hours),
            ("SCAN_ROLE_NAME", &self.scan_role_name),
            (
                "STORAGE_PRICE_PER_GB_MONTH",
                &self.storage_price_per_gb_month,
            ),
        ];
        let optional = optional
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.clone()?)));
        let given = given.into_iter().map(|(k, v)| (k, v.clone()));
        optional.chain(given).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use clap::{CommandFactory, Parser};

    use super::Cli;
    use crate::app::cli::configure;
    use crate::app::config::VARIABLES;

    #[test]
    fn help_names_every_variable_with_its_default() {
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for variable in VARIABLES.iter().filter(|v| **v != "DRY_RUN") {
            assert!(
                help.contains(&format!("[env: {variable}")),
                "{variable} missing from --help"
            );
        }
        assert!(help.contains("[default: 20]"), "{help}");
        assert!(help.contains("--dry-run") && help.contains("--yes") && help.contains("--alert"));
    }

    #[test]
    fn the_flags_defaults_are_the_configurations_and_flags_win_over_variables() {
        let cli = Cli::try_parse_from(["ecr-warden", "plan"]).unwrap();
        let from_flags = configure(&cli, HashMap::new()).unwrap();
        let alone = crate::app::config::Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(format!("{from_flags:?}"), format!("{alone:?}"));

        let vars = HashMap::from([("KEEP_RECENT".to_string(), "3".to_string())]);
        let cli = Cli::try_parse_from(["ecr-warden", "plan", "--keep-recent", "5", "--dry-run"]);
        let config = configure(&cli.unwrap(), vars).unwrap();
        assert_eq!(config.policy.keep_recent, 5);
        assert!(config.dry_run);
        let cli = Cli::try_parse_from(["ecr-warden", "prune", "--yes"]).unwrap();
        assert!(!configure(&cli, HashMap::new()).unwrap().dry_run);
    }
}
