//! The events the Lambda function receives, as one union: the nightly schedule (an EventBridge
//! rule's envelope or an EventBridge Scheduler input), AWS Health task-retirement events, and ECS
//! task state changes that failed to pull an image. Anything else is ignored, with a reason.

use serde_json::Value;

use crate::digest::Digest;

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A scan with this action.
    Run { action: Action, context: String },
    /// Tasks and services AWS will replace: check their images exist.
    Retirement(Retirement),
    /// A task that could not pull its image: find out why.
    PullFailure(PullFailure),
    /// Not ours to handle.
    Ignored { reason: String },
}

/// What a scheduled run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Prune,
    Plan,
    Check,
}

/// An AWS Health `AWS_ECS_TASK_PATCHING_RETIREMENT` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub event_arn: String,
    pub region: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub entities: Vec<Entity>,
    /// Entity values that name neither a task nor a service.
    pub unrecognized: Vec<String>,
}

/// A task or service named by a Health event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entity {
    /// A task; the cluster is unknown when the event names the task by id only.
    Task {
        cluster: Option<String>,
        id: String,
    },
    Service {
        cluster: String,
        service: String,
    },
}

/// An ECS task that stopped because an image could not be pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullFailure {
    pub cluster: String,
    pub task: String,
    pub group: Option<String>,
    pub stopped_reason: String,
    pub containers: Vec<FailedContainer>,
}

/// A container of a task that failed to pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedContainer {
    pub name: String,
    pub image: String,
    /// From the container's `imageDigest`, or from the error message's `@sha256:…`.
    pub digest: Option<Digest>,
    pub reason: String,
}

/// An event that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error(
        "the event is not a JSON object: expected an EventBridge event or {{\"action\": \"prune\"|\"plan\"|\"check\"}}"
    )]
    NotAnObject,
    #[error(
        "the event has neither \"source\" and \"detail-type\" (EventBridge) nor \"action\" (scheduler input)"
    )]
    Unrecognized,
    #[error("unknown action {0:?}: use \"prune\", \"plan\" or \"check\"")]
    UnknownAction(String),
    #[error("{source_name} event is malformed: {problem}")]
    Malformed {
        source_name: &'static str,
        problem: String,
    },
}

pub const RETIREMENT_CODE: &str = "AWS_ECS_TASK_PATCHING_RETIREMENT";
const PULL_ERROR: &str = "CannotPullContainerError";

impl Trigger {
    /// Reads an event.
    pub fn parse(event: &Value) -> Result<Trigger, EventError> {
        let obj = event.as_object().ok_or(EventError::NotAnObject)?;
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        if obj.get("source").is_none()
            && let Some(action) = obj.get("action")
        {
            let action = action.as_str().unwrap_or_default();
            let action = match action {
                "prune" => Action::Prune,
                "plan" => Action::Plan,
                "check" => Action::Check,
                other => return Err(EventError::UnknownAction(other.to_string())),
            };
            return Ok(Trigger::Run {
                action,
                context: "EventBridge Scheduler".into(),
            });
        }
        let (Some(source), Some(detail_type)) = (text(event, "source"), text(event, "detail-type"))
        else {
            return Err(EventError::Unrecognized);
        };
        match (source.as_str(), detail_type.as_str()) {
            ("aws.events", "Scheduled Event") => Ok(Trigger::Run {
                action: Action::Prune,
                context: format!(
                    "scheduled by {}",
                    event
                        .get("resources")
                        .and_then(|r| r.get(0))
                        .and_then(Value::as_str)
                        .unwrap_or("an EventBridge rule")
                ),
            }),
            ("aws.health", "AWS Health Event") => parse_health(event),
            ("aws.ecs", "ECS Task State Change") => parse_task_change(event),
            _ => Ok(Trigger::Ignored {
                reason: format!(
                    "events of source {source:?} and type {detail_type:?} are not handled"
                ),
            }),
        }
    }
}

fn malformed(source_name: &'static str, problem: impl Into<String>) -> EventError {
    EventError::Malformed {
        source_name,
        problem: problem.into(),
    }
}

