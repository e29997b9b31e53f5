//! The generated fleets: images, references, task-definition families and other scopes, rendered
//! into an inventory and usages.

use std::collections::BTreeSet;

use ecr_warden_core::time::DAY;
use ecr_warden_core::usage::{Blocks, Origin, Pinner, RevisionPin};
use ecr_warden_core::{
    Consumer, ContainerImage, Deployment, Digest, Family, Image, ImageStatus, Inventory, Listing,
    MediaType, Policy, PolicySettings, Repository, ScanGap, Timestamp, Usage, Use,
};
use proptest::prelude::*;

use crate::support::{ECR, digest};

pub const NOW: Timestamp = Timestamp(1_790_000_000);
pub const REPOS: [&str; 3] = ["r0", "team/r1", "r2"];

/// A generated image before digests are assigned.
#[derive(Debug, Clone)]
pub struct GenImage {
    tags: Vec<u8>,
    pushed_days_ago: i64,
    pulled_days_ago: Option<i64>,
    children: Vec<u8>,
    subject: Option<u8>,
    archived: bool,
}

/// How a generated use names its image.
#[derive(Debug, Clone)]
pub enum GenRef {
    Tag { repo: u8, tag: u8 },
    Digest { repo: u8, image: u8 },
    TagAndDigest { repo: u8, tag: u8, image: u8 },
    PinnedTag { repo: u8, tag: u8, image: u8 },
    External,
    Broken,
}

pub fn gen_image() -> impl Strategy<Value = GenImage> {
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

pub fn gen_ref() -> impl Strategy<Value = GenRef> {
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
pub struct Fleet {
    pub inventory: Inventory,
    /// The home account's usage, then perhaps another scope's.
    pub usages: Vec<Usage>,
    pub policy: Policy,
}

pub fn repo_name(i: u8) -> String {
    REPOS
        .get(i as usize)
        .map_or_else(|| "does-not-exist".to_string(), |s| s.to_string())
}

pub fn image_digest(repo: u8, image: u8) -> Digest {
    digest(&format!("{}#{image}", repo_name(repo)))
}

/// (image reference, pinned digest)
pub fn render(r: &GenRef) -> (String, Option<Digest>) {
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

pub fn render_families(families: &GenFamilies) -> std::collections::BTreeMap<String, Family> {
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

pub fn gen_families() -> impl Strategy<Value = GenFamilies> {
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
    pub fn gen_other_scope()(
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
    pub fn gen_fleet()(
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
