//! AWS Batch: the newest ACTIVE revision of every job definition (`SubmitJob` without a revision
//! runs it), and the jobs of every queue from SUBMITTED through RUNNING. Job definitions that
//! rules and schedules submit are resolved afterwards ([`resolve_pins`]), when every source has
//! said which.

use std::collections::BTreeMap;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};

use ecr_warden_core::usage::{Consumer, JobDefinitionPin, Usage, Use};

use super::{Scope, UsageSource, batches, keep_ok};
use crate::aws::arn_name;
use crate::aws::batch::{BatchApi, ID_BATCH, JobDefinitionInfo, WAITING_OR_RUNNING};

/// Batch job definitions and active jobs.
pub struct BatchJobs;

impl UsageSource for BatchJobs {
    fn kind(&self) -> &'static str {
        "batch"
    }

    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage> {
        scan(&scope.aws.batch, scope).boxed()
    }
}

/// Every name's newest ACTIVE job definition, and every waiting or running job.
pub async fn scan<B: BatchApi>(batch: &B, scope: &Scope<'_>) -> Usage {
    let limit = scope.limit;
    let (definitions, mut usage) = futures_util::join!(
        limit.call(batch.active_job_definitions()),
        jobs(batch, scope)
    );
    let mut newest: BTreeMap<String, JobDefinitionInfo> = BTreeMap::new();
    for d in keep_ok(definitions, &mut usage.gaps).unwrap_or_default() {
        if newest.get(&d.name).is_none_or(|n| n.revision < d.revision) {
            newest.insert(d.name.clone(), d);
        }
    }
    for d in newest.into_values() {
        let job_definition = format!("{}:{}", d.name, d.revision);
        usage.uses.extend(d.containers.into_iter().map(|c| Use {
            consumer: Consumer::BatchJobDefinition {
                job_definition: job_definition.clone(),
                container: c.container,
            },
            image: c.image,
            pinned_digest: None,
        }));
    }
    usage
}

/// The images of every job between SUBMITTED and RUNNING, in every queue.
async fn jobs<B: BatchApi>(batch: &B, scope: &Scope<'_>) -> Usage {
    let mut usage = Usage::default();
    let limit = scope.limit;
    let Some(queues) = keep_ok(limit.call(batch.job_queues()).await, &mut usage.gaps) else {
        return usage;
    };
    let listed = join_all(
        (queues.iter())
            .flat_map(|q| WAITING_OR_RUNNING.iter().map(move |s| (q, *s)))
            .map(|(q, s)| async move { (q, limit.call(batch.list_jobs(q, s)).await) }),
    )
    .await;
    let job_batches: Vec<(&String, Vec<String>)> = listed
        .into_iter()
        .filter_map(|(q, r)| keep_ok(r, &mut usage.gaps).map(|ids| (q, ids)))
        .flat_map(|(q, ids)| batches(q, &ids, ID_BATCH))
        .collect();
    let described = join_all(
        job_batches
            .iter()
            .map(|(q, ids)| async move { (*q, limit.call(batch.describe_jobs(ids)).await) }),
    )
    .await;
    for (queue, result) in described {
        for job in keep_ok(result, &mut usage.gaps).unwrap_or_default() {
            usage.uses.extend(job.containers.into_iter().map(|c| Use {
                consumer: Consumer::BatchJob {
                    queue: arn_name(queue).to_string(),
                    job: format!("{} ({})", job.name, job.id),
                    container: c.container,
                },
                image: c.image,
                pinned_digest: None,
            }));
        }
    }
    usage
}

/// Resolves the job definitions rules and schedules submit into uses: a revision they name is
/// described by id (it may be INACTIVE); a name alone means its newest ACTIVE revision.
pub async fn resolve_pins<B: BatchApi>(
    batch: &B,
    scope: &Scope<'_>,
    pins: Vec<JobDefinitionPin>,
) -> Usage {
    let mut usage = Usage::default();
    if pins.is_empty() {
        return usage;
    }
    let (named, by_revision): (Vec<&JobDefinitionPin>, Vec<&JobDefinitionPin>) = pins
        .iter()
        .partition(|p| job_definition_parts(&p.job_definition).1.is_none());
    let limit = scope.limit;
    let mut ids: Vec<String> = by_revision
        .iter()
        .map(|p| p.job_definition.clone())
        .collect();
    ids.sort();
    ids.dedup();
    let (described, newest) = futures_util::join!(
        join_all(
            ids.chunks(ID_BATCH)
                .map(|b| limit.call(batch.job_definitions(b)))
        ),
        join_all(named.iter().map(|p| {
            let name = job_definition_parts(&p.job_definition).0;
            async move { limit.call(batch.job_definitions_named(&name)).await }
        })),
    );
    let mut found: BTreeMap<(String, u32), JobDefinitionInfo> = BTreeMap::new();
    for d in described
        .into_iter()
        .filter_map(|r| keep_ok(r, &mut usage.gaps))
        .flatten()
    {
        found.insert((d.name.clone(), d.revision), d);
    }
    let mut resolved: Vec<(&JobDefinitionPin, Option<JobDefinitionInfo>)> = Vec::new();
    for pin in by_revision {
        let (name, revision) = job_definition_parts(&pin.job_definition);
        let key = (name, revision.unwrap_or_default());
        resolved.push((pin, found.get(&key).cloned()));
    }
    for (pin, result) in named.into_iter().zip(newest) {
        let newest = keep_ok(result, &mut usage.gaps)
            .and_then(|all| all.into_iter().max_by_key(|d| d.revision));
        resolved.push((pin, newest));
    }
    for (pin, definition) in resolved {
        add_pinned(&mut usage, pin, definition);
    }
    usage
}

/// The uses of a pinned job definition, or a warning when it does not exist.
fn add_pinned(usage: &mut Usage, pin: &JobDefinitionPin, definition: Option<JobDefinitionInfo>) {
    let Some(d) = definition else {
        usage.notes.push(format!(
            "{} submits job definition {}, which does not exist or has no ACTIVE revision: it cannot start a job",
            pin.by, pin.job_definition
        ));
        return;
    };
    let runs = format!("{}:{}", d.name, d.revision);
    usage.uses.extend(d.containers.into_iter().map(|c| Use {
        consumer: pin.by.consumer(runs.clone(), c.container),
        image: c.image,
        pinned_digest: None,
    }));
}

/// A job definition as SubmitJob takes it (name, `name:revision` or ARN): its name and revision.
pub fn job_definition_parts(job_definition: &str) -> (String, Option<u32>) {
    let name = arn_name(job_definition);
    match name.rsplit_once(':') {
        Some((n, r)) if r.parse::<u32>().is_ok() => (n.to_string(), r.parse().ok()),
        _ => (name.to_string(), None),
    }
}
