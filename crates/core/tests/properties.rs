//! Property tests over thousands of generated fleets. The safety invariant: no digest that any usage
//! references (directly, through a tag, as the child of an in-use index, or as a referrer of an in-use
//! image) is ever planned for deletion. Also: keeps and deletions partition each managed repository,
//! nothing is deleted while the scan is incomplete (nowhere, or in the repositories a narrower gap
//! names), and the plan is deterministic. Uses come from tasks and usage documents; revisions run
//! from services, rules and schedules.
//!
//! "In use" is computed here by an oracle written independently of the planner.

mod support;

use std::collections::BTreeSet;

use ecr_warden_core::plan::plan_scopes;
use ecr_warden_core::time::DAY;
use ecr_warden_core::usage::{Blocks, Origin, Pinner, RevisionPin};
use ecr_warden_core::{
    Consumer, ContainerImage, Deployment, Digest, Family, Image, ImageRef, ImageStatus, Inventory,
    Listing, MediaType, Policy, PolicySettings, Repository, ScanGap, Timestamp, Usage, Use,
};
use proptest::prelude::*;
use support::{ECR, digest};

const NOW: Timestamp = Timestamp(1_790_000_000);
const REPOS: [&str; 3] = ["r0", "team/r1", "r2"];

/// A generated image before digests are assigned.
#[derive(Debug, Clone)]
struct GenImage {
    tags: Vec<u8>,
    pushed_days_ago: i64,
    pulled_days_ago: Option<i64>,
    children: Vec<u8>,
    subject: Option<u8>,
    archived: bool,
}

/// How a generated use names its image.
#[derive(Debug, Clone)]
enum GenRef {
    Tag { repo: u8, tag: u8 },
    Digest { repo: u8, image: u8 },
    TagAndDigest { repo: u8, tag: u8, image: u8 },
    PinnedTag { repo: u8, tag: u8, image: u8 },
    External,
    Broken,
}

fn gen_image() -> impl Strategy<Value = GenImage> {
    (
        prop::collection::vec(0u8..6, 0..3),
        0i64..60,
        prop::option::of(0i64..60),
        prop::collection::vec(0u8..12, 0..3),
        prop::option::weighted(0.2, 0u8..12),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(tags, pushed_days_ago, pulled_days_ago, children, subject, archived)| GenImage {
                tags,
                pushed_days_ago,
                pulled_days_ago,
                children,
                subject,
                archived,
            },
        )
}

fn gen_ref() -> impl Strategy<Value = GenRef> {
    prop_oneof![
        3 => (0u8..4, 0u8..7).prop_map(|(repo, tag)| GenRef::Tag { repo, tag }),
        3 => (0u8..4, 0u8..14).prop_map(|(repo, image)| GenRef::Digest { repo, image }),
        1 => (0u8..4, 0u8..7, 0u8..14).prop_map(|(repo, tag, image)| GenRef::TagAndDigest { repo, tag, image }),
        2 => (0u8..4, 0u8..7, 0u8..14).prop_map(|(repo, tag, image)| GenRef::PinnedTag { repo, tag, image }),
        1 => Just(GenRef::External),
        1 => Just(GenRef::Broken),
    ]
}

#[derive(Debug, Clone)]
struct Fleet {
    inventory: Inventory,
    /// The home account's usage, then perhaps another scope's.
    usages: Vec<Usage>,
    policy: Policy,
}

fn repo_name(i: u8) -> String {
    REPOS
        .get(i as usize)
        .map_or_else(|| "does-not-exist".to_string(), |s| s.to_string())
}

fn image_digest(repo: u8, image: u8) -> Digest {
    digest(&format!("{}#{image}", repo_name(repo)))
}

/// (image reference, pinned digest)
fn render(r: &GenRef) -> (String, Option<Digest>) {
    match r {
        GenRef::Tag { repo, tag } => (format!("{ECR}/{}:t{tag}", repo_name(*repo)), None),
        GenRef::Digest { repo, image } => (
            format!("{ECR}/{}@{}", repo_name(*repo), image_digest(*repo, *image)),
            None,
        ),
        GenRef::TagAndDigest { repo, tag, image } => (
            format!(
                "{ECR}/{}:t{tag}@{}",
                repo_name(*repo),
                image_digest(*repo, *image)
            ),
            None,
        ),
        GenRef::PinnedTag { repo, tag, image } => (
            format!("{ECR}/{}:t{tag}", repo_name(*repo)),
            Some(image_digest(*repo, *image)),
        ),
        GenRef::External => ("public.ecr.aws/nginx/nginx:1".to_string(), None),
        GenRef::Broken => ("Not A Reference".to_string(), None),
    }
}

