//! The events the Lambda function receives, as one union: the nightly schedule (an EventBridge
//! rule's envelope or an EventBridge Scheduler input), AWS Health task-retirement events, and ECS
//! task state changes that failed to pull an image. Anything else is ignored, with a reason.
//!
//! The EventBridge envelope is `aws_lambda_events`' type; each detail is our own type ([`health`],
//! [`task_change`]), because real events lack fields that crate's detail types require.
//!
//! Adding an event: a detail type in its own file here, an arm in [`Trigger::parse`], a [`Trigger`]
//! variant, and its handling in `app/handler.rs`.

pub mod fanout;
pub mod health;
pub mod task_change;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

pub use fanout::{FanIn, ScanUsage};
pub use health::{Entity, RETIREMENT_CODE, Retirement, parse_entity};
pub use task_change::{FailedContainer, PullFailure, digest_in};

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A scan with this action; with a fan-in, usage comes from every scope's document.
    Run {
        action: Action,
        context: String,
        fan_in: Option<FanIn>,
    },
    /// Scan one account and region into a usage document (the fan-out's step).
    ScanUsage(ScanUsage),
    /// List the account-regions a run covers (the fan-out's first step).
    ListScopes,
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
    #[error(
        "unknown action {0:?}: use \"prune\", \"plan\", \"check\", \"scan-usage\" or \"list-scopes\""
    )]
    UnknownAction(String),
    #[error("{source_name} event is malformed: {problem}")]
    Malformed {
        source_name: &'static str,
        problem: String,
    },
}

/// An EventBridge event whose detail is read by the handler of its source.
pub type Envelope = EventBridgeEvent<Value>;

impl Trigger {
    /// Reads an event.
    pub fn parse(event: &Value) -> Result<Trigger, EventError> {
        let obj = event.as_object().ok_or(EventError::NotAnObject)?;
        if obj.get("source").is_none() && obj.contains_key("action") {
            return scheduler_input(obj);
        }
        if !(obj.get("source").is_some_and(Value::is_string)
            && obj.get("detail-type").is_some_and(Value::is_string))
        {
            return Err(EventError::Unrecognized);
        }
        // A missing detail is the detail reader's to report, in its own words.
        let mut obj = obj.clone();
        obj.entry("detail").or_insert(Value::Null);
        let envelope: Envelope = serde_json::from_value(Value::Object(obj))
            .map_err(|e| malformed("EventBridge", e.to_string()))?;
        match (envelope.source.as_str(), envelope.detail_type.as_str()) {
            ("aws.events", "Scheduled Event") => Ok(Trigger::Run {
                action: Action::Prune,
                fan_in: None,
                context: format!(
                    "scheduled by {}",
                    envelope
                        .resources
                        .as_ref()
                        .and_then(|r| r.first())
                        .map_or("an EventBridge rule", String::as_str)
                ),
            }),
            ("aws.health", "AWS Health Event") => health::parse(&envelope),
            ("aws.ecs", "ECS Task State Change") => task_change::parse(&envelope),
            (source, detail_type) => Ok(Trigger::Ignored {
                reason: format!(
                    "events of source {source:?} and type {detail_type:?} are not handled"
                ),
            }),
        }
    }
}

/// An input of EventBridge Scheduler or Step Functions: `{"action": "prune" | "plan" | "check" |
/// "scan-usage" | "list-scopes", …}`.
fn scheduler_input(obj: &serde_json::Map<String, Value>) -> Result<Trigger, EventError> {
    let action = match obj["action"].as_str().unwrap_or_default() {
        "prune" => Action::Prune,
        "plan" => Action::Plan,
        "check" => Action::Check,
        "scan-usage" => return fanout::scan_usage(obj).map(Trigger::ScanUsage),
        "list-scopes" => return Ok(Trigger::ListScopes),
        other => return Err(EventError::UnknownAction(other.to_string())),
    };
    let fan_in = fanout::fan_in(obj)?;
    let context = match &fan_in {
        Some(f) => format!(
            "fan-in of {} account-region(s) from {}{}",
            f.scopes.len(),
            f.documents,
            f.execution
                .as_ref()
                .map(|e| format!(", execution {e}"))
                .unwrap_or_default()
        ),
        None => "EventBridge Scheduler".into(),
    };
    Ok(Trigger::Run {
        action,
        context,
        fan_in,
    })
}

/// A malformed event of this source.
fn malformed(source_name: &'static str, problem: impl Into<String>) -> EventError {
    EventError::Malformed {
        source_name,
        problem: problem.into(),
    }
}

/// The event's detail as `T`, or an error naming what is missing.
fn detail<T: serde::de::DeserializeOwned>(
    source_name: &'static str,
    envelope: &Envelope,
) -> Result<T, EventError> {
    if !envelope.detail.is_object() {
        return Err(malformed(source_name, "\"detail\" is missing"));
    }
    serde_json::from_value(envelope.detail.clone())
        .map_err(|e| malformed(source_name, format!("\"detail\": {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
