//! Task-definition revisions: the revision rule decides which revisions of each family protect
//! their images. A revision runs when a service deployment, a rule or a schedule runs it; newer
//! revisions and the rollback revisions are kept around it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::resolve::Resolver;
use crate::revisions::{RevisionRole, needed_revisions};
use crate::usage::{
    Consumer, ContainerImage, Deployment, RevisionPin, RevisionUse, ScanGap, Usage,
    task_definition_name,
};

/// What runs a task-definition revision.
enum Runner<'u> {
    Service(&'u Deployment),
    Pin(&'u RevisionPin),
}

impl Runner<'_> {
    /// The consumer of one of the revision's containers.
    fn consumer(&self, task_definition: &str, container: &str) -> Consumer {
        match self {
            Runner::Service(d) => Consumer::ServiceDeployment {
                cluster: d.cluster.clone(),
                service: d.service.clone(),
                task_definition: task_definition.to_string(),
                container: container.to_string(),
            },
            Runner::Pin(p) => {
                p.by.consumer(task_definition.to_string(), container.to_string())
            }
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Runner::Service(_) => "a service deployment",
            Runner::Pin(_) => "a rule or schedule",
        }
    }
}

/// Applies the revision rule to every family: the revisions it needs protect their images.
/// Returns the gaps (needed revisions that were not described) and warnings (pins naming a family
/// with no ACTIVE revision, which cannot start a task).
pub(super) fn apply_revisions(
    resolver: &mut Resolver,
    usage: &Usage,
    rollback: u32,
) -> (Vec<ScanGap>, Vec<String>) {
    let mut gaps = Vec::new();
    let mut warnings = Vec::new();
    let mut running: BTreeMap<&str, Vec<(u32, Runner)>> = BTreeMap::new();
    for d in &usage.deployments {
        running
            .entry(&d.family)
            .or_default()
            .push((d.revision, Runner::Service(d)));
    }
    for p in &usage.pins {
        match p.revision {
            Some(r) => running.entry(&p.family).or_default().push((r, Runner::Pin(p))),
            None => warnings.push(format!(
                "{} runs task-definition family {}, which has no ACTIVE revision: it cannot start a task",
                p.by, p.family
            )),
        }
    }
    for (family, fam) in &usage.families {
        let runners = running.remove(family.as_str()).unwrap_or_default();
        let serving: BTreeSet<u32> = runners.iter().map(|(r, _)| *r).collect();
        for (revision, role) in needed_revisions(fam.revisions.keys().copied(), &serving, rollback)
        {
            let task_definition = task_definition_name(family, revision);
            let Some(Some(containers)) = fam.revisions.get(&revision) else {
                gaps.push(ScanGap::new(
                    "ecs:DescribeTaskDefinition",
                    task_definition,
                    "revision needed by the revision rule was not described",
                ));
                continue;
            };
            for c in containers {
                for consumer in consumers(&runners, &task_definition, revision, role, c) {
                    let consumer = consumer.in_scope(usage.origin.as_ref());
                    resolver.apply(&Arc::new(consumer), &c.image, None);
                }
            }
        }
    }
    // Revisions run from families the scan did not report at all.
    for (revision, runner) in running
        .into_iter()
        .flat_map(|(f, rs)| rs.into_iter().map(move |(r, x)| ((f, r), x)))
    {
        gaps.push(ScanGap::new(
            "ecs:DescribeTaskDefinition",
            task_definition_name(revision.0, revision.1),
            format!(
                "{} runs this revision but it was not described",
                runner.what()
            ),
        ));
    }
    (gaps, warnings)
}

/// Who a needed revision's container serves: what runs it, or the revision itself.
fn consumers(
    runners: &[(u32, Runner)],
    task_definition: &str,
    revision: u32,
    role: RevisionRole,
    c: &ContainerImage,
) -> Vec<Consumer> {
    if role != RevisionRole::InService {
        return vec![Consumer::Revision(RevisionUse {
            role,
            task_definition: task_definition.to_string(),
            container: c.container.clone(),
        })];
    }
    runners
        .iter()
        .filter(|(r, _)| *r == revision)
        .map(|(_, runner)| runner.consumer(task_definition, &c.container))
        .collect()
}
