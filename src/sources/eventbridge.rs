//! EventBridge rules on every event bus, enabled or disabled (a disabled rule can be enabled
//! again): a target that runs an ECS task pins its task-definition revision (the revision rule
//! then treats it like a revision a service runs), and a target that submits a Batch job pins its
//! job definition. Other targets use no image.

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};

use ecr_warden_core::usage::{JobDefinitionPin, Pinner, ScanGap, Usage};

use super::{Scope, UsageSource, keep_ok, task_definitions::revision_pin};
use crate::aws::events::{EventsApi, TargetAction};

/// EventBridge rules' ECS and Batch targets.
pub struct EventBridgeRules;

impl UsageSource for EventBridgeRules {
    fn kind(&self) -> &'static str {
        "eventbridge"
    }

    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage> {
        scan(&scope.aws.events, scope).boxed()
    }
}

/// Lists every bus, its rules and their targets.
pub async fn scan<E: EventsApi>(events: &E, scope: &Scope<'_>) -> Usage {
    let mut usage = Usage::default();
    let limit = scope.limit;
    let Some(buses) = keep_ok(limit.call(events.list_event_buses()).await, &mut usage.gaps) else {
        return usage;
    };
    let rules = join_all(
        buses
            .iter()
            .map(|bus| async move { (bus, limit.call(events.list_rules(bus)).await) }),
    )
    .await;
    let rules: Vec<(&String, String)> = rules
        .into_iter()
        .filter_map(|(bus, r)| keep_ok(r, &mut usage.gaps).map(|rules| (bus, rules)))
        .flat_map(|(bus, rules)| rules.into_iter().map(move |r| (bus, r)))
        .collect();
    let targets = join_all(rules.iter().map(|(bus, rule)| async move {
        (*bus, limit.call(events.list_targets(bus, rule)).await)
    }))
    .await;
    for (bus, result) in targets {
        for target in keep_ok(result, &mut usage.gaps).unwrap_or_default() {
            let by = Pinner::Rule {
                bus: bus.clone(),
                rule: target.rule.clone(),
            };
            match target.action {
                TargetAction::EcsTask { task_definition } => {
                    match revision_pin(&task_definition, by) {
                        Some(pin) => usage.pins.push(pin),
                        None => usage.gaps.push(ScanGap::new(
                            "events:ListTargetsByRule",
                            format!("rule {} on bus {bus}, target {}", target.rule, target.id),
                            format!("unreadable task definition {task_definition:?}"),
                        )),
                    }
                }
                TargetAction::BatchJob { job_definition } => {
                    usage
                        .job_definition_pins
                        .push(JobDefinitionPin { job_definition, by });
                }
                TargetAction::Other => {}
            }
        }
    }
    usage
}
