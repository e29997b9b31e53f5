//! The simulated account's ECR answers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_sdk_ecr::types::{
    ImageDetail, ImageFailure, ImageFailureCode, ImageIdentifier, Repository as EcrRepository,
};
use aws_smithy_mocks::{MockResponse, Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use ecr_warden_core::time::DAY;

use super::*;

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
    // The thumbnailer function's versions' images; `fn-old` is used by none of them.
    let functions = (1..=6)
        .map(|v| detail(fn_digest(v), vec![format!("fn-v{v}")], 20))
        .chain([detail(digest("fn-old"), vec!["fn-old".into()], 200)])
        .collect();
    vec![
        ("app".into(), app),
        ("tools".into(), tools),
        ("empty".into(), vec![]),
        ("fn".into(), functions),
    ]
}

pub fn rules(f: &Faults, s: &Arc<Stats>) -> Vec<Rule> {
    use aws_sdk_ecr::Client;
    use aws_sdk_ecr::operation::{
        batch_delete_image::*, describe_images::*, describe_registry::*, describe_repositories::*,
        get_lifecycle_policy::*, get_registry_policy::*, get_repository_policy::*,
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
        mock!(Client::get_registry_policy).then_compute_response({
            let (f, s) = (f.clone(), s.clone());
            move |_: &GetRegistryPolicyInput| {
                let none = ErrorMetadata::builder()
                    .code("RegistryPolicyNotFoundException")
                    .message("no registry policy")
                    .build();
                let meta = fault(&f, &s, "GetRegistryPolicy").unwrap_or(none);
                MockResponse::Error(GetRegistryPolicyError::generic(meta))
            }
        }),
        mock!(Client::get_repository_policy).then_compute_response(respond!(
            f,
            s,
            "GetRepositoryPolicy",
            GetRepositoryPolicyError,
            |r: &GetRepositoryPolicyInput, _: &Stats, f: &Faults| {
                let grantee = match r.repository_name() {
                    Some("tools") if f.tools_shared => "444455556666",
                    _ => "123456789012",
                };
                GetRepositoryPolicyOutput::builder()
                    .repository_name(r.repository_name().unwrap_or_default())
                    .policy_text(format!(
                        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
                            "Principal": {{"AWS": "arn:aws:iam::{grantee}:root"}},
                            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}}]}}"#
                    ))
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