/// Families f0.. with these revisions; each revision's containers name these references.
type GenFamilies = Vec<std::collections::BTreeMap<u32, Option<Vec<GenRef>>>>;

fn render_families(families: &GenFamilies) -> std::collections::BTreeMap<String, Family> {
    families
        .iter()
        .enumerate()
        .map(|(f, revs)| {
            let revisions = revs
                .iter()
                .map(|(rev, refs)| {
                    (
                        *rev,
                        refs.as_ref().map(|refs| {
                            refs.iter()
                                .enumerate()
                                .map(|(c, r)| ContainerImage {
                                    container: format!("c{c}"),
                                    image: render(r).0,
                                })
                                .collect()
                        }),
                    )
                })
                .collect();
            (format!("f{f}"), Family { revisions })
        })
        .collect()
}

fn gen_families() -> impl Strategy<Value = GenFamilies> {
    prop::collection::vec(
        prop::collection::btree_map(
            1u32..9,
            prop::option::weighted(0.95, prop::collection::vec(gen_ref(), 1..3)),
            0..6,
        ),
        0..3,
    )
}

prop_compose! {
    /// Another account's usage in another region: its own tasks and its own task-definition
    /// families, named like the home account's, pulling from the home registry.
    fn gen_other_scope()(
        uses in prop::collection::vec(gen_ref(), 0..6),
        families in gen_families(),
        deployments in prop::collection::vec((0usize..3, 1u32..10), 0..3),
    ) -> Usage {
        Usage {
            origin: Some(Origin { account: "222222222222".into(), region: "eu-west-1".into() }),
            uses: uses.iter().enumerate().map(|(i, r)| {
                let (image, pinned_digest) = render(r);
                Use {
                    consumer: Consumer::RunningTask {
                        cluster: "member".into(), task: format!("m{i}"), group: None, container: "x".into(), stopped: false,
                    },
                    image,
                    pinned_digest,
                }
            }).collect(),
            deployments: deployments.iter()
                .filter(|(f, _)| *f < families.len())
                .map(|(f, revision)| Deployment {
                    cluster: "member".into(), service: format!("s{f}"), family: format!("f{f}"),
                    revision: *revision, status: "PRIMARY".into(),
                })
                .collect(),
            families: render_families(&families),
            ..Usage::default()
        }
    }
}

