//! The inventory scan: what ECR holds. Every image of every managed repository (with index
//! children and the lifecycle policy), then, for images usage names in repositories that are not
//! managed, just those images by id, so a missing image is reported wherever it lives. A failed
//! listing leaves its repository `Unavailable` and becomes a gap.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;

use ecr_warden_core::digest::Digest;
use ecr_warden_core::inventory::{Inventory, Listing, Repository};
use ecr_warden_core::policy::Policy;
use ecr_warden_core::reference::ImageRef;
use ecr_warden_core::usage::{Blocks, ScanGap, Usage};

use crate::aws::AwsError;
use crate::aws::ecr::{EcrApi, IMAGE_ID_BATCH, ImageId};
use crate::cache::Cache;
use crate::limit::Limiter;
use crate::sources::keep_ok;

/// Adds to the inventory, as partial listings, the images usage names in repositories it lacks.
/// The listing of managed repositories does not depend on usage, so it can run beside the usage
/// scan and this step follow it.
pub async fn complete_inventory<R: EcrApi>(
    ecr: &R,
    inventory: &mut Inventory,
    usages: &[Usage],
    concurrency: usize,
    gaps: &mut Vec<ScanGap>,
) {
    if inventory.incomplete {
        return;
    }
    let limit = Limiter::new(concurrency);
    look_up_referenced(ecr, inventory, usages, &limit, gaps).await;
}

/// Lists every image of every managed repository, with index children, lifecycle and repository
/// policies; and the registry's policy and replication rules.
pub async fn list_managed<R: EcrApi>(
    ecr: &R,
    region: &str,
    policy: &Policy,
    cache: &Cache,
    concurrency: usize,
) -> (Inventory, Vec<ScanGap>) {
    let limit = Limiter::new(concurrency);
    let mut gaps = Vec::new();
    let mut inventory = Inventory::for_region(Some(region));
    let (registry, registry_policy, repositories) = futures_util::join!(
        limit.call(ecr.registry()),
        limit.call(ecr.registry_policy()),
        limit.call(ecr.list_repositories())
    );
    if let Some(registry) = keep_ok(registry, &mut gaps) {
        inventory.account = Some(registry.id);
        inventory.replication = registry.replication;
    }
    // With the registry policy unknown, any repository may be shared: a gap for all of them.
    inventory.registry_policy = keep_ok(registry_policy, &mut gaps).flatten();
    let Some(repositories) = keep_ok(repositories, &mut gaps) else {
        inventory.incomplete = true;
        return (inventory, gaps);
    };

    let managed: Vec<&String> = repositories.iter().filter(|r| policy.manages(r)).collect();
    tracing::info!(
        repositories = repositories.len(),
        managed = managed.len(),
        "listing the images of managed repositories"
    );
    let registry = format!(
        "{}:{region}",
        inventory.account.as_deref().unwrap_or("unknown")
    );
    let step = crate::progress::step("repositories listed", managed.len());
    let (limit, registry, step) = (&limit, &registry, &step);
    let listed = join_all(managed.iter().map(|repo| async move {
        let children = Children {
            cache,
            key: format!("{registry}:{repo}"),
        };
        let listed = futures_util::join!(
            list_repository(ecr, repo, limit, children),
            limit.call(ecr.lifecycle_policy(repo)),
            limit.call(ecr.repository_policy(repo)),
        );
        step.add(1);
        listed
    }))
    .await;
    for (repo, (images, lifecycle, repository_policy)) in managed.into_iter().zip(listed) {
        let (lifecycle_policy, lifecycle_error) = match lifecycle {
            Ok(p) => (p, None),
            Err(e) => (None, Some(e.to_string())),
        };
        // Who else can pull is unknown: nothing in this repository may be deleted.
        let policy = repository_policy.unwrap_or_else(|e| {
            let repository = repo.clone();
            gaps.push(ScanGap::from(e).blocking(Blocks::Repository { repository }));
            None
        });
        let repository = match keep_ok(images, &mut gaps) {
            Some(images) => Repository {
                listing: Listing::Complete,
                images,
                lifecycle_policy,
                lifecycle_error,
                policy,
            },
            None => Repository {
                listing: Listing::Unavailable,
                ..Repository::default()
            },
        };
        inventory.repositories.insert(repo.clone(), repository);
    }
    (inventory, gaps)
}

