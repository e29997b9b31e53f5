//! App Runner services.

use super::*;

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
