//! Each usage source against its own mocked service: every list call answered page by page, a
//! throttled call retried, and a failed call turned into a gap that names the resource.

use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use ecr_warden::cache::Cache;
use ecr_warden::limit::Limiter;
use ecr_warden::sources::{ScanSettings, Scope};
use ecr_warden_core::usage::{Consumer, Origin, Pinner, RevisionPin, Usage};

use crate::fleet::{NOW, page, quiet_clients, retry, throttle};
use crate::support::ECR;

fn denied() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("AccessDeniedException")
        .message("not authorized")
        .build()
}

/// What a source needs besides its client: quiet clients for everything else, limits, settings.
struct Setup {
    aws: ecr_warden::aws::Clients,
    limit: Limiter,
    settings: ScanSettings,
    origin: Origin,
    cache: Cache,
}

impl Setup {
    fn new(settings: ScanSettings) -> Setup {
        Setup {
            aws: quiet_clients(),
            limit: Limiter::new(4),
            settings,
            origin: Origin {
                account: "123456789012".into(),
                region: "us-east-1".into(),
            },
            cache: Cache::off(),
        }
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            aws: &self.aws,
            origin: &self.origin,
            cache: &self.cache,
            limit: &self.limit,
            settings: &self.settings,
            now: NOW,
        }
    }
}

fn rule(bus: &str, rule: &str) -> Pinner {
    Pinner::Rule {
        bus: bus.into(),
        rule: rule.into(),
    }
}

fn eventbridge_rules() -> Vec<Rule> {
    use aws_sdk_eventbridge::Client;
    use aws_sdk_eventbridge::operation::{
        list_event_buses::*, list_rules::*, list_targets_by_rule::*,
    };
    use aws_sdk_eventbridge::types::{
        BatchParameters, EcsParameters, EventBus, Rule as EbRule, RuleState, Target,
    };
    vec![
        mock!(Client::list_event_buses).then_compute_output(|r| {
            assert_eq!(r.limit(), Some(100));
            let all: Vec<EventBus> = ["default", "ops", "partner/acme"]
                .iter()
                .map(|b| EventBus::builder().name(*b).build())
                .collect();
            let (items, next) = page(&all, r.next_token(), 1);
            ListEventBusesOutput::builder()
                .set_event_buses(Some(items))
                .set_next_token(next)
                .build()
        }),
        // The default bus's first page is throttled once, then answered; its second page follows.
        mock!(Client::list_rules)
            .match_requests(|r| r.event_bus_name() == Some("default") && r.next_token().is_none())
            .sequence()
            .error(|| ListRulesError::generic(throttle()))
            .times(1)
            .output(|| {
                let rules = (0..3).map(|i| EbRule::builder().name(format!("r{i}")).build());
                ListRulesOutput::builder()
                    .set_rules(Some(rules.collect()))
                    .next_token("page-2")
                    .build()
            })
            .build(),
        mock!(Client::list_rules)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                let rules = (3..5).map(|i| EbRule::builder().name(format!("r{i}")).build());
                ListRulesOutput::builder()
                    .set_rules(Some(rules.collect()))
                    .build()
            }),
        mock!(Client::list_rules)
            .match_requests(|r| r.event_bus_name() == Some("ops"))
            .then_output(|| {
                let disabled = EbRule::builder()
                    .name("nightly")
                    .state(RuleState::Disabled)
                    .build();
                ListRulesOutput::builder().rules(disabled).build()
            }),
        mock!(Client::list_rules).then_output(|| {
            ListRulesOutput::builder()
                .rules(EbRule::builder().name("denied").build())
                .build()
        }),
        mock!(Client::list_targets_by_rule).then_compute_response(|r| {
            let ecs = |td: &str| {
                Target::builder()
                    .id("t")
                    .arn("arn:aws:ecs:us-east-1:123456789012:cluster/c")
                    .ecs_parameters(
                        EcsParameters::builder()
                            .task_definition_arn(td)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap()
            };
            let targets = match (r.event_bus_name().unwrap(), r.rule().unwrap()) {
                ("default", "r0") => {
                    vec![ecs(
                        "arn:aws:ecs:us-east-1:123456789012:task-definition/report:7",
                    )]
                }
                ("default", "r1") => vec![ecs(
                    "arn:aws:ecs:us-east-1:123456789012:task-definition/cron",
                )],
                ("default", "r2") => vec![
                    Target::builder()
                        .id("q")
                        .arn("arn:aws:sqs:us-east-1:123456789012:q")
                        .build()
                        .unwrap(),
                ],
                ("ops", "nightly") => vec![
                    Target::builder()
                        .id("b")
                        .arn("arn:aws:batch:us-east-1:123456789012:job-queue/q")
                        .batch_parameters(
                            BatchParameters::builder()
                                .job_definition("export:3")
                                .job_name("x")
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                ],
                ("partner/acme", _) => {
                    return MockResponse::Error(ListTargetsByRuleError::generic(denied()));
                }
                _ => vec![],
            };
            MockResponse::Output(
                ListTargetsByRuleOutput::builder()
                    .set_targets(Some(targets))
                    .build(),
            )
        }),
    ]
}

