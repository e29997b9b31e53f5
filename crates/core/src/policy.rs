//! Retention policy: which repositories are managed and which unused images are kept anyway.
//! Retention only ever adds protection; it never removes protection that usage gives.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// The policy's settings as an operator writes them, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySettings {
    /// Repository-name globs to manage; empty means every repository.
    pub repositories: Vec<String>,
    /// Tag globs: an image with a matching tag is kept.
    pub keep_tag_patterns: Vec<String>,
    /// Keep the N most recently pushed images of each repository.
    pub keep_recent: i64,
    /// Keep images pushed within this many days (0: off).
    pub keep_pushed_within_days: i64,
    /// Keep images pulled within this many days (0: off).
    pub keep_pulled_within_days: i64,
    /// Older task-definition revisions kept for rollback per family.
    pub rollback_revisions: i64,
}

impl Default for PolicySettings {
    /// Conservative defaults: keep the 10 newest, anything pushed in the last 14 days or pulled in
    /// the last 30, and one rollback revision.
    fn default() -> Self {
        PolicySettings {
            repositories: Vec::new(),
            keep_tag_patterns: Vec::new(),
            keep_recent: 10,
            keep_pushed_within_days: 14,
            keep_pulled_within_days: 30,
            rollback_revisions: 1,
        }
    }
}

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{setting}: {pattern:?} is not a valid glob ({reason}); use * ? [abc] {{a,b}}")]
    Glob {
        setting: &'static str,
        pattern: String,
        reason: String,
    },
    #[error("{setting}: {value} is negative; use 0 or a positive whole number")]
    Negative { setting: &'static str, value: i64 },
    #[error("{setting}: {value} is too large; use at most {max}")]
    TooLarge {
        setting: &'static str,
        value: i64,
        max: i64,
    },
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    repositories: Option<GlobSet>,
    keep_tags: GlobSet,
    keep_tag_patterns: Vec<String>,
    pub keep_recent: u32,
    pub keep_pushed_within_days: u32,
    pub keep_pulled_within_days: u32,
    pub rollback_revisions: u32,
}

/// Setting names, as the environment variables that carry them are called.
pub mod setting {
    pub const REPOSITORIES: &str = "REPOSITORIES";
    pub const KEEP_TAG_PATTERNS: &str = "KEEP_TAG_PATTERNS";
    pub const KEEP_RECENT: &str = "KEEP_RECENT";
    pub const KEEP_PUSHED_WITHIN_DAYS: &str = "KEEP_PUSHED_WITHIN_DAYS";
    pub const KEEP_PULLED_WITHIN_DAYS: &str = "KEEP_PULLED_WITHIN_DAYS";
    pub const ROLLBACK_REVISIONS: &str = "ROLLBACK_REVISIONS";
}

impl Policy {
    /// Validates settings into a policy; every error names the setting at fault.
    pub fn new(settings: PolicySettings) -> Result<Policy, PolicyError> {
        let repositories = if settings.repositories.is_empty() {
            None
        } else {
            Some(glob_set(setting::REPOSITORIES, &settings.repositories)?)
        };
        Ok(Policy {
            repositories,
            keep_tags: glob_set(setting::KEEP_TAG_PATTERNS, &settings.keep_tag_patterns)?,
            keep_tag_patterns: settings.keep_tag_patterns,
            keep_recent: count(setting::KEEP_RECENT, settings.keep_recent, 100_000)?,
            keep_pushed_within_days: count(
                setting::KEEP_PUSHED_WITHIN_DAYS,
                settings.keep_pushed_within_days,
                36_500,
            )?,
            keep_pulled_within_days: count(
                setting::KEEP_PULLED_WITHIN_DAYS,
                settings.keep_pulled_within_days,
                36_500,
            )?,
            rollback_revisions: count(
                setting::ROLLBACK_REVISIONS,
                settings.rollback_revisions,
                1_000,
            )?,
        })
    }

    /// A policy that keeps nothing beyond what is in use (and one rollback revision): useful for
    /// tests and to see the bare usage-based plan.
    pub fn usage_only() -> Policy {
        Policy::new(PolicySettings {
            keep_recent: 0,
            keep_pushed_within_days: 0,
            keep_pulled_within_days: 0,
            ..PolicySettings::default()
        })
        .expect("static settings are valid")
    }

