//! The AWS adapters and the run's orchestration against mocked SDK clients (aws-smithy-mocks): a
//! simulated fleet served page by page, with injected throttling and failures. No network.

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecr::types::{
    ImageDetail, ImageFailure, ImageFailureCode, ImageIdentifier, Repository as EcrRepository,
};
use aws_sdk_ecs::types::{
    Container, ContainerDefinition, ContainerImage as EcsContainerImage, Deployment,
    Failure as EcsFailure, Service, ServiceCurrentRevisionSummary, ServiceRevision, Task,
    TaskDefinition,
};
use aws_sdk_lambda::types::{FunctionCodeLocation, FunctionConfiguration, PackageType};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use ecr_warden::act::Deadline;
use ecr_warden::app::run::{RunSettings, run};
use ecr_warden::aws::Clients;
use ecr_warden::aws::sns::SnsTopic;
use ecr_warden::sources::ScanSettings;
use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::DAY;
use ecr_warden_core::{Digest, Policy, PolicySettings, Timestamp};
use support::{ECR, digest};

const NOW: Timestamp = Timestamp(1_790_000_000);
const CLUSTERS: usize = 3;
const SERVICES: usize = 25;
const TASKS_PER_CLUSTER: usize = 250;
const JUNK: usize = 130;
const ARN: &str = "arn:aws:ecs:us-east-1:123456789012";

