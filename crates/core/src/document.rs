//! Usage documents: the images something ecr-warden cannot scan itself uses (EKS, other platforms,
//! CI), written by that platform and read from a file or S3. Either JSON
//!
//! ```json
//! {"source": "eks/prod", "generated_at": "2026-11-23T03:00:00Z", "images": ["<image reference>"]}
//! ```
//!
//! or plain text with one image reference per line (blank lines and `#` comments are skipped),
//! whose time is the file's. References take every form a pod reports: tag, digest,
//! `repo:tag@sha256:…`, and a `docker-pullable://` prefix. A document written by `ecr-warden
//! scan-usage` also names its scope (`account`, `region`) and says whether it is `complete`.
//!
//! A document that is older than the allowed age, incomplete, or cannot be read is a gap: what it
//! would have said is unknown, so nothing is deleted.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;
use crate::usage::{Consumer, Hold, Origin, ScanGap, Usage, Use};

/// One usage document, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageDocument {
    /// Who wrote it (`eks/prod`); plain-text documents are named by their location.
    pub source: String,
    pub generated_at: Timestamp,
    pub images: Vec<String>,
    /// The account and region it describes (documents written by `scan-usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// False when the scan that wrote it missed something; `gaps` says what.
    #[serde(default = "complete")]
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<ScanGap>,
    /// Repositories something uses an unknown digest of (nothing in them is deleted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<Hold>,
}

fn complete() -> bool {
    true
}

/// Why a document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error(
        "not a usage document: {0} (expected JSON {{\"source\", \"generated_at\", \"images\"}} or one image reference per line)"
    )]
    Json(String),
    #[error("a plain-text usage document needs a time: none was known for it")]
    NoTime,
    #[error("line {line}: {text:?} is not an image reference")]
    Line { line: usize, text: String },
}

impl UsageDocument {
    /// Reads a document's text. `modified` is the file's or object's time, used for plain text.
    pub fn parse(
        location: &str,
        text: &str,
        modified: Option<Timestamp>,
    ) -> Result<UsageDocument, DocumentError> {
        if text.trim_start().starts_with('{') {
            let mut doc: UsageDocument =
                serde_json::from_str(text).map_err(|e| DocumentError::Json(e.to_string()))?;
            doc.images = doc.images.iter().map(|i| normalize(i)).collect();
            return Ok(doc);
        }
        let mut images = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.contains(char::is_whitespace) {
                return Err(DocumentError::Line {
                    line: n + 1,
                    text: line.to_string(),
                });
            }
            images.push(normalize(line));
        }
        Ok(UsageDocument {
            source: location.to_string(),
            generated_at: modified.ok_or(DocumentError::NoTime)?,
            images,
            account: None,
            region: None,
            complete: true,
            gaps: Vec::new(),
            holds: Vec::new(),
        })
    }

    /// The document `scan-usage` writes for one account and region: every image its consumers use
    /// (pinned digests as `reference@digest`) and every image of the task-definition revisions the
    /// revision rule keeps there; incomplete, with the gaps, when the scan missed something.
    pub fn of_scan(origin: &Origin, usage: &Usage, now: Timestamp) -> UsageDocument {
        let mut images = BTreeSet::new();
        for u in &usage.uses {
            images.insert(match u.pinned_digest {
                Some(digest) if !u.image.contains('@') => format!("{}@{digest}", u.image),
                _ => u.image.clone(),
            });
        }
        for family in usage.families.values() {
            for containers in family.revisions.values().flatten() {
                images.extend(containers.iter().map(|c| c.image.clone()));
            }
        }
        let gaps = usage.gaps.clone();
        UsageDocument {
            source: format!("ecr-warden scan-usage {origin}"),
            generated_at: now,
            images: images.into_iter().filter(|i| !i.is_empty()).collect(),
            account: Some(origin.account.clone()),
            region: Some(origin.region.clone()),
            complete: gaps.is_empty(),
            gaps,
            holds: usage.holds.clone(),
        }
    }

    /// The document's uses, or the gap that makes it unusable: too old, or incomplete.
    pub fn into_usage(self, location: &str, max_age_hours: u32, now: Timestamp) -> Usage {
        let age_hours = (now.0 - self.generated_at.0) / 3600;
        let mut usage = Usage::default();
        if age_hours > i64::from(max_age_hours) {
            usage.gaps.push(ScanGap::new(
                "read usage document",
                location,
                format!(
                    "it was written {age_hours} hours ago ({}), more than USAGE_MAX_AGE_HOURS={max_age_hours}: regenerate it",
                    self.generated_at
                ),
            ));
            return usage;
        }
        if !self.complete {
            // The gaps it lists hold what they concern, as they would in a live scan; a document
            // that does not say why it is incomplete holds everything.
            if self.gaps.is_empty() {
                usage.gaps.push(ScanGap::new(
                    "read usage document",
                    location,
                    "the scan that wrote it was incomplete",
                ));
                return usage;
            }
            usage.gaps.extend(self.gaps.into_iter().map(|mut g| {
                g.resource = format!("{location}: {}", g.resource);
                g
            }));
        }
        // A document of one account and region stands for scanning it.
        if let (Some(account), Some(region)) = (&self.account, &self.region) {
            usage.scanned_accounts.insert(account.clone());
            usage.scanned_regions.insert(region.clone());
        }
        usage.holds = self.holds;
        let of = match (&self.account, &self.region) {
            (Some(account), Some(region)) => format!("account {account} {region}"),
            _ => self.source.clone(),
        };
        usage.notes.push(format!(
            "usage document {location} ({of}, written {}): {} image reference(s){}",
            self.generated_at,
            self.images.len(),
            if self.complete { "" } else { ", incomplete" }
        ));
        let consumer = Consumer::UsageDocument {
            source: self.source,
            location: location.to_string(),
        };
        usage.uses = (self.images.into_iter())
            .map(|image| Use {
                consumer: consumer.clone(),
                image,
                pinned_digest: None,
            })
            .collect();
        usage
    }
}

