//! Amazon EventBridge, read-only: every event bus, every rule on it (enabled or not: a disabled
//! rule can be enabled again), and each rule's targets that run an ECS task or submit a Batch job.

use std::future::Future;

use aws_sdk_eventbridge::Client;

use super::AwsError;

/// The largest page of every EventBridge list call.
const PAGE: i32 = 100;

/// What a rule's target does, as far as images go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetAction {
    /// Runs an ECS task: the task-definition ARN as written (with or without a revision).
    EcsTask { task_definition: String },
    /// Submits a Batch job: the job definition as written (name, `name:revision` or ARN).
    BatchJob { job_definition: String },
    /// Anything else (a queue, a function, another bus): no image.
    Other,
}

/// One target of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTarget {
    pub rule: String,
    pub id: String,
    pub action: TargetAction,
}

/// The EventBridge calls the usage scan makes. Every list call follows its pages to the end.
pub trait EventsApi: Sync {
    fn list_event_buses(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// The names of every rule on a bus.
    fn list_rules(&self, bus: &str) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    fn list_targets(
        &self,
        bus: &str,
        rule: &str,
    ) -> impl Future<Output = Result<Vec<RuleTarget>, AwsError>> + Send;
}

impl EventsApi for Client {
    async fn list_event_buses(&self) -> Result<Vec<String>, AwsError> {
        let mut buses = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .list_event_buses()
                .limit(PAGE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("events:ListEventBuses", "account", e))?;
            buses.extend(
                out.event_buses()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string)),
            );
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(buses);
            }
        }
    }

    async fn list_rules(&self, bus: &str) -> Result<Vec<String>, AwsError> {
        let mut rules = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .list_rules()
                .event_bus_name(bus)
                .limit(PAGE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("events:ListRules", format!("bus {bus}"), e))?;
            rules.extend(
                out.rules()
                    .iter()
                    .filter_map(|r| r.name().map(str::to_string)),
            );
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(rules);
            }
        }
    }

    async fn list_targets(&self, bus: &str, rule: &str) -> Result<Vec<RuleTarget>, AwsError> {
        let mut targets = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .list_targets_by_rule()
                .event_bus_name(bus)
                .rule(rule)
                .limit(PAGE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    let resource = format!("rule {rule} on bus {bus}");
                    AwsError::from_sdk("events:ListTargetsByRule", resource, e)
                })?;
            targets.extend(out.targets().iter().map(|t| RuleTarget {
                rule: rule.to_string(),
                id: t.id().to_string(),
                action: match (t.ecs_parameters(), t.batch_parameters()) {
                    (Some(ecs), _) => TargetAction::EcsTask {
                        task_definition: ecs.task_definition_arn().to_string(),
                    },
                    (None, Some(batch)) => TargetAction::BatchJob {
                        job_definition: batch.job_definition().to_string(),
                    },
                    (None, None) => TargetAction::Other,
                },
            }));
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(targets);
            }
        }
    }
}
