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
                newest_first.sort_by(|&a, &b| Image::newest_first(&images[a], &images[b]));
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
