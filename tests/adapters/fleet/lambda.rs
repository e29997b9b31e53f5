//! The simulated account's Lambda answers.

use std::sync::Arc;

use aws_sdk_lambda::types::{FunctionCodeLocation, FunctionConfiguration, PackageType};
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
            |_: &ListVersionsByFunctionInput, _: &Stats, _: &Faults| {
                ListVersionsByFunctionOutput::builder()
                    .versions(FunctionConfiguration::builder().version("$LATEST").build())
                    .build()
            }
        )),
        mock!(Client::list_aliases).then_compute_response(respond!(
            f,
            s,
            "ListAliases",
            ListAliasesError,
            |_: &ListAliasesInput, _: &Stats, _: &Faults| ListAliasesOutput::builder().build()
        )),
        mock!(Client::get_function).then_compute_response(respond!(
            f,
            s,
            "GetFunction",
            GetFunctionError,
            |r: &GetFunctionInput, _: &Stats, _: &Faults| {
                let i = if r.function_name() == Some("resizer") {
                    0
                } else {
                    1
                };
                GetFunctionOutput::builder()
                    .code(
                        FunctionCodeLocation::builder()
                            .image_uri(format!("{ECR}/app:v{i}"))
                            .resolved_image_uri(format!("{ECR}/app@{}", app_digest(i)))
                            .build(),
                    )
                    .build()
            }
        )),
    ]
}
