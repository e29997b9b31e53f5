//! The fan-out's invocations (Step Functions, or an operator by hand): list the scopes, scan one
//! scope into a usage document, and prune from every scope's document.
//!
//! - `{"action": "list-scopes"}`
//! - `{"action": "scan-usage", "account": "222222222222", "region": "eu-west-1", "out": "s3://b/k"}`
//! - `{"action": "prune", "documents": "s3://b/runs/ID/", "scopes": [{"account", "region"}, …],
//!   "execution": "arn:aws:states:…"}`: usage only from the documents, one complete and fresh
//!   document required for every scope listed.

use serde::Deserialize;
use serde_json::{Map, Value};

use ecr_warden_core::usage::Origin;

use super::{EventError, malformed};

/// Scan one account and region, and write its usage document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScanUsage {
    pub account: String,
    pub region: String,
    /// A path or `s3://bucket/key`.
    pub out: String,
}

/// A run that reads every scope's usage from documents instead of scanning.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FanIn {
    /// A folder or `s3://bucket/prefix/` holding the documents.
    pub documents: String,
    /// Every scope the run expects a document for.
    pub scopes: Vec<Origin>,
    /// The Step Functions execution, named in the report.
    #[serde(default)]
    pub execution: Option<String>,
}

pub(super) fn scan_usage(obj: &Map<String, Value>) -> Result<ScanUsage, EventError> {
    let request: ScanUsage = serde_json::from_value(Value::Object(obj.clone())).map_err(|e| {
        malformed(
            "scan-usage",
            format!("{e} (expected \"account\", \"region\" and \"out\")"),
        )
    })?;
    let digits = request.account.len() == 12 && request.account.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        return Err(malformed(
            "scan-usage",
            format!("account {:?} is not a 12-digit id", request.account),
        ));
    }
    Ok(request)
}

/// The fan-in of a prune, when its input names documents.
pub(super) fn fan_in(obj: &Map<String, Value>) -> Result<Option<FanIn>, EventError> {
    if obj.get("documents").is_none() {
        return Ok(None);
    }
    let fan_in: FanIn = serde_json::from_value(Value::Object(obj.clone())).map_err(|e| {
        malformed(
            "prune",
            format!("{e} (expected \"documents\" and \"scopes\": [{{\"account\", \"region\"}}])"),
        )
    })?;
    if fan_in.scopes.is_empty() {
        return Err(malformed(
            "prune",
            "\"scopes\" is empty: the run would expect no document",
        ));
    }
    Ok(Some(fan_in))
}
