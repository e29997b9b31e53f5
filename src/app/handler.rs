//! The Lambda handler: one event in, one answer out. The CLI's `invoke` runs the same code.

use serde_json::Value;

use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;

use super::config::Config;
use super::connect::{Aws, ConnectError};
use super::event::{Action, EventError, FanIn, Trigger};
use super::fanout::scan_usage_into;
use super::incident::{check_retirement, diagnose_pull_failure};
use super::run::{RunSettings, run};
use crate::act::Deadline;
use crate::limit::Limiter;
use crate::scopes::{Accounts, ScopeList, ScopeSettings};

/// What an invocation returns: a report, a fan-in prune's report (which fails its execution
/// when incomplete), or (the fan-out's first step) the scopes to scan.
#[derive(Debug)]
pub enum Answer {
    Report(Box<Report>),
    FanIn(Box<Report>),
    Scopes(ScopeList),
}

impl Answer {
    /// The report, if this answer is one.
    pub fn into_report(self) -> Result<Box<Report>, ScopeList> {
        match self {
            Answer::Report(r) | Answer::FanIn(r) => Ok(r),
            Answer::Scopes(list) => Err(list),
        }
    }
}

/// Why an invocation could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{0}")]
    Aws(String),
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

/// Handles one event. Only a `prune` (with `DRY_RUN=false`) can delete anything.
pub async fn handle(
    aws: &Aws,
    config: &Config,
    event: &Value,
    now: Timestamp,
    deadline: &Deadline,
) -> Result<Answer, HandleError> {
    let notifier = aws.sns.as_ref();
    let report = match Trigger::parse(event)? {
        Trigger::Run {
            action,
            context,
            fan_in,
        } => {
            let mode = match action {
                Action::Prune => Mode::Prune,
                Action::Plan => Mode::Plan,
                Action::Check => Mode::Check,
            };
            let fanned_in = fan_in.is_some();
            let (settings, scope_settings) = config.run_settings_for(fan_in);
            let scopes = aws.scopes(&scope_settings).await?;
            let context = Some(context);
            let report = run(&scopes, notifier, &settings, mode, context, now, deadline).await;
            if fanned_in {
                return Ok(Answer::FanIn(Box::new(report)));
            }
            report
        }
        Trigger::ScanUsage(request) => scan_usage_into(aws, config, &request, now, deadline)
            .await
            .map_err(HandleError::Aws)?,
        Trigger::ListScopes => {
            let list = aws
                .list_scopes(&config.scopes)
                .await
                .map_err(HandleError::Aws)?;
            return Ok(Answer::Scopes(list));
        }
        Trigger::Retirement(r) => {
            let scopes = aws.scopes(&config.scopes).await?;
            let scan = &config.scan;
            let limit = Limiter::with_ecs_rate(scan.concurrency, scan.ecs_requests_per_second);
            check_retirement(&scopes, notifier, &limit, &r, now).await
        }
        Trigger::PullFailure(p) => {
            let scopes = aws.scopes(&config.scopes).await?;
            diagnose_pull_failure(&scopes, notifier, &p, now).await
        }
        Trigger::Ignored { reason } => {
            tracing::info!(%reason, "event ignored");
            Report::empty(Mode::Ignored, Some(reason))
        }
    };
    Ok(Answer::Report(Box::new(report)))
}

impl Config {
    /// The settings of a scheduled or command-line run.
    pub fn run_settings(&self) -> RunSettings {
        RunSettings {
            policy: self.policy.clone(),
            scan: self.scan.clone(),
            dry_run: self.dry_run,
            guard_tag_prefix: self.guard_tag_prefix.clone(),
            cache: self.cache.clone(),
            memory_limit_mb: self.memory_limit_mb,
            storage_price: self.storage_price,
        }
    }

    /// A run's settings and scopes; a fan-in reads every scope's usage from its documents and
    /// reaches only this account's registries.
    pub fn run_settings_for(&self, fan_in: Option<FanIn>) -> (RunSettings, ScopeSettings) {
        let mut settings = self.run_settings();
        let Some(fan_in) = fan_in else {
            return (settings, self.scopes.clone());
        };
        settings.scan.usage_sources.push(fan_in.documents);
        settings.scan.expected_scopes = fan_in.scopes;
        settings.scan.documents_only = true;
        let home = ScopeSettings {
            accounts: Accounts::This,
            ..self.scopes.clone()
        };
        (settings, home)
    }
}
