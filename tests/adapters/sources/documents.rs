//! Usage documents in S3 and files.

use super::*;

fn s3_rules(documents: Vec<(&'static str, String, i64)>) -> Vec<Rule> {
    use aws_sdk_s3::Client;
    use aws_sdk_s3::operation::{get_object::*, list_objects_v2::*};
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::Object;
    let keys: Vec<&'static str> = documents.iter().map(|(k, _, _)| *k).collect();
    let mut rules = vec![
        mock!(Client::list_objects_v2)
            .match_requests(|r| r.prefix() == Some("usage/"))
            .then_compute_output(move |r| {
                let all: Vec<Object> = keys
                    .iter()
                    .map(|k| Object::builder().key(*k).build())
                    .collect();
                let (items, next) = page(&all, r.continuation_token(), 1);
                ListObjectsV2Output::builder()
                    .set_contents(Some(items))
                    .is_truncated(next.is_some())
                    .set_next_continuation_token(next)
                    .build()
            }),
        mock!(Client::list_objects_v2).then_output(|| ListObjectsV2Output::builder().build()),
    ];
    for (key, text, age_hours) in documents {
        rules.push(
            mock!(Client::get_object)
                .match_requests(move |r| r.key() == Some(key))
                .then_output(move || {
                    GetObjectOutput::builder()
                        .body(ByteStream::from(text.clone().into_bytes()))
                        .last_modified(aws_smithy_types::DateTime::from_secs(
                            NOW.0 - age_hours * 3600,
                        ))
                        .build()
                }),
        );
    }
    rules
}

#[tokio::test]
async fn usage_documents_in_s3_protect_their_images_and_stale_or_malformed_ones_are_gaps() {
    let fresh = format!(
        r#"{{"source": "eks/prod", "generated_at": "{}", "images": ["docker-pullable://{ECR}/web@sha256:{}"]}}"#,
        ecr_warden_core::Timestamp(NOW.0 - 600),
        "a".repeat(64)
    );
    let rules = s3_rules(vec![
        ("usage/eks-prod.json", fresh, 0),
        ("usage/ci.txt", format!("# built images\n{ECR}/api:v3\n"), 2),
        ("usage/old.txt", format!("{ECR}/api:v1\n"), 72),
        ("usage/broken.json", "{\"images\": ".to_string(), 0),
    ]);
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules.iter());
    let dir = std::env::temp_dir().join(format!("ecr-warden-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("local.txt");
    std::fs::write(&file, format!("{ECR}/batch:v9\n")).unwrap();
    let settings = ScanSettings {
        usage_sources: vec![
            "s3://docs/usage/".into(),
            "s3://docs/missing/".into(),
            file.display().to_string(),
            dir.join("absent.txt").display().to_string(),
        ],
        ..ScanSettings::default()
    };
    let setup = Setup::new(settings);
    let usage = ecr_warden::sources::documents::scan(&s3, &setup.scope()).await;
    let mut images: Vec<&str> = usage.uses.iter().map(|u| u.image.as_str()).collect();
    images.sort();
    let web = format!("{ECR}/web@sha256:{}", "a".repeat(64));
    let (api, batch) = (format!("{ECR}/api:v3"), format!("{ECR}/batch:v9"));
    let mut want = vec![api.as_str(), batch.as_str(), web.as_str()];
    want.sort();
    assert_eq!(images, want);
    let gaps: Vec<String> = usage.gaps.iter().map(ToString::to_string).collect();
    assert_eq!(gaps.len(), 4, "{gaps:#?}");
    assert!(
        gaps.iter()
            .any(|g| g.contains("s3://docs/usage/old.txt") && g.contains("72 hours ago"))
    );
    assert!(
        gaps.iter().any(
            |g| g.contains("s3://docs/usage/broken.json") && g.contains("not a usage document")
        )
    );
    assert!(
        gaps.iter()
            .any(|g| g.contains("s3://docs/missing/") && g.contains("no object under this prefix"))
    );
    assert!(gaps.iter().any(|g| g.contains("absent.txt")));
    std::fs::remove_dir_all(dir).ok();
}
