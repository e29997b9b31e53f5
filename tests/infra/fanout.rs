//! The fan-out's state machine: what it may do, and how it treats a failed scan.

use std::collections::BTreeSet;

use crate::{actions, reference, strings, tagged, template};

#[test]
fn the_fan_out_may_invoke_only_this_function_and_use_only_its_prefix() {
    let t = template();
    let machine = &t["Resources"]["FanOutRun"];
    assert_eq!(machine["Condition"], "FanOut", "off unless FanOut is true");
    let props = &machine["Properties"];
    assert_eq!(props["DefinitionUri"], "fanout.asl.json");
    let subs = &props["DefinitionSubstitutions"];
    assert_eq!(tagged(&subs["WardenArn"], "!GetAtt").unwrap(), "Warden.Arn");
    assert_eq!(reference(&subs["Bucket"]), Some("Cache"));
    let statements = props["Policies"][0]["Statement"].as_sequence().unwrap();
    let mut granted = BTreeSet::new();
    for s in statements {
        let mut resources = Vec::new();
        strings(&s["Resource"], &mut resources);
        for action in actions(s) {
            granted.insert(action.clone());
            let scoped = |wanted: &[&str]| resources.iter().all(|r| wanted.contains(&r.as_str()));
            let ok = match action.as_str() {
                "lambda:InvokeFunction" => scoped(&["Warden.Arn", "${Warden.Arn}:*"]),
                "states:StartExecution" => scoped(&[
                    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-fan-out",
                ]),
                "states:DescribeExecution" | "states:StopExecution" => scoped(&[
                    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-fan-out/*",
                ]),
                a if a.starts_with("s3:") => scoped(&["${Cache.Arn}/runs/*"]),
                other => panic!("unexpected permission {other}"),
            };
            assert!(ok, "{action} reaches {resources:?}");
        }
    }
    assert!(granted.contains("lambda:InvokeFunction") && granted.contains("s3:PutObject"));
    // The function's own schedule stands down when the state machine's runs.
    let own = &t["Resources"]["Warden"]["Properties"]["Events"]["Nightly"]["Properties"];
    let state = tagged(&own["State"], "!If").unwrap();
    assert_eq!(state[0], "FanOut");
    assert_eq!(state[1], "DISABLED");
    assert_eq!(props["Events"]["Nightly"]["Type"], "ScheduleV2");
    let alarm = &t["Resources"]["FanOutFailures"]["Properties"];
    assert_eq!(reference(&alarm["AlarmActions"][0]), Some("Alerts"));
}

#[test]
fn the_fan_out_tolerates_no_failed_scan_and_prunes_from_its_own_documents() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/fanout.asl.json");
    let asl: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let map = &asl["States"]["ScanEveryScope"];
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"]["Mode"],
        "DISTRIBUTED"
    );
    assert_eq!(map["ToleratedFailureCount"], 0);
    let concurrency = map["MaxConcurrency"].as_u64().unwrap();
    assert!((1..=100).contains(&concurrency), "bounded: {concurrency}");
    let out = map["ItemSelector"]["out.$"].as_str().unwrap();
    let documents = asl["States"]["Prune"]["Parameters"]["Payload"]["documents.$"]
        .as_str()
        .unwrap();
    assert!(out.contains("s3://${Bucket}/runs/{}/usage/"), "{out}");
    assert!(
        documents.contains("s3://${Bucket}/runs/{}/usage/'"),
        "{documents}"
    );
    // The Map's own results land outside the documents' folder, or the prune would read them.
    let results = map["ResultWriter"]["Parameters"]["Prefix"]
        .as_str()
        .unwrap();
    assert!(results.starts_with("runs/") && !results.contains("/usage"));
    let text = asl.to_string();
    assert_eq!(text.matches("\"FunctionName\":\"${WardenArn}\"").count(), 3);
    assert!(!text.contains("arn:aws:"), "the partition is filled in");
}
