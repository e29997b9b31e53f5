//! AWS Health `AWS_ECS_TASK_PATCHING_RETIREMENT` events: which tasks and services AWS will replace,
//! and when. Entities come in every form AWS has been seen to use (task ARN, bare task id,
//! `CLUSTER|SERVICE`, `CLUSTER | SERVICE`, `CLUSTER/SERVICE`, service ARN); `endTime` and entity
//! tags may be absent.

use serde::Deserialize;

use super::{Envelope, EventError, Trigger, detail, malformed};

pub const RETIREMENT_CODE: &str = "AWS_ECS_TASK_PATCHING_RETIREMENT";
const NAME: &str = "AWS Health";

/// An AWS Health task-retirement event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub event_arn: String,
    /// The account and region the event came from (forwarded from a member account, another one
    /// than this).
    pub account: Option<String>,
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

/// The Health event's detail, as much of it as this tool reads; every field may be absent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HealthDetail {
    event_arn: Option<String>,
    event_region: Option<String>,
    event_type_code: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    #[serde(default)]
    affected_entities: Vec<AffectedEntity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AffectedEntity {
    entity_value: Option<String>,
}

/// Reads a Health event: a retirement, or an event of another type to ignore.
pub(super) fn parse(envelope: &Envelope) -> Result<Trigger, EventError> {
    let detail: HealthDetail = detail(NAME, envelope)?;
    let code = detail
        .event_type_code
        .ok_or_else(|| malformed(NAME, "\"detail.eventTypeCode\" is missing"))?;
    if code != RETIREMENT_CODE {
        return Ok(Trigger::Ignored {
            reason: format!("AWS Health event {code} is not handled (only {RETIREMENT_CODE})"),
        });
    }
    let values = detail
        .affected_entities
        .into_iter()
        .filter_map(|e| e.entity_value)
        .chain(envelope.resources.iter().flatten().cloned());
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
        event_arn: detail.event_arn.unwrap_or_else(|| "unknown event".into()),
        account: envelope.account.clone(),
        region: detail.event_region.or_else(|| envelope.region.clone()),
        start: detail.start_time,
        end: detail.end_time,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
