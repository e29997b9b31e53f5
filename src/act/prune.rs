//! Acting on a plan: delete by digest, at most 100 per call, image indexes before their children,
//! after re-reading each repository to skip anything that changed since the scan.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use ecr_warden_core::digest::Digest;
use ecr_warden_core::inventory::{Image, Inventory};
use ecr_warden_core::outcome::{PruneOutcome, Skip};
use ecr_warden_core::plan::{Plan, RepositoryPlan};

use super::Deadline;
use crate::aws::ecr::{EcrApi, EcrWrite, IMAGE_ID_BATCH};

/// Repositories pruned side by side; within one, batches follow each other.
const REPOSITORIES_AT_ONCE: usize = 4;

/// Deletes what the plan says, never anything else, never by tag. Does nothing for a withheld plan.
pub async fn prune<R: EcrApi + EcrWrite>(
    ecr: &R,
    plan: &Plan,
    scanned: &Inventory,
    deadline: &Deadline,
) -> PruneOutcome {
    let mut out = PruneOutcome::default();
    if plan.is_withheld() {
        return out;
    }
    let repositories = plan.repositories.iter().filter(|r| !r.delete.is_empty());
    let step = crate::progress::step("images deleted", plan.deletions().count());
    let step = &step;
    let outcomes: Vec<PruneOutcome> = stream::iter(repositories)
        .map(|repo| async move {
            let mut out = PruneOutcome::default();
            if deadline.allows_another_batch() {
                prune_repository(ecr, repo, scanned, deadline, &mut out).await;
            } else {
                out.not_attempted += repo.delete.len();
            }
            step.add(repo.delete.len());
            out
        })
        .buffered(REPOSITORIES_AT_ONCE)
        .collect()
        .await;
    for outcome in outcomes {
        out.absorb(outcome);
    }
    out
}

/// Re-reads one repository, skips what changed since the scan, and deletes the rest in batches
/// until only the deadline's reserve is left.
async fn prune_repository<R: EcrApi + EcrWrite>(
    ecr: &R,
    repo: &RepositoryPlan,
    scanned: &Inventory,
    deadline: &Deadline,
    out: &mut PruneOutcome,
) {
    let name = repo.name.as_str();
    let before: HashMap<Digest, &Image> = scanned
        .repositories
        .get(name)
        .map(|r| r.images.iter().map(|i| (i.digest, i)).collect())
        .unwrap_or_default();
    // Re-read the repository right before deleting from it, within the deadline.
    let now: HashMap<Digest, Image> = match deadline.before_reserve(ecr.list_images(name)).await {
        Some(Ok(images)) => images.into_iter().map(|i| (i.digest, i)).collect(),
        Some(Err(e)) => {
            out.errors.push(e.to_string());
            out.not_attempted += repo.delete.len();
            return;
        }
        None => {
            out.not_attempted += repo.delete.len();
            return;
        }
    };
    let mut indexes = Vec::new();
    let mut others = Vec::new();
    for d in &repo.delete {
        match change_since_scan(before.get(&d.digest).copied(), now.get(&d.digest)) {
            Some(why) => out.skipped.push(Skip {
                repository: name.to_string(),
                digest: d.digest,
                why,
            }),
            None if d.is_index => indexes.push(d.digest),
            None => others.push(d.digest),
        }
    }
    // Indexes in their own batches first: ECR refuses to delete a child its index still lists.
    let batches: Vec<&[Digest]> = indexes
        .chunks(IMAGE_ID_BATCH)
        .chain(others.chunks(IMAGE_ID_BATCH))
        .collect();
    for (i, batch) in batches.iter().enumerate() {
        let left = || batches[i..].iter().map(|b| b.len()).sum::<usize>();
        if !deadline.allows_another_batch() {
            out.not_attempted += left();
            return;
        }
        match ecr.delete_images(name, batch).await {
            Ok(result) => {
                let deleted = result.deleted.into_iter().map(|d| (name.to_string(), d));
                out.deleted.extend(deleted);
                let failures = (result.failures.into_iter())
                    .map(|(d, code, reason)| (name.to_string(), d, code, reason));
                out.failures.extend(failures);
            }
            Err(e) => {
                out.errors.push(e.to_string());
                out.not_attempted += left();
                return;
            }
        }
    }
}