#[tokio::test]
async fn eventbridge_rules_on_every_bus_pin_what_their_targets_run() {
    let rules = eventbridge_rules();
    let events = mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, rules.iter(), |c| c
        .retry_config(retry()));
    let setup = Setup::new(ScanSettings::default());
    let usage: Usage = ecr_warden::sources::eventbridge::scan(&events, &setup.scope()).await;
    assert_eq!(
        usage.pins,
        vec![
            RevisionPin {
                family: "report".into(),
                revision: Some(7),
                by: rule("default", "r0")
            },
            RevisionPin {
                family: "cron".into(),
                revision: None,
                by: rule("default", "r1")
            },
        ]
    );
    assert_eq!(
        usage.job_definition_pins.len(),
        1,
        "the disabled rule's Batch target counts"
    );
    assert_eq!(usage.job_definition_pins[0].job_definition, "export:3");
    assert_eq!(usage.job_definition_pins[0].by, rule("ops", "nightly"));
    assert_eq!(usage.gaps.len(), 1, "{:?}", usage.gaps);
    assert_eq!(usage.gaps[0].call, "events:ListTargetsByRule");
    assert!(
        usage.gaps[0]
            .resource
            .contains("rule denied on bus partner/acme"),
        "{}",
        usage.gaps[0]
    );
}

