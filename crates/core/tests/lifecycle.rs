//! The native lifecycle-policy evaluator against AWS's documented examples and the seed cases.

use ecr_warden_core::digest::Digest;
use ecr_warden_core::inventory::{Image, ImageStatus};
use ecr_warden_core::lifecycle::*;
use ecr_warden_core::time::{DAY, Timestamp};

const NOW: Timestamp = Timestamp(1_790_000_000);

fn image(n: u8, tags: &[&str], pushed_days_ago: i64) -> Image {
    Image {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Image::new(
            Digest::from_bytes([n; 32]),
            Timestamp(NOW.0 - pushed_days_ago * DAY),
        )
    }
}

/// Names of the images the policy would act on, with the acting rule's priority.
fn acted(policy: &str, images: &[Image], names: &[&str]) -> Vec<(String, i64)> {
    let policy = LifecyclePolicy::parse(policy).unwrap();
    policy
        .evaluate(images, NOW)
        .into_iter()
        .zip(names)
        .filter_map(|(v, n)| v.map(|v| (n.to_string(), v.rule_priority)))
        .collect()
}

fn rule(priority: i64, selection: &str) -> String {
    format!(
        r#"{{"rulePriority": {priority}, "description": "Rule {priority}", "selection": {selection}, "action": {{"type": "expire"}}}}"#
    )
}

#[test]
fn wildcards() {
    assert!(wildcard_match("prod*", "prod-1"));
    assert!(wildcard_match("prod*", "prod"));
    assert!(!wildcard_match("prod*", "preprod"));
    assert!(wildcard_match("*test*1*2*3", "xtestA1B2C3"));
    assert!(!wildcard_match("*test*1*2*3", "xtestA1B2C3D"));
    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("a*a", "aa"));
    assert!(!wildcard_match("a*a", "a"));
    assert!(wildcard_match("latest", "latest"));
    assert!(!wildcard_match("latest", "latest2"));
}

#[test]
fn aws_example_filtering_on_image_age() {
    // Expire prod* images older than 14 days.
    let policy = format!(
        r#"{{"rules": [{}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}"#
        )
    );
    let images = [
        image(1, &["prod-1"], 20),
        image(2, &["prod-2"], 10),
        image(3, &["dev-1"], 30),
    ];
    assert_eq!(
        acted(&policy, &images, &["a", "b", "c"]),
        vec![("a".to_string(), 1)]
    );
}

#[test]
fn aws_example_filtering_on_image_count() {
    // Keep only one untagged image, expire all others.
    let policy = format!(
        r#"{{"rules": [{}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}"#
        )
    );
    let images = [
        image(1, &[], 3),
        image(2, &[], 2),
        image(3, &[], 1),
        image(4, &["v1"], 9),
    ];
    assert_eq!(
        acted(&policy, &images, &["a", "b", "c", "tagged"]),
        vec![("a".to_string(), 1), ("b".to_string(), 1)]
    );
}

#[test]
fn aws_example_a_multiple_rules() {
    // Image A [beta-1, prod-1] 10 days, B [beta-2, prod-2] 9 days, C [beta-3] 8 days.
    // Rule 1 (prod*, keep 1) marks A. Rule 2 (beta*, keep 1) would mark A and B, but A is taken
    // and B matched rule 1's selection. Result: only A is expired.
    let policy = format!(
        r#"{{"rules": [{}, {}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "imageCountMoreThan", "countNumber": 1}"#
        ),
        rule(
            2,
            r#"{"tagStatus": "tagged", "tagPatternList": ["beta*"], "countType": "imageCountMoreThan", "countNumber": 1}"#
        )
    );
    let images = [
        image(1, &["beta-1", "prod-1"], 10),
        image(2, &["beta-2", "prod-2"], 9),
        image(3, &["beta-3"], 8),
    ];
    assert_eq!(
        acted(&policy, &images, &["A", "B", "C"]),
        vec![("A".to_string(), 1)]
    );
    // The same with prefixes.
    let prefixes = policy
        .replace(
            "tagPatternList\": [\"prod*\"]",
            "tagPrefixList\": [\"prod\"]",
        )
        .replace(
            "tagPatternList\": [\"beta*\"]",
            "tagPrefixList\": [\"beta\"]",
        );
    assert_eq!(
        acted(&prefixes, &images, &["A", "B", "C"]),
        vec![("A".to_string(), 1)]
    );
}

