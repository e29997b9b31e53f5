//! Every sample event in events/ is read the way its folder says: the top level are events the
//! handler acts on, events/ignored/ are ignored with a reason, events/malformed/ are errors.

use std::path::Path;

use ecr_warden::app::event::{Action, Entity, Trigger};

fn parse(path: &Path) -> Result<Trigger, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    Trigger::parse(&value).map_err(|e| e.to_string())
}

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn sample_events_are_classified_by_their_folder() {
    let acted_on = files("events");
    assert!(acted_on.len() >= 9);
    for f in &acted_on {
        match parse(f) {
            Ok(Trigger::Ignored { reason }) => panic!("{}: ignored: {reason}", f.display()),
            Ok(_) => {}
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    for f in files("events/ignored") {
        assert!(
            matches!(parse(&f), Ok(Trigger::Ignored { .. })),
            "{}",
            f.display()
        );
    }
    let malformed = files("events/malformed");
    assert!(malformed.len() >= 4);
    for f in malformed {
        assert!(parse(&f).is_err(), "{}", f.display());
    }
}

#[test]
fn sample_events_carry_what_the_handler_needs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    assert!(matches!(
        parse(&root.join("scheduled-nightly.json")),
        Ok(Trigger::Run {
            action: Action::Prune,
            ..
        })
    ));
    let Ok(Trigger::Retirement(r)) = parse(&root.join("health-task-retirement-services.json"))
    else {
        panic!("not a retirement")
    };
    let service = |s: &str| Entity::Service {
        cluster: "prod".into(),
        service: s.into(),
    };
    assert_eq!(r.entities, vec![service("catalog"), service("checkout")]);
    assert_eq!(r.end.as_deref(), Some("Thu, 26 Nov 2026 08:00:00 GMT"));

    let Ok(Trigger::Retirement(r)) = parse(&root.join("health-task-retirement-no-end-time.json"))
    else {
        panic!("not a retirement")
    };
    assert_eq!(r.entities, vec![service("catalog")]);
    assert_eq!(r.end, None);

    let Ok(Trigger::Retirement(r)) = parse(&root.join("health-task-retirement-tasks.json")) else {
        panic!("not a retirement")
    };
    assert_eq!(
        r.entities,
        vec![
            Entity::Task {
                cluster: None,
                id: "fedcba9876543210fedcba9876543210".into()
            },
            Entity::Task {
                cluster: Some("prod".into()),
                id: "0123456789abcdef0123456789abcdef".into()
            },
        ]
    );

    let Ok(Trigger::PullFailure(p)) = parse(&root.join("ecs-task-pull-failure.json")) else {
        panic!("not a pull failure")
    };
    assert_eq!(
        (p.cluster.as_str(), p.task.as_str()),
        ("prod", "a1b2c3d4e5f60718293a4b5c6d7e8f90")
    );
    assert_eq!(p.containers.len(), 1);
    assert_eq!(
        p.containers[0].digest.map(|d| d.to_string()).as_deref(),
        Some("sha256:984f19b5b427ba35f88d3e329131e21ad02a2e2346d4a0d29d537304cb65bf3e")
    );
}

#[test]
fn fan_out_events_carry_their_scope_and_documents() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    assert!(matches!(
        parse(&root.join("fanout-list-scopes.json")),
        Ok(Trigger::ListScopes)
    ));
    let Ok(Trigger::ScanUsage(s)) = parse(&root.join("fanout-scan-usage.json")) else {
        panic!("not a scan-usage")
    };
    assert_eq!(
        (s.account.as_str(), s.region.as_str()),
        ("222222222222", "eu-west-1")
    );
    assert!(s.out.ends_with("/usage/222222222222-eu-west-1.json"));
    let Ok(Trigger::Run {
        fan_in: Some(f),
        context,
        ..
    }) = parse(&root.join("fanout-prune.json"))
    else {
        panic!("not a fan-in prune")
    };
    assert_eq!(f.scopes.len(), 2);
    assert!(f.documents.ends_with("/usage/"));
    assert!(
        context.contains("execution:ecr-warden-fan-out:nightly-2026-11-23"),
        "{context}"
    );
}