/// Every image of one repository, with the children of each image index.
async fn list_repository<R: EcrApi>(
    ecr: &R,
    repo: &str,
    limit: &Limiter,
    known: Children<'_>,
) -> Result<Vec<ecr_warden_core::Image>, AwsError> {
    let mut images = limit.call(ecr.list_images(repo)).await?;
    // An index's children are part of its manifest, which its digest names: read each once.
    let mut by_index: BTreeMap<Digest, Vec<Digest>> = BTreeMap::new();
    let mut unknown: Vec<Digest> = Vec::new();
    for index in images.iter().filter(|i| i.is_index()) {
        match known.cache.index_children(&known.key(&index.digest)) {
            Some(children) => drop(by_index.insert(index.digest, children)),
            None => unknown.push(index.digest),
        }
    }
    let children = join_all(
        unknown
            .chunks(IMAGE_ID_BATCH)
            .map(|b| limit.call(ecr.index_children(repo, b))),
    )
    .await;
    for batch in children {
        for (index, children) in batch? {
            (known.cache).keep_index_children(known.key(&index), children.clone());
            by_index.insert(index, children);
        }
    }
    for image in &mut images {
        if let Some(children) = by_index.remove(&image.digest) {
            image.children = children;
        }
    }
    Ok(images)
}

/// The cached children of a repository's image indexes.
struct Children<'a> {
    cache: &'a Cache,
    /// Registry and repository.
    key: String,
}

impl Children<'_> {
    fn key(&self, index: &Digest) -> String {
        format!("{}@{index}", self.key)
    }
}

/// Looks up only the images usage names (no repository is listed in full): for checks that must
/// be quick, such as a task retirement or a pull failure.
pub async fn look_up_inventory<R: EcrApi>(
    ecr: &R,
    region: Option<&str>,
    usage: &Usage,
    concurrency: usize,
) -> (Inventory, Vec<ScanGap>) {
    let mut gaps = Vec::new();
    let mut inventory = Inventory::for_region(region);
    inventory.account = keep_ok(ecr.registry().await, &mut gaps).map(|r| r.id);
    let usages = std::slice::from_ref(usage);
    complete_inventory(ecr, &mut inventory, usages, concurrency, &mut gaps).await;
    (inventory, gaps)
}

/// Adds to `inventory`, as partial listings, the images usage names in repositories it lacks.
async fn look_up_referenced<R: EcrApi>(
    ecr: &R,
    inventory: &mut Inventory,
    usages: &[Usage],
    limit: &Limiter,
    gaps: &mut Vec<ScanGap>,
) {
    // Images that usage names in repositories not listed above: look them up by id.
    let mut wanted: BTreeMap<String, BTreeSet<ImageId>> = BTreeMap::new();
    for (image, pinned) in usages.iter().flat_map(referenced_images) {
        let Ok(r) = ImageRef::parse(image) else {
            continue;
        };
        if !inventory.is_ours(&r.registry) || inventory.repositories.contains_key(&r.repository) {
            continue;
        }
        let id = match (pinned.or(r.digest), r.tag) {
            (Some(d), _) => ImageId::Digest(d),
            (None, Some(t)) => ImageId::Tag(t),
            (None, None) => continue,
        };
        wanted.entry(r.repository).or_default().insert(id);
    }
    let lookups = join_all(wanted.iter().map(|(repo, ids)| async move {
        let ids: Vec<ImageId> = ids.iter().cloned().collect();
        let mut found = Vec::new();
        for batch in ids.chunks(IMAGE_ID_BATCH) {
            match limit.call(ecr.find_images(repo, batch)).await? {
                Some(images) => found.extend(images),
                None => return Ok(None),
            }
        }
        found.sort_by_key(|i| i.digest);
        found.dedup_by_key(|i| i.digest);
        Ok::<_, AwsError>(Some(found))
    }))
    .await;
    for ((repo, _), result) in wanted.into_iter().zip(lookups) {
        let listing = match keep_ok(result, gaps) {
            Some(Some(images)) => Repository {
                listing: Listing::Partial,
                images,
                ..Repository::default()
            },
            Some(None) => continue, // the repository does not exist
            None => Repository {
                listing: Listing::Unavailable,
                ..Repository::default()
            },
        };
        inventory.repositories.insert(repo, listing);
    }
}

/// Every (image reference, pinned digest) usage names, task-definition revisions included.
pub fn referenced_images(usage: &Usage) -> impl Iterator<Item = (&str, Option<Digest>)> {
    let direct = usage
        .uses
        .iter()
        .map(|u| (u.image.as_str(), u.pinned_digest));
    let families = usage
        .families
        .values()
        .flat_map(|f| f.revisions.values().flatten().flatten())
        .map(|c| (c.image.as_str(), None));
    direct.chain(families)
}
