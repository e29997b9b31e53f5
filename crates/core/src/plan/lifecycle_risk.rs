//! The native lifecycle policy, held against the plan: in-use images the repository's own policy
//! would expire or archive.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::LifecycleRisk;
use super::index::RepoIndex;
use super::reason::Reason;
use crate::lifecycle::LifecyclePolicy;
use crate::time::Timestamp;

/// In-use images the repository's own lifecycle policy would act on.
pub(super) fn lifecycle_risks(
    repo: &RepoIndex,
    now: Timestamp,
) -> (Vec<LifecycleRisk>, Option<String>) {
    let name = repo.name;
    let Some(text) = &repo.repo.lifecycle_policy else {
        let warning = repo.repo.lifecycle_error.as_ref().map(|e| {
            format!("repository {name}: the lifecycle policy could not be read, so it was not checked: {e}")
        });
        return (Vec::new(), warning);
    };
    let lifecycle = match LifecyclePolicy::parse(text) {
        Ok(p) => p,
        Err(e) => return (Vec::new(), Some(format!("repository {name}: {e}"))),
    };
    let verdicts = lifecycle.evaluate(&repo.repo.images, now);
    let mut users: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for (i, reason) in &repo.reasons {
        if verdicts[*i as usize].is_some() && reason.is_use() {
            let user = match reason {
                Reason::InUse { consumer, .. } => consumer.to_string(),
                other => other.to_string(),
            };
            users.entry(*i).or_default().insert(user);
        }
    }
    let risks = users
        .into_iter()
        .filter_map(|(i, users)| {
            let image = repo.image(i);
            Some(LifecycleRisk {
                repository: name.to_string(),
                digest: image.digest,
                tags: image.tags.clone(),
                verdict: verdicts[i as usize].clone()?,
                users: users.into_iter().collect(),
            })
        })
        .collect();
    (risks, None)
}
