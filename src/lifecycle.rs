//! ECR lifecycle policies, evaluated locally: what a repository's native policy would expire or
//! archive, rule by rule, so that ecr-warden can warn before the policy deletes something in use.
//!
//! The semantics follow AWS's documentation:
//! - rules are applied in `rulePriority` order, lowest first;
//! - an image is acted on by at most one rule;
//! - an image that matches the tag selection of a higher-priority rule is never expired by a
//!   lower-priority rule, but lower-priority rules still count it (`imageCountMoreThan`);
//! - `tagPatternList` (wildcard `*`, at most four per pattern) and `tagPrefixList` select an image
//!   only when every pattern or prefix matches one of its tags;
//! - `imageCountMoreThan` keeps the N most recently pushed matching images; `sinceImagePushed`,
//!   `sinceImagePulled` and `sinceImageTransitioned` act on images older than N days by that time;
//! - `storageClass` (default `standard`) restricts a rule to active or archived images; the action
//!   is `expire` or `transition` to the archive.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::inventory::{Image, ImageStatus};
use crate::time::{DAY, Timestamp};

/// A repository's lifecycle policy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LifecyclePolicy {
    pub rules: Vec<Rule>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub rule_priority: i64,
    #[serde(default)]
    pub description: Option<String>,
    pub selection: Selection,
    pub action: Action,
}

/// Which images a rule selects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    pub tag_status: TagStatus,
    #[serde(default)]
    pub tag_pattern_list: Vec<String>,
    #[serde(default)]
    pub tag_prefix_list: Vec<String>,
    #[serde(default)]
    pub storage_class: StorageClass,
    pub count_type: CountType,
    #[serde(default)]
    pub count_unit: Option<String>,
    pub count_number: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagStatus {
    Tagged,
    Untagged,
    Any,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageClass {
    #[default]
    Standard,
    Archive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CountType {
    ImageCountMoreThan,
    SinceImagePushed,
    SinceImagePulled,
    SinceImageTransitioned,
}

/// What a rule does to the images it marks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: ActionKind,
    #[serde(default)]
    pub target_storage_class: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Expire,
    Transition,
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActionKind::Expire => "expire",
            ActionKind::Transition => "archive",
        })
    }
}

/// What the policy would do to one image, and which rule would do it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub action: ActionKind,
    pub rule_priority: i64,
    pub rule_description: Option<String>,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} by rule {}", self.action, self.rule_priority)?;
        if let Some(d) = &self.rule_description {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

/// A policy that cannot be read or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("the lifecycle policy is not valid JSON for ECR: {0}")]
    Json(String),
    #[error("rule {0}: tagPatternList and tagPrefixList cannot be combined")]
    Mixed(i64),
    #[error("rule {0}: pattern {1:?} has more than four wildcards")]
    Wildcards(i64, String),
    #[error("rule {0}: countNumber must be at least 1")]
    Count(i64),
    #[error("two rules have priority {0}")]
    Duplicate(i64),
}

impl LifecyclePolicy {
    /// Reads and checks a policy's JSON text.
    pub fn parse(text: &str) -> Result<LifecyclePolicy, LifecycleError> {
        let policy: LifecyclePolicy =
            serde_json::from_str(text).map_err(|e| LifecycleError::Json(e.to_string()))?;
        let mut seen = BTreeSet::new();
        for r in &policy.rules {
            let s = &r.selection;
            if !seen.insert(r.rule_priority) {
                return Err(LifecycleError::Duplicate(r.rule_priority));
            }
            if !s.tag_pattern_list.is_empty() && !s.tag_prefix_list.is_empty() {
                return Err(LifecycleError::Mixed(r.rule_priority));
            }
            if let Some(p) = s
                .tag_pattern_list
                .iter()
                .find(|p| p.matches('*').count() > 4)
            {
                return Err(LifecycleError::Wildcards(r.rule_priority, p.clone()));
            }
            if s.count_number < 1 {
                return Err(LifecycleError::Count(r.rule_priority));
            }
        }
        Ok(policy)
    }