/// How the simulated account misbehaves.
#[derive(Clone, Default)]
struct Faults {
    /// Calls of these operations fail with AccessDeniedException.
    deny: Vec<&'static str>,
    /// ListClusters, ListTaskDefinitions and DescribeRegistry are throttled this many times
    /// before they answer (in one page).
    throttle_first: usize,
    /// DescribeServiceRevisions answers MISSING for every revision.
    revisions_missing: bool,
    /// DescribeServiceRevisions fails outright (as on the emulator).
    revisions_unsupported: bool,
    /// BatchDeleteImage refuses these digests with these codes.
    delete_failures: Vec<(Digest, &'static str)>,
    /// The image tagged v3 was overwritten: its digest lost the tag to a new image.
    v3_overwritten: bool,
}

/// Counters the assertions read.
#[derive(Default)]
struct Stats {
    max_batch: Mutex<std::collections::BTreeMap<&'static str, usize>>,
    page_sizes: Mutex<BTreeSet<(&'static str, i32)>>,
    deleted: Mutex<Vec<Digest>>,
    deleted_by_tag: AtomicUsize,
    published: Mutex<Vec<aws_sdk_sns::operation::publish::PublishInput>>,
    calls: Mutex<std::collections::BTreeMap<&'static str, usize>>,
}

impl Stats {
    fn batch(&self, op: &'static str, n: usize) {
        let mut m = self.max_batch.lock().unwrap();
        let e = m.entry(op).or_default();
        *e = (*e).max(n);
    }
    fn page(&self, op: &'static str, size: Option<i32>) {
        self.page_sizes
            .lock()
            .unwrap()
            .insert((op, size.unwrap_or(0)));
    }
    /// Counts a call; returns its number (0-based) for this operation.
    fn call(&self, op: &'static str) -> usize {
        let mut m = self.calls.lock().unwrap();
        let e = m.entry(op).or_default();
        *e += 1;
        *e - 1
    }
    fn calls(&self, op: &str) -> usize {
        self.calls.lock().unwrap().get(op).copied().unwrap_or(0)
    }
}

fn page<T: Clone>(items: &[T], token: Option<&str>, size: usize) -> (Vec<T>, Option<String>) {
    let start: usize = token.map(|t| t.parse().unwrap()).unwrap_or(0);
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (items[start..end].to_vec(), next)
}

fn app_digest(i: usize) -> Digest {
    digest(&format!("app-v{i}"))
}
fn old_digest(i: usize) -> Digest {
    digest(&format!("app-old{i}"))
}
fn junk_digest(i: usize) -> Digest {
    digest(&format!("junk-{i}"))
}
fn tools_digest(i: usize) -> Digest {
    digest(&format!("tools-{i}"))
}

/// Decides whether this call fails, by operation name.
fn fault(faults: &Faults, stats: &Stats, op: &'static str) -> Option<ErrorMetadata> {
    let n = stats.call(op);
    if faults.deny.contains(&op) {
        return Some(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized")
                .build(),
        );
    }
    let _ = n;
    None
}

fn throttle() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("ThrottlingException")
        .message("Rate exceeded")
        .build()
}

macro_rules! respond {
    ($faults:expr, $stats:expr, $op:literal, $err:ty, $body:expr) => {{
        let (faults, stats) = ($faults.clone(), $stats.clone());
        move |req: &_| match fault(&faults, &stats, $op) {
            Some(meta) => MockResponse::Error(<$err>::generic(meta)),
            None => MockResponse::Output(($body)(req, &*stats, &faults)),
        }
    }};
}

fn ecs_rules(f: &Faults, s: &Arc<Stats>) -> Vec<Rule> {
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
                        Service::builder()
                            .service_name(name)
                            .service_arn(arn)
                            .deployments(
                                Deployment::builder()
                                    .status("PRIMARY")
                                    .task_definition(format!("{ARN}:task-definition/fam{i}:2"))
                                    .build(),
                            )
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
fn all_task_definitions() -> Vec<String> {
    (0..SERVICES)
        .flat_map(|i| {
            [
                format!("{ARN}:task-definition/fam{i}:2"),
                format!("{ARN}:task-definition/fam{i}:1"),
            ]
        })
        .collect()
}

fn images(f: &Faults) -> Vec<(String, Vec<ImageDetail>)> {
    let detail = |d: Digest, tags: Vec<String>, days: i64| {
        ImageDetail::builder()
            .image_digest(d.to_string())
            .set_image_tags(if tags.is_empty() { None } else { Some(tags) })
            .image_pushed_at(aws_smithy_types::DateTime::from_secs(NOW.0 - days * DAY))
            .image_manifest_media_type("application/vnd.oci.image.manifest.v1+json")
            .build()
    };
    let mut app = Vec::new();
    for i in 0..SERVICES {
        let tags = if f.v3_overwritten && i == 3 {
            vec![]
        } else {
            vec![format!("v{i}")]
        };
        app.push(detail(app_digest(i), tags, 10));
        app.push(detail(old_digest(i), vec![format!("old{i}")], 40));
    }
    if f.v3_overwritten {
        app.push(detail(digest("app-v3-new"), vec!["v3".into()], 1));
    }
    for k in 0..JUNK {
        app.push(detail(junk_digest(k), vec![], 100));
    }
    let tools = (0..5)
        .map(|k| detail(tools_digest(k), vec![format!("t{k}")], 200))
        .collect();
    vec![
        ("app".into(), app),
        ("tools".into(), tools),
        ("empty".into(), vec![]),
    ]
}

fn ecr_rules(f: &Faults, s: &Arc<Stats>) -> Vec<Rule> {
    use aws_sdk_ecr::Client;
    use aws_sdk_ecr::operation::{
        batch_delete_image::*, describe_images::*, describe_registry::*, describe_repositories::*,
        get_lifecycle_policy::*,
    };
    let mut rules = vec![
        mock!(Client::describe_registry).then_compute_response(respond!(
            f,
            s,
            "DescribeRegistry",
            DescribeRegistryError,
            |_: &DescribeRegistryInput, _: &Stats, _: &Faults| {
                DescribeRegistryOutput::builder()
                    .registry_id("123456789012")
                    .build()
            }
        )),
        mock!(Client::describe_repositories).then_compute_response(respond!(
            f,
            s,
            "DescribeRepositories",
            DescribeRepositoriesError,
            |r: &DescribeRepositoriesInput, _: &Stats, f: &Faults| {
                let all: Vec<EcrRepository> = images(f)
                    .into_iter()
                    .map(|(name, _)| {
                        EcrRepository::builder()
                            .repository_name(name)
                            .registry_id("123456789012")
                            .build()
                    })
                    .collect();
                let (items, next) = page(&all, r.next_token(), 1);
                DescribeRepositoriesOutput::builder()
                    .set_repositories(Some(items))
                    .set_next_token(next)
                    .build()
            }
        )),
        mock!(Client::describe_images).then_compute_response(respond!(
            f,
            s,
            "DescribeImages",
            DescribeImagesError,
            |r: &DescribeImagesInput, s: &Stats, f: &Faults| {
                s.page("DescribeImages", r.max_results());
                let repo = r.repository_name().unwrap();
                let all = images(f)
                    .into_iter()
                    .find(|(n, _)| n == repo)
                    .map(|(_, i)| i)
                    .unwrap_or_default();
                let (items, next) = page(&all, r.next_token(), 60);
                DescribeImagesOutput::builder()
                    .set_image_details(Some(items))
                    .set_next_token(next)
                    .build()
            }
        )),
        mock!(Client::get_lifecycle_policy).then_compute_response(
            |r: &GetLifecyclePolicyInput| match r.repository_name() {
                Some("app") => MockResponse::Output(
                    GetLifecyclePolicyOutput::builder()
                        .repository_name("app")
                        .lifecycle_policy_text(
                            r#"{"rules": [{"rulePriority": 1, "description": "expire untagged after 1 day",
                                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                              "countUnit": "days", "countNumber": 1},
                                "action": {"type": "expire"}}]}"#,
                        )
                        .build(),
                ),
                _ => MockResponse::Error(GetLifecyclePolicyError::generic(
                    ErrorMetadata::builder().code("LifecyclePolicyNotFoundException").build(),
                )),
            },
        ),
        mock!(Client::batch_delete_image).then_compute_response(respond!(
            f,
            s,
            "BatchDeleteImage",
            BatchDeleteImageError,
            |r: &BatchDeleteImageInput, s: &Stats, f: &Faults| {
                s.batch("BatchDeleteImage", r.image_ids().len());
                let mut out = BatchDeleteImageOutput::builder();
                for id in r.image_ids() {
                    if id.image_tag().is_some() {
                        s.deleted_by_tag.fetch_add(1, Ordering::SeqCst);
                    }
                    let d: Digest = id.image_digest().unwrap().parse().unwrap();
                    if let Some((_, code)) = f.delete_failures.iter().find(|(x, _)| *x == d) {
                        out = out.failures(
                            ImageFailure::builder()
                                .image_id(id.clone())
                                .failure_code(ImageFailureCode::from(*code))
                                .failure_reason("refused")
                                .build(),
                        );
                    } else {
                        s.deleted.lock().unwrap().push(d);
                        out = out.image_ids(
                            ImageIdentifier::builder()
                                .image_digest(d.to_string())
                                .build(),
                        );
                    }
                }
                out.build()
            }
        )),
    ];
    if f.throttle_first > 0 {
        rules.insert(
            0,
            mock!(Client::describe_registry)
                .sequence()
                .error(|| DescribeRegistryError::generic(throttle()))
                .times(f.throttle_first)
                .output(|| {
                    DescribeRegistryOutput::builder()
                        .registry_id("123456789012")
                        .build()
                })
                .repeatedly()
                .build(),
        );
    }
    rules
}

