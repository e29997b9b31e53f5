//! Usage documents (`USAGE_SOURCES`): what ecr-warden cannot scan itself (EKS, other platforms, CI)
//! says it uses, from local files, S3 objects, or every object under an S3 prefix. A document
//! that cannot be read, is malformed, is older than `USAGE_MAX_AGE_HOURS` or says its own scan
//! was incomplete is a gap: what it would have protected is unknown. Read once per run, with this
//! account's credentials; a document `scan-usage` wrote for an account and region stands for
//! scanning it, and a fan-in needs one for every scope it expects.

use futures_util::future::join_all;

use ecr_warden_core::document::UsageDocument;
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Origin, ScanGap, Usage};

use super::Scope;
use crate::aws::AwsError;
use crate::aws::s3::S3Api;

/// A document's text, its time, and where it was read.
struct Read {
    location: String,
    text: String,
    modified: Option<Timestamp>,
}

/// Reads every configured document (an S3 prefix expands to every object under it).
pub async fn scan<S: S3Api>(s3: &S, scope: &Scope<'_>) -> Usage {
    let settings = scope.settings;
    let read = join_all(
        settings
            .usage_sources
            .iter()
            .map(|l| read_location(s3, scope, l)),
    )
    .await;
    let mut usage = Usage::default();
    let mut covered: Vec<Origin> = Vec::new();
    for result in read {
        match result {
            Err(gap) => usage.gaps.push(gap),
            Ok(documents) => {
                for d in documents {
                    let (used, scope) = use_document(d, settings.usage_max_age_hours, scope.now);
                    usage.merge(used);
                    covered.extend(scope);
                }
            }
        }
    }
    // A fan-in: every scope it expects needs a complete, fresh document of its own.
    for expected in settings
        .expected_scopes
        .iter()
        .filter(|e| !covered.contains(e))
    {
        usage.gaps.push(ScanGap::new(
            "read usage documents",
            expected.to_string(),
            "no complete, fresh usage document for this account and region: its scan failed or did not run",
        ));
    }
    usage
}

/// One document's uses, or the gap it is; and the scope it stands for, when it is a complete and
/// fresh document of one account and region.
fn use_document(d: Read, max_age_hours: u32, now: Timestamp) -> (Usage, Option<Origin>) {
    match UsageDocument::parse(&d.location, &d.text, d.modified) {
        Ok(doc) => {
            let scope = match (&doc.account, &doc.region, doc.complete) {
                (Some(account), Some(region), true) => Some(Origin {
                    account: account.clone(),
                    region: region.clone(),
                }),
                _ => None,
            };
            let usage = doc.into_usage(&d.location, max_age_hours, now);
            let scope = scope.filter(|_| usage.gaps.is_empty());
            (usage, scope)
        }
        Err(e) => {
            let gap = ScanGap::new("read usage document", d.location, e.to_string());
            (
                Usage {
                    gaps: vec![gap],
                    ..Usage::default()
                },
                None,
            )
        }
    }
}

/// The documents at one location: a file, an S3 object, or every object under an S3 prefix.
async fn read_location<S: S3Api>(
    s3: &S,
    scope: &Scope<'_>,
    location: &str,
) -> Result<Vec<Read>, ScanGap> {
    let Some(path) = location.strip_prefix("s3://") else {
        return read_file(location).map(|r| vec![r]);
    };
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let keys = if key.is_empty() || key.ends_with('/') {
        let keys = scope
            .limit
            .call(s3.list_keys(bucket, key))
            .await
            .map_err(ScanGap::from)?;
        if keys.is_empty() {
            return Err(ScanGap::new(
                "read usage documents",
                location,
                "no object under this prefix: the documents that should be there are missing",
            ));
        }
        keys
    } else {
        vec![key.to_string()]
    };
    let objects = join_all(
        keys.iter()
            .map(|k| scope.limit.call(s3.get_text(bucket, k))),
    )
    .await;
    keys.iter()
        .zip(objects)
        .map(|(k, o)| {
            let o = o.map_err(|e: AwsError| ScanGap::from(e))?;
            Ok(Read {
                location: format!("s3://{bucket}/{k}"),
                text: o.text,
                modified: o.last_modified,
            })
        })
        .collect()
}

fn read_file(path: &str) -> Result<Read, ScanGap> {
    let gap = |e: std::io::Error| ScanGap::new("read usage document", path, e.to_string());
    let text = std::fs::read_to_string(path).map_err(gap)?;
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Timestamp(d.as_secs() as i64));
    Ok(Read {
        location: path.to_string(),
        text,
        modified,
    })
}
