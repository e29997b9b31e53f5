//! The deployment template (infra/template.yaml) grants what the function needs and no more, and
//! exposes every configuration variable the handler reads.

use std::collections::BTreeSet;

use ecr_warden::app::config::VARIABLES;
use serde_yaml::Value;
use serde_yaml::value::TaggedValue;

mod dashboard;
mod fanout;

pub fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `!Ref NAME` → NAME.
pub fn reference(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "!Ref" => t.value.as_str(),
        _ => None,
    }
}

pub fn tagged<'a>(v: &'a Value, tag: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

/// Every statement of the function's policies; a conditional one (`!If [C, statement,
/// AWS::NoValue]`) counts as its statement.
fn statements(t: &Value) -> Vec<Value> {
    t["Resources"]["Warden"]["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
        .map(|s| match tagged(&s, "!If") {
            Some(branches) => branches[1].clone(),
            None => s,
        })
        .collect()
}

pub fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(s) => s.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
        other => panic!("unexpected Action {other:?}"),
    }
}

/// Every string anywhere inside a value (tags included).
pub fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(s) => s.iter().for_each(|x| strings(x, out)),
        Value::Mapping(m) => m.values().for_each(|x| strings(x, out)),
        Value::Tagged(t) => strings(&TaggedValue::clone(t).value, out),
        _ => {}
    }
}

