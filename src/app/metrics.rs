//! The run's metrics: one CloudWatch Embedded Metric Format line per invocation, so dashboards and
//! alarms need no log parsing.

use ecr_warden_core::report::Report;
use ecr_warden_core::time::Timestamp;

/// One CloudWatch Embedded Metric Format line with the run's counts.
pub fn metrics_line(report: &Report, now: Timestamp) -> String {
    let s = &report.summary;
    serde_json::json!({
        "_aws": {
            "Timestamp": now.0 * 1000,
            "CloudWatchMetrics": [{
                "Namespace": "ecr-warden",
                "Dimensions": [["Mode"]],
                "Metrics": [
                    {"Name": "ImagesScanned", "Unit": "Count"},
                    {"Name": "ImagesProtected", "Unit": "Count"},
                    {"Name": "ImagesDeleted", "Unit": "Count"},
                    {"Name": "ImagesMissing", "Unit": "Count"},
                    {"Name": "DigestsAtRisk", "Unit": "Count"},
                    {"Name": "ScanIncomplete", "Unit": "Count"}
                ]
            }]
        },
        "Mode": report.mode,
        "ImagesScanned": s.images,
        "ImagesProtected": s.protected,
        "ImagesDeleted": s.deleted,
        "ImagesMissing": s.missing,
        "DigestsAtRisk": s.at_risk,
        "ScanIncomplete": u8::from(report.scan_incomplete),
    })
    .to_string()
}
