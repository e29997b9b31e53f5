//! Alerts: one message per run, built from the report, for SNS (or the log when no topic is set).
//! This is the message's content; sending it is the shell's job.

mod sections;

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::report::{Mode, Report, human_bytes};

/// SNS accepts at most 256 KB per message, attributes included; the body stays below this.
pub const BODY_LIMIT: usize = 250_000;
/// SNS subjects must be shorter than 100 characters.
pub const SUBJECT_LIMIT: usize = 99;

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub subject: String,
    pub body: String,
    /// Message attributes for subscription filters: `severity`, `findings`.
    pub attributes: Vec<(String, String)>,
}

/// How bad a run's findings are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The alert a report calls for, if any.
pub fn alert_for(report: &Report) -> Option<Alert> {
    let (severity, kinds) = classify(report)?;
    let subject = truncate(
        &format!(
            "ecr-warden {}: {}",
            severity.as_str().to_uppercase(),
            headline(report)
        ),
        SUBJECT_LIMIT,
    );
    Some(Alert {
        subject,
        body: body(report, &sections::all(report)),
        attributes: vec![
            ("severity".into(), severity.as_str().into()),
            ("findings".into(), kinds.join(",")),
        ],
    })
}

/// The worst severity among the report's findings, and the kinds of finding, worst first.
fn classify(report: &Report) -> Option<(Severity, Vec<&'static str>)> {
    let found = [
        (!report.missing.is_empty(), "missing", Severity::Critical),
        (report.scan_incomplete, "scan_incomplete", Severity::High),
        (!report.diagnoses.is_empty(), "pull_failure", Severity::High),
        (
            !report.lifecycle_risks.is_empty(),
            "lifecycle_risk",
            Severity::High,
        ),
        (
            !report.delete_errors.is_empty(),
            "delete_failed",
            Severity::High,
        ),
        (
            report.delete_errors.is_empty() && !report.delete_failures.is_empty(),
            "delete_failed",
            Severity::Warning,
        ),
        (
            !report.unscanned_consumers.is_empty(),
            "unscanned_consumers",
            Severity::Warning,
        ),
        (
            !report.unscanned.is_empty(),
            "partial_scope",
            Severity::Warning,
        ),
        (!report.at_risk.is_empty(), "at_risk", Severity::Warning),
    ];
    let raised: Vec<_> = found.into_iter().filter(|(on, _, _)| *on).collect();
    let severity = raised.iter().map(|(_, _, s)| *s).max()?;
    Some((
        severity,
        raised.into_iter().map(|(_, kind, _)| kind).collect(),
    ))
}

/// The subject's summary of the worst finding.
fn headline(report: &Report) -> String {
    let clusters: BTreeSet<&str> = report
        .missing
        .iter()
        .flat_map(|m| m.users.iter().filter_map(|u| u.cluster()))
        .collect();
    let where_ = match clusters.len() {
        0 => String::new(),
        1 => format!(" in cluster {}", clusters.first().unwrap()),
        n => format!(" in {n} clusters"),
    };
    let missing = report.missing.len();
    if report.mode == Mode::Retirement && missing > 0 {
        format!("{missing} image(s) missing for tasks AWS will retire{where_}")
    } else if missing > 0 {
        format!("{missing} in-use image(s) missing{where_}")
    } else if report.scan_incomplete && !report.deletions_withheld {
        format!(
            "usage scan incomplete, nothing deleted in {} repositories",
            report.held_repositories.len()
        )
    } else if report.scan_incomplete {
        "usage scan incomplete, nothing deleted".to_string()
    } else if let Some(d) = report.diagnoses.first() {
        format!("task {} could not pull its image ({})", d.task, d.cause)
    } else if !report.lifecycle_risks.is_empty() {
        format!(
            "{} in-use image(s) a lifecycle policy would remove",
            report.lifecycle_risks.len()
        )
    } else if !report.delete_errors.is_empty() {
        format!("{} deletion call(s) failed", report.delete_errors.len())
    } else if !report.delete_failures.is_empty() {
        format!("{} deletion(s) failed", report.delete_failures.len())
    } else if !report.unscanned_consumers.is_empty() {
        format!(
            "{} repositories shared with unscanned consumers",
            report.unscanned_consumers.len()
        )
    } else if report.at_risk.is_empty() && !report.unscanned.is_empty() {
        "part of the account was not scanned".to_string()
    } else {
        format!("{} in-use digest(s) untagged", report.at_risk.len())
    }
}

/// The message: what ran, the report's headline, then as many findings as fit under SNS's limit.
fn body(report: &Report, sections: &[String]) -> String {
    let mut body = format!(
        "ecr-warden {} run{}.\n{}\n\n",
        report.mode,
        report
            .context
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        report.headline()
    );
    if report.summary.bytes_unused_kept > 0 {
        let _ = writeln!(
            body,
            "{} kept by retention rules though nothing uses it.\n",
            human_bytes(report.summary.bytes_unused_kept)
        );
    }
    let mut shown = 0;
    for s in sections {
        if body.len() + s.len() + 200 > BODY_LIMIT {
            break;
        }
        body.push_str(s);
        body.push('\n');
        shown += 1;
    }
    if shown < sections.len() {
        let _ = writeln!(
            body,
            "… and {} more finding(s) not shown (message size limit); run `ecr-warden check` for the full list.",
            sections.len() - shown
        );
    }
    body
}

