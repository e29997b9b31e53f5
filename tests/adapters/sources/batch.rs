//! AWS Batch: job definitions, queues and jobs, and the revisions rules and schedules submit.

use super::eventbridge::rule;
use super::scheduler::schedule;
use super::*;

mod batch_fleet {
    use aws_sdk_batch::types::{
        ContainerDetail, ContainerProperties, EcsProperties, EcsTaskProperties, EksContainer,
        EksPodProperties, EksProperties, JobDefinition, JobDetail, JobQueueDetail, JobSummary,
        TaskContainerProperties,
    };

    use super::*;

    pub fn definition(name: &str, revision: i32) -> JobDefinition {
        let image = |tag: String| format!("{ECR}/jobs:{tag}");
        let builder = JobDefinition::builder()
            .job_definition_name(name)
            .revision(revision)
            .job_definition_arn(format!(
                "arn:aws:batch:us-east-1:123456789012:job-definition/{name}:{revision}"
            ))
            .r#type("container");
        match name {
            "etl" => builder.ecs_properties(
                EcsProperties::builder()
                    .task_properties(
                        EcsTaskProperties::builder()
                            .containers(
                                TaskContainerProperties::builder()
                                    .name("main")
                                    .image(image(format!("etl-{revision}")))
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            ),
            "k8s" => builder.eks_properties(
                EksProperties::builder()
                    .pod_properties(
                        EksPodProperties::builder()
                            .init_containers(
                                EksContainer::builder()
                                    .name("init")
                                    .image(image("init".into()))
                                    .build(),
                            )
                            .containers(
                                EksContainer::builder()
                                    .name("pod")
                                    .image(image(format!("k8s-{revision}")))
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            ),
            _ => builder.container_properties(
                ContainerProperties::builder()
                    .image(image(format!("{name}-{revision}")))
                    .build(),
            ),
        }
        .build()
    }

    pub fn rules() -> Vec<Rule> {
        use aws_sdk_batch::Client;
        use aws_sdk_batch::operation::{
            describe_job_definitions::*, describe_job_queues::*, describe_jobs::*, list_jobs::*,
        };
        let active = vec![
            definition("export", 3),
            definition("export", 4),
            definition("etl", 1),
            definition("k8s", 7),
            definition("report", 2),
        ];
        vec![
            // Every ACTIVE revision, two per page, the first page throttled once.
            mock!(Client::describe_job_definitions)
                .match_requests(|r| {
                    r.status() == Some("ACTIVE") && r.job_definition_name().is_none()
                })
                .then_compute_output(move |r| {
                    let (items, next) = page(&active, r.next_token(), 2);
                    DescribeJobDefinitionsOutput::builder()
                        .set_job_definitions(Some(items))
                        .set_next_token(next)
                        .build()
                }),
            // A revision named by id, though INACTIVE.
            mock!(Client::describe_job_definitions)
                .match_requests(|r| !r.job_definitions().is_empty())
                .then_compute_output(|r| {
                    assert!(r.job_definitions().len() <= 100);
                    let found = r
                        .job_definitions()
                        .iter()
                        .filter_map(|id| match id.as_str() {
                            "export:1" => Some(definition("export", 1)),
                            _ => None,
                        });
                    DescribeJobDefinitionsOutput::builder()
                        .set_job_definitions(Some(found.collect()))
                        .build()
                }),
            mock!(Client::describe_job_definitions)
                .match_requests(|r| r.job_definition_name() == Some("report"))
                .then_output(|| {
                    DescribeJobDefinitionsOutput::builder()
                        .job_definitions(definition("report", 1))
                        .job_definitions(definition("report", 2))
                        .build()
                }),
            mock!(Client::describe_job_definitions)
                .then_output(|| DescribeJobDefinitionsOutput::builder().build()),
            mock!(Client::describe_job_queues)
                .sequence()
                .error(|| DescribeJobQueuesError::generic(throttle()))
                .times(1)
                .output(|| {
                    let queue = |n: &str| {
                        JobQueueDetail::builder()
                            .job_queue_name(n)
                            .job_queue_arn(format!(
                                "arn:aws:batch:us-east-1:123456789012:job-queue/{n}"
                            ))
                            .build()
                    };
                    DescribeJobQueuesOutput::builder()
                        .job_queues(queue("main"))
                        .job_queues(queue("broken"))
                        .build()
                })
                .build(),
            mock!(Client::list_jobs).then_compute_response(|r| {
                let queue = r.job_queue().unwrap_or_default();
                if queue.ends_with("broken") {
                    return MockResponse::Error(ListJobsError::generic(denied()));
                }
                let jobs = match r.job_status().map(|s| s.as_str()) {
                    Some("RUNNABLE") => vec!["j-waiting"],
                    Some("RUNNING") => vec!["j-running"],
                    _ => vec![],
                };
                MockResponse::Output(
                    ListJobsOutput::builder()
                        .set_job_summary_list(Some(
                            jobs.into_iter()
                                .map(|id| JobSummary::builder().job_id(id).job_name(id).build())
                                .collect(),
                        ))
                        .build(),
                )
            }),
            mock!(Client::describe_jobs).then_compute_output(|r| {
                let jobs = r.jobs().iter().map(|id| {
                    JobDetail::builder()
                        .job_id(id)
                        .job_name(id)
                        .container(
                            ContainerDetail::builder()
                                .image(format!("{ECR}/jobs:{id}"))
                                .build(),
                        )
                        .build()
                });
                DescribeJobsOutput::builder()
                    .set_jobs(Some(jobs.collect()))
                    .build()
            }),
        ]
    }
}

#[tokio::test]
async fn batch_keeps_each_newest_job_definition_and_every_waiting_or_running_job() {
    let rules = batch_fleet::rules();
    let batch = mock_client!(aws_sdk_batch, RuleMode::MatchAny, rules.iter(), |c| c
        .retry_config(retry()));
    let setup = Setup::new(ScanSettings::default());
    let usage = ecr_warden::sources::batch::scan(&batch, &setup.scope()).await;
    let mut images: Vec<String> = usage
        .uses
        .iter()
        .map(|u| {
            u.image
                .trim_start_matches(&format!("{ECR}/jobs:"))
                .to_string()
        })
        .collect();
    images.sort();
    assert_eq!(
        images,
        [
            "etl-1",
            "export-4",
            "init",
            "j-running",
            "j-waiting",
            "k8s-7",
            "report-2"
        ],
        "newest revisions of each name (ECS, EKS, container properties) and the active jobs"
    );
    assert!(usage.uses.iter().any(|u| matches!(&u.consumer,
        Consumer::BatchJobDefinition { job_definition, container } if job_definition == "k8s:7" && container == "init")));
    assert_eq!(
        usage.gaps.len(),
        5,
        "one per status of the broken queue: {:?}",
        usage.gaps
    );
    assert!(
        usage
            .gaps
            .iter()
            .all(|g| g.call == "batch:ListJobs" && g.resource.contains("broken"))
    );
}

#[tokio::test]
async fn job_definitions_rules_and_schedules_submit_are_resolved_by_revision_or_to_the_newest() {
    use ecr_warden_core::usage::JobDefinitionPin;
    let rules = batch_fleet::rules();
    let batch = mock_client!(aws_sdk_batch, RuleMode::MatchAny, rules.iter());
    let setup = Setup::new(ScanSettings::default());
    let pins = vec![
        JobDefinitionPin {
            job_definition: "export:1".into(),
            by: rule("default", "old"),
        },
        JobDefinitionPin {
            job_definition: "arn:aws:batch:us-east-1:123456789012:job-definition/report".into(),
            by: schedule("daily"),
        },
        JobDefinitionPin {
            job_definition: "gone".into(),
            by: schedule("stale"),
        },
    ];
    let usage = ecr_warden::sources::batch::resolve_pins(&batch, &setup.scope(), pins).await;
    let found: Vec<(String, String)> = usage
        .uses
        .iter()
        .map(|u| (u.consumer.to_string(), u.image.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "EventBridge rule old on bus default runs export:1, container container"
                    .to_string(),
                format!("{ECR}/jobs:export-1")
            ),
            (
                "EventBridge Scheduler schedule jobs/daily runs report:2, container container"
                    .to_string(),
                format!("{ECR}/jobs:report-2")
            ),
        ]
    );
    assert!(usage.gaps.is_empty());
    assert!(
        usage.notes[0].contains("submits job definition gone, which does not exist"),
        "{:?}",
        usage.notes
    );
}
