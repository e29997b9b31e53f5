//! The registry itself: its id and its replication rules. The SDK does not model every field of
//! a replication rule (`deleteReplication`, which sends this registry's deletions to the
//! destinations), so the rules are read from the answer's JSON, captured by an interceptor.

use std::sync::{Arc, Mutex};

use aws_sdk_ecr::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

use ecr_warden_core::inventory::ReplicationRule;

use crate::aws::AwsError;

const CALL: &str = "ecr:DescribeRegistry";

/// The registry's id and replication rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryInfo {
    pub id: String,
    pub replication: Vec<ReplicationRule>,
}

/// Keeps a copy of the answer's body.
#[derive(Debug, Clone, Default)]
struct CaptureBody(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for CaptureBody {
    fn name(&self) -> &'static str {
        "CaptureBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes() {
            *self.0.lock().expect("not poisoned") = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// Calls DescribeRegistry and reads its replication rules from the raw answer.
pub async fn describe(client: &Client) -> Result<RegistryInfo, AwsError> {
    let body = CaptureBody::default();
    let out = client
        .describe_registry()
        .customize()
        .interceptor(body.clone())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(CALL, "registry", e))?;
    let id = out
        .registry_id()
        .ok_or_else(|| AwsError::invalid(CALL, "registry", "no registry id returned"))?
        .to_string();
    let raw = body
        .0
        .lock()
        .expect("not poisoned")
        .take()
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Ok(RegistryInfo {
        id,
        replication: replication_rules(&json),
    })
}

/// The replication rules in a DescribeRegistry answer.
pub fn replication_rules(answer: &Value) -> Vec<ReplicationRule> {
    let rules = answer
        .pointer("/replicationConfiguration/rules")
        .and_then(Value::as_array);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    rules
        .into_iter()
        .flatten()
        .map(|rule| ReplicationRule {
            destinations: (rule
                .get("destinations")
                .and_then(Value::as_array)
                .into_iter())
            .flatten()
            .filter_map(|d| Some((text(d, "registryId")?, text(d, "region")?)))
            .collect(),
            prefixes: (rule
                .get("repositoryFilters")
                .and_then(Value::as_array)
                .into_iter())
            .flatten()
            .filter_map(|f| text(f, "filter"))
            .collect(),
            delete_replication: match rule.get("deleteReplication") {
                Some(Value::Bool(b)) => *b,
                Some(v) => v.get("enabled").and_then(Value::as_bool).unwrap_or(false),
                None => false,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_delete_replication_in_either_form() {
        let answer = serde_json::json!({"registryId": "123456789012", "replicationConfiguration": {"rules": [
            {"destinations": [{"region": "eu-west-1", "registryId": "444455556666"}],
             "repositoryFilters": [{"filter": "team/", "filterType": "PREFIX_MATCH"}],
             "deleteReplication": {"enabled": true}},
            {"destinations": [{"region": "us-west-2", "registryId": "123456789012"}]},
            {"destinations": [], "deleteReplication": true}
        ]}});
        let rules = replication_rules(&answer);
        assert_eq!(rules.len(), 3);
        assert_eq!(
            rules[0].destinations,
            vec![("444455556666".into(), "eu-west-1".into())]
        );
        assert_eq!(rules[0].prefixes, vec!["team/".to_string()]);
        assert!(
            rules[0].delete_replication
                && !rules[1].delete_replication
                && rules[2].delete_replication
        );
        assert!(replication_rules(&Value::Null).is_empty());
    }
}
