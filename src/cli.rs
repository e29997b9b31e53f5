//! The command line and the Lambda entry point: the same binary, the same handler.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_types::retry::RetryConfig;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

use crate::aws::sns::SnsTopic;
use crate::config::Config;
use crate::handler::{handle, metrics_line};
use crate::output::table;
use crate::prune::Deadline;
use crate::report::{Mode, Report};
use crate::run::{RunSettings, Services, run};
use crate::time::Timestamp;

/// Keeps ECR tidy without deleting images that ECS or Lambda still use.
///
/// Configuration comes from environment variables (SNS_TOPIC_ARN, CLUSTERS, REPOSITORIES,
/// KEEP_TAG_PATTERNS, KEEP_RECENT, KEEP_PUSHED_WITHIN_DAYS, KEEP_PULLED_WITHIN_DAYS,
/// ROLLBACK_REVISIONS, DRY_RUN, SCAN_LAMBDA, LAMBDA_VERSIONS, SCAN_CONCURRENCY) and AWS from the
/// standard settings (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...).
#[derive(Debug, Parser)]
#[command(name = "ecr-warden", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what would be kept and deleted, and why. Never deletes.
    Plan,
    /// Delete unused images (only with DRY_RUN=false; otherwise the same as plan).
    Prune,
    /// Verify that every in-use image exists; exit status 1 when one is missing.
    Check,
    /// Show what a repository's own lifecycle policy would do to each image, next to what is in use.
    LifecyclePreview {
        /// The repository.
        repository: String,
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

/// The AWS clients, built from the standard settings.
pub struct Aws {
    pub ecs: aws_sdk_ecs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sns: Option<SnsTopic>,
    pub region: Option<String>,
    pub scan_lambda: bool,
}

impl Aws {
    /// Standard retries (exponential backoff with jitter) with 8 attempts, unless the standard AWS
    /// settings (`AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS`, the profile) say otherwise. Adaptive mode is
    /// not the default: after one throttle its client-side limiter drops to 0.5 requests per
    /// second and climbs back slowly, which can push a large scan past the Lambda time limit.
    pub async fn connect(config: &Config) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let configured = ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if !configured {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(8));
        }
        let sdk: SdkConfig = loader.load().await;
        Aws {
            ecs: aws_sdk_ecs::Client::new(&sdk),
            ecr: aws_sdk_ecr::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            sns: config.sns_topic_arn.as_ref().map(|arn| SnsTopic {
                client: aws_sdk_sns::Client::new(&sdk),
                topic_arn: arn.clone(),
            }),
            region: sdk.region().map(|r| r.to_string()),
            scan_lambda: config.scan_lambda,
        }
    }

    fn services(
        &self,
    ) -> Services<'_, aws_sdk_ecs::Client, aws_sdk_ecr::Client, aws_sdk_lambda::Client, SnsTopic>
    {
        Services {
            ecs: &self.ecs,
            ecr: &self.ecr,
            lambda: self.scan_lambda.then_some(&self.lambda),
            notifier: self.sns.as_ref(),
        }
    }
}