fn scheduler_rules() -> Vec<Rule> {
    use aws_sdk_scheduler::Client;
    use aws_sdk_scheduler::operation::{get_schedule::*, list_schedules::*};
    use aws_sdk_scheduler::types::{EcsParameters, ScheduleSummary, Target, TargetSummary};
    // name → (target ARN, Input)
    let schedules: Vec<(&str, &str, Option<&str>)> = vec![
        (
            "templated",
            "arn:aws:ecs:us-east-1:123456789012:cluster/c",
            None,
        ),
        (
            "universal-ecs",
            "arn:aws:scheduler:::aws-sdk:ecs:runTask",
            Some(
                r#"{"Cluster": "c", "TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/nightly:4"}"#,
            ),
        ),
        (
            "universal-ecs-camel",
            "arn:aws:scheduler:::aws-sdk:ecs:runTask",
            Some(r#"{"taskDefinition": "weekly"}"#),
        ),
        (
            "universal-batch",
            "arn:aws-cn:scheduler:::aws-sdk:batch:submitJob",
            Some(r#"{"JobName": "x", "JobDefinition": "export", "JobQueue": "q"}"#),
        ),
        (
            "not-json",
            "arn:aws:scheduler:::aws-sdk:ecs:runTask",
            Some("TaskDefinition=report"),
        ),
        (
            "no-key",
            "arn:aws:scheduler:::aws-sdk:batch:submitJob",
            Some(r#"{"JobName": "x"}"#),
        ),
        (
            "queue",
            "arn:aws:sqs:us-east-1:123456789012:q",
            Some("hello"),
        ),
    ];
    let listed: Vec<&str> = schedules.iter().map(|(n, _, _)| *n).collect();
    let mut rules = vec![mock!(Client::list_schedules).then_compute_output(move |r| {
        let all: Vec<ScheduleSummary> = listed
            .iter()
            .map(|n| {
                ScheduleSummary::builder()
                    .name(*n)
                    .group_name("jobs")
                    .target(TargetSummary::builder().arn("x").build().unwrap())
                    .build()
            })
            .collect();
        let (items, next) = page(&all, r.next_token(), 3);
        ListSchedulesOutput::builder()
            .set_schedules(Some(items))
            .set_next_token(next)
            .build()
            .unwrap()
    })];
    for (i, (name, arn, input)) in schedules.into_iter().enumerate() {
        let target = move || {
            let mut t = Target::builder()
                .arn(arn)
                .role_arn("arn:aws:iam::123456789012:role/scheduler")
                .set_input(input.map(str::to_string));
            if name == "templated" {
                t = t.ecs_parameters(
                    EcsParameters::builder()
                        .task_definition_arn(
                            "arn:aws:ecs:us-east-1:123456789012:task-definition/report:2",
                        )
                        .build()
                        .unwrap(),
                );
            }
            GetScheduleOutput::builder()
                .name(name)
                .group_name("jobs")
                .target(t.build().unwrap())
                .build()
        };
        let builder = mock!(Client::get_schedule)
            .match_requests(move |r| r.name() == Some(name) && r.group_name() == Some("jobs"));
        // The first schedule is throttled once.
        rules.push(match i {
            0 => builder
                .sequence()
                .error(|| GetScheduleError::generic(throttle()))
                .times(1)
                .output(target)
                .build(),
            _ => builder.then_output(target),
        });
    }
    rules
}

fn schedule(name: &str) -> Pinner {
    Pinner::Schedule {
        group: "jobs".into(),
        name: name.into(),
    }
}

#[tokio::test]
async fn schedules_pin_their_templated_and_universal_targets_and_unreadable_inputs_are_gaps() {
    let rules = scheduler_rules();
    let scheduler = mock_client!(aws_sdk_scheduler, RuleMode::MatchAny, rules.iter(), |c| c
        .retry_config(retry()));
    let setup = Setup::new(ScanSettings::default());
    let usage = ecr_warden::sources::scheduler::scan(&scheduler, &setup.scope()).await;
    let pin = |family: &str, revision, name| RevisionPin {
        family: family.into(),
        revision,
        by: schedule(name),
    };
    assert_eq!(
        usage.pins,
        vec![
            pin("report", Some(2), "templated"),
            pin("nightly", Some(4), "universal-ecs"),
            pin("weekly", None, "universal-ecs-camel"),
        ]
    );
    assert_eq!(usage.job_definition_pins.len(), 1);
    assert_eq!(usage.job_definition_pins[0].job_definition, "export");
    let gaps: Vec<String> = usage.gaps.iter().map(ToString::to_string).collect();
    assert_eq!(gaps.len(), 2, "{gaps:#?}");
    assert!(
        gaps[0].contains("schedule jobs/not-json") && gaps[0].contains("not JSON"),
        "{}",
        gaps[0]
    );
    assert!(
        gaps[1].contains("schedule jobs/no-key") && gaps[1].contains("names no JobDefinition"),
        "{}",
        gaps[1]
    );
}

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

fn apprunner_rules() -> Vec<Rule> {
    use aws_sdk_apprunner::Client;
    use aws_sdk_apprunner::operation::{describe_service::*, list_services::*};
    use aws_sdk_apprunner::types::{
        AutoScalingConfigurationSummary, ImageRepository, ImageRepositoryType,
        InstanceConfiguration, NetworkConfiguration, Service, ServiceStatus, ServiceSummary,
        SourceConfiguration,
    };
    let arn = |n: &str| format!("arn:aws:apprunner:us-east-1:123456789012:service/{n}/id");
    let names = ["web", "admin", "public", "docs"];
    vec![
        mock!(Client::list_services).then_compute_output(move |r| {
            assert!(r.max_results().unwrap_or(20) <= 20);
            let all: Vec<ServiceSummary> = names
                .iter()
                .map(|n| {
                    ServiceSummary::builder()
                        .service_name(*n)
                        .service_arn(arn(n))
                        .build()
                })
                .collect();
            let (items, next) = page(&all, r.next_token(), 3);
            ListServicesOutput::builder()
                .set_service_summary_list(Some(items))
                .set_next_token(next)
                .build()
                .unwrap()
        }),
        mock!(Client::describe_service).then_compute_response(move |r| {
            let name = r
                .service_arn()
                .unwrap()
                .split('/')
                .nth(1)
                .unwrap()
                .to_string();
            let (image, kind, auto) = match name.as_str() {
                "web" => (format!("{ECR}/web:live"), ImageRepositoryType::Ecr, true),
                "admin" => (format!("{ECR}/admin:v2"), ImageRepositoryType::Ecr, false),
                "public" => (
                    "public.ecr.aws/nginx/nginx:1".to_string(),
                    ImageRepositoryType::EcrPublic,
                    false,
                ),
                _ => return MockResponse::Error(DescribeServiceError::generic(denied())),
            };
            let source = SourceConfiguration::builder()
                .image_repository(
                    ImageRepository::builder()
                        .image_identifier(image)
                        .image_repository_type(kind)
                        .build()
                        .unwrap(),
                )
                .auto_deployments_enabled(auto)
                .build();
            let now = aws_smithy_types::DateTime::from_secs(0);
            let service = Service::builder()
                .service_name(&name)
                .service_id("id")
                .service_arn(arn(&name))
                .created_at(now)
                .updated_at(now)
                .status(ServiceStatus::Running)
                .source_configuration(source)
                .instance_configuration(InstanceConfiguration::builder().build())
                .auto_scaling_configuration_summary(
                    AutoScalingConfigurationSummary::builder().build(),
                )
                .network_configuration(NetworkConfiguration::builder().build())
                .build()
                .unwrap();
            MockResponse::Output(DescribeServiceOutput::builder().service(service).build())
        }),
    ]
}

#[tokio::test]
async fn app_runner_services_protect_their_image_and_hold_the_repository_without_auto_deploy() {
    let rules = apprunner_rules();
    let apprunner = mock_client!(aws_sdk_apprunner, RuleMode::MatchAny, rules.iter());
    let setup = Setup::new(ScanSettings::default());
    let usage = ecr_warden::sources::apprunner::scan(&apprunner, &setup.scope()).await;
    let used: Vec<(String, String)> = usage
        .uses
        .iter()
        .map(|u| (u.consumer.to_string(), u.image.clone()))
        .collect();
    assert_eq!(
        used,
        vec![
            (
                "App Runner service web".to_string(),
                format!("{ECR}/web:live")
            ),
            (
                "App Runner service admin".to_string(),
                format!("{ECR}/admin:v2")
            ),
        ],
        "ECR sources only, over two pages"
    );
    assert_eq!(usage.holds.len(), 1);
    assert_eq!(usage.holds[0].image, format!("{ECR}/admin:v2"));
    assert!(usage.holds[0].by.contains("automatic deployment is off"));
    assert_eq!(usage.gaps.len(), 1);
    assert!(
        usage.gaps[0].resource.contains("service/docs"),
        "{}",
        usage.gaps[0]
    );
}

fn s3_rules(documents: Vec<(&'static str, String, i64)>) -> Vec<Rule> {
    use aws_sdk_s3::Client;
    use aws_sdk_s3::operation::{get_object::*, list_objects_v2::*};
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::Object;
    let keys: Vec<&'static str> = documents.iter().map(|(k, _, _)| *k).collect();
    let mut rules = vec![
        mock!(Client::list_objects_v2)
            .match_requests(|r| r.prefix() == Some("usage/"))
            .then_compute_output(move |r| {
                let all: Vec<Object> = keys
                    .iter()
                    .map(|k| Object::builder().key(*k).build())
                    .collect();
                let (items, next) = page(&all, r.continuation_token(), 1);
                ListObjectsV2Output::builder()
                    .set_contents(Some(items))
                    .is_truncated(next.is_some())
                    .set_next_continuation_token(next)
                    .build()
            }),
        mock!(Client::list_objects_v2).then_output(|| ListObjectsV2Output::builder().build()),
    ];
    for (key, text, age_hours) in documents {
        rules.push(
            mock!(Client::get_object)
                .match_requests(move |r| r.key() == Some(key))
                .then_output(move || {
                    GetObjectOutput::builder()
                        .body(ByteStream::from(text.clone().into_bytes()))
                        .last_modified(aws_smithy_types::DateTime::from_secs(
                            NOW.0 - age_hours * 3600,
                        ))
                        .build()
                }),
        );
    }
    rules
}

#[tokio::test]
async fn usage_documents_in_s3_protect_their_images_and_stale_or_malformed_ones_are_gaps() {
    let fresh = format!(
        r#"{{"source": "eks/prod", "generated_at": "{}", "images": ["docker-pullable://{ECR}/web@sha256:{}"]}}"#,
        ecr_warden_core::Timestamp(NOW.0 - 600),
        "a".repeat(64)
    );
    let rules = s3_rules(vec![
        ("usage/eks-prod.json", fresh, 0),
        ("usage/ci.txt", format!("# built images\n{ECR}/api:v3\n"), 2),
        ("usage/old.txt", format!("{ECR}/api:v1\n"), 72),
        ("usage/broken.json", "{\"images\": ".to_string(), 0),
    ]);
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules.iter());
    let dir = std::env::temp_dir().join(format!("ecr-warden-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("local.txt");
    std::fs::write(&file, format!("{ECR}/batch:v9\n")).unwrap();
    let settings = ScanSettings {
        usage_sources: vec![
            "s3://docs/usage/".into(),
            "s3://docs/missing/".into(),
            file.display().to_string(),
            dir.join("absent.txt").display().to_string(),
        ],
        ..ScanSettings::default()
    };
    let setup = Setup::new(settings);
    let usage = ecr_warden::sources::documents::scan(&s3, &setup.scope()).await;
    let mut images: Vec<&str> = usage.uses.iter().map(|u| u.image.as_str()).collect();
    images.sort();
    let web = format!("{ECR}/web@sha256:{}", "a".repeat(64));
    let (api, batch) = (format!("{ECR}/api:v3"), format!("{ECR}/batch:v9"));
    let mut want = vec![api.as_str(), batch.as_str(), web.as_str()];
    want.sort();
    assert_eq!(images, want);
    let gaps: Vec<String> = usage.gaps.iter().map(ToString::to_string).collect();
    assert_eq!(gaps.len(), 4, "{gaps:#?}");
    assert!(
        gaps.iter()
            .any(|g| g.contains("s3://docs/usage/old.txt") && g.contains("72 hours ago"))
    );
    assert!(
        gaps.iter().any(
            |g| g.contains("s3://docs/usage/broken.json") && g.contains("not a usage document")
        )
    );
    assert!(
        gaps.iter()
            .any(|g| g.contains("s3://docs/missing/") && g.contains("no object under this prefix"))
    );
    assert!(gaps.iter().any(|g| g.contains("absent.txt")));
    std::fs::remove_dir_all(dir).ok();
}