#[test]
fn every_handler_variable_is_set_from_a_parameter() {
    let t = template();
    let env = &t["Resources"]["Warden"]["Properties"]["Environment"]["Variables"];
    let parameters: BTreeSet<String> = t["Parameters"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    for variable in VARIABLES {
        let value = &env[variable];
        if variable == "CACHE_URI" {
            let uri = tagged(value, "!Sub").and_then(Value::as_str).unwrap();
            assert_eq!(
                uri, "s3://${Cache}/ecr-warden/cache.json",
                "the stack's own bucket"
            );
            continue;
        }
        let source = reference(value).unwrap_or_else(|| panic!("{variable} is not set with !Ref"));
        if variable == "SNS_TOPIC_ARN" {
            assert_eq!(source, "Alerts", "alerts go to the stack's topic");
        } else {
            assert!(
                parameters.contains(source),
                "{variable} comes from {source}, which is not a parameter"
            );
        }
    }
    assert_eq!(
        env.as_mapping().unwrap().len(),
        VARIABLES.len(),
        "a variable the handler does not read"
    );
    assert_eq!(
        t["Parameters"]["DryRun"]["Default"],
        Value::from("true"),
        "dry run by default"
    );
}

#[test]
fn batch_delete_image_is_limited_to_the_named_repositories() {
    let t = template();
    let deletes: Vec<Value> = statements(&t)
        .into_iter()
        .filter(|s| {
            actions(s)
                .iter()
                .any(|a| a == "ecr:BatchDeleteImage" || a == "ecr:*" || a == "*")
        })
        .collect();
    assert_eq!(deletes.len(), 1, "exactly one statement may delete");
    let delete = &deletes[0];
    assert_eq!(
        actions(delete),
        vec!["ecr:BatchDeleteImage", "ecr:PutImage"]
    );
    // Resource: !If [HasRepositories, <ARNs built from the Repositories parameter>, <this account's repositories>]
    let branches =
        tagged(&delete["Resource"], "!If").expect("the resource depends on HasRepositories");
    let branches = branches.as_sequence().unwrap();
    assert_eq!(branches[0], Value::from("HasRepositories"));
    let mut named = Vec::new();
    strings(&branches[1], &mut named);
    assert!(
        named.contains(&"Repositories".to_string()),
        "built from the Repositories parameter: {named:?}"
    );
    assert!(
        !named.iter().any(|s| s == "*"),
        "no bare * when repositories are given: {named:?}"
    );
    let everything = tagged(&branches[2], "!Sub")
        .and_then(Value::as_str)
        .unwrap();
    assert!(
        everything.ends_with(":${AWS::AccountId}:repository/*"),
        "{everything}"
    );
    // The account is pinned either way, and the regions to those the stack manages.
    let condition = &delete["Condition"]["StringEquals"];
    assert_eq!(
        reference(&condition["aws:ResourceAccount"]),
        Some("AWS::AccountId")
    );
    let regions = tagged(&condition["aws:RequestedRegion"], "!If").unwrap();
    assert_eq!(regions[0], Value::from("HasRegions"));
    let mut listed = Vec::new();
    strings(&regions[1], &mut listed);
    assert!(listed.contains(&"Regions".to_string()), "{listed:?}");
    assert_eq!(reference(&regions[2]), Some("AWS::Region"));
    // HasRepositories is exactly "the parameter is not empty".
    let mut cond = Vec::new();
    strings(&t["Conditions"]["HasRepositories"], &mut cond);
    assert_eq!(cond, vec!["Repositories".to_string(), String::new()]);
}

#[test]
fn other_permissions_are_read_only_or_scoped() {
    let t = template();
    for s in statements(&t) {
        for action in actions(&s) {
            let read_only = ["List", "Describe", "Get", "BatchGet"]
                .iter()
                .any(|p| action.split(':').nth(1).unwrap().starts_with(p));
            let allowed_writes = [
                "ecr:BatchDeleteImage",
                "ecr:PutImage",
                "sns:Publish",
                "kms:GenerateDataKey",
                "kms:Decrypt",
                "sts:AssumeRole",
                "s3:PutObject",
            ];
            assert!(
                read_only || allowed_writes.contains(&action.as_str()),
                "unexpected permission {action}"
            );
            assert!(!action.contains('*'), "wildcard action {action}");
            if action == "sts:AssumeRole" {
                let role = tagged(&s["Resource"], "!Sub")
                    .and_then(Value::as_str)
                    .unwrap();
                assert_eq!(role, "arn:${AWS::Partition}:iam::*:role/${ScanRoleName}");
            }
            if action == "s3:PutObject" {
                let key = tagged(&s["Resource"], "!Sub").and_then(Value::as_str);
                let allowed = [
                    "arn:${AWS::Partition}:s3:::${Cache}/ecr-warden/*",
                    "arn:${AWS::Partition}:s3:::${Cache}/runs/*",
                ];
                assert!(
                    key.is_some_and(|k| allowed.contains(&k)),
                    "write only the cache and the fan-out's documents: {key:?}"
                );
            }
            if action == "sns:Publish" {
                assert_eq!(
                    reference(&s["Resource"]),
                    Some("Alerts"),
                    "publish only to the stack's topic"
                );
            }
        }
    }
}

#[test]
fn the_function_is_built_and_run_as_the_ecosystem_expects() {
    let t = template();
    let f = &t["Resources"]["Warden"];
    assert_eq!(
        f["Metadata"]["BuildMethod"],
        Value::from("rust-cargolambda")
    );
    let p = &f["Properties"];
    assert_eq!(p["Runtime"], Value::from("provided.al2023"));
    assert_eq!(p["Handler"], Value::from("bootstrap"));
    assert_eq!(p["Architectures"][0], Value::from("arm64"));
    // Two prunes must never overlap: one at a time, unless the fan-out scans in parallel (its
    // one prune is started by the one nightly execution).
    let reserved = tagged(&p["ReservedConcurrentExecutions"], "!If").unwrap();
    assert_eq!(reserved[0], Value::from("FanOut"));
    assert_eq!(reserved[2], Value::from(1), "two prunes must never overlap");
    assert_eq!(p["LoggingConfig"]["LogFormat"], Value::from("JSON"));
    let pattern = &p["Events"]["TaskRetirement"]["Properties"]["Pattern"];
    assert_eq!(
        pattern["detail"]["eventTypeCode"][0],
        Value::from("AWS_ECS_TASK_PATCHING_RETIREMENT")
    );
    assert_eq!(p["Events"]["Nightly"]["Type"], Value::from("ScheduleV2"));
    assert_eq!(
        reference(&t["Resources"]["Alerts"]["Properties"]["KmsMasterKeyId"]),
        Some("AlertsKey")
    );
}

/// The policy statements of a conditional list: `!If [C, statement, AWS::NoValue]` and its condition.
fn conditional_statement(t: &Value, sid: &str) -> (String, Value) {
    let raw = t["Resources"]["Warden"]["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| tagged(s, "!If"))
        .find(|b| b[1]["Sid"] == sid)
        .unwrap_or_else(|| panic!("{sid} is not conditional"))
        .clone();
    (raw[0].as_str().unwrap().to_string(), raw[1].clone())
}

#[test]
fn other_accounts_are_reached_only_through_the_scan_role() {
    let t = template();
    let (condition, assume) = conditional_statement(&t, "AssumeTheScanRole");
    assert_eq!(condition, "ScansOtherAccounts");
    assert_eq!(actions(&assume), vec!["sts:AssumeRole"]);
    let (condition, list) = conditional_statement(&t, "ListTheOrganizationsAccounts");
    assert_eq!(
        condition, "ScansOrganization",
        "ListAccounts only for ACCOUNTS=organization"
    );
    assert_eq!(actions(&list), vec!["organizations:ListAccounts"]);
    let mut cond = Vec::new();
    strings(&t["Conditions"]["ScansOrganization"], &mut cond);
    assert_eq!(
        cond,
        vec!["Accounts".to_string(), "organization".to_string()]
    );
}

#[test]
fn the_scan_role_is_read_only_and_trusts_only_the_function() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/scan-role.yaml");
    let t: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let role = &t["Resources"]["ScanRole"]["Properties"];
    let trust = role["AssumeRolePolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(
        reference(&trust[0]["Principal"]["AWS"]),
        Some("WardenRoleArn")
    );
    assert_eq!(trust[0]["Action"], Value::from("sts:AssumeRole"));
    let external = tagged(&trust[0]["Condition"], "!If").unwrap();
    assert_eq!(external[0], Value::from("HasExternalId"));
    assert_eq!(
        reference(&external[1]["StringEquals"]["sts:ExternalId"]),
        Some("ExternalId")
    );
    for policy in role["Policies"].as_sequence().unwrap() {
        for s in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            assert_eq!(s["Effect"], Value::from("Allow"));
            for action in actions(s) {
                let verb = action.split(':').nth(1).unwrap();
                assert!(
                    ["List", "Describe", "Get", "BatchGet"]
                        .iter()
                        .any(|p| verb.starts_with(p)),
                    "the scan role may only read: {action}"
                );
                assert!(!action.contains('*'), "wildcard action {action}");
            }
        }
    }
}
