//! The scans: what uses images (ECS, Lambda) and what ECR holds. Both record every failed call as a
//! [`ScanGap`] instead of giving up half-way, so the planner can refuse to delete anything and the
//! report can name every hole.
//!
//! Calls run concurrently, in stages that depend on each other's answers, under one limit on the
//! number of calls in flight.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures_util::future::join_all;
use tokio::sync::Semaphore;

use crate::aws::ecr::{EcrApi, IMAGE_ID_BATCH, ImageId};
use crate::aws::ecs::{
    DESCRIBE_REVISIONS_BATCH, DESCRIBE_SERVICES_BATCH, DESCRIBE_TASKS_BATCH, EcsApi,
    parse_task_definition,
};
use crate::aws::lambda::LambdaApi;
use crate::aws::{AwsError, arn_name};
use crate::inventory::{Inventory, Listing, Repository};
use crate::policy::Policy;
use crate::reference::ImageRef;
use crate::revisions::needed_revisions;
use crate::usage::{Consumer, Deployment, Family, ScanGap, Usage, Use};

/// What to scan and how hard to push.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Cluster names or ARNs; empty means every cluster in the account and region.
    pub clusters: Vec<String>,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Also protect the images of recently stopped tasks.
    pub stopped_tasks: bool,
    /// Older task-definition revisions kept for rollback (the policy's setting).
    pub rollback_revisions: u32,
    /// Published versions kept per Lambda function, besides `$LATEST` and aliased versions.
    pub lambda_versions: usize,
    /// ECS requests per second at most (0: no limit). ECS refills its describe and list token
    /// buckets at about 20 per second per account and region; staying at or under that leaves
    /// deployments and other tools their share and keeps the scan from being throttled.
    pub ecs_requests_per_second: f64,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            clusters: Vec::new(),
            concurrency: 8,
            stopped_tasks: true,
            rollback_revisions: 1,
            lambda_versions: 3,
            ecs_requests_per_second: 20.0,
        }
    }
}

/// Bounds the number of AWS calls in flight, and the rate of ECS calls.
struct Limiter {
    in_flight: Semaphore,
    ecs: Option<TokenBucket>,
}

impl Limiter {
    fn new(n: usize) -> Self {
        Limiter {
            in_flight: Semaphore::new(n.max(1)),
            ecs: None,
        }
    }

    fn with_ecs_rate(n: usize, per_second: f64) -> Self {
        Limiter {
            ecs: (per_second > 0.0).then(|| TokenBucket::new(per_second, per_second.max(1.0))),
            ..Limiter::new(n)
        }
    }

    async fn call<T>(&self, f: impl Future<Output = T>) -> T {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        f.await
    }

    /// An ECS call: waits for a token of the ECS rate, then for a place in flight.
    async fn ecs<T>(&self, f: impl Future<Output = T>) -> T {
        if let Some(bucket) = &self.ecs {
            bucket.take().await;
        }
        self.call(f).await
    }
}

