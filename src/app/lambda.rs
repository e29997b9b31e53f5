//! The Lambda entry point: the runtime loop, each invocation's deadline, the metrics line, and a
//! response that stays under Lambda's size limit.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use ecr_warden_core::report::Mode;
use ecr_warden_core::time::Timestamp;

use super::config::Config;
use super::connect::Aws;
use super::handler::{Answer, handle};
use super::metrics::metrics_line;
use crate::act::Deadline;

/// Leaves this much of the invocation for the last deletion batch, the report and the alert.
const DEADLINE_RESERVE: Duration = Duration::from_secs(20);
/// Lambda responses are limited to 6 MB: lists beyond this many entries are cut.
const RESPONSE_ENTRIES: usize = 2_000;
/// Step Functions passes at most 256 KiB between states: a larger report is cut to its summary.
const RESPONSE_BYTES: usize = 240 * 1024;
/// Errors named in a failed invocation's message.
const ERRORS_NAMED: usize = 10;

/// Serves invocations until the runtime stops.
pub async fn lambda_main(config: Config) -> Result<(), lambda_runtime::Error> {
    let aws = Aws::connect(&config).await?;
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
            let now = super::now();
            respond(
                handle(aws, config, &event.payload, now, &deadline).await?,
                now,
            )
        },
    ))
    .await
}

/// The invocation's response, after the metrics line; an error when deletions failed, or when a
/// fan-out's scan or fan-in prune is incomplete (its step, and so its execution, fails).
fn respond(answer: Answer, now: Timestamp) -> Result<Value, lambda_runtime::Error> {
    let (mut report, fanned_in) = match answer {
        Answer::Scopes(list) => return Ok(serde_json::to_value(list)?),
        Answer::Report(report) => (report, false),
        Answer::FanIn(report) => (report, true),
    };
    println!("{}", metrics_line(&report, now));
    if !report.delete_errors.is_empty() {
        // The alert is out; failing the invocation also retries it and trips the function's
        // error alarm.
        let errors = report.delete_errors.join("; ");
        return Err(format!("deletion calls failed: {errors}").into());
    }
    if report.scan_incomplete && (fanned_in || report.mode == Mode::ScanUsage) {
        let what = if fanned_in {
            "the fan-in prune deleted nothing, usage is incomplete"
        } else {
            "the usage scan is incomplete"
        };
        let errors = report.errors.iter().take(ERRORS_NAMED).cloned();
        let errors = errors.collect::<Vec<_>>().join("; ");
        return Err(format!("{what}: {errors}").into());
    }
    report.truncate_lists(RESPONSE_ENTRIES);
    let value = serde_json::to_value(&report)?;
    let size = value.to_string().len();
    if size <= RESPONSE_BYTES {
        return Ok(value);
    }
    Ok(serde_json::json!({
        "mode": report.mode,
        "dry_run": report.dry_run,
        "context": report.context,
        "summary": report.summary,
        "scan_incomplete": report.scan_incomplete,
        "deletions_withheld": report.deletions_withheld,
        "errors": report.errors.iter().take(ERRORS_NAMED).collect::<Vec<_>>(),
        "notes": [format!(
            "the report ({size} bytes) is larger than Step Functions passes between states: only its summary is returned; run the CLI with --output json for all of it"
        )],
    }))
}

#[cfg(test)]
mod tests {
    use ecr_warden_core::report::{Mode, ProtectedImage, Report};
    use ecr_warden_core::time::Timestamp;

    use super::{Answer, respond};

    fn big(mode: Mode) -> Box<Report> {
        let mut report = Report::empty(mode, Some("fan-in".into()));
        for n in 0..1_500u32 {
            report.protected.push(ProtectedImage {
                region: None,
                repository: format!("team-{n}/service-with-a-long-name"),
                digest: ecr_warden_core::Digest::from_bytes([(n % 251) as u8; 32]),
                tags: vec![format!("release-{n}"), "latest".into()],
                reasons: vec![format!(
                    "in use by service {n} in cluster production, container app (by digest)"
                )],
                in_use: true,
                size_bytes: Some(1 << 28),
            });
        }
        Box::new(report)
    }

    #[test]
    fn an_answer_past_what_step_functions_passes_is_cut_to_its_summary() {
        let value = respond(Answer::FanIn(big(Mode::Prune)), Timestamp(0)).unwrap();
        let size = value.to_string().len();
        assert!(size < 10_000, "{size} bytes");
        assert_eq!(value["mode"], "prune");
        assert!(value["summary"].is_object());
        assert!(value.get("protected").is_none());
        assert!(
            value["notes"][0]
                .as_str()
                .unwrap()
                .contains("--output json")
        );
    }

    #[test]
    fn an_incomplete_fan_in_or_usage_scan_fails_its_invocation() {
        let mut report = big(Mode::Prune);
        report.scan_incomplete = true;
        report
            .errors
            .push("no complete, fresh usage document for account 1 r".into());
        let error = respond(Answer::FanIn(report.clone()), Timestamp(0)).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the fan-in prune deleted nothing"),
            "{error}"
        );
        assert!(
            respond(Answer::Report(report), Timestamp(0)).is_ok(),
            "a nightly run reports"
        );
        let mut scan = Box::new(Report::empty(Mode::ScanUsage, None));
        scan.scan_incomplete = true;
        assert!(respond(Answer::Report(scan), Timestamp(0)).is_err());
    }
}