/// Why an image must not be deleted after all: it changed between the scan and now.
fn change_since_scan(before: Option<&Image>, now: Option<&Image>) -> Option<String> {
    match (before, now) {
        (_, None) => Some("no longer in the repository".to_string()),
        (None, Some(_)) => Some("not in the scan".to_string()),
        (Some(b), Some(n)) if sorted(&b.tags) != sorted(&n.tags) => Some(format!(
            "tags changed since the scan ({:?} → {:?})",
            b.tags, n.tags
        )),
        (Some(b), Some(n)) if b.pushed_at != n.pushed_at => {
            Some("pushed again since the scan".into())
        }
        (Some(b), Some(n)) if n.last_pulled_at > b.last_pulled_at => {
            Some("pulled since the scan".into())
        }
        _ => None,
    }
}

fn sorted(tags: &[String]) -> Vec<&str> {
    let mut t: Vec<&str> = tags.iter().map(String::as_str).collect();
    t.sort_unstable();
    t
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use std::time::{Duration, Instant};

    use super::*;
    use crate::aws::AwsError;
    use crate::aws::ecr::{DeleteOutcome, ImageId, RegistryInfo};
    use ecr_warden_core::inventory::{MediaType, Repository};
    use ecr_warden_core::plan::{DeleteReason, Deletion};
    use ecr_warden_core::time::Timestamp;

    /// An in-memory registry that records every delete call.
    struct FakeEcr {
        images: Mutex<Vec<Image>>,
        calls: Mutex<Vec<Vec<Digest>>>,
    }

    impl EcrApi for FakeEcr {
        async fn registry(&self) -> Result<RegistryInfo, AwsError> {
            Ok(RegistryInfo {
                id: "123456789012".into(),
                replication: Vec::new(),
            })
        }
        async fn repository_policy(&self, _: &str) -> Result<Option<String>, AwsError> {
            Ok(None)
        }
        async fn registry_policy(&self) -> Result<Option<String>, AwsError> {
            Ok(None)
        }
        async fn list_repositories(&self) -> Result<Vec<String>, AwsError> {
            Ok(vec!["app".into()])
        }
        async fn list_images(&self, _: &str) -> Result<Vec<Image>, AwsError> {
            Ok(self.images.lock().unwrap().clone())
        }
        async fn index_children(
            &self,
            _: &str,
            _: &[Digest],
        ) -> Result<Vec<(Digest, Vec<Digest>)>, AwsError> {
            Ok(Vec::new())
        }
        async fn find_images(
            &self,
            _: &str,
            _: &[ImageId],
        ) -> Result<Option<Vec<Image>>, AwsError> {
            Ok(None)
        }
        async fn manifests(
            &self,
            _: &str,
            _: &[Digest],
        ) -> Result<Vec<crate::aws::ecr::StoredManifest>, AwsError> {
            Ok(Vec::new())
        }
        async fn lifecycle_policy(&self, _: &str) -> Result<Option<String>, AwsError> {
            Ok(None)
        }
    }

    impl EcrWrite for FakeEcr {
        async fn put_tag(
            &self,
            _: &str,
            _: &crate::aws::ecr::StoredManifest,
            _: &str,
        ) -> Result<(), AwsError> {
            Ok(())
        }
        async fn untag(&self, _: &str, _: &str) -> Result<(), AwsError> {
            Ok(())
        }
        async fn delete_images(
            &self,
            _: &str,
            digests: &[Digest],
        ) -> Result<DeleteOutcome, AwsError> {
            self.calls.lock().unwrap().push(digests.to_vec());
            self.images
                .lock()
                .unwrap()
                .retain(|i| !digests.contains(&i.digest));
            Ok(DeleteOutcome {
                deleted: digests.to_vec(),
                failures: Vec::new(),
            })
        }
    }

    fn d(n: u8) -> Digest {
        Digest::from_bytes([n; 32])
    }

    fn image(n: u8, tags: &[&str], index: bool) -> Image {
        Image {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            media_type: if index {
                MediaType::Index
            } else {
                MediaType::Manifest
            },
            ..Image::new(d(n), Timestamp(1000))
        }
    }

    fn setup(count: u8) -> (Inventory, Plan) {
        let images: Vec<Image> = (0..count).map(|n| image(n, &[], n < 2)).collect();
        let inventory = Inventory {
            repositories: [(
                "app".to_string(),
                Repository {
                    images: images.clone(),
                    ..Repository::default()
                },
            )]
            .into(),
            ..Inventory::default()
        };
        let delete = images
            .iter()
            .map(|i| Deletion {
                digest: i.digest,
                tags: i.tags.clone(),
                pushed_at: i.pushed_at,
                last_pulled_at: None,
                is_index: i.is_index(),
                reason: DeleteReason::Unused,
                size_bytes: i.size_bytes,
            })
            .collect();
        let plan = Plan {
            repositories: vec![RepositoryPlan {
                name: "app".into(),
                keep: Vec::new(),
                delete,
            }],
            ..Plan::default()
        };
        (inventory, plan)
    }

    #[tokio::test]
    async fn re_checks_and_skips_what_changed_deletes_indexes_first_in_batches_of_100() {
        let (inventory, plan) = setup(250);
        let mut now = inventory.repositories["app"].images.clone();
        now[5].tags = vec!["release".into()]; // tagged since the scan
        now[6].pushed_at = Timestamp(2000); // pushed again
        now[7].last_pulled_at = Some(Timestamp(3000)); // pulled since the scan
        now.remove(8); // gone already
        let ecr = FakeEcr {
            images: Mutex::new(now),
            calls: Mutex::new(Vec::new()),
        };
        let out = prune(&ecr, &plan, &inventory, &Deadline::none()).await;
        let calls = ecr.calls.lock().unwrap().clone();
        assert_eq!(
            calls[0],
            vec![d(0), d(1)],
            "indexes go first, in their own batch"
        );
        assert!(calls.iter().all(|c| c.len() <= IMAGE_ID_BATCH));
        assert_eq!(calls.len(), 1 + 3); // 2 indexes, then 244 others in 100 + 100 + 44
        assert_eq!(out.deleted.len(), 246);
        let skipped: Vec<(Digest, &str)> = out
            .skipped
            .iter()
            .map(|s| (s.digest, s.why.as_str()))
            .collect();
        assert_eq!(skipped.len(), 4);
        assert!(skipped[0].1.starts_with("tags changed") && skipped[0].0 == d(5));
        assert_eq!(skipped[1], (d(6), "pushed again since the scan"));
        assert_eq!(skipped[2], (d(7), "pulled since the scan"));
        assert_eq!(skipped[3], (d(8), "no longer in the repository"));
        assert_eq!(
            out.outcome_of("app", &d(5)),
            format!("skipped: {}", skipped[0].1)
        );
        assert_eq!(out.outcome_of("app", &d(9)), "deleted");
    }

    #[tokio::test]
    async fn a_withheld_plan_deletes_nothing() {
        let (inventory, mut plan) = setup(3);
        plan.withheld.push(ecr_warden_core::usage::ScanGap::new(
            "ecs:ListTasks",
            "prod",
            "denied",
        ));
        let ecr = FakeEcr {
            images: Mutex::new(inventory.repositories["app"].images.clone()),
            calls: Mutex::new(Vec::new()),
        };
        let out = prune(&ecr, &plan, &inventory, &Deadline::none()).await;
        assert!(ecr.calls.lock().unwrap().is_empty());
        assert_eq!(out, PruneOutcome::default());
    }

    #[tokio::test]
    async fn past_the_deadline_no_batch_starts_and_the_rest_is_counted() {
        let (inventory, plan) = setup(150);
        let ecr = FakeEcr {
            images: Mutex::new(inventory.repositories["app"].images.clone()),
            calls: Mutex::new(Vec::new()),
        };
        let expired = Deadline::at(Instant::now(), Duration::from_secs(30));
        let out = prune(&ecr, &plan, &inventory, &expired).await;
        assert!(ecr.calls.lock().unwrap().is_empty());
        assert_eq!(out.not_attempted, 150);
        assert_eq!(out.outcome_of("app", &d(0)), "not_attempted");
    }
}