fn lambda_rules(f: &Faults, s: &Arc<Stats>) -> Vec<Rule> {
    use aws_sdk_lambda::Client;
    use aws_sdk_lambda::operation::{
        get_function::*, list_aliases::*, list_functions::*, list_versions_by_function::*,
    };
    vec![
        mock!(Client::list_functions).then_compute_response(respond!(
            f,
            s,
            "ListFunctions",
            ListFunctionsError,
            |r: &ListFunctionsInput, _: &Stats, _: &Faults| {
                let all: Vec<FunctionConfiguration> = ["resizer", "zip-fn", "thumbnailer"]
                    .iter()
                    .map(|n| {
                        FunctionConfiguration::builder()
                            .function_name(*n)
                            .package_type(if *n == "zip-fn" {
                                PackageType::Zip
                            } else {
                                PackageType::Image
                            })
                            .build()
                    })
                    .collect();
                let (items, next) = page(&all, r.marker(), 1);
                ListFunctionsOutput::builder()
                    .set_functions(Some(items))
                    .set_next_marker(next)
                    .build()
            }
        )),
        mock!(Client::list_versions_by_function).then_compute_response(respond!(
            f,
            s,
            "ListVersionsByFunction",
            ListVersionsByFunctionError,
            |_: &ListVersionsByFunctionInput, _: &Stats, _: &Faults| {
                ListVersionsByFunctionOutput::builder()
                    .versions(FunctionConfiguration::builder().version("$LATEST").build())
                    .build()
            }
        )),
        mock!(Client::list_aliases).then_compute_response(respond!(
            f,
            s,
            "ListAliases",
            ListAliasesError,
            |_: &ListAliasesInput, _: &Stats, _: &Faults| ListAliasesOutput::builder().build()
        )),
        mock!(Client::get_function).then_compute_response(respond!(
            f,
            s,
            "GetFunction",
            GetFunctionError,
            |r: &GetFunctionInput, _: &Stats, _: &Faults| {
                let i = if r.function_name() == Some("resizer") {
                    0
                } else {
                    1
                };
                GetFunctionOutput::builder()
                    .code(
                        FunctionCodeLocation::builder()
                            .image_uri(format!("{ECR}/app:v{i}"))
                            .resolved_image_uri(format!("{ECR}/app@{}", app_digest(i)))
                            .build(),
                    )
                    .build()
            }
        )),
    ]
}

