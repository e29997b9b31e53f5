//! Data-driven scenarios: each file in tests/scenarios/ seeds a fleet (from the incident write-ups
//! and beyond), plans it, and states which images must be kept, deleted (in order), and reported.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ecr_warden_core::inventory::ReplicationRule;
use ecr_warden_core::plan::{MissingProblem, Reason};
use ecr_warden_core::time::DAY;
use ecr_warden_core::usage::RevisionPin;
use ecr_warden_core::{
    Consumer, ContainerImage, Deployment, Digest, Family, Image, ImageStatus, Inventory, Listing,
    MediaType, Policy, PolicySettings, Repository, ScanGap, Timestamp, Usage, Use, plan,
};
use serde::Deserialize;
use support::{digest, expand};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    #[serde(default)]
    policy: PolicyFile,
    repositories: BTreeMap<String, Vec<ImageFile>>,
    #[serde(default)]
    partial_repositories: Vec<String>,
    #[serde(default)]
    uses: Vec<UseFile>,
    #[serde(default)]
    deployments: Vec<Deployment>,
    /// family → revision → container → image
    #[serde(default)]
    families: BTreeMap<String, BTreeMap<u32, Option<BTreeMap<String, String>>>>,
    #[serde(default)]
    gaps: Vec<ScanGap>,
    /// repository → its ECR lifecycle policy
    #[serde(default)]
    lifecycle_policies: BTreeMap<String, serde_json::Value>,
    /// repository → its repository policy
    #[serde(default)]
    repository_policies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    registry_policy: Option<serde_json::Value>,
    #[serde(default)]
    replication: Vec<ReplicationRule>,
    /// accounts whose consumers were scanned (besides the registry's own)
    #[serde(default)]
    scanned_accounts: BTreeSet<String>,
    /// the organization whose every account was scanned
    #[serde(default)]
    scanned_organization: Option<String>,
    /// task-definition revisions rules and schedules run
    #[serde(default)]
    pins: Vec<RevisionPin>,
    expect: Expect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    repositories: Vec<String>,
    #[serde(default)]
    keep_tag_patterns: Vec<String>,
    #[serde(default)]
    keep_recent: i64,
    #[serde(default)]
    keep_pushed_within_days: i64,
    #[serde(default)]
    keep_pulled_within_days: i64,
    #[serde(default = "one")]
    rollback_revisions: i64,
}