/// Runs the binary: Lambda mode when the Lambda runtime API is present, the CLI otherwise.
pub async fn main() -> ExitCode {
    let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    init_logging(lambda);
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ecr-warden: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if lambda {
        return match lambda_main(config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ecr-warden: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse();
    let aws = Aws::connect(&config).await;
    let now = Timestamp::now();
    let (report, code) = match &cli.command {
        Command::Plan | Command::Prune | Command::Check => {
            let mode = match cli.command {
                Command::Plan => Mode::Plan,
                Command::Prune => Mode::Prune,
                _ => Mode::Check,
            };
            let settings = RunSettings {
                policy: config.policy.clone(),
                scan: config.scan.clone(),
                dry_run: config.dry_run,
                region: aws.region.clone(),
                guard_tag_prefix: config.guard_tag_prefix.clone(),
            };
            let report = run(
                &aws.services(),
                &settings,
                mode,
                Some("command line".into()),
                now,
                &Deadline::none(),
            )
            .await;
            let code = exit_code(&report);
            (report, code)
        }
        Command::LifecyclePreview { repository } => {
            return lifecycle_preview(&aws, &config, repository, cli.output, now).await;
        }
        Command::Invoke { event } => {
            let text = match std::fs::read_to_string(event) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("ecr-warden: cannot read {}: {e}", event.display());
                    return ExitCode::from(2);
                }
            };
            let value: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("ecr-warden: {} is not JSON: {e}", event.display());
                    return ExitCode::from(2);
                }
            };
            match handle(
                &aws.services(),
                &config,
                aws.region.as_deref(),
                &value,
                now,
                &Deadline::none(),
            )
            .await
            {
                Ok(report) => {
                    let code = exit_code(&report);
                    (report, code)
                }
                Err(e) => {
                    eprintln!("ecr-warden: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    // The report is streamed: a large account's JSON report need not exist in memory twice.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match cli.output {
        Output::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        Output::Table => out.write_all(table(&report).as_bytes()),
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        eprintln!("ecr-warden: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    code
}

async fn lifecycle_preview(
    aws: &Aws,
    config: &Config,
    repository: &str,
    output: Output,
    now: Timestamp,
) -> ExitCode {
    let policy = match crate::policy::Policy::new(crate::policy::PolicySettings {
        repositories: vec![repository.to_string()],
        keep_tag_patterns: config.policy.keep_tag_patterns().to_vec(),
        keep_recent: i64::from(config.policy.keep_recent),
        keep_pushed_within_days: i64::from(config.policy.keep_pushed_within_days),
        keep_pulled_within_days: i64::from(config.policy.keep_pulled_within_days),
        rollback_revisions: i64::from(config.policy.rollback_revisions),
    }) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = RunSettings {
        policy,
        scan: config.scan.clone(),
        dry_run: true,
        region: aws.region.clone(),
        guard_tag_prefix: None,
    };
    let (inventory, plan) = crate::run::scan_and_plan(&aws.services(), &settings, now).await;
    let (Some(repo), Some(repo_plan)) = (
        inventory.repositories.get(repository),
        plan.repositories.iter().find(|r| r.name == repository),
    ) else {
        eprintln!("ecr-warden: repository {repository} was not found or could not be listed");
        for gap in &plan.withheld {
            eprintln!("  {gap}");
        }
        return ExitCode::from(2);
    };
    let rows = match crate::lifecycle::preview(repo, repo_plan, now) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("ecr-warden: repository {repository}: {e}");
            return ExitCode::from(2);
        }
    };
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialize")
        ),
        Output::Table => print!(
            "{}",
            crate::output::preview_table(repository, repo.lifecycle_policy.is_some(), &rows)
        ),
    }
    let risky = rows.iter().any(|r| r.in_use && r.lifecycle.is_some());
    if risky || plan.is_withheld() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// 1 when an in-use image is missing or threatened by a lifecycle policy, the scan was incomplete
/// or deletions failed; 0 otherwise.
pub fn exit_code(report: &Report) -> ExitCode {
    let bad =
        report.needs_attention() || report.scan_incomplete || !report.delete_failures.is_empty();
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Leaves this much of the invocation for the last deletion batch, the report and the alert.
const DEADLINE_RESERVE: Duration = Duration::from_secs(20);
/// Lambda responses are limited to 6 MB: lists beyond this many entries are cut.
const RESPONSE_ENTRIES: usize = 2_000;

async fn lambda_main(config: Config) -> Result<(), lambda_runtime::Error> {
    let aws = Aws::connect(&config).await;
    let aws = &aws;
    let config = &config;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| async move {
            let remaining = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            let deadline = Deadline::at(Instant::now() + remaining, DEADLINE_RESERVE);
            let now = Timestamp::now();
            let mut report = handle(
                &aws.services(),
                config,
                aws.region.as_deref(),
                &event.payload,
                now,
                &deadline,
            )
            .await?;
            println!("{}", metrics_line(&report, now));
            report.truncate_lists(RESPONSE_ENTRIES);
            Ok::<Report, lambda_runtime::Error>(report)
        },
    ))
    .await
}

fn init_logging(lambda: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if lambda {
        builder.json().without_time().init();
    } else {
        use std::io::IsTerminal;
        builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}
