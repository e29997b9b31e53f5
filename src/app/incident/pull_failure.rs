//! Pull failures (an ECS task stopped with `CannotPullContainerError`): find out whether the image
//! is gone, archived, or present (then the cause is network or IAM), and say what to do. Never
//! deletes.

use ecr_warden_core::plan::{MissingProblem, plan};
use ecr_warden_core::policy::Policy;
use ecr_warden_core::reference::ImageRef;
use ecr_warden_core::report::{Diagnosis, Mode, Report};
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Consumer, Usage, Use};

use crate::app::event::PullFailure;
use crate::app::run::send_alert;
use crate::aws::ecr::EcrApi;
use crate::aws::sns::Notifier;
use crate::inventory::look_up_inventory;

/// Diagnoses a task that failed to pull its image.
pub async fn diagnose_pull_failure<R: EcrApi, N: Notifier>(
    ecr: &R,
    notifier: Option<&N>,
    failure: &PullFailure,
    region: Option<&str>,
    now: Timestamp,
) -> Report {
    let consumers: Vec<Consumer> = failure
        .containers
        .iter()
        .map(|c| Consumer::RunningTask {
            cluster: failure.cluster.clone(),
            task: failure.task.clone(),
            group: failure.group.clone(),
            container: c.name.clone(),
            stopped: true,
        })
        .collect();
    let usage = Usage {
        uses: failure
            .containers
            .iter()
            .zip(&consumers)
            .map(|(c, consumer)| Use {
                consumer: consumer.clone(),
                image: c.image.clone(),
                pinned_digest: c.digest,
            })
            .collect(),
        ..Usage::default()
    };
    let (inventory, gaps) = look_up_inventory(ecr, region, &usage, 4).await;
    let usage = Usage { gaps, ..usage };
    let plan = plan(&inventory, &usage, &Policy::usage_only(), now);
    let mut report = Report::new(Mode::PullFailure, true, &plan, None);
    report.context = Some(format!(
        "task {} in cluster {} stopped: {}",
        failure.task, failure.cluster, failure.stopped_reason
    ));

    for (c, consumer) in failure.containers.iter().zip(&consumers) {
        let problem = plan
            .missing
            .iter()
            .find(|m| m.users.contains(consumer))
            .map(|m| m.problem);
        let external = ImageRef::parse(&c.image)
            .map(|r| !r.is_ecr())
            .unwrap_or(false);
        let (cause, advice) = cause_and_advice(problem, external);
        report.diagnoses.push(Diagnosis {
            cluster: failure.cluster.clone(),
            task: failure.task.clone(),
            container: c.name.clone(),
            image: c.image.clone(),
            cause: cause.to_string(),
            advice: advice.to_string(),
        });
    }
    if failure.containers.is_empty() {
        report.warnings.push(
            "the stopped reason names CannotPullContainerError but no container says which image"
                .into(),
        );
    }
    send_alert(notifier, &mut report).await;
    report
}

/// What probably went wrong, and what to do, from what ECR says of the image.
fn cause_and_advice(
    problem: Option<MissingProblem>,
    external: bool,
) -> (&'static str, &'static str) {
    match problem {
        Some(MissingProblem::DigestNotFound) | Some(MissingProblem::TagNotFound) => (
            "image_missing",
            "The image is not in ECR: it was deleted (look for BatchDeleteImage or a lifecycle \
             PolicyExecutionEvent in CloudTrail) or its tag was moved. Push it again, or deploy \
             a task definition that names an image that exists.",
        ),
        Some(MissingProblem::Archived) | Some(MissingProblem::Activating) => (
            "image_archived",
            "The image is archived: restore it to the standard storage class (ecr \
             update-image-storage-class) and wait until it is ACTIVE.",
        ),
        Some(MissingProblem::RepositoryNotFound) => (
            "repository_missing",
            "The repository does not exist in this registry: check the image URI in the task \
             definition, the account and the region.",
        ),
        None if external => (
            "other_registry",
            "The image is in another registry: check the task's route to it (NAT gateway or \
             internet gateway) and, for a private registry, repositoryCredentials.",
        ),
        None => (
            "image_present",
            "The image exists, so the cause is most likely the network or IAM: the task's \
             subnets need a route to ECR and S3 (NAT gateway, or VPC endpoints for ecr.api, \
             ecr.dkr and the S3 gateway), security groups and NACLs must allow HTTPS, and the \
             task execution role needs ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability, \
             ecr:GetDownloadUrlForLayer and ecr:BatchGetImage.",
        ),
    }
}