prop_compose! {
    fn gen_fleet()(
        repos in prop::collection::vec(prop::collection::vec(gen_image(), 0..12), 3),
        partial in prop::collection::vec(prop::bool::weighted(0.15), 3),
        uses in prop::collection::vec(gen_ref(), 0..10),
        families in gen_families(),
        deployments in prop::collection::vec((0usize..3, 1u32..10), 0..4),
        other in prop::option::weighted(0.5, gen_other_scope()),
        pins in prop::collection::vec((0usize..3, 1u32..10, any::<bool>()), 0..3),
        documents in prop::collection::vec(gen_ref(), 0..4),
        gap in prop::bool::weighted(0.05),
        held in prop::collection::vec(0u8..3, 0..2),
        keep_recent in 0i64..4,
        pushed in prop::option::weighted(0.3, 1i64..30),
        pulled in prop::option::weighted(0.3, 1i64..30),
        rollback in 0i64..3,
        keep_tags in prop::bool::weighted(0.3),
        managed in prop::option::weighted(0.3, 0usize..3),
    ) -> Fleet {
        let mut inventory = Inventory {
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            ..Inventory::default()
        };
        for (r, images) in repos.iter().enumerate() {
            let mut seen_tags = BTreeSet::new();
            let images = images.iter().enumerate().map(|(i, g)| {
                let tags: Vec<String> = g.tags.iter()
                    .filter(|t| seen_tags.insert(**t))
                    .map(|t| format!("t{t}"))
                    .collect();
                let children: Vec<Digest> = g.children.iter()
                    .filter(|&&c| c as usize != i)
                    .map(|&c| image_digest(r as u8, c))
                    .collect();
                Image {
                    tags,
                    last_pulled_at: g.pulled_days_ago.map(|d| Timestamp(NOW.0 - d * DAY)),
                    media_type: if children.is_empty() { MediaType::Manifest } else { MediaType::Index },
                    children,
                    subject: g.subject.filter(|&s| s as usize != i).map(|s| image_digest(r as u8, s)),
                    status: if g.archived { ImageStatus::Archived } else { ImageStatus::Active },
                    ..Image::new(image_digest(r as u8, i as u8), Timestamp(NOW.0 - g.pushed_days_ago * DAY))
                }
            }).collect();
            let listing = if partial[r] { Listing::Partial } else { Listing::Complete };
            inventory.repositories.insert(repo_name(r as u8), Repository { listing, images, ..Repository::default() });
        }
        let usage = Usage {
            uses: uses.iter().enumerate().map(|(i, r)| {
                let (image, pinned_digest) = render(r);
                Use {
                    consumer: Consumer::RunningTask {
                        cluster: "c".into(), task: format!("t{i}"), group: None, container: "x".into(), stopped: false,
                    },
                    image,
                    pinned_digest,
                }
            }).chain(documents.iter().map(|r| Use {
                consumer: Consumer::UsageDocument { source: "eks/prod".into(), location: "s3://b/k".into() },
                image: render(r).0,
                pinned_digest: None,
            })).collect(),
            pins: pins.iter()
                .filter(|(f, _, _)| *f < families.len())
                .map(|(f, revision, rule)| RevisionPin {
                    family: format!("f{f}"),
                    revision: Some(*revision),
                    by: if *rule {
                        Pinner::Rule { bus: "default".into(), rule: format!("r{f}") }
                    } else {
                        Pinner::Schedule { group: "default".into(), name: format!("s{f}") }
                    },
                })
                .collect(),
            deployments: deployments.iter()
                .filter(|(f, _)| *f < families.len())
                .map(|(f, revision)| Deployment {
                    cluster: "c".into(), service: format!("s{f}"), family: format!("f{f}"),
                    revision: *revision, status: "PRIMARY".into(),
                })
                .collect(),
            families: render_families(&families),
            gaps: (gap.then(|| ScanGap::new("ecs:ListTasks", "c", "throttled")).into_iter())
                .chain(held.iter().map(|&r| {
                    ScanGap::new("ecr:GetRepositoryPolicy", repo_name(r), "denied")
                        .blocking(Blocks::Repository { repository: repo_name(r) })
                }))
                .collect(),
            ..Usage::default()
        };
        let policy = Policy::new(PolicySettings {
            repositories: managed.map(|m| vec![repo_name(m as u8)]).unwrap_or_default(),
            keep_tag_patterns: if keep_tags { vec!["t1*".into()] } else { Vec::new() },
            keep_recent,
            keep_pushed_within_days: pushed.unwrap_or(0),
            keep_pulled_within_days: pulled.unwrap_or(0),
            rollback_revisions: rollback,
        }).unwrap();
        let usages = std::iter::once(usage).chain(other).collect();
        Fleet { inventory, usages, policy }
    }
}