/// Cuts `s` to at most `max` characters on a character boundary, with no line breaks.
fn truncate(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut out: String = one_line.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AtRisk, Missing, MissingProblem};
    use crate::report::{Mode, Report};
    use crate::usage::Consumer;

    fn task(cluster: &str, n: usize) -> Consumer {
        Consumer::RunningTask {
            cluster: cluster.into(),
            task: format!("task-{n}"),
            group: Some("service:web".into()),
            container: "app".into(),
            stopped: false,
        }
    }

    fn missing(n: usize, cluster: &str) -> Missing {
        Missing {
            repository: "web".into(),
            reference: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v{n}"),
            problem: MissingProblem::TagNotFound,
            users: vec![task(cluster, n)],
        }
    }

    #[test]
    fn a_clean_report_raises_no_alert() {
        assert_eq!(alert_for(&Report::empty(Mode::Plan, None)), None);
    }

    #[test]
    fn missing_images_are_critical_and_name_the_user_and_what_to_do() {
        let mut report = Report::empty(Mode::Check, Some("nightly".into()));
        report.missing = vec![missing(1, "prod")];
        let alert = alert_for(&report).unwrap();
        assert_eq!(
            alert.subject,
            "ecr-warden CRITICAL: 1 in-use image(s) missing in cluster prod"
        );
        assert!(
            alert
                .body
                .contains("MISSING 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1")
        );
        assert!(
            alert.body.contains(
                "used by running task task-1 in cluster prod (service:web), container app"
            )
        );
        assert!(alert.body.contains("What to do"));
        assert_eq!(
            alert.attributes,
            vec![
                ("severity".to_string(), "critical".to_string()),
                ("findings".to_string(), "missing".to_string())
            ]
        );
    }

    #[test]
    fn each_kind_of_finding_is_named_with_its_severity() {
        let mut report = Report::empty(Mode::Prune, None);
        report.unscanned_consumers = vec![crate::plan::UnscannedConsumers {
            region: None,
            repository: "shared".into(),
            consumers: vec!["account 444455556666 (repository policy)".into()],
        }];
        report.unscanned = vec!["cluster staging was not scanned (CLUSTERS)".into()];
        let alert = alert_for(&report).unwrap();
        assert_eq!(alert.attributes[0].1, "warning");
        assert_eq!(alert.attributes[1].1, "unscanned_consumers,partial_scope");
        assert!(alert.body.contains("UNSCANNED CONSUMERS shared"));
        assert!(
            alert
                .body
                .contains("can pull: account 444455556666 (repository policy)")
        );
        assert!(alert.body.contains("PARTIAL SCOPE"));
        assert!(
            alert
                .subject
                .contains("1 repositories shared with unscanned consumers")
        );

        report.delete_errors = vec!["ecr:BatchDeleteImage on repository app failed: denied".into()];
        let alert = alert_for(&report).unwrap();
        assert_eq!(alert.attributes[0].1, "high");
        assert!(alert.attributes[1].1.starts_with("delete_failed,"));
        assert!(
            alert.subject.contains("1 deletion call(s) failed"),
            "{}",
            alert.subject
        );
    }

    #[test]
    fn at_risk_alone_is_a_warning() {
        let mut report = Report::empty(Mode::Plan, None);
        report.at_risk = vec![AtRisk {
            repository: "web".into(),
            digest: format!("sha256:{}", "a".repeat(64)).parse().unwrap(),
            users: vec![task("dev", 1)],
        }];
        let alert = alert_for(&report).unwrap();
        assert!(
            alert
                .subject
                .starts_with("ecr-warden WARNING: 1 in-use digest(s) untagged")
        );
        assert_eq!(alert.attributes[0].1, "warning");
    }

    #[test]
    fn huge_reports_are_cut_below_the_sns_limit_and_say_how_much_was_left_out() {
        let mut report = Report::empty(Mode::Check, None);
        let cluster = "a-cluster-name-long-enough-to-make-the-subject-overflow-the-one-hundred-character-limit-of-sns";
        report.missing = (0..5000).map(|n| missing(n, cluster)).collect();
        let alert = alert_for(&report).unwrap();
        assert!(alert.body.len() <= BODY_LIMIT, "{}", alert.body.len());
        let total = alert.body.len()
            + alert.subject.len()
            + alert
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        assert!(total < 256 * 1024);
        assert!(alert.body.contains("more finding(s) not shown"));
        let shown = alert.body.matches("MISSING ").count();
        assert!(alert.body.contains(&format!("… and {} more", 5000 - shown)));
        assert!(alert.subject.chars().count() < 100);
        assert!(!alert.subject.contains('\n'));
        assert!(alert.subject.ends_with('…'));
    }
}
