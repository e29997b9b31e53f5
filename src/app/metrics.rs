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
                    {"Name": "ScanIncomplete", "Unit": "Count"},
                    {"Name": "LifecycleRisks", "Unit": "Count"},
                    {"Name": "UnscannedConsumers", "Unit": "Count"},
                    {"Name": "DeletionsFailed", "Unit": "Count"},
                    {"Name": "BytesReclaimed", "Unit": "Bytes"},
                    {"Name": "BytesToDelete", "Unit": "Bytes"},
                    {"Name": "BytesUnusedKept", "Unit": "Bytes"},
                    {"Name": "ScanSeconds", "Unit": "Seconds"}
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
        "LifecycleRisks": s.lifecycle_risks,
        "UnscannedConsumers": s.unscanned_consumers,
        "DeletionsFailed": s.failed,
        "BytesReclaimed": s.bytes_reclaimed,
        "BytesToDelete": s.bytes_to_delete,
        "BytesUnusedKept": s.bytes_unused_kept,
        "ScanSeconds": report.scan_seconds,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use ecr_warden_core::report::{Mode, Report};
    use ecr_warden_core::time::Timestamp;

    use super::metrics_line;

    #[test]
    fn every_declared_metric_has_its_value() {
        let mut report = Report::empty(Mode::Prune, None);
        report.summary.bytes_reclaimed = 1 << 30;
        report.summary.bytes_unused_kept = 7;
        report.scan_seconds = 42;
        let line: serde_json::Value =
            serde_json::from_str(&metrics_line(&report, Timestamp(1))).unwrap();
        let declared = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        for metric in declared {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} has no value");
        }
        assert_eq!(line["BytesReclaimed"], 1u64 << 30);
        assert_eq!(line["BytesUnusedKept"], 7);
        assert_eq!(line["ScanSeconds"], 42);
        assert_eq!(line["Mode"], "prune");
    }
}
