//! The dashboard: valid JSON once the template fills it in, and every metric it draws is one the
//! function writes.

use ecr_warden::app::metrics::metrics_line;
use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::time::Timestamp;

use crate::{tagged, template};

#[test]
fn the_dashboard_draws_only_metrics_the_function_writes() {
    let t = template();
    let body = &t["Resources"]["Dashboard"]["Properties"]["DashboardBody"];
    let text = tagged(body, "!Sub").and_then(|b| b.as_str()).unwrap();
    // What CloudFormation substitutes, here with plausible values.
    let filled = text
        .replace("${AWS::Region}", "eu-west-1")
        .replace("${AWS::Partition}", "aws")
        .replace("${AWS::AccountId}", "111111111111")
        .replace("${AWS::StackName}", "ecr-warden")
        .replace("${Warden}", "ecr-warden-Warden-ABC")
        .replace("${Timeout}", "900");
    assert!(
        !filled.contains("${"),
        "an unknown substitution is left: {filled}"
    );
    let dashboard: serde_json::Value = serde_json::from_str(&filled).unwrap();
    let line: serde_json::Value = serde_json::from_str(&metrics_line(
        &Report::empty(Mode::Prune, None),
        Timestamp(0),
    ))
    .unwrap();
    let written: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    let mut titles = Vec::new();
    for widget in dashboard["widgets"].as_array().unwrap() {
        let properties = &widget["properties"];
        titles.push(properties["title"].as_str().unwrap().to_string());
        for metric in properties["metrics"].as_array().unwrap() {
            if metric[0] == "ecr-warden" {
                let name = metric[1].as_str().unwrap();
                assert!(
                    written.contains(&name),
                    "{name} is not a metric the function writes"
                );
                assert_eq!(metric[2], "Mode");
            }
        }
    }
    for wanted in [
        "Images deleted",
        "Bytes reclaimed",
        "Findings",
        "time limit",
        "Errors",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(wanted)),
            "no {wanted} widget: {titles:?}"
        );
    }
}
