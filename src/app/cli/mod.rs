//! The command line: the same binary as the Lambda function, the same handler. Parses the command
//! and its settings (flags over environment variables), runs it, prints the report, and turns the
//! outcome into an exit status in one place.
//!
//! - `args`: the commands, flags and settings.
//! - `consent`: whether a prune may delete, and asking on a terminal.
//! - `preview`: the `lifecycle-preview` command.

mod args;
mod consent;
mod preview;

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use serde_json::Value;

use ecr_warden_core::report::{Mode, Report, human_bytes};
use ecr_warden_core::time::Timestamp;

pub use args::{Cli, Command, Output, Settings};

use super::config::{Config, ConfigError};
use super::connect::Aws;
use super::event::ScanUsage;
use super::fanout::scan_usage_into;
use super::handler::{Answer, HandleError, handle};
use super::output::{COMMAND_LINE, outcome_table, table};
use super::run::{Scanned, finish, run};
use crate::act::Deadline;
use consent::Consent;

/// A command's failure before it has a report: what to say, and the exit status.
type Failure = (String, ExitCode);

/// Runs one command and returns the process's exit status.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    if !cli.verbose && std::io::stderr().is_terminal() {
        crate::progress::use_bars();
    }
    super::init_logging(false, cli.verbose);
    let config = match configure(&cli, std::env::vars().collect()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ecr-warden: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let consent = match &cli.command {
        Command::Prune => match Consent::of(&cli, std::io::stdin().is_terminal()) {
            Ok(consent) => consent,
            Err(e) => {
                eprintln!("ecr-warden: {e}");
                return ExitCode::from(2);
            }
        },
        _ => Consent::Given,
    };
    let aws = match Aws::connect(&config).await {
        Ok(aws) if cli.alert => aws,
        Ok(aws) => aws.without_alerts(),
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            return e.exit_code();
        }
    };
    let answer = match (&cli.command, consent) {
        (Command::Prune, Consent::Ask) => return prune_asking(&aws, &config, &cli).await,
        (Command::LifecyclePreview { repository }, _) => {
            return preview::lifecycle_preview(&aws, &config, repository, cli.output).await;
        }
        (command, _) => answer(&aws, &config, &cli, command).await,
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
    print_report(&report, cli.output)
}

/// The configuration: the environment, with the flags over it (`--dry-run` and `--yes` set
/// `DRY_RUN`).
pub fn configure(cli: &Cli, mut vars: HashMap<String, String>) -> Result<Config, ConfigError> {
    let flags = cli.settings.variables().into_iter();
    vars.extend(flags.map(|(k, v)| (k.to_string(), v)));
    if cli.dry_run {
        vars.insert("DRY_RUN".into(), "true".into());
    } else if cli.yes {
        vars.insert("DRY_RUN".into(), "false".into());
    }
    Config::from_vars(&vars)
}

/// Runs a command that needs no question.
async fn answer(
    aws: &Aws,
    config: &Config,
    cli: &Cli,
    command: &Command,
) -> Result<Answer, Failure> {
    let now = super::now();
    let deadline = cli.deadline();
    match command {
        Command::Plan => scan(aws, config, Mode::Plan, now, &deadline).await,
        Command::Prune => scan(aws, config, Mode::Prune, now, &deadline).await,
        Command::Check => scan(aws, config, Mode::Check, now, &deadline).await,
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
            (scan_usage_into(aws, config, &request, now, &deadline).await)
                .map(|r| Answer::Report(Box::new(r)))
                .map_err(|e| (e, ExitCode::FAILURE))
        }
        Command::Invoke { event } => invoke(aws, config, event, now, &deadline).await,
        Command::LifecyclePreview { .. } => unreachable!("answered on its own"),
    }
}

/// A scheduled-style run from the command line.
async fn scan(
    aws: &Aws,
    config: &Config,
    mode: Mode,
    now: Timestamp,
    deadline: &Deadline,
) -> Result<Answer, Failure> {
    let settings = config.run_settings();
    let context = Some(COMMAND_LINE.into());
    let scopes = (aws.scopes(&config.scopes).await).map_err(|e| (e.to_string(), e.exit_code()))?;
    let notifier = aws.sns.as_ref();
    let report = run(&scopes, notifier, &settings, mode, context, now, deadline).await;
    Ok(Answer::Report(Box::new(report)))
}

/// A prune on a terminal: the plan, the question, and the deletions only after a yes.
async fn prune_asking(aws: &Aws, config: &Config, cli: &Cli) -> ExitCode {
    let (now, deadline) = (super::now(), cli.deadline());
    let mut settings = config.run_settings();
    settings.dry_run = false;
    let scopes = match aws.scopes(&config.scopes).await {
        Ok(scopes) => scopes,
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            return e.exit_code();
        }
    };
    let scanned = Scanned::of(&scopes, &settings, now, &deadline).await;
    let context = Some(COMMAND_LINE.to_string());
    let plan = scanned.preview(&settings, context.clone());
    let count = plan.summary.planned_deletions;
    if let Err(e) = write_report(&plan, cli.output) {
        eprintln!("ecr-warden: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    let question = format!(
        "Delete {count} image(s) ({})?",
        human_bytes(plan.summary.bytes_to_delete)
    );
    let yes = count > 0 && !plan.deletions_withheld && consent::ask(&question);
    settings.dry_run = !yes;
    let notifier = aws.sns.as_ref();
    let report = finish(
        scanned,
        notifier,
        &settings,
        Mode::Prune,
        context,
        &deadline,
    )
    .await;
    if !yes {
        eprintln!("Nothing deleted.");
        return exit_code(&report);
    }
    match cli.output {
        Output::Table => print!("{}", outcome_table(&report)),
        Output::Json => {
            let _ = write_report(&report, Output::Json);
        }
    }
    exit_code(&report)
}

/// Runs the Lambda handler on an event file.
async fn invoke(
    aws: &Aws,
    config: &Config,
    event: &Path,
    now: Timestamp,
    deadline: &Deadline,
) -> Result<Answer, Failure> {
    let bad = |e: String| (e, ExitCode::from(2));
    let text = std::fs::read_to_string(event)
        .map_err(|e| bad(format!("cannot read {}: {e}", event.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{} is not JSON: {e}", event.display())))?;
    handle(aws, config, &value, now, deadline)
        .await
        .map_err(|e| match e {
            HandleError::Event(e) => bad(e.to_string()),
            HandleError::Connect(e) => (e.to_string(), e.exit_code()),
            HandleError::Aws(e) => (e, ExitCode::FAILURE),
        })
}

/// Prints the report and gives the exit status it calls for.
fn print_report(report: &Report, output: Output) -> ExitCode {
    if let Err(e) = write_report(report, output) {
        eprintln!("ecr-warden: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    exit_code(report)
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

impl Cli {
    fn deadline(&self) -> Deadline {
        match self.deadline {
            Some(seconds) => Deadline::within(std::time::Duration::from_secs(seconds)),
            None => Deadline::none(),
        }
    }
}
