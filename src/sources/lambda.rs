//! Lambda functions packaged as container images: the digest each pins, at `$LATEST`, every version
//! an alias routes to (weighted routing included) and the newest published versions.

use std::collections::BTreeMap;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};

use ecr_warden_core::usage::{Consumer, Usage, Use};

use super::{Scope, UsageSource, keep_ok};
use crate::aws::AwsError;
use crate::aws::lambda::{AliasInfo, FunctionImage, LambdaApi};

/// Lambda functions' images.
pub struct LambdaFunctions;

impl UsageSource for LambdaFunctions {
    fn kind(&self) -> &'static str {
        "lambda"
    }

    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage> {
        scan(&scope.aws.lambda, scope).boxed()
    }
}

/// Reads every image function's versions and aliases, then the image of each qualifier needed.
pub async fn scan<L: LambdaApi>(lambda: &L, scope: &Scope<'_>) -> Usage {
    let (limit, settings) = (scope.limit, scope.settings);
    let mut usage = Usage::default();
    let functions = match limit.call(lambda.list_image_functions()).await {
        Ok(f) => f,
        Err(e) => {
            usage.gaps.push(e.into());
            return usage;
        }
    };
    let listed = join_all(functions.iter().map(|f| async move {
        futures_util::join!(
            limit.call(lambda.list_versions(f)),
            limit.call(lambda.list_aliases(f))
        )
    }))
    .await;

    // (function, qualifier to read, consumers' qualifiers, the version's stamp)
    let mut reads: Vec<(&String, String, Vec<String>, Option<String>)> = Vec::new();
    for (function, (versions, aliases)) in functions.iter().zip(listed) {
        let (Some(versions), Some(aliases)) = (
            keep_ok(versions, &mut usage.gaps),
            keep_ok(aliases, &mut usage.gaps),
        ) else {
            continue;
        };
        let numbers: Vec<String> = versions.iter().map(|v| v.version.clone()).collect();
        let qualifiers = qualifiers(&numbers, aliases, settings.lambda_versions);
        reads.extend(qualifiers.into_iter().map(|(q, users)| {
            let stamp = (versions.iter())
                .find(|v| v.version == q)
                .map(|v| v.stamp.clone());
            (function, q, users, stamp)
        }));
    }
    let images = join_all(
        reads
            .iter()
            .map(|(f, q, _, stamp)| function_image(lambda, scope, f, q, stamp.as_deref())),
    )
    .await;
    for ((function, _, users, _), result) in reads.into_iter().zip(images) {
        let Some(Some(image)) = keep_ok(result, &mut usage.gaps) else {
            continue;
        };
        let pinned_digest = image
            .resolved_image_uri
            .as_deref()
            .and_then(|u| u.split_once('@'))
            .and_then(|(_, d)| d.parse().ok());
        for qualifier in users {
            usage.uses.push(Use {
                consumer: Consumer::Lambda {
                    function: function.clone(),
                    qualifier,
                },
                image: image.image_uri.clone(),
                pinned_digest,
            });
        }
    }
    usage
}

/// A qualifier's image. A published version's never changes, so an earlier run's answer is used;
/// `$LATEST` is always read.
async fn function_image<L: LambdaApi>(
    lambda: &L,
    scope: &Scope<'_>,
    function: &str,
    qualifier: &str,
    stamp: Option<&str>,
) -> Result<Option<FunctionImage>, AwsError> {
    let origin = scope.origin;
    let key = stamp.map(|s| {
        format!(
            "{}:{}:{function}:{qualifier}:{s}",
            origin.account, origin.region
        )
    });
    if let Some(image) = key.as_deref().and_then(|k| scope.cache.lambda_image(k)) {
        return Ok(Some(image));
    }
    let answer = scope
        .limit
        .call(lambda.function_image(function, qualifier))
        .await;
    if let (Some(key), Ok(Some(image))) = (key, &answer) {
        scope.cache.keep_lambda_image(key, image.clone());
    }
    answer
}

/// The qualifiers whose images are protected, each with the qualifiers (versions, aliases) that
/// use it: `$LATEST`, the `keep` newest published versions, and every version an alias routes to.
fn qualifiers(
    versions: &[String],
    aliases: Vec<AliasInfo>,
    keep: usize,
) -> BTreeMap<String, Vec<String>> {
    let mut qualifiers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    qualifiers.insert("$LATEST".into(), vec!["$LATEST".into()]);
    let mut numbered: Vec<u64> = versions.iter().filter_map(|v| v.parse().ok()).collect();
    numbered.sort_unstable_by(|a, b| b.cmp(a));
    for v in numbered.into_iter().take(keep) {
        qualifiers
            .entry(v.to_string())
            .or_default()
            .push(v.to_string());
    }
    for alias in aliases {
        for version in alias.versions {
            qualifiers
                .entry(version)
                .or_default()
                .push(alias.name.clone());
        }
    }
    qualifiers
}
