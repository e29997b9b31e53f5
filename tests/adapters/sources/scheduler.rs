//! EventBridge Scheduler schedules, templated and universal targets.

use super::*;

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

pub(super) fn schedule(name: &str) -> Pinner {
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