/// The oracle: every (repository, digest) that usage needs, computed naively.
fn in_use(fleet: &Fleet) -> BTreeSet<(String, Digest)> {
    let inv = &fleet.inventory;
    let mut images: Vec<(String, Option<Digest>)> = (fleet.usages.iter())
        .flat_map(|u| &u.uses)
        .map(|u| (u.image.clone(), u.pinned_digest))
        .collect();
    // Each scope's families are its own: the revision rule runs per scope.
    for usage in &fleet.usages {
        for (name, family) in &usage.families {
            let serving: Vec<u32> = (usage.deployments.iter())
                .filter(|d| &d.family == name)
                .map(|d| d.revision)
                .chain(
                    (usage.pins.iter())
                        .filter(|p| &p.family == name)
                        .filter_map(|p| p.revision),
                )
                .collect();
            let existing: Vec<u32> = family.revisions.keys().copied().collect();
            let mut needed: Vec<u32> = Vec::new();
            if let Some(&oldest) = serving.iter().min() {
                needed.extend(existing.iter().filter(|&&r| r >= oldest));
                needed.extend(&serving);
                let mut older: Vec<u32> =
                    existing.iter().copied().filter(|&r| r < oldest).collect();
                older.sort_unstable_by(|a, b| b.cmp(a));
                needed.extend(
                    older
                        .into_iter()
                        .take(fleet.policy.rollback_revisions as usize),
                );
            } else if let Some(&newest) = existing.iter().max() {
                needed.push(newest);
            }
            for rev in needed {
                if let Some(Some(containers)) = family.revisions.get(&rev) {
                    images.extend(containers.iter().map(|c| (c.image.clone(), None)));
                }
            }
        }
    }
    let mut used = BTreeSet::new();
    for (image, pinned) in images {
        let Ok(r) = ImageRef::parse(&image) else {
            continue;
        };
        if !r.is_in_registry("123456789012", "us-east-1") {
            continue;
        }
        let Some(repo) = inv.repositories.get(&r.repository) else {
            continue;
        };
        let found = match pinned.or(r.digest) {
            Some(d) => repo.images.iter().find(|i| i.digest == d),
            None => repo
                .images
                .iter()
                .find(|i| i.tags.iter().any(|t| Some(t) == r.tag.as_ref())),
        };
        if let Some(i) = found {
            used.insert((r.repository.clone(), i.digest));
        }
    }
    // Children of in-use indexes and referrers of in-use images, to a fixed point.
    loop {
        let before = used.len();
        for (name, repo) in &inv.repositories {
            for image in &repo.images {
                if used.contains(&(name.clone(), image.digest)) {
                    for c in &image.children {
                        if repo.images.iter().any(|i| i.digest == *c) {
                            used.insert((name.clone(), *c));
                        }
                    }
                }
                if let Some(s) = image.subject
                    && used.contains(&(name.clone(), s))
                {
                    used.insert((name.clone(), image.digest));
                }
            }
        }
        if used.len() == before {
            return used;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn nothing_in_use_is_ever_deleted(fleet in gen_fleet()) {
        let used = in_use(&fleet);
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        for (repo, d) in p.deletions() {
            prop_assert!(!used.contains(&(repo.to_string(), d.digest)),
                "{repo} {:?} is in use but planned for deletion", d.digest);
        }
    }

    #[test]
    fn kept_indexes_keep_their_children(fleet in gen_fleet()) {
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        for r in &p.repositories {
            let deleted: BTreeSet<Digest> = r.delete.iter().map(|d| d.digest).collect();
            let images = &fleet.inventory.repositories[&r.name].images;
            for k in &r.keep {
                let image = images.iter().find(|i| i.digest == k.digest).unwrap();
                for c in &image.children {
                    prop_assert!(!deleted.contains(c), "child of kept index {:?} is deleted", k.digest);
                }
            }
        }
    }

    #[test]
    fn keeps_and_deletions_partition_managed_repositories(fleet in gen_fleet()) {
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        let planned: BTreeSet<&str> = p.repositories.iter().map(|r| r.name.as_str()).collect();
        for (name, repo) in &fleet.inventory.repositories {
            let expected = repo.listing == Listing::Complete && fleet.policy.manages(name);
            prop_assert_eq!(planned.contains(name.as_str()), expected, "{} planned?", name);
        }
        for r in &p.repositories {
            let keep: Vec<Digest> = r.keep.iter().map(|k| k.digest).collect();
            let delete: Vec<Digest> = r.delete.iter().map(|d| d.digest).collect();
            let all: BTreeSet<Digest> = keep.iter().chain(&delete).copied().collect();
            let inventory: BTreeSet<Digest> =
                fleet.inventory.repositories[&r.name].images.iter().map(|i| i.digest).collect();
            prop_assert_eq!(keep.len() + delete.len(), inventory.len(), "an image is both kept and deleted, or neither");
            prop_assert_eq!(all, inventory);
            prop_assert!(r.keep.iter().all(|k| !k.reasons.is_empty()), "a keep without a reason");
        }
    }

    #[test]
    fn an_incomplete_scan_deletes_nothing_it_could_concern(fleet in gen_fleet()) {
        let p = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        let gaps: Vec<&ScanGap> = fleet.usages.iter().flat_map(|u| &u.gaps).collect();
        if gaps.iter().any(|g| g.blocks.is_everything()) {
            prop_assert!(p.is_withheld());
        }
        if p.is_withheld() {
            prop_assert_eq!(p.deletions().count(), 0);
        }
        for g in gaps {
            if let Blocks::Repository { repository } = &g.blocks {
                prop_assert!(p.deletions().all(|(r, _)| r != repository),
                    "{repository} is held by a gap but has deletions");
            }
        }
    }

    #[test]
    fn the_plan_is_deterministic_and_order_independent(fleet in gen_fleet(), seed in any::<u64>()) {
        let first = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        let again = plan_scopes(&fleet.inventory, &fleet.usages, &fleet.policy, NOW);
        prop_assert_eq!(&first, &again);

        // Listing order must not matter: reverse or rotate each repository's images and the uses.
        let mut shuffled = fleet.clone();
        for repo in shuffled.inventory.repositories.values_mut() {
            if seed % 2 == 0 { repo.images.reverse(); }
            else if !repo.images.is_empty() {
                let k = (seed as usize) % repo.images.len();
                repo.images.rotate_left(k);
            }
        }
        for u in &mut shuffled.usages {
            u.uses.reverse();
        }
        let other = plan_scopes(&shuffled.inventory, &shuffled.usages, &shuffled.policy, NOW);
        prop_assert_eq!(&first.repositories, &other.repositories);
        prop_assert_eq!(&first.missing, &other.missing);
        prop_assert_eq!(&first.at_risk, &other.at_risk);
    }
}
