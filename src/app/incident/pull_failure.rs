//! Pull failures (an ECS task stopped with `CannotPullContainerError`): find out whether the image
//! is gone, archived, or present (then the cause is network or IAM), and say what to do. Never
//! deletes.

use std::collections::BTreeSet;

use ecr_warden_core::plan::MissingProblem;
use ecr_warden_core::reference::{ImageRef, Registry};
use ecr_warden_core::report::{Diagnosis, Mode, Report};
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Consumer, Origin, ScanGap, Usage, Use};

use crate::app::event::PullFailure;
use crate::app::run::send_alert;
use crate::aws::sns::Notifier;
use crate::scopes::Scopes;

use super::lookup::look_up;

/// Diagnoses a task that failed to pull its image.
pub async fn diagnose_pull_failure<N: Notifier>(
    scopes: &Scopes,
    notifier: Option<&N>,
    failure: &PullFailure,
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
    let (plan, looked) = look_up(scopes, &usage, now).await;
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
        let known = what_is_known(&looked, &plan.withheld, &c.image);
        let (cause, advice) = match known {
            Known::Looked => {
                let (cause, advice) = cause_and_advice(problem);
                (cause.to_string(), advice.to_string())
            }
            other => other.cause_and_advice(),
        };
        report.diagnoses.push(Diagnosis {
            cluster: failure.cluster.clone(),
            task: failure.task.clone(),
            container: c.name.clone(),
            image: c.image.clone(),
            cause,
            advice,
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

/// How much this run could learn of an image.
enum Known {
    /// It was looked up in this registry: the plan's findings say what is wrong, if anything.
    Looked,
    /// Another registry than ECR (Docker Hub, a private registry).
    OtherRegistry,
    /// ECR in another account or region, which this run did not look in.
    OtherEcr { account: String, region: String },
    /// The look-up failed.
    LookupFailed(String),
}

impl Known {
    fn cause_and_advice(self) -> (String, String) {
        match self {
            Known::Looked => unreachable!("answered from the plan"),
            Known::OtherRegistry => (
                "other_registry".into(),
                "The image is in another registry: check the task's route to it (NAT gateway or \
                 internet gateway) and, for a private registry, repositoryCredentials."
                    .into(),
            ),
            Known::OtherEcr { account, region } => (
                "not_checked".into(),
                format!(
                    "The image is in the ECR registry of account {account} in {region}, which this \
                     check did not look in: check that the image exists there (aws ecr \
                     describe-images --registry-id {account} --region {region}), that the registry \
                     lets this account pull (repository policy), and the task's route to ECR."
                ),
            ),
            Known::LookupFailed(error) => (
                "not_checked".into(),
                format!(
                    "ecr-warden could not look the image up ({error}), so it does not know whether \
                     it exists: check the function's ecr:DescribeImages permission and look the \
                     image up by hand."
                ),
            ),
        }
    }
}

/// What this run could learn of one image.
fn what_is_known(looked: &BTreeSet<Origin>, gaps: &[ScanGap], image: &str) -> Known {
    match ImageRef::parse(image).map(|r| r.registry) {
        Ok(Registry::Other { .. }) => return Known::OtherRegistry,
        Ok(Registry::Ecr { account, region }) => {
            let origin = Origin { account, region };
            if !looked.contains(&origin) {
                return Known::OtherEcr {
                    account: origin.account,
                    region: origin.region,
                };
            }
        }
        Err(_) => {}
    }
    match gaps.first() {
        Some(gap) => Known::LookupFailed(gap.to_string()),
        None => Known::Looked,
    }
}

/// What probably went wrong, and what to do, from what ECR says of the image.
fn cause_and_advice(problem: Option<MissingProblem>) -> (&'static str, &'static str) {
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