/// A token bucket: `burst` tokens at most, refilled at `rate` per second.
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: tokio::sync::Mutex<(f64, tokio::time::Instant)>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            rate,
            burst,
            state: tokio::sync::Mutex::new((burst, tokio::time::Instant::now())),
        }
    }

    /// Waits until a token is available and takes it.
    pub async fn take(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().await;
                let now = tokio::time::Instant::now();
                let (tokens, last) = *state;
                let tokens =
                    (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
                if tokens >= 1.0 {
                    *state = (tokens - 1.0, now);
                    return;
                }
                *state = (tokens, now);
                std::time::Duration::from_secs_f64((1.0 - tokens) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// Scans ECS (and Lambda, when given) for every use of an image.
pub async fn scan_usage<E: EcsApi, L: LambdaApi>(
    ecs: &E,
    lambda: Option<&L>,
    settings: &ScanSettings,
) -> Usage {
    let limit = Limiter::with_ecs_rate(settings.concurrency, settings.ecs_requests_per_second);
    let (mut usage, lambda_usage) = futures_util::join!(scan_ecs(ecs, settings, &limit), async {
        match lambda {
            Some(l) => scan_lambda(l, settings, &limit).await,
            None => Usage::default(),
        }
    });
    usage.uses.extend(lambda_usage.uses);
    usage.gaps.extend(lambda_usage.gaps);
    usage.notes.extend(lambda_usage.notes);
    usage
}

async fn scan_ecs<E: EcsApi>(ecs: &E, settings: &ScanSettings, limit: &Limiter) -> Usage {
    let mut usage = Usage::default();
    let clusters = if settings.clusters.is_empty() {
        match limit.ecs(ecs.list_clusters()).await {
            Ok(c) => c,
            Err(e) => {
                usage.gaps.push(e.into());
                return usage;
            }
        }
    } else {
        settings.clusters.clone()
    };
    tracing::info!(
        clusters = clusters.len(),
        "scanning ECS: services, tasks and task definitions"
    );

    // Stage 1: list services and tasks of every cluster, and every ACTIVE task-definition revision
    // (one listing for all families: far fewer calls than a listing per family).
    let statuses: &[bool] = if settings.stopped_tasks {
        &[false, true]
    } else {
        &[false]
    };
    let (services, tasks, active) = futures_util::join!(
        join_all(clusters.iter().map(|c| limit.ecs(ecs.list_services(c)))),
        join_all(
            clusters
                .iter()
                .flat_map(|c| statuses.iter().map(move |&s| (c, s)))
                .map(|(c, s)| async move { (c, s, limit.ecs(ecs.list_tasks(c, s, None)).await) })
        ),
        limit.ecs(ecs.list_active_task_definitions()),
    );
    let mut existing: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for (family, revision) in keep_ok(active, &mut usage.gaps).unwrap_or_default() {
        existing.entry(family).or_default().insert(revision);
    }

    // Stage 2: describe services and tasks in batches.
    let service_batches: Vec<(&String, Vec<String>)> = clusters
        .iter()
        .zip(services)
        .filter_map(|(c, r)| keep_ok(r, &mut usage.gaps).map(|s| (c, s)))
        .flat_map(|(c, s)| {
            s.chunks(DESCRIBE_SERVICES_BATCH)
                .map(|b| (c, b.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    let task_batches: Vec<(&String, bool, Vec<String>)> = tasks
        .into_iter()
        .filter_map(|(c, s, r)| keep_ok(r, &mut usage.gaps).map(|t| (c, s, t)))
        .flat_map(|(c, s, t)| {
            t.chunks(DESCRIBE_TASKS_BATCH)
                .map(|b| (c, s, b.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    let (described_services, described_tasks) =
        futures_util::join!(
            join_all(
                service_batches.iter().map(|(c, b)| async move {
                    (*c, limit.ecs(ecs.describe_services(c, b)).await)
                })
            ),
            join_all(task_batches.iter().map(|(c, s, b)| async move {
                (*c, *s, limit.ecs(ecs.describe_tasks(c, b)).await)
            })),
        );

    for (cluster, stopped, result) in described_tasks {
        let Some(tasks) = keep_ok(result, &mut usage.gaps) else {
            continue;
        };
        for task in tasks {
            for c in task.containers {
                usage.uses.push(Use {
                    consumer: Consumer::RunningTask {
                        cluster: arn_name(cluster).to_string(),
                        task: arn_name(&task.arn).to_string(),
                        group: task.group.clone(),
                        container: c.name,
                        stopped,
                    },
                    image: c.image,
                    pinned_digest: c.digest,
                });
            }
        }
    }

    let mut revision_arns: BTreeMap<&String, Vec<String>> = BTreeMap::new();
    for (cluster, result) in described_services {
        let Some(services) = keep_ok(result, &mut usage.gaps) else {
            continue;
        };
        for service in services {
            for (task_definition, status) in &service.deployments {
                match parse_task_definition(task_definition) {
                    Some((family, revision)) => usage.deployments.push(Deployment {
                        cluster: arn_name(cluster).to_string(),
                        service: service.name.clone(),
                        family,
                        revision,
                        status: status.clone(),
                    }),
                    None => usage.gaps.push(ScanGap {
                        call: "ecs:DescribeServices".into(),
                        resource: format!("service {}", service.name),
                        error: format!("unreadable task definition {task_definition:?}"),
                    }),
                }
            }
            revision_arns
                .entry(cluster)
                .or_default()
                .extend(service.revision_arns);
        }
    }
    // Batched per cluster (not per DescribeServices batch) so each call carries the most ARNs.
    let revision_batches: Vec<(&String, Vec<String>)> = revision_arns
        .into_iter()
        .flat_map(|(cluster, arns)| {
            arns.chunks(DESCRIBE_REVISIONS_BATCH)
                .map(|b| (cluster, b.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();

    // Stage 3: digests pinned by service revisions; revisions the rule needs.
    let mut in_service: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for d in &usage.deployments {
        in_service
            .entry(d.family.clone())
            .or_default()
            .insert(d.revision);
        // A family whose every revision was deregistered is not listed, but its services run.
        existing.entry(d.family.clone()).or_default();
    }
    tracing::info!(
        services = usage.deployments.len(),
        families = existing.len(),
        "describing pinned service revisions and the task-definition revisions in use"
    );
    let mut wanted: Vec<(String, u32)> = Vec::new();
    for (family, revisions) in &mut existing {
        let serving = in_service.remove(family).unwrap_or_default();
        revisions.extend(&serving);
        let needed = needed_revisions(
            revisions.iter().copied(),
            &serving,
            settings.rollback_revisions,
        );
        wanted.extend(needed.into_iter().map(|(r, _)| (family.clone(), r)));
    }
    let (revisions, definitions) =
        futures_util::join!(
            join_all(revision_batches.iter().map(|(c, b)| async move {
                (*c, limit.ecs(ecs.describe_service_revisions(b)).await)
            })),
            join_all(
                wanted
                    .iter()
                    .map(|(f, r)| limit.ecs(ecs.describe_task_definition(f, *r)))
            ),
        );

    let mut missing_revisions = 0;
    let mut revisions_unavailable = None;
    for (cluster, result) in revisions {
        match result {
            Ok(batch) => {
                missing_revisions += batch.failures.len();
                for revision in batch.revisions {
                    for c in revision.containers {
                        usage.uses.push(Use {
                            consumer: Consumer::ServiceRevision {
                                cluster: arn_name(cluster).to_string(),
                                service: revision.service.clone(),
                                container: c.name,
                            },
                            image: c.image,
                            pinned_digest: c.digest,
                        });
                    }
                }
            }
            Err(e) => revisions_unavailable = Some(e),
        }
    }
    if missing_revisions > 0 {
        usage.notes.push(format!(
            "{missing_revisions} service revision(s) have no pinned digests on record (created \
             before 2024-10-25): their images are protected through running tasks' digests and \
             their task definitions' tags instead"
        ));
    }
    if let Some(e) = revisions_unavailable {
        usage.notes.push(format!(
            "service revisions could not be read ({e}): pinned digests are protected through \
             running tasks' digests and task definitions' tags instead"
        ));
    }

    let mut described: BTreeMap<(String, u32), Vec<crate::usage::ContainerImage>> = BTreeMap::new();
    for ((family, revision), result) in wanted.into_iter().zip(definitions) {
        if let Some(containers) = keep_ok(result, &mut usage.gaps) {
            described.insert((family, revision), containers);
        }
    }
    for (family, revisions) in existing {
        let revisions = revisions
            .into_iter()
            .map(|r| (r, described.remove(&(family.clone(), r))))
            .collect();
        usage.families.insert(family, Family { revisions });
    }
    usage
}

async fn scan_lambda<L: LambdaApi>(lambda: &L, settings: &ScanSettings, limit: &Limiter) -> Usage {
    let mut usage = Usage::default();
    let functions = match limit.call(lambda.list_image_functions()).await {
        Ok(f) => f,
        Err(e) => {
            usage.gaps.push(e.into());
            return usage;
        }
    };
    let listed = join_all(functions.iter().map(|f| async move {
        futures_util::join!(
            limit.call(lambda.list_versions(f)),
            limit.call(lambda.list_aliases(f))
        )
    }))
    .await;

    // (function, qualifier to read, consumers' qualifiers)
    let mut reads: Vec<(&String, String, Vec<String>)> = Vec::new();
    for (function, (versions, aliases)) in functions.iter().zip(listed) {
        let (Some(versions), Some(aliases)) = (
            keep_ok(versions, &mut usage.gaps),
            keep_ok(aliases, &mut usage.gaps),
        ) else {
            continue;
        };
        let mut qualifiers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        qualifiers.insert("$LATEST".into(), vec!["$LATEST".into()]);
        let mut numbered: Vec<u64> = versions.iter().filter_map(|v| v.parse().ok()).collect();
        numbered.sort_unstable_by(|a, b| b.cmp(a));
        for v in numbered.into_iter().take(settings.lambda_versions) {
            qualifiers
                .entry(v.to_string())
                .or_default()
                .push(v.to_string());
        }
        for alias in aliases {
            for version in alias.versions {
                qualifiers
                    .entry(version)
                    .or_default()
                    .push(alias.name.clone());
            }
        }
        reads.extend(
            qualifiers
                .into_iter()
                .map(|(q, users)| (function, q, users)),
        );
    }
    let images = join_all(
        reads
            .iter()
            .map(|(f, q, _)| limit.call(lambda.function_image(f, q))),
    )
    .await;
    for ((function, _, users), result) in reads.into_iter().zip(images) {
        let Some(Some(image)) = keep_ok(result, &mut usage.gaps) else {
            continue;
        };
        let pinned_digest = image
            .resolved_image_uri
            .as_deref()
            .and_then(|u| u.split_once('@'))
            .and_then(|(_, d)| d.parse().ok());
        for qualifier in users {
            usage.uses.push(Use {
                consumer: Consumer::Lambda {
                    function: function.clone(),
                    qualifier,
                },
                image: image.image_uri.clone(),
                pinned_digest,
            });
        }
    }
    usage
}

/// Adds to the inventory, as partial listings, the images usage names in repositories it lacks.
/// The listing of managed repositories does not depend on usage, so it can run beside the usage
/// scan and this step follow it.
pub async fn complete_inventory<R: EcrApi>(
    ecr: &R,
    inventory: &mut Inventory,
    usage: &Usage,
    region: Option<&str>,
    concurrency: usize,
    gaps: &mut Vec<ScanGap>,
) {
    if inventory.incomplete {
        return;
    }
    let limit = Limiter::new(concurrency);
    look_up_referenced(ecr, inventory, usage, region, &limit, gaps).await;
}

/// Lists every image of every managed repository, with index children and lifecycle policies.
pub async fn list_managed<R: EcrApi>(
    ecr: &R,
    region: Option<&str>,
    policy: &Policy,
    concurrency: usize,
) -> (Inventory, Vec<ScanGap>) {
    let limit = Limiter::new(concurrency);
    let mut gaps = Vec::new();
    let mut inventory = Inventory::for_region(region);
    let (account, repositories) = futures_util::join!(
        limit.call(ecr.registry_id()),
        limit.call(ecr.list_repositories())
    );
    inventory.account = keep_ok(account, &mut gaps);
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
    let policies = join_all(
        managed
            .iter()
            .map(|repo| limit.call(ecr.lifecycle_policy(repo))),
    );
    let listed = join_all(managed.iter().map(|repo| async {
        let mut images = limit.call(ecr.list_images(repo)).await?;
        let indexes: Vec<_> = images
            .iter()
            .filter(|i| i.is_index())
            .map(|i| i.digest)
            .collect();
        let children = join_all(
            indexes
                .chunks(IMAGE_ID_BATCH)
                .map(|b| limit.call(ecr.index_children(repo, b))),
        )
        .await;
        let mut by_index: BTreeMap<_, _> = BTreeMap::new();
        for batch in children {
            by_index.extend(batch?);
        }
        for image in &mut images {
            if let Some(children) = by_index.remove(&image.digest) {
                image.children = children;
            }
        }
        Ok::<_, AwsError>(images)
    }));
    let (listed, policies) = futures_util::join!(listed, policies);
    for ((repo, result), policy) in managed.iter().zip(listed).zip(policies) {
        let (lifecycle_policy, lifecycle_error) = match policy {
            Ok(p) => (p, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let repository = match keep_ok(result, &mut gaps) {
            Some(images) => Repository {
                listing: Listing::Complete,
                images,
                lifecycle_policy,
                lifecycle_error,
            },
            None => Repository {
                listing: Listing::Unavailable,
                ..Repository::default()
            },
        };
        inventory.repositories.insert((*repo).clone(), repository);
    }
    (inventory, gaps)
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
    inventory.account = keep_ok(ecr.registry_id().await, &mut gaps);
    complete_inventory(ecr, &mut inventory, usage, region, concurrency, &mut gaps).await;
    (inventory, gaps)
}

/// Adds to `inventory`, as partial listings, the images usage names in repositories it lacks.
async fn look_up_referenced<R: EcrApi>(
    ecr: &R,
    inventory: &mut Inventory,
    usage: &Usage,
    region: Option<&str>,
    limit: &Limiter,
    gaps: &mut Vec<ScanGap>,
) {
    // Images that usage names in repositories not listed above: look them up by id.
    let mut wanted: BTreeMap<String, BTreeSet<ImageId>> = BTreeMap::new();
    for (image, pinned) in referenced_images(usage) {
        let Ok(r) = ImageRef::parse(image) else {
            continue;
        };
        let ours = match (&inventory.account, region) {
            (Some(a), Some(reg)) => r.is_in_registry(a, reg),
            _ => r.is_ecr(),
        };
        if !ours || inventory.repositories.contains_key(&r.repository) {
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
pub fn referenced_images(usage: &Usage) -> impl Iterator<Item = (&str, Option<crate::Digest>)> {
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

/// The value of a successful call; a failed one becomes a gap.
fn keep_ok<T>(result: Result<T, AwsError>, gaps: &mut Vec<ScanGap>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            gaps.push(e.into());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_token_bucket_allows_its_burst_then_its_rate() {
        let bucket = TokenBucket::new(20.0, 20.0);
        let start = tokio::time::Instant::now();
        for _ in 0..20 {
            bucket.take().await;
        }
        assert_eq!(
            start.elapsed(),
            std::time::Duration::ZERO,
            "the burst is immediate"
        );
        for _ in 0..40 {
            bucket.take().await;
        }
        // 40 more at 20 per second: two seconds of (paused, simulated) time.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((1.99..2.01).contains(&elapsed), "{elapsed}");
    }
}
