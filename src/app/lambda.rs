//! The Lambda entry point: the runtime loop, each invocation's deadline, the metrics line, and a
//! response that stays under Lambda's size limit.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use ecr_warden_core::report::Mode;

use super::config::Config;
use super::connect::Aws;
use super::handler::{Answer, handle};
use super::metrics::metrics_line;
use crate::act::Deadline;

/// Leaves this much of the invocation for the last deletion batch, the report and the alert.
const DEADLINE_RESERVE: Duration = Duration::from_secs(20);
/// Lambda responses are limited to 6 MB: lists beyond this many entries are cut.
const RESPONSE_ENTRIES: usize = 2_000;

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
            let mut report = match handle(aws, config, &event.payload, now, &deadline).await? {
                Answer::Scopes(list) => return Ok(serde_json::to_value(list)?),
                Answer::Report(report) => report,
            };
            println!("{}", metrics_line(&report, now));
            if !report.delete_errors.is_empty() {
                // The alert is out; failing the invocation also retries it and trips the
                // function's error alarm.
                let errors = report.delete_errors.join("; ");
                return Err(format!("deletion calls failed: {errors}").into());
            }
            if report.mode == Mode::ScanUsage && report.scan_incomplete {
                // A fan-out's scan that missed something fails its step, so the prune never runs.
                let errors = report.errors.join("; ");
                return Err(format!("the usage scan is incomplete: {errors}").into());
            }
            report.truncate_lists(RESPONSE_ENTRIES);
            Ok::<Value, lambda_runtime::Error>(serde_json::to_value(&report)?)
        },
    ))
    .await
}
