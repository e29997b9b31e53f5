//! The simulated account's ECS answers.

use std::sync::Arc;

use aws_sdk_ecs::types::{
    Container, ContainerDefinition, ContainerImage as EcsContainerImage, Deployment,
    Failure as EcsFailure, Service, ServiceCurrentRevisionSummary, ServiceRevision, Task,
    TaskDefinition, TaskSet,
};
use aws_smithy_mocks::{MockResponse, Rule, mock};

use super::*;
use crate::support::ECR;

pub fn rules(f: &Faults, s: &Arc<Stats>) -> Vec<Rule> {
    use aws_sdk_ecs::Client;
    use aws_sdk_ecs::operation::{
        describe_service_revisions::*, describe_services::*, describe_task_definition::*,
        describe_tasks::*, list_clusters::*, list_services::*, list_task_definitions::*,
        list_tasks::*,
    };
    let mut rules = vec![
        mock!(Client::list_clusters).then_compute_response(respond!(
            f,
            s,
            "ListClusters",
            ListClustersError,
            |r: &ListClustersInput, s: &Stats, _: &Faults| {
                s.page("ListClusters", r.max_results());
                let all: Vec<String> = (0..CLUSTERS)
                    .map(|c| format!("{ARN}:cluster/c{c}"))
                    .collect();
                let (items, next) = page(&all, r.next_token(), 1);
                ListClustersOutput::builder()
                    .set_cluster_arns(Some(items))
                    .set_next_token(next)
                    .build()
            }
        )),
        mock!(Client::list_services).then_compute_response(respond!(
            f,
            s,
            "ListServices",
            ListServicesError,
            |r: &ListServicesInput, s: &Stats, _: &Faults| {
                s.page("ListServices", r.max_results());
                let c = r.cluster().unwrap().rsplit('/').next().unwrap().to_string();
                let all: Vec<String> = (0..SERVICES)
                    .map(|i| format!("{ARN}:service/{c}/svc-{i}"))
                    .collect();
                let (items, next) = page(&all, r.next_token(), 10);
                ListServicesOutput::builder()
                    .set_service_arns(Some(items))
                    .set_next_token(next)
                    .build()
            }
        )),
        mock!(Client::describe_services).then_compute_response(respond!(
            f,
            s,
            "DescribeServices",
            DescribeServicesError,
            |r: &DescribeServicesInput, s: &Stats, _: &Faults| {
                let names = r.services();
                s.batch("DescribeServices", names.len());
                let c = r.cluster().unwrap().rsplit('/').next().unwrap().to_string();
                let services = names
                    .iter()
                    .map(|arn| {
                        let name = arn.rsplit('/').next().unwrap();
                        let i: usize = name.trim_start_matches("svc-").parse().unwrap();
                        let revision = |r: u32| format!("{ARN}:task-definition/fam{i}:{r}");
                        let mut service = Service::builder()
                            .service_name(name)
                            .service_arn(arn)
                            .running_count((TASKS_PER_CLUSTER / SERVICES) as i32)
                            .deployments(
                                Deployment::builder()
                                    .status("PRIMARY")
                                    .task_definition(revision(2))
                                    .build(),
                            );
                        // svc-0 is mid-rollout from revision 1 (an ACTIVE deployment); svc-1 is
                        // blue/green with revision 1 in a second task set.
                        match i {
                            0 => {
                                service = service.deployments(
                                    Deployment::builder()
                                        .status("ACTIVE")
                                        .task_definition(revision(1))
                                        .build(),
                                )
                            }
                            1 => {
                                service = service.task_sets(
                                    TaskSet::builder()
                                        .status("ACTIVE")
                                        .task_definition(revision(1))
                                        .build(),
                                )
                            }
                            _ => {}
                        }
                        service
                            .current_service_revisions(
                                ServiceCurrentRevisionSummary::builder()
                                    .arn(format!("{ARN}:service-revision/{c}/{name}/1"))
                                    .build(),
                            )
                            .build()
                    })
                    .collect();
                DescribeServicesOutput::builder()
                    .set_services(Some(services))
                    .build()
            }
        )),
        mock!(Client::describe_service_revisions).then_compute_response(respond!(
            f,
            s,
            "DescribeServiceRevisions",
            DescribeServiceRevisionsError,
            |r: &DescribeServiceRevisionsInput, s: &Stats, f: &Faults| {
                let arns = r.service_revision_arns();
                s.batch("DescribeServiceRevisions", arns.len());
                let mut out = DescribeServiceRevisionsOutput::builder();
                for arn in arns {
                    if f.revisions_missing {
                        out =
                            out.failures(EcsFailure::builder().arn(arn).reason("MISSING").build());
                        continue;
                    }
                    let parts: Vec<&str> = arn.rsplit('/').collect(); // rev, service, cluster
                    let i: usize = parts[1].trim_start_matches("svc-").parse().unwrap();
                    out = out.service_revisions(
                        ServiceRevision::builder()
                            .service_revision_arn(arn)
                            .service_arn(format!("{ARN}:service/{}/{}", parts[2], parts[1]))
                            .container_images(
                                EcsContainerImage::builder()
                                    .container_name("app")
                                    .image(format!("{ECR}/app:v{i}"))
                                    .image_digest(app_digest(i).to_string())
                                    .build(),
                            )
                            .build(),
                    );
                }
                out.build()
            }
        )),
        mock!(Client::list_tasks).then_compute_response(respond!(
            f,
            s,
            "ListTasks",
            ListTasksError,
            |r: &ListTasksInput, s: &Stats, _: &Faults| {
                s.page("ListTasks", r.max_results());
                let c = r.cluster().unwrap().rsplit('/').next().unwrap().to_string();
                let stopped =
                    r.desired_status() == Some(&aws_sdk_ecs::types::DesiredStatus::Stopped);
                let all: Vec<String> = if stopped {
                    vec![]
                } else {
                    (0..TASKS_PER_CLUSTER)
                        .map(|k| format!("{ARN}:task/{c}/task-{k}"))
                        .collect()
                };
                let (items, next) = page(&all, r.next_token(), 100);
                ListTasksOutput::builder()
                    .set_task_arns(Some(items))
                    .set_next_token(next)
                    .build()
            }
        )),
        mock!(Client::describe_tasks).then_compute_response(respond!(
            f,
            s,
            "DescribeTasks",
            DescribeTasksError,
            |r: &DescribeTasksInput, s: &Stats, _: &Faults| {
                s.batch("DescribeTasks", r.tasks().len());
                let tasks = r
                    .tasks()
                    .iter()
                    .map(|arn| {
                        let k: usize = arn.rsplit('-').next().unwrap().parse().unwrap();
                        let i = k % SERVICES;
                        Task::builder()
                            .task_arn(arn)
                            .group(format!("service:svc-{i}"))
                            .containers(
                                Container::builder()
                                    .name("app")
                                    .image(format!("{ECR}/app:v{i}"))
                                    .image_digest(app_digest(i).to_string())
                                    .build(),
                            )
                            .build()
                    })
                    .collect();
                DescribeTasksOutput::builder()
                    .set_tasks(Some(tasks))
                    .build()
            }
        )),
        mock!(Client::list_task_definitions).then_compute_response(respond!(
            f,
            s,
            "ListTaskDefinitions",
            ListTaskDefinitionsError,
            |r: &ListTaskDefinitionsInput, s: &Stats, _: &Faults| {
                s.page("ListTaskDefinitions", r.max_results());
                assert_eq!(r.family_prefix(), None, "one listing for every family");
                let all = all_task_definitions();
                let (items, next) = page(&all, r.next_token(), 8);
                ListTaskDefinitionsOutput::builder()
                    .set_task_definition_arns(Some(items))
                    .set_next_token(next)
                    .build()
            }
        )),
        mock!(Client::describe_task_definition).then_compute_response(respond!(
            f,
            s,
            "DescribeTaskDefinition",
            DescribeTaskDefinitionError,
            |r: &DescribeTaskDefinitionInput, s: &Stats, _: &Faults| {
                let name = r.task_definition().unwrap().to_string();
                s.call(Box::leak(
                    format!("DescribeTaskDefinition {name}").into_boxed_str(),
                ));
                let (family, revision) = name.split_once(':').unwrap();
                let i: usize = family.trim_start_matches("fam").parse().unwrap();
                let image = if revision == "2" {
                    format!("{ECR}/app:v{i}")
                } else {
                    format!("{ECR}/app:old{i}")
                };
                DescribeTaskDefinitionOutput::builder()
                    .task_definition(
                        TaskDefinition::builder()
                            .family(family)
                            .revision(revision.parse().unwrap())
                            .container_definitions(
                                ContainerDefinition::builder()
                                    .name("app")
                                    .image(image)
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            }
        )),
    ];
    if f.throttle_first > 0 {
        let clusters: Vec<String> = (0..CLUSTERS)
            .map(|c| format!("{ARN}:cluster/c{c}"))
            .collect();
        let definitions = all_task_definitions();
        rules.insert(
            0,
            mock!(Client::list_clusters)
                .sequence()
                .error(|| ListClustersError::generic(throttle()))
                .times(f.throttle_first)
                .output(move || {
                    ListClustersOutput::builder()
                        .set_cluster_arns(Some(clusters.clone()))
                        .build()
                })
                .repeatedly()
                .build(),
        );
        rules.insert(
            0,
            mock!(Client::list_task_definitions)
                .sequence()
                .error(|| ListTaskDefinitionsError::generic(throttle()))
                .times(f.throttle_first)
                .output(move || {
                    ListTaskDefinitionsOutput::builder()
                        .set_task_definition_arns(Some(definitions.clone()))
                        .build()
                })
                .repeatedly()
                .build(),
        );
    }
    if f.revisions_unsupported {
        rules.insert(
            0,
            mock!(Client::describe_service_revisions).then_http_response(|| {
                aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
                    aws_smithy_types::body::SdkBody::from("{\"__type\":\"InternalFailure\"}"),
                )
            }),
        );
    }
    rules
}

/// Every ACTIVE task definition of the simulated account: two revisions of each family.
pub fn all_task_definitions() -> Vec<String> {
    (0..SERVICES)
        .flat_map(|i| {
            [
                format!("{ARN}:task-definition/fam{i}:2"),
                format!("{ARN}:task-definition/fam{i}:1"),
            ]
        })
        .collect()
}
