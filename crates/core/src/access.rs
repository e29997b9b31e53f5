//! Who else can pull: a repository's policy and the registry's policy, read for grants of pull
//! (`ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`, or a wildcard covering them) to principals
//! outside the accounts ecr-warden scanned; and replication that sends deletions to registries it
//! did not scan. Such a repository has consumers ecr-warden cannot see, so nothing in it is
//! deleted.
//!
//! The reading is conservative: `Deny` statements are ignored (they only narrow), `NotPrincipal`
//! and `NotAction` count as grants to everyone, and a condition narrows a grant only through
//! `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:PrincipalAccount`, `aws:SourceAccount`,
//! `aws:SourceArn` or `aws:PrincipalArn` under a positive operator.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lifecycle::wildcard_match;

/// Someone a policy lets pull.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Grantee {
    /// Principals of one account.
    Account { account: String },
    /// Any principal of an organization (`aws:PrincipalOrgID` or `aws:PrincipalOrgPaths`).
    Organization { organization: String },
    /// An AWS service acting for any account (a service principal without an account condition).
    Service { service: String },
    /// Anyone (`*` without a narrowing condition, `NotPrincipal`).
    Everyone,
}

impl fmt::Display for Grantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grantee::Account { account } => write!(f, "account {account}"),
            Grantee::Organization { organization } => write!(f, "organization {organization}"),
            Grantee::Service { service } => write!(f, "{service} for any account"),
            Grantee::Everyone => f.write_str("everyone (*)"),
        }
    }
}

/// A policy that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the policy is not valid IAM policy JSON: {0}")]
pub struct PolicyError(String);

/// The grantees a policy lets pull from the repository with this ARN. `resource` is `None` for a
/// repository policy (it applies to its repository), or the repository's ARN for a registry
/// policy, whose statements name their resources.
pub fn pull_grantees(
    policy: &str,
    resource: Option<&str>,
) -> Result<BTreeSet<Grantee>, PolicyError> {
    let doc: Value = serde_json::from_str(policy).map_err(|e| PolicyError(e.to_string()))?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(s)) => s.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return Err(PolicyError("no \"Statement\"".into())),
    };
    let mut grantees = BTreeSet::new();
    for s in &statements {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        if !grants_pull(s) || !covers(s, resource) {
            continue;
        }
        grantees.extend(principals(s));
    }
    Ok(grantees)
}

/// True when the statement's actions include a pull action.
fn grants_pull(statement: &Value) -> bool {
    const PULL: [&str; 2] = ["ecr:batchgetimage", "ecr:getdownloadurlforlayer"];
    let matches = |patterns: &[String]| {
        PULL.iter().any(|a| {
            patterns
                .iter()
                .any(|p| wildcard_match(&p.to_lowercase(), a))
        })
    };
    match (strings(statement.get("Action")), statement.get("NotAction")) {
        (actions, None) => matches(&actions),
        // Allow everything except: pull is granted unless both pull actions are excepted.
        (_, Some(not)) => {
            let excepted = strings(Some(not));
            !PULL.iter().all(|a| {
                excepted
                    .iter()
                    .any(|p| wildcard_match(&p.to_lowercase(), a))
            })
        }
    }
}

/// True when the statement applies to the repository (always, for a repository policy).
fn covers(statement: &Value, resource: Option<&str>) -> bool {
    let Some(arn) = resource else {
        return true;
    };
    if statement.get("NotResource").is_some() {
        return true;
    }
    let without_partition = |a: &str| a.splitn(3, ':').nth(2).unwrap_or(a).to_string();
    let arn = without_partition(arn);
    strings(statement.get("Resource"))
        .iter()
        .any(|p| p == "*" || wildcard_match(&without_partition(p), &arn))
}

/// The grantees of one statement, narrowed by its conditions.
fn principals(statement: &Value) -> Vec<Grantee> {
    if statement.get("NotPrincipal").is_some() {
        return vec![Grantee::Everyone];
    }
    let narrowed = narrowing(statement.get("Condition"));
    let mut out = Vec::new();
    let principal = statement.get("Principal");
    let (aws, services) = match principal {
        Some(Value::String(s)) if s == "*" => (vec!["*".to_string()], Vec::new()),
        Some(Value::Object(m)) => (strings(m.get("AWS")), strings(m.get("Service"))),
        _ => (vec!["*".to_string()], Vec::new()),
    };
    for p in aws {
        match account_of(&p) {
            Some(account) => out.push(Grantee::Account { account }),
            None => out.extend(narrowed.clone().unwrap_or(vec![Grantee::Everyone])),
        }
    }
    for service in services {
        out.extend(
            narrowed
                .clone()
                .unwrap_or(vec![Grantee::Service { service }]),
        );
    }
    out
}

/// What a statement's conditions narrow "anyone" down to, if they do.
fn narrowing(condition: Option<&Value>) -> Option<Vec<Grantee>> {
    let Some(Value::Object(operators)) = condition else {
        return None;
    };
    let mut narrowed: Option<Vec<Grantee>> = None;
    for (operator, keys) in operators {
        let op = operator.to_ascii_lowercase();
        if op.contains("not") || op.contains("ifexists") || op == "null" {
            continue;
        }
        let Value::Object(keys) = keys else { continue };
        for (key, values) in keys {
            let values = strings(Some(values));
            let grantees: Option<Vec<Grantee>> = match key.to_ascii_lowercase().as_str() {
                "aws:principalorgid" => Some(
                    values
                        .iter()
                        .map(|o| Grantee::Organization {
                            organization: o.clone(),
                        })
                        .collect(),
                ),
                "aws:principalorgpaths" => Some(
                    values
                        .iter()
                        .map(|p| Grantee::Organization {
                            organization: p.split('/').next().unwrap_or(p).to_string(),
                        })
                        .collect(),
                ),
                "aws:principalaccount" | "aws:sourceaccount" => Some(accounts(&values)),
                "aws:sourcearn" | "aws:principalarn" => Some(
                    values
                        .iter()
                        .map(|a| match a.split(':').nth(4) {
                            Some(acct) if is_account(acct) => Grantee::Account {
                                account: acct.to_string(),
                            },
                            _ => Grantee::Everyone,
                        })
                        .collect(),
                ),
                _ => None,
            };
            // Several narrowing keys must all hold: the narrowest (fewest grantees) one decides.
            if let Some(g) = grantees
                && narrowed.as_ref().is_none_or(|n| g.len() < n.len())
            {
                narrowed = Some(g);
            }
        }
    }
    narrowed
}

fn accounts(values: &[String]) -> Vec<Grantee> {
    values
        .iter()
        .map(|a| match is_account(a) {
            true => Grantee::Account { account: a.clone() },
            false => Grantee::Everyone,
        })
        .collect()
}

/// The account of an AWS principal: a bare id, or the account field of an IAM or STS ARN.
fn account_of(principal: &str) -> Option<String> {
    if is_account(principal) {
        return Some(principal.to_string());
    }
    let account = principal.strip_prefix("arn:")?.split(':').nth(3)?;
    is_account(account).then(|| account.to_string())
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A policy field that may be a string or an array of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}
