//! A retirement event's tasks are looked up in batches: DescribeTasks takes 100 tasks per call, so
//! an event naming hundreds of tasks costs a few calls, not hundreds.

use std::sync::{Arc, Mutex};

use aws_sdk_ecs::Client;
use aws_sdk_ecs::operation::describe_tasks::{DescribeTasksInput, DescribeTasksOutput};
use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
use aws_sdk_ecs::types::{Container, Task};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use ecr_warden::app::event::Entity;
use ecr_warden::app::incident::retirement::add_entities;
use ecr_warden::limit::Limiter;
use ecr_warden_core::usage::Usage;

use crate::support::{ECR, digest};

/// DescribeTasks answering every task it is asked for; records each call's cluster and size.
fn describing(calls: Arc<Mutex<Vec<(String, usize)>>>) -> aws_smithy_mocks::Rule {
    mock!(Client::describe_tasks).then_compute_output(move |r: &DescribeTasksInput| {
        let cluster = r.cluster().unwrap_or_default().to_string();
        calls
            .lock()
            .unwrap()
            .push((cluster.clone(), r.tasks().len()));
        let tasks = (r.tasks().iter())
            .filter(|id| cluster == "prod" || id.as_str() == "lost")
            .map(|id| {
                let container = Container::builder()
                    .name("app")
                    .image(format!("{ECR}/app:v1"))
                    .image_digest(digest(id).to_string())
                    .build();
                Task::builder().task_arn(id).containers(container).build()
            })
            .collect();
        DescribeTasksOutput::builder()
            .set_tasks(Some(tasks))
            .build()
    })
}

#[tokio::test]
async fn hundreds_of_tasks_are_described_a_hundred_at_a_time() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let describe = describing(calls.clone());
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe]);
    let entities: Vec<Entity> = (0..250)
        .map(|k| Entity::Task {
            cluster: Some("prod".into()),
            id: format!("t-{k}"),
        })
        .collect();

    let mut usage = Usage::default();
    add_entities(&ecs, &Limiter::new(4), &entities, &mut usage).await;

    assert!(usage.gaps.is_empty(), "{:?}", usage.gaps);
    assert_eq!(usage.uses.len(), 250);
    let mut sizes: Vec<usize> = calls.lock().unwrap().iter().map(|(_, n)| *n).collect();
    sizes.sort();
    assert_eq!(sizes, [50, 100, 100]);
}

#[tokio::test]
async fn tasks_named_by_id_alone_are_looked_for_in_every_cluster_at_once() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let describe = describing(calls.clone());
    let clusters = mock!(Client::list_clusters).then_output(|| {
        ListClustersOutput::builder()
            .cluster_arns("prod")
            .cluster_arns("batch")
            .build()
    });
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe, &clusters]);
    let entities: Vec<Entity> = ["lost", "t-1", "t-2"]
        .iter()
        .map(|id| Entity::Task {
            cluster: None,
            id: id.to_string(),
        })
        .collect();

    let mut usage = Usage::default();
    add_entities(&ecs, &Limiter::new(4), &entities, &mut usage).await;

    assert_eq!(clusters.num_calls(), 1);
    let mut seen = calls.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, [("batch".to_string(), 3), ("prod".to_string(), 3)]);
    // "lost" is found in both clusters' answers here; every named task is checked once per cluster.
    assert_eq!(usage.uses.len(), 4);
}
