//! The cache of answers that never change: a second run on an unchanged fleet asks again only
//! what may have changed, and decides exactly as the first did; a corrupt cache is rebuilt.

use std::collections::BTreeSet;

use ecr_warden_core::report::Mode;

use crate::fleet::{Faults, run_fleet};

fn cache_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ecr-warden-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("cache.json")
}

fn faults(path: &std::path::Path) -> Faults {
    Faults {
        cache: Some(path.to_path_buf()),
        ..Faults::default()
    }
}

#[tokio::test]
async fn a_second_run_on_an_unchanged_fleet_reads_immutable_answers_from_the_cache() {
    let path = cache_file("warm");
    let (cold, cold_stats) = run_fleet(faults(&path), Mode::Plan, true).await;
    let (warm, warm_stats) = run_fleet(faults(&path), Mode::Plan, true).await;

    let op = "DescribeTaskDefinition";
    let (first, second) = (cold_stats.calls(op), warm_stats.calls(op));
    assert!(first > 0, "{op} was never called");
    assert!(second * 10 <= first, "{op}: {first} then {second}");
    // Published versions come from the cache; $LATEST is read every time, as it can change.
    let functions = warm_stats.calls("ListAliases");
    assert_eq!(cold_stats.calls("GetFunction"), 7);
    assert_eq!(warm_stats.calls("GetFunction"), functions);
    let deleted = |r: &ecr_warden_core::report::Report| -> BTreeSet<String> {
        r.deletions.iter().map(|d| d.digest.to_string()).collect()
    };
    assert!(!cold.scan_incomplete && !warm.scan_incomplete);
    assert_eq!(deleted(&cold), deleted(&warm));
    assert_eq!(cold.summary.protected, warm.summary.protected);
    assert!(
        warm.notes
            .iter()
            .any(|n| n.contains("answers from earlier runs")),
        "{:?}",
        warm.notes
    );
}

#[tokio::test]
async fn a_corrupt_cache_is_ignored_with_a_warning_and_rebuilt() {
    let path = cache_file("corrupt");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "{\"format\": \"ecr-warden-cache\", \"version\": 1, \"task_definitions\": 7}",
    )
    .unwrap();
    let (report, stats) = run_fleet(faults(&path), Mode::Plan, true).await;
    assert!(!report.scan_incomplete, "{:?}", report.errors);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("was ignored and will be rebuilt")),
        "{:?}",
        report.warnings
    );
    assert!(stats.calls("DescribeTaskDefinition") > 0);
    let (_, again) = run_fleet(faults(&path), Mode::Plan, true).await;
    assert_eq!(again.calls("DescribeTaskDefinition"), 0);

    std::fs::write(&path, "{\"format\": \"ecr-warden-cache\", \"version\": 99}").unwrap();
    let (report, _) = run_fleet(faults(&path), Mode::Plan, true).await;
    assert!(
        report.warnings.iter().any(|w| w.contains("version 99")),
        "{:?}",
        report.warnings
    );
}

#[tokio::test]
async fn on_s3_a_cache_not_written_yet_is_empty_and_a_run_writes_one() {
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::operation::put_object::{PutObjectInput, PutObjectOutput};
    use aws_sdk_s3::types::error::NoSuchKey;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;
    use ecr_warden::cache::{Cache, CacheLocation};
    use ecr_warden_core::usage::ContainerImage;
    use std::sync::{Arc, Mutex};

    let missing = mock!(aws_sdk_s3::Client::get_object).then_error(|| {
        let meta = ErrorMetadata::builder().code("NoSuchKey").build();
        GetObjectError::NoSuchKey(NoSuchKey::builder().meta(meta).build())
    });
    let written = Arc::new(Mutex::new(Vec::new()));
    let keep = written.clone();
    let put = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r: &PutObjectInput| r.bucket() == Some("b") && r.key() == Some("c.json"))
        .then_compute_output(move |r: &PutObjectInput| {
            let body = r.body().bytes().unwrap_or_default().to_vec();
            keep.lock().unwrap().push(String::from_utf8(body).unwrap());
            PutObjectOutput::builder().build()
        });
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&missing, &put]);
    let location = CacheLocation::S3 {
        bucket: "b".into(),
        key: "c.json".into(),
    };

    let (cache, warning) = Cache::load(&location, &s3).await;
    assert_eq!(warning, None, "a cache not written yet is no problem");
    assert_eq!(cache.task_definition("123456789012:us-east-1:web:3"), None);
    let image = ContainerImage {
        container: "app".into(),
        image: "web:v3".into(),
    };
    cache.keep_task_definition("123456789012:us-east-1:web:3".into(), vec![image]);
    assert_eq!(cache.save(&s3).await, None);
    let written = written.lock().unwrap();
    assert_eq!(written.len(), 1);
    assert!(
        written[0].contains("\"123456789012:us-east-1:web:3\""),
        "{}",
        written[0]
    );
    assert!(written[0].contains("\"version\":1"), "{}", written[0]);
}
