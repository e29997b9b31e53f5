//! `lifecycle-preview REPOSITORY`: what the repository's own lifecycle policy would do to each
//! image, next to what is in use. The repository is looked up first, so a name that does not
//! exist fails at once, before the usage scan.

use std::process::ExitCode;

use ecr_warden_core::policy::{Policy, PolicyError, PolicySettings};
use ecr_warden_core::preview::preview;

use super::Output;
use crate::act::Deadline;
use crate::app::config::Config;
use crate::app::connect::Aws;
use crate::app::output::preview_table;
use crate::app::run::{RunSettings, scan_and_plan};
use crate::aws::ecr::EcrApi;
use crate::scopes::Scopes;

/// Shows the preview; exit status 1 when the policy would remove an image in use (or the scan
/// was incomplete), 2 when there is no such repository.
pub async fn lifecycle_preview(
    aws: &Aws,
    config: &Config,
    repository: &str,
    output: Output,
) -> ExitCode {
    let now = crate::app::now();
    let settings = match settings_for(config, repository) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            return ExitCode::from(2);
        }
    };
    let scopes = match aws.scopes(&config.scopes).await {
        Ok(scopes) => scopes,
        Err(e) => {
            eprintln!("ecr-warden: {e}");
            return e.exit_code();
        }
    };
    if let Err((message, code)) = find(&scopes, repository).await {
        eprintln!("ecr-warden: {message}");
        return code;
    }
    let planned = scan_and_plan(&scopes, &settings, now, &Deadline::none()).await;
    // The first region whose registry has the repository.
    let found = planned.iter().find_map(|p| {
        let repo = p.inventory.repositories.get(repository)?;
        let plan = p.plan.repositories.iter().find(|r| r.name == repository)?;
        Some((repo, plan, &p.plan))
    });
    let Some((repo, repo_plan, plan)) = found else {
        eprintln!("ecr-warden: repository {repository} could not be listed");
        for gap in planned.iter().flat_map(|p| &p.plan.withheld) {
            eprintln!("  {gap}");
        }
        return ExitCode::FAILURE;
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

/// The run's settings with only this repository managed, never deleting.
fn settings_for(config: &Config, repository: &str) -> Result<RunSettings, PolicyError> {
    let policy = Policy::new(PolicySettings {
        repositories: vec![repository.to_string()],
        keep_tag_patterns: config.policy.keep_tag_patterns().to_vec(),
        keep_recent: i64::from(config.policy.keep_recent),
        keep_pushed_within_days: i64::from(config.policy.keep_pushed_within_days),
        keep_pulled_within_days: i64::from(config.policy.keep_pulled_within_days),
        rollback_revisions: i64::from(config.policy.rollback_revisions),
    })?;
    Ok(RunSettings {
        policy,
        dry_run: true,
        guard_tag_prefix: None,
        ..config.run_settings()
    })
}

/// Whether a managed registry holds the repository, before anything is scanned.
async fn find(scopes: &Scopes, repository: &str) -> Result<(), (String, ExitCode)> {
    for home in &scopes.home {
        let names = (home.clients.ecr.list_repositories().await).map_err(|e| {
            let message = format!("cannot list the repositories: {e}");
            (message, ExitCode::FAILURE)
        })?;
        if names.iter().any(|n| n == repository) {
            return Ok(());
        }
    }
    let regions: Vec<&str> = scopes
        .home
        .iter()
        .map(|h| h.origin.region.as_str())
        .collect();
    let account = scopes
        .home
        .first()
        .map_or("?", |h| h.origin.account.as_str());
    let message = format!(
        "there is no repository {repository} in {} (account {account})",
        regions.join(", ")
    );
    Err((message, ExitCode::from(2)))
}