fn one() -> i64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageFile {
    id: String,
    #[serde(default)]
    tags: Vec<String>,
    pushed_days_ago: i64,
    #[serde(default)]
    pulled_days_ago: Option<i64>,
    #[serde(default)]
    children: Vec<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    status: ImageStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UseFile {
    consumer: Consumer,
    image: String,
    #[serde(default)]
    digest: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// repository → image ids kept
    #[serde(default)]
    keep: BTreeMap<String, Vec<String>>,
    /// repository → image ids deleted, in deletion order
    #[serde(default)]
    delete: BTreeMap<String, Vec<String>>,
    /// "repository/id" of untagged in-use digests
    #[serde(default)]
    at_risk: Vec<String>,
    /// [repository, problem, number of users]
    #[serde(default)]
    missing: Vec<(String, MissingProblem, usize)>,
    #[serde(default)]
    withheld: bool,
    /// repositories a narrower gap holds (nothing deleted there)
    #[serde(default)]
    held: Vec<String>,
    /// repositories with unscanned consumers, and how many each
    #[serde(default)]
    unscanned_consumers: Vec<(String, usize)>,
    /// texts every one of which some warning contains
    #[serde(default)]
    warnings: Vec<String>,
    /// "repository/id" of in-use images the repository's lifecycle policy would act on, with the
    /// acting rule's priority
    #[serde(default)]
    lifecycle_risk: Vec<(String, i64)>,
    /// "repository/id" → a reason (Display text) that must be among the image's reasons
    #[serde(default)]
    reasons: BTreeMap<String, Vec<String>>,
}

const NOW: Timestamp = Timestamp(1_790_000_000);

fn load(path: &Path) -> (Scenario, Inventory, Usage, Policy) {
    let text = std::fs::read_to_string(path).unwrap();
    let s: Scenario =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut inventory = Inventory {
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        ..Inventory::default()
    };
    for (name, images) in &s.repositories {
        let images = images
            .iter()
            .map(|i| Image {
                tags: i.tags.clone(),
                last_pulled_at: i.pulled_days_ago.map(|d| Timestamp(NOW.0 - d * DAY)),
                media_type: if i.children.is_empty() {
                    MediaType::Manifest
                } else {
                    MediaType::Index
                },
                status: i.status,
                children: i.children.iter().map(|c| digest(c)).collect(),
                subject: i.subject.as_deref().map(digest),
                ..Image::new(digest(&i.id), Timestamp(NOW.0 - i.pushed_days_ago * DAY))
            })
            .collect();
        let listing = if s.partial_repositories.contains(name) {
            Listing::Partial
        } else {
            Listing::Complete
        };
        let lifecycle_policy = s.lifecycle_policies.get(name).map(|p| p.to_string());
        inventory.repositories.insert(
            name.clone(),
            Repository {
                listing,
                images,
                lifecycle_policy,
                lifecycle_error: None,
                policy: s.repository_policies.get(name).map(|p| p.to_string()),
            },
        );
    }
    inventory.registry_policy = s.registry_policy.as_ref().map(|p| p.to_string());
    inventory.replication = s.replication.clone();
    let usage = Usage {
        uses: s
            .uses
            .iter()
            .map(|u| Use {
                consumer: u.consumer.clone(),
                image: expand(&u.image),
                pinned_digest: u.digest.as_deref().map(digest),
            })
            .collect(),
        deployments: s.deployments.clone(),
        families: s
            .families
            .iter()
            .map(|(name, revisions)| {
                let revisions = revisions
                    .iter()
                    .map(|(rev, containers)| {
                        let containers = containers.as_ref().map(|cs| {
                            cs.iter()
                                .map(|(container, image)| ContainerImage {
                                    container: container.clone(),
                                    image: expand(image),
                                })
                                .collect()
                        });
                        (*rev, containers)
                    })
                    .collect();
                (name.clone(), Family { revisions })
            })
            .collect(),
        gaps: s.gaps.clone(),
        pins: s.pins.clone(),
        scanned_accounts: s.scanned_accounts.clone(),
        scanned_organization: s.scanned_organization.clone(),
        ..Usage::default()
    };
    let p = &s.policy;
    let policy = Policy::new(PolicySettings {
        repositories: p.repositories.clone(),
        keep_tag_patterns: p.keep_tag_patterns.clone(),
        keep_recent: p.keep_recent,
        keep_pushed_within_days: p.keep_pushed_within_days,
        keep_pulled_within_days: p.keep_pulled_within_days,
        rollback_revisions: p.rollback_revisions,
    })
    .unwrap();
    (s, inventory, usage, policy)
}

fn label_of(ids: &BTreeMap<Digest, String>, d: &Digest) -> String {
    ids.get(d).cloned().unwrap_or_else(|| format!("{d:?}"))
}

fn run(path: &Path) {
    let (s, inventory, usage, policy) = load(path);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let ids: BTreeMap<Digest, String> = s
        .repositories
        .values()
        .flatten()
        .map(|i| (digest(&i.id), i.id.clone()))
        .collect();
    let plan = plan(&inventory, &usage, &policy, NOW);

    for (repo, expected) in &s.expect.keep {
        let got: BTreeSet<String> = plan
            .repositories
            .iter()
            .find(|r| &r.name == repo)
            .map(|r| r.keep.iter().map(|k| label_of(&ids, &k.digest)).collect())
            .unwrap_or_default();
        let want: BTreeSet<String> = expected.iter().cloned().collect();
        assert_eq!(got, want, "{name} ({}): kept in {repo}", s.description);
    }
    for (repo, expected) in &s.expect.delete {
        let got: Vec<String> = plan
            .repositories
            .iter()
            .find(|r| &r.name == repo)
            .map(|r| r.delete.iter().map(|d| label_of(&ids, &d.digest)).collect())
            .unwrap_or_default();
        assert_eq!(
            &got, expected,
            "{name} ({}): deleted from {repo}",
            s.description
        );
    }
    let at_risk: Vec<String> = plan
        .at_risk
        .iter()
        .map(|a| format!("{}/{}", a.repository, label_of(&ids, &a.digest)))
        .collect();
    assert_eq!(at_risk, s.expect.at_risk, "{name}: at_risk");
    let missing: Vec<(String, MissingProblem, usize)> = plan
        .missing
        .iter()
        .map(|m| (m.repository.clone(), m.problem, m.users.len()))
        .collect();
    assert_eq!(missing, s.expect.missing, "{name}: missing");
    assert_eq!(plan.is_withheld(), s.expect.withheld, "{name}: withheld");
    assert_eq!(plan.held_repositories(), s.expect.held, "{name}: held");
    let unscanned: Vec<(String, usize)> = (plan.unscanned_consumers.iter())
        .map(|u| (u.repository.clone(), u.consumers.len()))
        .collect();
    assert_eq!(
        unscanned, s.expect.unscanned_consumers,
        "{name}: unscanned_consumers {:#?}",
        plan.unscanned_consumers
    );
    for w in &s.expect.warnings {
        assert!(
            plan.warnings.iter().any(|x| x.contains(w.as_str())),
            "{name}: no warning contains {w:?}: {:#?}",
            plan.warnings
        );
    }
    let risks: Vec<(String, i64)> = plan
        .lifecycle_risks
        .iter()
        .map(|r| {
            (
                format!("{}/{}", r.repository, label_of(&ids, &r.digest)),
                r.verdict.rule_priority,
            )
        })
        .collect();
    assert_eq!(risks, s.expect.lifecycle_risk, "{name}: lifecycle_risk");
    for (image, wanted) in &s.expect.reasons {
        let (repo, id) = image.split_once('/').unwrap();
        let keep = plan
            .repositories
            .iter()
            .find(|r| r.name == repo)
            .and_then(|r| r.keep.iter().find(|k| k.digest == digest(id)))
            .unwrap_or_else(|| panic!("{name}: {image} is not kept"));
        let texts: Vec<String> = keep.reasons.iter().map(Reason::to_string).collect();
        for w in wanted {
            assert!(
                texts.iter().any(|t| t.contains(w.as_str())),
                "{name}: {image} lacks reason {w:?}; has {texts:#?}"
            );
        }
    }
}

#[test]
fn every_scenario_file_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 8,
        "expected the scenario files in {}",
        dir.display()
    );
    for f in files {
        run(&f);
    }
}