#[test]
fn aws_example_multiple_tags_in_one_rule_need_all_of_them() {
    // Images A [alpha-1, beta-1, gamma-1] 10 days, B [alpha-2, beta-2] 9 days,
    // C [alpha-3, beta-3, gamma-3] 8 days, D [alpha-4] 7 days.
    let images = [
        image(1, &["alpha-1", "beta-1", "gamma-1"], 10),
        image(2, &["alpha-2", "beta-2"], 9),
        image(3, &["alpha-3", "beta-3", "gamma-3"], 8),
        image(4, &["alpha-4"], 7),
    ];
    let by_age = format!(
        r#"{{"rules": [{}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPatternList": ["alpha*", "beta*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 5}"#
        )
    );
    assert_eq!(
        acted(&by_age, &images, &["A", "B", "C", "D"]),
        vec![
            ("A".to_string(), 1),
            ("B".to_string(), 1),
            ("C".to_string(), 1)
        ]
    );
    let by_count = by_age.replace(
        "\"sinceImagePushed\", \"countUnit\": \"days\", \"countNumber\": 5",
        "\"imageCountMoreThan\", \"countNumber\": 1",
    );
    assert_eq!(
        acted(&by_count, &images, &["A", "B", "C", "D"]),
        vec![("A".to_string(), 1), ("B".to_string(), 1)]
    );
}

#[test]
fn the_any_rule_does_not_expire_what_a_higher_rule_selected() {
    // Rule 1 keeps release-* (count 9999); rule 2 expires anything older than 30 days.
    let policy = format!(
        r#"{{"rules": [{}, {}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPrefixList": ["release-"], "countType": "imageCountMoreThan", "countNumber": 9999}"#
        ),
        rule(
            2,
            r#"{"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30}"#
        )
    );
    let images = [
        image(1, &["release-1"], 300),
        image(2, &["dev-7"], 300),
        image(3, &[], 40),
        image(4, &[], 1),
    ];
    assert_eq!(
        acted(
            &policy,
            &images,
            &["release", "dev", "untagged-old", "untagged-new"]
        ),
        vec![("dev".to_string(), 2), ("untagged-old".to_string(), 2)]
    );
}

#[test]
fn transition_and_archive_storage_class() {
    let policy = r#"{"rules": [
        {"rulePriority": 1, "selection": {"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365}, "action": {"type": "expire"}},
        {"rulePriority": 2, "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 90}, "action": {"type": "transition", "targetStorageClass": "archive"}}
    ]}"#;
    let mut archived = image(1, &["old"], 500);
    archived.status = ImageStatus::Archived;
    let mut pulled = image(2, &["busy"], 500);
    pulled.last_pulled_at = Some(Timestamp(NOW.0 - DAY));
    let stale = image(3, &["stale"], 200);
    let verdicts = LifecyclePolicy::parse(policy)
        .unwrap()
        .evaluate(&[archived, pulled, stale], NOW);
    assert_eq!(
        verdicts[0].as_ref().map(|v| (v.action, v.rule_priority)),
        Some((ActionKind::Expire, 1))
    );
    assert_eq!(verdicts[1], None);
    assert_eq!(
        verdicts[2].as_ref().map(|v| (v.action, v.rule_priority)),
        Some((ActionKind::Transition, 2))
    );
    assert_eq!(
        verdicts[2].as_ref().unwrap().to_string(),
        "archive by rule 2"
    );
}

#[test]
fn invalid_policies_are_errors() {
    let mixed = format!(
        r#"{{"rules": [{}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPatternList": ["a*"], "tagPrefixList": ["a"], "countType": "imageCountMoreThan", "countNumber": 1}"#
        )
    );
    assert_eq!(
        LifecyclePolicy::parse(&mixed),
        Err(LifecycleError::Mixed(1))
    );
    let wild = format!(
        r#"{{"rules": [{}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPatternList": ["test*1*2*3*4*5*6"], "countType": "imageCountMoreThan", "countNumber": 1}"#
        )
    );
    assert!(matches!(
        LifecyclePolicy::parse(&wild),
        Err(LifecycleError::Wildcards(1, _))
    ));
    let dup = format!(
        r#"{{"rules": [{}, {}]}}"#,
        rule(
            1,
            r#"{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}"#
        ),
        rule(
            1,
            r#"{"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}"#
        )
    );
    assert_eq!(
        LifecyclePolicy::parse(&dup),
        Err(LifecycleError::Duplicate(1))
    );
    assert!(matches!(
        LifecyclePolicy::parse("{}"),
        Err(LifecycleError::Json(_))
    ));
}
