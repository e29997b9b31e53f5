//! The command line: the same binary as the Lambda function, the same handler. Parses the command,
//! runs it, prints the report, and turns the outcome into an exit status in one place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

use ecr_warden_core::policy::{Policy, PolicySettings};
use ecr_warden_core::preview::preview;
use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;

use super::config::Config;
use super::connect::Aws;
use super::event::ScanUsage;
use super::fanout::scan_usage_into;
use super::handler::{Answer, HandleError, handle};
use super::output::{preview_table, table};
use super::run::{run, scan_and_plan};
use crate::act::Deadline;

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
    /// Finish the whole run within this many seconds: a scan that cannot finish in time stops and
    /// deletes nothing; deletions stop when a tenth of the time (at most 20 s) is left.
    #[arg(long, env = "RUN_DEADLINE_SECONDS", value_name = "SECONDS", global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub deadline: Option<u64>,
}

impl Cli {
    fn deadline(&self) -> Deadline {
        match self.deadline {
            Some(seconds) => Deadline::within(std::time::Duration::from_secs(seconds)),
            None => Deadline::none(),
        }
    }
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

/// Runs one command and returns the process's exit status.
pub async fn main(config: Config) -> ExitCode {
    let cli = Cli::parse();
    let aws = match Aws::connect(&config).await {
        Ok(aws) => aws,
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            return ExitCode::FAILURE;
        }
    };
    let now = super::now();
    let deadline = cli.deadline();
    let answer = match &cli.command {
        Command::Plan => scan(&aws, &config, Mode::Plan, now, &deadline).await,
        Command::Prune => scan(&aws, &config, Mode::Prune, now, &deadline).await,
        Command::Check => scan(&aws, &config, Mode::Check, now, &deadline).await,
        Command::LifecyclePreview { repository } => {
            return lifecycle_preview(&aws, &config, repository, cli.output, now).await;
        }
        Command::ScanUsage {
            account,
            region,
            out,
        } => {
            let request = ScanUsage {
                account: account.clone(),
                region: region.clone(),
                out: out.clone(),
            };
            (scan_usage_into(&aws, &config, &request, now, &deadline).await)
                .map(|r| Answer::Report(Box::new(r)))
                .map_err(|e| (e, ExitCode::FAILURE))
        }
        Command::Invoke { event } => invoke(&aws, &config, event, now, &deadline).await,
    };
    let report = match answer.map(Answer::into_report) {
        Ok(Ok(report)) => report,
        Ok(Err(list)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&list).expect("scopes serialize")
            );
            return ExitCode::SUCCESS;
        }
        Err((message, code)) => {
            eprintln!("ecr-warden: {message}");
            return code;
        }
    };
    if let Err(e) = write_report(&report, cli.output) {
        eprintln!("ecr-warden: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    exit_code(&report)
}

/// A scheduled-style run from the command line.
async fn scan(
    aws: &Aws,
    config: &Config,
    mode: Mode,
    now: Timestamp,
    deadline: &Deadline,
) -> Result<Answer, (String, ExitCode)> {
    let settings = config.run_settings();
    let context = Some(super::output::COMMAND_LINE.into());
    let scopes = (aws.scopes(&config.scopes).await).map_err(|e| (e, ExitCode::FAILURE))?;
    let notifier = aws.sns.as_ref();
    let report = run(&scopes, notifier, &settings, mode, context, now, deadline).await;
    Ok(Answer::Report(Box::new(report)))
}

/// Runs the Lambda handler on an event file.
async fn invoke(
    aws: &Aws,
    config: &Config,
    event: &Path,
    now: Timestamp,
    deadline: &Deadline,
) -> Result<Answer, (String, ExitCode)> {
    let bad = |e: String| (e, ExitCode::from(2));
    let text = std::fs::read_to_string(event)
        .map_err(|e| bad(format!("cannot read {}: {e}", event.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{} is not JSON: {e}", event.display())))?;
    handle(aws, config, &value, now, deadline)
        .await
        .map_err(|e| match e {
            HandleError::Event(e) => bad(e.to_string()),
            HandleError::Aws(e) => (e, ExitCode::FAILURE),
        })
}

/// Prints the report. It is streamed: a large account's JSON report need not exist in memory
/// twice.
fn write_report(report: &Report, output: Output) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match output {
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, report).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        Output::Table => out.write_all(table(report).as_bytes())?,
    }
    out.flush()
}

/// Shows what a repository's lifecycle policy would do, next to what is in use.
async fn lifecycle_preview(
    aws: &Aws,
    config: &Config,
    repository: &str,
    output: Output,
    now: Timestamp,
) -> ExitCode {
    let policy = match Policy::new(PolicySettings {
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
    let settings = super::run::RunSettings {
        policy,
        dry_run: true,
        guard_tag_prefix: None,
        ..config.run_settings()
    };
    let scopes = match aws.scopes(&config.scopes).await {
        Ok(scopes) => scopes,
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            return ExitCode::FAILURE;
        }
    };
    let planned = scan_and_plan(&scopes, &settings, now, &Deadline::none()).await;
    // The first region whose registry has the repository.
    let found = planned.iter().find_map(|p| {
        let repo = p.inventory.repositories.get(repository)?;
        let plan = p.plan.repositories.iter().find(|r| r.name == repository)?;
        Some((repo, plan, &p.plan))
    });
    let Some((repo, repo_plan, plan)) = found else {
        eprintln!("ecr-warden: repository {repository} was not found or could not be listed");
        for gap in planned.iter().flat_map(|p| &p.plan.withheld) {
            eprintln!("  {gap}");
        }
        return ExitCode::from(2);
    };
    let rows = match preview(repo, repo_plan, now) {
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
            preview_table(repository, repo.lifecycle_policy.is_some(), &rows)
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
/// or deletions failed (refused, or the call itself); 0 otherwise.
pub fn exit_code(report: &Report) -> ExitCode {
    let bad = report.needs_attention()
        || report.scan_incomplete
        || !report.delete_failures.is_empty()
        || !report.delete_errors.is_empty();
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
