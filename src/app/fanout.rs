//! One scope's usage into a document (`scan-usage`): the fan-out's step, run by Step Functions for
//! every account-region, or by hand. It scans the account and region (through the scan role when
//! it is not this account), writes the document `USAGE_SOURCES` reads, marked incomplete with
//! the gaps when the scan missed something, and never deletes.

use ecr_warden_core::document::UsageDocument;
use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Origin, ScanGap, Usage};

use super::config::Config;
use super::connect::Aws;
use super::event::ScanUsage;
use crate::act::Deadline;
use crate::aws::s3::S3Api;
use crate::cache::Cache;
use crate::scopes::{Accounts, ScopeSettings};
use crate::sources::scan_usage;

/// Scans one scope and writes its document; the report says what was written, and is incomplete
/// (exit status 1, a failed invocation) when the scan or the write was.
pub async fn scan_usage_into(
    aws: &Aws,
    config: &Config,
    request: &ScanUsage,
    now: Timestamp,
    deadline: &Deadline,
) -> Result<Report, String> {
    let origin = Origin {
        account: request.account.clone(),
        region: request.region.clone(),
    };
    let one = ScopeSettings {
        accounts: Accounts::List(vec![request.account.clone()]),
        regions: vec![request.region.clone()],
        ..config.scopes.clone()
    };
    let scopes = aws.scopes(&one).await.map_err(|e| e.to_string())?;
    let s3 = &scopes.home[0].clients.s3;
    let (cache, load_warning) = Cache::load(&config.cache, s3).await;
    let mut settings = config.scan.clone();
    settings.usage_sources.clear();
    settings.expected_scopes.clear();
    let usage = match scopes.find(&origin.account, &origin.region) {
        Some(scope) => {
            let scanning = scan_usage(scope, &cache, &settings, now);
            match deadline.scan_budget() {
                None => scanning.await,
                Some(budget) => (tokio::time::timeout(budget, scanning).await)
                    .unwrap_or_else(|_| out_of_time(&origin, budget.as_secs())),
            }
        }
        None => Usage {
            gaps: scopes.unreachable.clone(),
            ..Usage::default()
        },
    };
    let save_warning = cache.save(s3).await;
    let document = UsageDocument::of_scan(&origin, &usage, now);
    let written = write(s3, &request.out, &document).await;
    let mut report = Report::empty(Mode::ScanUsage, Some(format!("usage of {origin}")));
    report
        .warnings
        .extend(load_warning.into_iter().chain(save_warning));
    report
        .errors
        .extend(document.gaps.iter().map(ToString::to_string));
    report.scan_incomplete = !document.complete;
    match written {
        Ok(()) => report.notes.push(format!(
            "wrote {}: {} image reference(s), {}",
            request.out,
            document.images.len(),
            if document.complete {
                "complete"
            } else {
                "incomplete: a prune that reads it deletes nothing it could concern"
            }
        )),
        Err(e) => {
            report.scan_incomplete = true;
            report
                .errors
                .push(format!("could not write {}: {e}", request.out));
        }
    }
    Ok(report)
}

fn out_of_time(origin: &Origin, seconds: u64) -> Usage {
    Usage {
        gaps: vec![ScanGap::new(
            "the scan",
            origin.to_string(),
            format!(
                "not finished in the {seconds} s it had: raise the function's Timeout or narrow CLUSTERS"
            ),
        )],
        ..Usage::default()
    }
}

/// Writes the document to a file or an S3 object.
async fn write<S: S3Api>(s3: &S, out: &str, document: &UsageDocument) -> Result<(), String> {
    let text = serde_json::to_string_pretty(document).expect("a document serializes");
    match out.strip_prefix("s3://") {
        Some(path) => {
            let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
            if bucket.is_empty() || key.is_empty() || key.ends_with('/') {
                return Err("name an object: s3://bucket/key".into());
            }
            s3.put_text(bucket, key, text)
                .await
                .map_err(|e| e.to_string())
        }
        None => {
            let path = std::path::Path::new(out);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            tokio::fs::write(path, text)
                .await
                .map_err(|e| e.to_string())
        }
    }
}