fn sns_rules(s: &Arc<Stats>) -> Vec<Rule> {
    use aws_sdk_sns::Client;
    use aws_sdk_sns::operation::publish::PublishOutput;
    let s = s.clone();
    vec![mock!(Client::publish).then_compute_output(move |r| {
        s.published.lock().unwrap().push(r.clone());
        PublishOutput::builder().message_id("m-1").build()
    })]
}

fn retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(2))
}

/// Runs the real orchestration over mocked clients.
async fn run_fleet(faults: Faults, mode: Mode, dry_run: bool) -> (Report, Arc<Stats>) {
    let (report, stats, _) = run_fleet_with_rules(faults, mode, dry_run).await;
    (report, stats)
}

/// The same, also returning the ECS and ECR rules so tests can count attempts.
async fn run_fleet_with_rules(
    faults: Faults,
    mode: Mode,
    dry_run: bool,
) -> (Report, Arc<Stats>, (Vec<Rule>, Vec<Rule>)) {
    let stats = Arc::new(Stats::default());
    let (e, r, l, n) = (
        ecs_rules(&faults, &stats),
        ecr_rules(&faults, &stats),
        lambda_rules(&faults, &stats),
        sns_rules(&stats),
    );
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, e.iter(), |c| c
        .retry_config(retry()));
    let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, r.iter(), |c| c
        .retry_config(retry()));
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, l.iter(), |c| c
        .retry_config(retry()));
    let sns = SnsTopic {
        client: mock_client!(aws_sdk_sns, RuleMode::MatchAny, n.iter()),
        topic_arn: "arn:aws:sns:us-east-1:123456789012:alerts".into(),
    };
    let settings = RunSettings {
        policy: Policy::new(PolicySettings {
            keep_recent: 0,
            keep_pushed_within_days: 0,
            keep_pulled_within_days: 0,
            ..PolicySettings::default()
        })
        .unwrap(),
        scan: ScanSettings::default(),
        dry_run,
        region: Some("us-east-1".into()),
        guard_tag_prefix: None,
    };
    let clients = Clients { ecs, ecr, lambda };
    let report = run(
        &clients,
        Some(&sns),
        &settings,
        mode,
        None,
        NOW,
        &Deadline::none(),
    )
    .await;
    (report, stats, (e, r))
}

fn expected_deletions() -> BTreeSet<Digest> {
    (0..JUNK)
        .map(junk_digest)
        .chain((0..5).map(tools_digest))
        .collect()
}