    /// What the policy would do to each image now: `verdicts[i]` is for `images[i]`.
    pub fn evaluate(&self, images: &[Image], now: Timestamp) -> Vec<Option<Verdict>> {
        let mut rules: Vec<&Rule> = self.rules.iter().collect();
        rules.sort_by_key(|r| r.rule_priority);
        let mut verdicts: Vec<Option<Verdict>> = vec![None; images.len()];
        // Images some higher-priority rule's tag selection matched.
        let mut matched_higher = vec![false; images.len()];
        for rule in rules {
            let selected: Vec<usize> = (0..images.len())
                .filter(|&i| rule.selects(&images[i]))
                .collect();
            for i in rule.marks(images, &selected, now) {
                if verdicts[i].is_none() && !matched_higher[i] {
                    verdicts[i] = Some(Verdict {
                        action: rule.action.kind,
                        rule_priority: rule.rule_priority,
                        rule_description: rule.description.clone(),
                    });
                }
            }
            for i in selected {
                matched_higher[i] = true;
            }
        }
        verdicts
    }
}

impl Rule {
    /// True when the image falls under this rule's tag and storage selection.
    fn selects(&self, image: &Image) -> bool {
        let s = &self.selection;
        let storage = match s.storage_class {
            StorageClass::Standard => image.status == ImageStatus::Active,
            StorageClass::Archive => image.status == ImageStatus::Archived,
        };
        if !storage {
            return false;
        }
        match s.tag_status {
            TagStatus::Untagged => image.tags.is_empty(),
            TagStatus::Any => true,
            TagStatus::Tagged => {
                !image.tags.is_empty()
                    && s.tag_pattern_list
                        .iter()
                        .all(|p| image.tags.iter().any(|t| wildcard_match(p, t)))
                    && s.tag_prefix_list
                        .iter()
                        .all(|p| image.tags.iter().any(|t| t.starts_with(p.as_str())))
            }
        }
    }

    /// The selected images this rule would act on, ignoring other rules.
    fn marks(&self, images: &[Image], selected: &[usize], now: Timestamp) -> Vec<usize> {
        let n = self.selection.count_number;
        let older_than = |t: Timestamp| t.0 < now.0 - n * DAY;
        match self.selection.count_type {
            CountType::ImageCountMoreThan => {
                let mut newest_first = selected.to_vec();
                newest_first.sort_by(|&a, &b| {
                    images[b]
                        .pushed_at
                        .cmp(&images[a].pushed_at)
                        .then(images[a].digest.cmp(&images[b].digest))
                });
                newest_first.into_iter().skip(n.max(0) as usize).collect()
            }
            CountType::SinceImagePushed => selected
                .iter()
                .copied()
                .filter(|&i| older_than(images[i].pushed_at))
                .collect(),
            CountType::SinceImagePulled => selected
                .iter()
                .copied()
                .filter(|&i| older_than(images[i].last_pulled_at.unwrap_or(images[i].pushed_at)))
                .collect(),
            // The archive time is not in the inventory; the push time is a lower bound for it, so
            // this may report an archived image early, never late.
            CountType::SinceImageTransitioned => selected
                .iter()
                .copied()
                .filter(|&i| older_than(images[i].pushed_at))
                .collect(),
        }
    }
}

/// One image of a lifecycle preview: what the native policy would do next to what ecr-warden knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewRow {
    pub digest: crate::digest::Digest,
    pub tags: Vec<String>,
    pub pushed_at: Timestamp,
    /// What the lifecycle policy would do (`None`: nothing).
    pub lifecycle: Option<Verdict>,
    /// Why ecr-warden keeps the image (empty when it would delete it).
    pub kept_because: Vec<String>,
    /// True when something uses the image.
    pub in_use: bool,
}

/// What the repository's lifecycle policy would do to each of its images, newest first, next to
/// ecr-warden's plan for them.
pub fn preview(
    repository: &crate::inventory::Repository,
    plan: &crate::plan::RepositoryPlan,
    now: Timestamp,
) -> Result<Vec<PreviewRow>, LifecycleError> {
    let policy = match &repository.lifecycle_policy {
        Some(text) => Some(LifecyclePolicy::parse(text)?),
        None => None,
    };
    let verdicts = policy
        .map(|p| p.evaluate(&repository.images, now))
        .unwrap_or_else(|| vec![None; repository.images.len()]);
    let mut rows: Vec<PreviewRow> = repository
        .images
        .iter()
        .zip(verdicts)
        .map(|(image, lifecycle)| {
            let kept = plan.keep.iter().find(|k| k.digest == image.digest);
            PreviewRow {
                digest: image.digest,
                tags: image.tags.clone(),
                pushed_at: image.pushed_at,
                lifecycle,
                kept_because: kept
                    .map(|k| k.reasons.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                in_use: kept.is_some_and(|k| k.in_use()),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then(a.digest.cmp(&b.digest)));
    Ok(rows)
}

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

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
}