/// A reference as a pod reports it, without a runtime's `docker-pullable://` or `docker://`.
fn normalize(reference: &str) -> String {
    let r = reference.trim();
    r.strip_prefix("docker-pullable://")
        .or_else(|| r.strip_prefix("docker://"))
        .unwrap_or(r)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DAY;

    const NOW: Timestamp = Timestamp(1_790_000_000);
    const REF: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1";

    #[test]
    fn reads_json_and_plain_text_in_every_form_pods_report() {
        let json = format!(
            r#"{{"source": "eks/prod", "generated_at": "{}", "images": ["docker-pullable://{REF}", "{REF}"]}}"#,
            Timestamp(NOW.0 - 3600)
        );
        let doc = UsageDocument::parse("s3://b/k", &json, None).unwrap();
        assert_eq!(doc.source, "eks/prod");
        assert_eq!(doc.images, vec![REF.to_string(), REF.to_string()]);
        let text = format!(
            "# pods\n\n{REF}\ndocker-pullable://{REF}@sha256:{}\n",
            "a".repeat(64)
        );
        let doc = UsageDocument::parse("/tmp/x", &text, Some(NOW)).unwrap();
        assert_eq!(doc.source, "/tmp/x");
        assert_eq!(doc.images.len(), 2);
        assert!(!doc.images[1].starts_with("docker"));
        let usage = doc.into_usage("/tmp/x", 48, NOW);
        assert!(usage.gaps.is_empty());
        assert_eq!(usage.uses.len(), 2);
    }

    #[test]
    fn stale_incomplete_and_malformed_documents_are_gaps_or_errors() {
        let old = UsageDocument::parse("f", REF, Some(Timestamp(NOW.0 - 3 * DAY))).unwrap();
        let usage = old.into_usage("f", 48, NOW);
        assert!(usage.uses.is_empty());
        assert!(
            usage.gaps[0].error.contains("72 hours ago"),
            "{:?}",
            usage.gaps
        );
        let incomplete = UsageDocument::parse(
            "f",
            r#"{"source": "s", "generated_at": 1790000000, "images": [], "complete": false}"#,
            None,
        )
        .unwrap();
        assert_eq!(incomplete.into_usage("f", 48, NOW).gaps.len(), 1);
        assert!(matches!(
            UsageDocument::parse("f", "{\"images\": 3}", None),
            Err(DocumentError::Json(_))
        ));
        assert!(matches!(
            UsageDocument::parse("f", "app:v1 extra words", Some(NOW)),
            Err(DocumentError::Line { line: 1, .. })
        ));
        assert_eq!(
            UsageDocument::parse("f", REF, None),
            Err(DocumentError::NoTime)
        );
    }

    #[test]
    fn a_scope_document_carries_its_uses_revisions_gaps_and_holds_and_counts_its_scope_as_scanned()
    {
        use crate::usage::{Blocks, ContainerImage, Family, Hold};
        let origin = Origin {
            account: "222222222222".into(),
            region: "eu-west-1".into(),
        };
        let digest: crate::Digest = format!("sha256:{}", "b".repeat(64)).parse().unwrap();
        let mut usage = Usage::default();
        usage.uses.push(Use {
            consumer: Consumer::UsageDocument {
                source: "s".into(),
                location: "l".into(),
            },
            image: REF.into(),
            pinned_digest: Some(digest),
        });
        let kept = vec![ContainerImage {
            container: "app".into(),
            image: format!("{REF}-rollback"),
        }];
        let revisions = [(3, Some(kept)), (1, None)].into_iter().collect();
        usage.families.insert("web".into(), Family { revisions });
        usage.holds.push(Hold {
            image: REF.into(),
            by: "App Runner service s".into(),
        });
        let doc = UsageDocument::of_scan(&origin, &usage, NOW);
        assert!(doc.complete);
        assert_eq!(
            doc.images,
            [format!("{REF}-rollback"), format!("{REF}@{digest}")]
        );
        let text = serde_json::to_string(&doc).unwrap();
        let read = UsageDocument::parse("s3://b/k", &text, None).unwrap();
        let back = read.into_usage("s3://b/k", 48, NOW);
        assert!(back.gaps.is_empty());
        assert_eq!(back.uses.len(), 2);
        assert_eq!(back.holds.len(), 1);
        assert!(back.scanned_accounts.contains("222222222222"));
        assert!(back.scanned_regions.contains("eu-west-1"));
        assert_eq!(
            back.notes,
            [format!(
                "usage document s3://b/k (account 222222222222 eu-west-1, written {NOW}): 2 image reference(s)"
            )]
        );

        usage.gaps.push(
            ScanGap::new("ecs:DescribeServices", "cluster prod", "denied").blocking(
                Blocks::Repository {
                    repository: "web".into(),
                },
            ),
        );
        let doc = UsageDocument::of_scan(&origin, &usage, NOW);
        assert!(!doc.complete);
        let back = doc.into_usage("s3://b/k", 48, NOW);
        assert_eq!(back.gaps.len(), 1, "{:?}", back.gaps);
        assert!(matches!(back.gaps[0].blocks, Blocks::Repository { .. }));
        assert!(back.gaps[0].resource.starts_with("s3://b/k: "));
    }
}