#[tokio::test]
async fn a_full_prune_follows_every_page_respects_every_batch_limit_and_deletes_only_the_unused() {
    let (report, stats) = run_fleet(Faults::default(), Mode::Prune, false).await;
    assert!(!report.scan_incomplete, "{:?}", report.errors);
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert!(
        report.lifecycle_risks.is_empty(),
        "{:?}",
        report.lifecycle_risks
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    let deleted: BTreeSet<Digest> = stats.deleted.lock().unwrap().iter().copied().collect();
    assert_eq!(deleted, expected_deletions());
    assert_eq!(report.summary.deleted, JUNK + 5);
    assert_eq!(
        stats.deleted_by_tag.load(Ordering::SeqCst),
        0,
        "never delete by tag"
    );
    // In use (tasks, pins, newest revisions) and rollback revisions survive.
    for i in 0..SERVICES {
        assert!(!deleted.contains(&app_digest(i)) && !deleted.contains(&old_digest(i)));
    }

    // Pages: every list call was followed to the end (≥ 3 pages each).
    assert_eq!(stats.calls("ListClusters"), 3);
    assert_eq!(stats.calls("ListServices"), 3 * CLUSTERS);
    assert_eq!(stats.calls("ListTasks"), 3 * CLUSTERS + CLUSTERS); // RUNNING: 3 pages; STOPPED: 1
    assert_eq!(stats.calls("ListTaskDefinitions"), 7); // 50 revisions, 8 per page
    assert_eq!(stats.calls("DescribeRepositories"), 3);
    assert!(stats.calls("ListFunctions") >= 3);
    // DescribeImages: 3 pages for app (180 images) at the scan and again at the re-check before
    // deleting, 1 for tools twice, 1 for the empty repository.
    assert_eq!(stats.calls("DescribeImages"), 3 + 3 + 1 + 1 + 1);

    // Batches at their limits and never above.
    let max = stats.max_batch.lock().unwrap().clone();
    assert_eq!(max["DescribeServices"], 10);
    assert_eq!(max["DescribeServiceRevisions"], 20);
    assert_eq!(max["DescribeTasks"], 100);
    assert_eq!(max["BatchDeleteImage"], 100);
    assert_eq!(stats.calls("BatchDeleteImage"), 3); // app: 100 + 30, tools: 5

    // Largest pages requested.
    let sizes = stats.page_sizes.lock().unwrap().clone();
    for op in [
        "ListClusters",
        "ListServices",
        "ListTasks",
        "ListTaskDefinitions",
    ] {
        assert!(
            sizes.contains(&(op, 100)),
            "{op} not asked for 100 per page: {sizes:?}"
        );
    }
    assert!(sizes.contains(&("DescribeImages", 1000)));

    // Each needed revision described exactly once: 25 families × (in service + rollback).
    assert_eq!(stats.calls("DescribeTaskDefinition"), 2 * SERVICES);
    for i in 0..SERVICES {
        assert_eq!(stats.calls(&format!("DescribeTaskDefinition fam{i}:2")), 1);
        assert_eq!(stats.calls(&format!("DescribeTaskDefinition fam{i}:1")), 1);
    }
    // Nothing to alert about.
    assert!(stats.published.lock().unwrap().is_empty());
}

#[tokio::test]
async fn throttling_is_retried_and_does_not_change_the_plan() {
    let (calm, _) = run_fleet(Faults::default(), Mode::Plan, true).await;
    let throttled_faults = Faults {
        throttle_first: 2,
        ..Faults::default()
    };
    let (throttled, _, (ecs_rules, ecr_rules)) =
        run_fleet_with_rules(throttled_faults, Mode::Plan, true).await;
    assert!(!throttled.scan_incomplete, "{:?}", throttled.errors);
    assert_eq!(
        serde_json::to_value(&calm).unwrap(),
        serde_json::to_value(&throttled).unwrap()
    );
    // The three throttled operations each took two throttled attempts and one that answered.
    // (The throttling rules are inserted first in each client's list.)
    let attempts: Vec<usize> = [&ecs_rules[0], &ecs_rules[1], &ecr_rules[0]]
        .iter()
        .map(|r| r.num_calls())
        .collect();
    assert_eq!(attempts, vec![3, 3, 3]);
}

#[tokio::test]
async fn a_failing_usage_or_inventory_call_deletes_nothing_and_alerts() {
    for op in [
        "DescribeTasks",
        "DescribeServices",
        "DescribeImages",
        "ListTaskDefinitions",
    ] {
        let faults = Faults {
            deny: vec![op],
            ..Faults::default()
        };
        let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
        assert!(report.scan_incomplete, "{op}: scan should be incomplete");
        assert_eq!(
            stats.calls("BatchDeleteImage"),
            0,
            "{op}: deleted despite a gap"
        );
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.contains(&format!("ecs:{op}")) || e.contains(&format!("ecr:{op}"))),
            "{op}: {:?}",
            report.errors
        );
        let published = stats.published.lock().unwrap().clone();
        assert_eq!(published.len(), 1, "{op}: one alert");
        let alert = &published[0];
        assert!(
            alert.subject().unwrap().contains("scan incomplete"),
            "{:?}",
            alert.subject()
        );
        assert!(alert.message().unwrap().contains("AccessDeniedException"));
        let attrs = alert.message_attributes().unwrap();
        assert_eq!(attrs["severity"].string_value(), Some("high"));
        assert!(
            attrs["findings"]
                .string_value()
                .unwrap()
                .contains("scan_incomplete")
        );
    }
}

