//! AWS Lambda, read-only: functions packaged as container images and the digests they pin.

use std::future::Future;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::PackageType;

use super::AwsError;

/// An alias and the versions it routes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasInfo {
    pub name: String,
    /// The primary version, then any versions weighted routing sends traffic to.
    pub versions: Vec<String>,
}

/// A published version, and what tells it apart from a version of the same number of a function
/// that was deleted and created again (numbers restart then): its code hash and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub version: String,
    pub stamp: String,
}

/// A function's image, as Lambda holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FunctionImage {
    /// `Code.ImageUri`: what was configured.
    pub image_uri: String,
    /// `Code.ResolvedImageUri`: the digest Lambda pinned.
    pub resolved_image_uri: Option<String>,
}

/// The Lambda calls the usage scan makes.
pub trait LambdaApi: Sync {
    /// Names of functions whose package type is Image.
    fn list_image_functions(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Published versions of a function (without `$LATEST`).
    fn list_versions(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<Vec<VersionInfo>, AwsError>> + Send;
    fn list_aliases(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<Vec<AliasInfo>, AwsError>> + Send;
    fn function_image(
        &self,
        function: &str,
        qualifier: &str,
    ) -> impl Future<Output = Result<Option<FunctionImage>, AwsError>> + Send;
}

impl LambdaApi for Client {
    async fn list_image_functions(&self) -> Result<Vec<String>, AwsError> {
        let functions: Vec<_> = self
            .list_functions()
            .max_items(50)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("lambda:ListFunctions", "account", e))?;
        Ok(functions
            .iter()
            .filter(|f| f.package_type() == Some(&PackageType::Image))
            .filter_map(|f| f.function_name().map(str::to_string))
            .collect())
    }

    async fn list_versions(&self, function: &str) -> Result<Vec<VersionInfo>, AwsError> {
        let versions: Vec<_> = self
            .list_versions_by_function()
            .function_name(function)
            .max_items(50)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "lambda:ListVersionsByFunction",
                    format!("function {function}"),
                    e,
                )
            })?;
        Ok(versions
            .iter()
            .filter_map(|v| {
                let stamp = format!(
                    "{}:{}",
                    v.code_sha256().unwrap_or_default(),
                    v.last_modified().unwrap_or_default()
                );
                Some(VersionInfo {
                    version: v.version()?.to_string(),
                    stamp,
                })
            })
            .filter(|v| v.version != "$LATEST")
            .collect())
    }

    async fn list_aliases(&self, function: &str) -> Result<Vec<AliasInfo>, AwsError> {
        let aliases: Vec<_> = self
            .list_aliases()
            .function_name(function)
            .max_items(50)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                AwsError::from_sdk("lambda:ListAliases", format!("function {function}"), e)
            })?;
        Ok(aliases
            .iter()
            .map(|a| {
                let mut versions: Vec<String> = a
                    .function_version()
                    .map(str::to_string)
                    .into_iter()
                    .collect();
                if let Some(weights) = a
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                {
                    let mut extra: Vec<String> = weights.keys().cloned().collect();
                    extra.sort();
                    versions.extend(extra);
                }
                AliasInfo {
                    name: a.name().unwrap_or_default().to_string(),
                    versions,
                }
            })
            .collect())
    }

    async fn function_image(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<FunctionImage>, AwsError> {
        let out = self
            .get_function()
            .function_name(function)
            .qualifier(qualifier)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "lambda:GetFunction",
                    format!("function {function}:{qualifier}"),
                    e,
                )
            })?;
        Ok(out.code().and_then(|code| {
            Some(FunctionImage {
                image_uri: code.image_uri()?.to_string(),
                resolved_image_uri: code.resolved_image_uri().map(str::to_string),
            })
        }))
    }
}
