//! EventBridge rules on every bus.

use super::*;

pub(super) fn rule(bus: &str, rule: &str) -> Pinner {
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