#[tokio::test]
async fn delete_failures_are_reported_not_fatal() {
    let faults = Faults {
        delete_failures: vec![
            (junk_digest(0), "ImageReferencedByManifestList"),
            (tools_digest(1), "ImageNotFound"),
        ],
        ..Faults::default()
    };
    let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
    assert_eq!(report.summary.deleted, JUNK + 5 - 2);
    let codes: BTreeSet<&str> = report
        .delete_failures
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(
        codes,
        BTreeSet::from(["ImageNotFound", "ImageReferencedByManifestList"])
    );
    let published = stats.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert!(published[0].message().unwrap().contains("DELETE FAILED"));
    assert_eq!(
        published[0].message_attributes().unwrap()["severity"].string_value(),
        Some("warning")
    );
}

#[tokio::test]
async fn missing_service_revisions_fall_back_to_running_tasks() {
    for faults in [
        Faults {
            revisions_missing: true,
            v3_overwritten: true,
            ..Faults::default()
        },
        Faults {
            revisions_unsupported: true,
            v3_overwritten: true,
            ..Faults::default()
        },
    ] {
        let (report, stats) = run_fleet(faults, Mode::Prune, false).await;
        assert!(!report.scan_incomplete, "{:?}", report.errors);
        assert!(
            report.notes.iter().any(|n| n.contains("service revision")),
            "{:?}",
            report.notes
        );
        let deleted: BTreeSet<Digest> = stats.deleted.lock().unwrap().iter().copied().collect();
        assert!(
            !deleted.contains(&app_digest(3)),
            "the overwritten digest tasks run was deleted"
        );
        assert!(
            !deleted.contains(&digest("app-v3-new")),
            "the tag's new image was deleted"
        );
        assert_eq!(deleted, expected_deletions());
        assert_eq!(report.at_risk.len(), 1);
        assert_eq!(report.at_risk[0].digest, app_digest(3));
        // The repository's "expire untagged after 1 day" rule would delete it.
        let risks: Vec<Digest> = report.lifecycle_risks.iter().map(|r| r.digest).collect();
        assert_eq!(risks, vec![app_digest(3)]);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }
}

#[tokio::test]
async fn dry_run_never_calls_batch_delete_image() {
    let (report, stats) = run_fleet(Faults::default(), Mode::Prune, true).await;
    assert_eq!(stats.calls("BatchDeleteImage"), 0);
    assert_eq!(report.summary.planned_deletions, JUNK + 5);
    assert!(report.deletions.iter().all(|d| d.outcome == "planned"));
}
