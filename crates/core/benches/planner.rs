//! Plans a synthetic inventory of 1,000,000 images in 1,000 repositories with 100,000 usages and
//! prints wall time and peak memory. Run with `make bench-core`; `PLANNER_REPOSITORIES=N` plans N
//! repositories of 1,000 images (and 100 usages per repository) instead.
// A benchmark measures wall time and reads its size from the environment: the one place in this
// crate that reads a clock or a variable.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use ecr_warden_core::time::DAY;
use ecr_warden_core::{
    Consumer, ContainerImage, Deployment, Digest, Family, Image, Inventory, Policy, PolicySettings,
    Repository, Timestamp, Usage, Use, plan,
};

const IMAGES_PER_REPO: usize = 1_000;
const NOW: Timestamp = Timestamp(1_790_000_000);
const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A cheap deterministic digest (splitmix64 over the counter).
fn digest(n: u64) -> Digest {
    let mut bytes = [0u8; 32];
    let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    for chunk in bytes.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    Digest::from_bytes(bytes)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let repos: usize = std::env::var("PLANNER_REPOSITORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let uses_count = repos * 100;
    let t = Instant::now();
    let mut inventory = Inventory {
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        ..Inventory::default()
    };
    for r in 0..repos {
        let images = (0..IMAGES_PER_REPO)
            .map(|i| {
                let n = (r * IMAGES_PER_REPO + i) as u64;
                Image {
                    tags: if i % 4 == 0 {
                        Vec::new()
                    } else {
                        vec![format!("build-{i}")]
                    },
                    last_pulled_at: (i % 3 == 0).then(|| Timestamp(NOW.0 - (i as i64 % 90) * DAY)),
                    ..Image::new(digest(n), Timestamp(NOW.0 - i as i64 * 3600))
                }
            })
            .collect();
        inventory.repositories.insert(
            format!("team-{}/service-{r}", r % 20),
            Repository {
                images,
                ..Repository::default()
            },
        );
    }
    let names: Vec<String> = inventory.repositories.keys().cloned().collect();
    // Half the uses pin digests (running tasks), half name tags (task definitions).
    let uses: Vec<Use> = (0..uses_count / 2)
        .map(|u| {
            let r = u % repos;
            let i = (u * 7) % IMAGES_PER_REPO;
            Use {
                consumer: Consumer::RunningTask {
                    cluster: format!("cluster-{}", u % 10),
                    task: format!("task-{u}"),
                    group: Some(format!("service:svc-{}", u % 300)),
                    container: "app".into(),
                    stopped: false,
                },
                image: format!("{HOST}/{}:build-{i}", names[r]),
                pinned_digest: Some(digest((r * IMAGES_PER_REPO + i) as u64)),
            }
        })
        .collect();
    let mut families = std::collections::BTreeMap::new();
    let mut deployments = Vec::new();
    let families_count = uses_count / 2 / 20;
    for f in 0..families_count {
        let r = f % repos;
        let revisions = (1..=20u32)
            .map(|rev| {
                let i = ((f + rev as usize * 13) % IMAGES_PER_REPO) | 1;
                let containers = vec![ContainerImage {
                    container: "app".into(),
                    image: format!("{HOST}/{}:build-{i}", names[r]),
                }];
                (rev, Some(containers))
            })
            .collect();
        families.insert(format!("family-{f}"), Family { revisions });
        deployments.push(Deployment {
            cluster: format!("cluster-{}", f % 10),
            service: format!("svc-{f}"),
            family: format!("family-{f}"),
            revision: 1,
            status: "PRIMARY".into(),
        });
    }
    let usage = Usage {
        uses,
        deployments,
        families,
        ..Usage::default()
    };
    let policy = Policy::new(PolicySettings {
        keep_tag_patterns: vec!["release-*".into()],
        ..PolicySettings::default()
    })
    .unwrap();
    let built = t.elapsed();
    let rss_before = peak_rss_mib();

    let t = Instant::now();
    let p = plan(&inventory, &usage, &policy, NOW);
    let elapsed = t.elapsed();
    let s = p.summary();
    let rss_after = peak_rss_mib();

    println!(
        "planner benchmark: {repos} repositories x {IMAGES_PER_REPO} images, {uses_count} usages"
    );
    println!(
        "  fleet generated in      {:>8.0} ms",
        built.as_secs_f64() * 1e3
    );
    println!(
        "  plan wall time          {:>8.0} ms   (target < 1000 ms)",
        elapsed.as_secs_f64() * 1e3
    );
    println!("  peak RSS before plan    {rss_before:>8.0} MiB");
    println!("  peak RSS after plan     {rss_after:>8.0} MiB   (target < 512 MiB)");
    println!(
        "  images {} protected {} in use {} deletions {} missing {} at risk {}",
        s.images, s.protected, s.in_use, s.deletions, s.missing, s.at_risk
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "planner",
            "images": s.images,
            "usages": uses_count,
            "plan_ms": elapsed.as_secs_f64() * 1e3,
            "peak_rss_mib": rss_after,
        })
    );
}
