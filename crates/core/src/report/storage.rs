//! What a run's deletions free and what it keeps without a use, in bytes and in dollars a month.
//!
//! Sizes are ECR's `imageSizeInBytes`, which counts every layer of an image, including layers it
//! shares with other images of the repository. Deleting an image frees only its layers no other
//! image holds, so the sums are upper bounds, and the report says so.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Report;

/// ECR's private-repository storage price, in US dollars per GB-month (most regions).
pub const DEFAULT_PRICE_PER_GB_MONTH: f64 = 0.10;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// One repository's storage: what is deleted (or would be) and what is kept unused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepositoryStorage {
    /// The registry's region, when the run manages several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub repository: String,
    pub kept: usize,
    /// Kept by a retention rule only: nothing uses them.
    pub kept_unused: usize,
    pub bytes_unused_kept: u64,
    pub deletions: usize,
    /// Planned deletions' sizes (deleted or not).
    pub bytes_to_delete: u64,
    /// Sizes of the images this run deleted.
    pub bytes_reclaimed: u64,
}

impl Report {
    /// Adds up sizes per repository and in total, and prices what the run frees (what it deleted,
    /// or in a plan or dry run what it would delete) at `price_per_gb_month`.
    pub fn add_storage(&mut self, price_per_gb_month: f64) {
        // Keyed by (repository, region): one look-up per entry, and the repositories come out sorted.
        let mut repos: BTreeMap<(&str, &Option<String>), RepositoryStorage> = BTreeMap::new();
        fn entry<'a, 'r>(
            repos: &'r mut BTreeMap<(&'a str, &'a Option<String>), RepositoryStorage>,
            repository: &'a str,
            region: &'a Option<String>,
        ) -> &'r mut RepositoryStorage {
            repos
                .entry((repository, region))
                .or_insert_with(|| RepositoryStorage {
                    region: region.clone(),
                    repository: repository.to_string(),
                    ..RepositoryStorage::default()
                })
        }
        for p in &self.protected {
            let r = entry(&mut repos, &p.repository, &p.region);
            r.kept += 1;
            if !p.in_use {
                r.kept_unused += 1;
                r.bytes_unused_kept += size(p.size_bytes);
            }
        }
        for d in &self.deletions {
            let r = entry(&mut repos, &d.repository, &d.region);
            r.deletions += 1;
            r.bytes_to_delete += size(d.size_bytes);
            if d.outcome == "deleted" {
                r.bytes_reclaimed += size(d.size_bytes);
            }
        }
        let repos: Vec<RepositoryStorage> = repos.into_values().collect();
        let s = &mut self.summary;
        s.bytes_to_delete = repos.iter().map(|r| r.bytes_to_delete).sum();
        s.bytes_reclaimed = repos.iter().map(|r| r.bytes_reclaimed).sum();
        s.bytes_unused_kept = repos.iter().map(|r| r.bytes_unused_kept).sum();
        s.bytes_upper_bound = true;
        self.repositories = repos;
        self.summary.monthly_saving_usd = monthly_cost(self.bytes_freed(), price_per_gb_month);
    }

    /// What the run frees: what it deleted, or in a plan or dry run what it would delete.
    pub fn bytes_freed(&self) -> u64 {
        if self.dry_run {
            self.summary.bytes_to_delete
        } else {
            self.summary.bytes_reclaimed
        }
    }
}

fn size(bytes: Option<i64>) -> u64 {
    bytes.map_or(0, |b| u64::try_from(b).unwrap_or(0))
}

/// The monthly cost of storing `bytes` at `price` dollars per GB-month, to the cent.
pub fn monthly_cost(bytes: u64, price: f64) -> f64 {
    (bytes as f64 / GIB * price * 100.0).round() / 100.0
}

/// A size for people: `912 B`, `3.4 MiB`, `1.25 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ if value < 10.0 => format!("{value:.2} {}", UNITS[unit]),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DeletionEntry, Mode, ProtectedImage};
    use crate::time::Timestamp;

    fn kept(repository: &str, in_use: bool, size: i64) -> ProtectedImage {
        ProtectedImage {
            region: None,
            repository: repository.into(),
            digest: format!("sha256:{}", "a".repeat(64)).parse().unwrap(),
            tags: Vec::new(),
            reasons: Vec::new(),
            in_use,
            size_bytes: Some(size),
        }
    }

    fn deletion(repository: &str, outcome: &str, size: Option<i64>) -> DeletionEntry {
        DeletionEntry {
            region: None,
            repository: repository.into(),
            digest: format!("sha256:{}", "b".repeat(64)).parse().unwrap(),
            tags: Vec::new(),
            pushed_at: Timestamp(0),
            reason: "unused".into(),
            outcome: outcome.into(),
            size_bytes: size,
        }
    }

    #[test]
    fn sizes_add_up_per_repository_and_the_saving_is_priced_on_what_was_freed() {
        let gib = 1 << 30;
        let mut r = Report::empty(Mode::Prune, None);
        r.dry_run = false;
        r.protected = vec![kept("api", true, 5 * gib), kept("api", false, gib)];
        r.deletions = vec![
            deletion("api", "deleted", Some(2 * gib)),
            deletion("api", "failed", Some(gib)),
            deletion("web", "deleted", None),
            deletion("web", "deleted", Some(3 * gib)),
        ];
        r.add_storage(0.10);
        let s = &r.summary;
        assert_eq!(s.bytes_to_delete, 6 * gib as u64);
        assert_eq!(s.bytes_reclaimed, 5 * gib as u64);
        assert_eq!(s.bytes_unused_kept, gib as u64);
        assert_eq!(s.monthly_saving_usd, 0.5);
        assert!(s.bytes_upper_bound);
        let api = &r.repositories[0];
        assert_eq!(
            (api.repository.as_str(), api.kept, api.kept_unused),
            ("api", 2, 1)
        );
        assert_eq!((api.deletions, api.bytes_reclaimed), (2, 2 * gib as u64));
        assert_eq!(r.repositories[1].bytes_to_delete, 3 * gib as u64);

        r.dry_run = true;
        r.add_storage(0.10);
        assert_eq!(
            r.summary.monthly_saving_usd, 0.6,
            "a dry run prices what it would free"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(912), "912 B");
        assert_eq!(human_bytes(3_565_158), "3.40 MiB");
        assert_eq!(human_bytes(1_342_177_280), "1.25 GiB");
        assert_eq!(human_bytes(40 << 30), "40.0 GiB");
        assert_eq!(monthly_cost(25 << 30, 0.10), 2.5);
    }
}