    /// True when the policy manages (may delete from) this repository.
    pub fn manages(&self, repository: &str) -> bool {
        self.repositories
            .as_ref()
            .is_none_or(|set| set.is_match(repository))
    }

    /// The first keep-tag pattern that matches any of `tags`.
    pub fn kept_tag<'a>(&'a self, tags: &'a [String]) -> Option<(&'a str, &'a str)> {
        if self.keep_tag_patterns.is_empty() {
            return None;
        }
        let tag = tags
            .iter()
            .find(|tag| self.keep_tags.is_match(tag.as_str()))?;
        let first = *self.keep_tags.matches(tag.as_str()).first()?;
        Some((self.keep_tag_patterns[first].as_str(), tag.as_str()))
    }

    /// The keep-tag globs as configured.
    pub fn keep_tag_patterns(&self) -> &[String] {
        &self.keep_tag_patterns
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new(PolicySettings::default()).expect("default settings are valid")
    }
}

fn glob_set(setting: &'static str, patterns: &[String]) -> Result<GlobSet, PolicyError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob: Glob = GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map_err(|e| PolicyError::Glob {
                setting,
                pattern: pattern.clone(),
                reason: e.kind().to_string(),
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| PolicyError::Glob {
        setting,
        pattern: patterns.join(","),
        reason: e.to_string(),
    })
}

fn count(setting: &'static str, value: i64, max: i64) -> Result<u32, PolicyError> {
    if value < 0 {
        return Err(PolicyError::Negative { setting, value });
    }
    if value > max {
        return Err(PolicyError::TooLarge {
            setting,
            value,
            max,
        });
    }
    Ok(value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_repository_list_manages_everything() {
        let p = Policy::default();
        assert!(p.manages("anything/at/all"));
    }

    #[test]
    fn repository_globs_cross_slashes() {
        let p = Policy::new(PolicySettings {
            repositories: vec!["team-a/*".into(), "sidecar".into()],
            ..PolicySettings::default()
        })
        .unwrap();
        assert!(p.manages("team-a/api"));
        assert!(p.manages("team-a/api/worker"));
        assert!(p.manages("sidecar"));
        assert!(!p.manages("team-b/api"));
        assert!(!p.manages("sidecar-2"));
    }

    #[test]
    fn keep_tag_patterns_name_the_matching_pattern() {
        let p = Policy::new(PolicySettings {
            keep_tag_patterns: vec!["stable-*".into(), "v[0-9]*".into()],
            ..PolicySettings::default()
        })
        .unwrap();
        let tags = vec!["dev-1".to_string(), "v2.1".to_string()];
        assert_eq!(p.kept_tag(&tags), Some(("v[0-9]*", "v2.1")));
        assert_eq!(p.kept_tag(&["dev-1".to_string()]), None);
    }

    #[test]
    fn errors_name_the_setting() {
        let bad_glob = Policy::new(PolicySettings {
            keep_tag_patterns: vec!["release-[".into()],
            ..PolicySettings::default()
        })
        .unwrap_err();
        assert!(
            bad_glob.to_string().starts_with("KEEP_TAG_PATTERNS:"),
            "{bad_glob}"
        );

        let negative = Policy::new(PolicySettings {
            keep_recent: -1,
            ..PolicySettings::default()
        })
        .unwrap_err();
        assert_eq!(
            negative.to_string(),
            "KEEP_RECENT: -1 is negative; use 0 or a positive whole number"
        );

        let huge = Policy::new(PolicySettings {
            rollback_revisions: 5_000,
            ..PolicySettings::default()
        })
        .unwrap_err();
        assert!(
            huge.to_string().starts_with("ROLLBACK_REVISIONS:"),
            "{huge}"
        );

        let repo = Policy::new(PolicySettings {
            repositories: vec!["{a,b".into()],
            ..PolicySettings::default()
        })
        .unwrap_err();
        assert!(repo.to_string().starts_with("REPOSITORIES:"), "{repo}");
    }
}