fn parse_health(event: &Value) -> Result<Trigger, EventError> {
    const NAME: &str = "AWS Health";
    let detail = event
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or_else(|| malformed(NAME, "\"detail\" is missing"))?;
    let field = |key: &str| detail.get(key).and_then(Value::as_str).map(str::to_string);
    let code = field("eventTypeCode")
        .ok_or_else(|| malformed(NAME, "\"detail.eventTypeCode\" is missing"))?;
    if code != RETIREMENT_CODE {
        return Ok(Trigger::Ignored {
            reason: format!("AWS Health event {code} is not handled (only {RETIREMENT_CODE})"),
        });
    }
    let mut values: Vec<String> = detail
        .get("affectedEntities")
        .and_then(Value::as_array)
        .map(|entities| {
            entities
                .iter()
                .filter_map(|e| e.get("entityValue").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(resources) = event.get("resources").and_then(Value::as_array) {
        values.extend(
            resources
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string),
        );
    }
    let mut entities = Vec::new();
    let mut unrecognized = Vec::new();
    for value in values {
        match parse_entity(&value) {
            Some(e) => entities.push(e),
            None => unrecognized.push(value),
        }
    }
    entities.sort();
    entities.dedup();
    unrecognized.sort();
    unrecognized.dedup();
    if entities.is_empty() && unrecognized.is_empty() {
        return Err(malformed(NAME, "no affected entities and no resources"));
    }
    Ok(Trigger::Retirement(Retirement {
        event_arn: field("eventArn").unwrap_or_else(|| "unknown event".into()),
        region: field("eventRegion").or_else(|| {
            event
                .get("region")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        start: field("startTime"),
        end: field("endTime"),
        entities,
        unrecognized,
    }))
}

/// Reads an affected entity in every form AWS has been seen to use.
pub fn parse_entity(value: &str) -> Option<Entity> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix("arn:") {
        // arn:PARTITION:ecs:REGION:ACCOUNT:task/CLUSTER/ID | service/CLUSTER/NAME
        let resource = rest.splitn(5, ':').nth(4)?;
        let parts: Vec<&str> = resource.split('/').collect();
        return match parts.as_slice() {
            ["task", cluster, id] => Some(Entity::Task {
                cluster: Some(cluster.to_string()),
                id: id.to_string(),
            }),
            ["task", id] => Some(Entity::Task {
                cluster: None,
                id: id.to_string(),
            }),
            ["service", cluster, service] => Some(Entity::Service {
                cluster: cluster.to_string(),
                service: service.to_string(),
            }),
            _ => None,
        };
    }
    for separator in ['|', '/'] {
        if let Some((cluster, service)) = value.split_once(separator) {
            let (cluster, service) = (cluster.trim(), service.trim());
            if !cluster.is_empty() && !service.is_empty() && !service.contains(separator) {
                return Some(Entity::Service {
                    cluster: cluster.to_string(),
                    service: service.to_string(),
                });
            }
            return None;
        }
    }
    // A bare task id (32 hex characters).
    (value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Entity::Task {
        cluster: None,
        id: value.to_string(),
    })
}

fn parse_task_change(event: &Value) -> Result<Trigger, EventError> {
    const NAME: &str = "ECS task state change";
    let detail = event
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or_else(|| malformed(NAME, "\"detail\" is missing"))?;
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let stopped_reason = text(detail, "stoppedReason");
    let containers: Vec<FailedContainer> = detail
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter(|c| {
                    text(c, "reason").contains(PULL_ERROR)
                        || (stopped_reason.contains(PULL_ERROR)
                            && stopped_reason.contains(&text(c, "image")))
                })
                .map(|c| {
                    let reason = match text(c, "reason") {
                        r if r.is_empty() => stopped_reason.clone(),
                        r => r,
                    };
                    FailedContainer {
                        name: text(c, "name"),
                        image: text(c, "image"),
                        digest: c
                            .get("imageDigest")
                            .and_then(Value::as_str)
                            .and_then(|d| d.parse().ok())
                            .or_else(|| digest_in(&reason)),
                        reason,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if containers.is_empty() && !stopped_reason.contains(PULL_ERROR) {
        return Ok(Trigger::Ignored {
            reason: "ECS task state change without a CannotPullContainerError".into(),
        });
    }
    let task_arn = text(detail, "taskArn");
    if task_arn.is_empty() {
        return Err(malformed(NAME, "\"detail.taskArn\" is missing"));
    }
    let cluster = text(detail, "clusterArn");
    Ok(Trigger::PullFailure(PullFailure {
        cluster: crate::aws::arn_name(&cluster).to_string(),
        task: crate::aws::arn_name(&task_arn).to_string(),
        group: detail
            .get("group")
            .and_then(Value::as_str)
            .map(str::to_string),
        stopped_reason,
        containers,
    }))
}

/// The first `sha256:` digest in a text (ECS error messages name the reference they failed on).
pub fn digest_in(text: &str) -> Option<Digest> {
    let start = text.find("sha256:")?;
    text.get(start..start + 71)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(cluster: &str, service: &str) -> Entity {
        Entity::Service {
            cluster: cluster.into(),
            service: service.into(),
        }
    }

    #[test]
    fn reads_every_entity_form() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            parse_entity(&format!(
                "arn:aws:ecs:us-east-1:123456789012:task/prod/{id}"
            )),
            Some(Entity::Task {
                cluster: Some("prod".into()),
                id: id.into()
            })
        );
        assert_eq!(
            parse_entity(&format!("arn:aws:ecs:us-east-1:123456789012:task/{id}")),
            Some(Entity::Task {
                cluster: None,
                id: id.into()
            })
        );
        assert_eq!(
            parse_entity(id),
            Some(Entity::Task {
                cluster: None,
                id: id.into()
            })
        );
        assert_eq!(parse_entity("prod|web"), Some(service("prod", "web")));
        assert_eq!(parse_entity("prod | web"), Some(service("prod", "web")));
        assert_eq!(parse_entity("prod/web"), Some(service("prod", "web")));
        assert_eq!(
            parse_entity("arn:aws:ecs:us-east-1:123456789012:service/prod/web"),
            Some(service("prod", "web"))
        );
        assert_eq!(
            parse_entity("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
            None
        );
        assert_eq!(parse_entity("prod|"), None);
        assert_eq!(parse_entity("a/b/c"), None);
        assert_eq!(parse_entity("just-words"), None);
    }

    #[test]
    fn scheduler_inputs_and_rule_envelopes_run() {
        for (event, action) in [
            (json!({"action": "prune"}), Action::Prune),
            (json!({"action": "plan"}), Action::Plan),
            (json!({"action": "check"}), Action::Check),
            (
                json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {},
                    "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly"]}),
                Action::Prune,
            ),
        ] {
            match Trigger::parse(&event).unwrap() {
                Trigger::Run { action: a, .. } => assert_eq!(a, action),
                other => panic!("{event}: {other:?}"),
            }
        }
    }

    #[test]
    fn other_events_are_ignored_and_malformed_ones_are_errors() {
        let ignored = [
            json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}),
            json!({"source": "aws.health", "detail-type": "AWS Health Event",
                   "detail": {"eventTypeCode": "AWS_ECS_SECURITY_NOTIFICATION", "service": "ECS"}}),
            json!({"source": "aws.ecs", "detail-type": "ECS Task State Change",
                   "detail": {"taskArn": "arn:aws:ecs:us-east-1:1:task/c/t", "stoppedReason": "Essential container in task exited"}}),
        ];
        for e in ignored {
            assert!(
                matches!(Trigger::parse(&e), Ok(Trigger::Ignored { .. })),
                "{e}"
            );
        }
        let errors = [
            (json!([1, 2]), "not a JSON object"),
            (json!({"hello": "world"}), "neither"),
            (json!({"action": "destroy"}), "unknown action \"destroy\""),
            (
                json!({"source": "aws.health", "detail-type": "AWS Health Event"}),
                "\"detail\" is missing",
            ),
            (
                json!({"source": "aws.health", "detail-type": "AWS Health Event",
                    "detail": {"eventTypeCode": RETIREMENT_CODE}}),
                "no affected entities",
            ),
        ];
        for (e, message) in errors {
            let err = Trigger::parse(&e).unwrap_err().to_string();
            assert!(err.contains(message), "{e}: {err}");
        }
    }

    #[test]
    fn finds_the_digest_in_a_pull_error() {
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let reason = format!(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to \
             resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1@sha256:{hex}: not found"
        );
        assert_eq!(digest_in(&reason).unwrap().hex(), hex);
        assert_eq!(digest_in("no digest here"), None);
        assert_eq!(digest_in("sha256:abc"), None);
    }
}
