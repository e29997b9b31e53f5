//! The simulated account's Lambda answers.

use std::sync::Arc;

use aws_sdk_lambda::types::{
    AliasConfiguration, AliasRoutingConfiguration, FunctionCodeLocation, FunctionConfiguration,
    PackageType,
};
use aws_smithy_mocks::{MockResponse, Rule, mock};

use super::*;
use crate::support::ECR;

pub fn rules(f: &Faults, s: &Arc<Stats>) -> Vec<Rule> {
    use aws_sdk_lambda::Client;
    use aws_sdk_lambda::operation::{
        get_function::*, list_aliases::*, list_functions::*, list_versions_by_function::*,
    };
    vec![
        mock!(Client::list_functions).then_compute_response(respond!(
            f,
            s,
            "ListFunctions",
            ListFunctionsError,
            |r: &ListFunctionsInput, _: &Stats, _: &Faults| {
                let all: Vec<FunctionConfiguration> = ["resizer", "zip-fn", "thumbnailer"]
                    .iter()
                    .map(|n| {
                        FunctionConfiguration::builder()
                            .function_name(*n)
                            .package_type(if *n == "zip-fn" {
                                PackageType::Zip
                            } else {
                                PackageType::Image
                            })
                            .build()
                    })
                    .collect();
                let (items, next) = page(&all, r.marker(), 1);
                ListFunctionsOutput::builder()
                    .set_functions(Some(items))
                    .set_next_marker(next)
                    .build()
            }
        )),
        mock!(Client::list_versions_by_function).then_compute_response(respond!(
            f,
            s,
            "ListVersionsByFunction",
            ListVersionsByFunctionError,
            |r: &ListVersionsByFunctionInput, _: &Stats, _: &Faults| {
                let mut versions = vec!["$LATEST".to_string()];
                if r.function_name() == Some("thumbnailer") {
                    versions.extend((1..=5).map(|v| v.to_string()));
                }
                let all: Vec<FunctionConfiguration> = versions
                    .into_iter()
                    .map(|v| FunctionConfiguration::builder().version(v).build())
                    .collect();
                let (items, next) = page(&all, r.marker(), 2);
                ListVersionsByFunctionOutput::builder()
                    .set_versions(Some(items))
                    .set_next_marker(next)
                    .build()
            }
        )),
        mock!(Client::list_aliases).then_compute_response(respond!(
            f,
            s,
            "ListAliases",
            ListAliasesError,
            |r: &ListAliasesInput, _: &Stats, _: &Faults| {
                let mut out = ListAliasesOutput::builder();
                if r.function_name() == Some("thumbnailer") {
                    // "live" sends most traffic to version 2 and some to version 1.
                    out = out.aliases(
                        AliasConfiguration::builder()
                            .name("live")
                            .function_version("2")
                            .routing_config(
                                AliasRoutingConfiguration::builder()
                                    .additional_version_weights("1", 0.1)
                                    .build(),
                            )
                            .build(),
                    );
                }
                out.build()
            }
        )),
        mock!(Client::get_function).then_compute_response(respond!(
            f,
            s,
            "GetFunction",
            GetFunctionError,
            |r: &GetFunctionInput, _: &Stats, _: &Faults| {
                let (uri, resolved) = if r.function_name() == Some("resizer") {
                    (
                        format!("{ECR}/app:v0"),
                        format!("{ECR}/app@{}", app_digest(0)),
                    )
                } else {
                    let v = match r.qualifier() {
                        Some("$LATEST") | None => 6,
                        Some(q) => q.parse().unwrap(),
                    };
                    (
                        format!("{ECR}/fn:fn-v{v}"),
                        format!("{ECR}/fn@{}", fn_digest(v)),
                    )
                };
                GetFunctionOutput::builder()
                    .code(
                        FunctionCodeLocation::builder()
                            .image_uri(uri)
                            .resolved_image_uri(resolved)
                            .build(),
                    )
                    .build()
            }
        )),
    ]
}
