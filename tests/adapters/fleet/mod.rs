//! A simulated account served by aws-smithy-mocks: 3 clusters of 25 services and 250 tasks each,
//! task definitions, repositories with in-use, old and junk images, Lambda functions and an SNS
//! topic. Every list call answers page by page and every batch call checks its limit; [`Faults`]
//! injects throttling, denials and failures; [`Stats`] counts what was called.

use ecr_warden::cache::CacheLocation;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_mocks::{Rule, RuleMode, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use ecr_warden::act::Deadline;
use ecr_warden::app::run::{RunSettings, run};
use ecr_warden::aws::Clients;
use ecr_warden::aws::sns::SnsTopic;
use ecr_warden::scopes::Scopes;
use ecr_warden::sources::ScanSettings;
use ecr_warden_core::report::{Mode, Report};
use ecr_warden_core::{Digest, Policy, PolicySettings, Timestamp};

use crate::support::digest;

pub const NOW: Timestamp = Timestamp(1_790_000_000);
pub const CLUSTERS: usize = 3;
pub const SERVICES: usize = 25;
pub const TASKS_PER_CLUSTER: usize = 250;
pub const JUNK: usize = 130;
/// Images nothing uses: the junk, 5 tools images, and one old function image.
pub const UNUSED: usize = JUNK + 5 + 1;
pub const ARN: &str = "arn:aws:ecs:us-east-1:123456789012";

/// How the simulated account misbehaves.
#[derive(Clone, Default)]
pub struct Faults {
    /// Calls of these operations fail with AccessDeniedException.
    pub deny: Vec<&'static str>,
    /// ListClusters, ListTaskDefinitions and DescribeRegistry are throttled this many times
    /// before they answer (in one page).
    pub throttle_first: usize,
    /// DescribeServiceRevisions answers MISSING for every revision.
    pub revisions_missing: bool,
    /// DescribeServiceRevisions fails outright (as on the emulator).
    pub revisions_unsupported: bool,
    /// BatchDeleteImage refuses these digests with these codes.
    pub delete_failures: Vec<(Digest, &'static str)>,
    /// The image tagged v3 was overwritten: its digest lost the tag to a new image.
    pub v3_overwritten: bool,
    /// The tools repository's policy lets an account that is not scanned pull.
    pub tools_shared: bool,
    /// No rollback revisions are kept (so only what runs protects revision 1).
    pub no_rollback: bool,
    /// Where the run keeps its cache (off by default).
    pub cache: Option<std::path::PathBuf>,
    /// The run starts with no time left.
    pub out_of_time: bool,
    /// The Lambda function's memory, in MB.
    pub memory_limit_mb: Option<u64>,
}

/// Counters the assertions read.
#[derive(Default)]
pub struct Stats {
    pub max_batch: Mutex<std::collections::BTreeMap<&'static str, usize>>,
    pub page_sizes: Mutex<BTreeSet<(&'static str, i32)>>,
    pub deleted: Mutex<Vec<Digest>>,
    pub deleted_by_tag: AtomicUsize,
    pub published: Mutex<Vec<aws_sdk_sns::operation::publish::PublishInput>>,
    pub calls: Mutex<std::collections::BTreeMap<&'static str, usize>>,
}

impl Stats {
    pub fn batch(&self, op: &'static str, n: usize) {
        let mut m = self.max_batch.lock().unwrap();
        let e = m.entry(op).or_default();
        *e = (*e).max(n);
    }
    pub fn page(&self, op: &'static str, size: Option<i32>) {
        self.page_sizes
            .lock()
            .unwrap()
            .insert((op, size.unwrap_or(0)));
    }
    /// Counts a call; returns its number (0-based) for this operation.
    pub fn call(&self, op: &'static str) -> usize {
        let mut m = self.calls.lock().unwrap();
        let e = m.entry(op).or_default();
        *e += 1;
        *e - 1
    }
    pub fn calls(&self, op: &str) -> usize {
        self.calls.lock().unwrap().get(op).copied().unwrap_or(0)
    }
}

pub fn page<T: Clone>(items: &[T], token: Option<&str>, size: usize) -> (Vec<T>, Option<String>) {
    let start: usize = token.map(|t| t.parse().unwrap()).unwrap_or(0);
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (items[start..end].to_vec(), next)
}

pub fn app_digest(i: usize) -> Digest {
    digest(&format!("app-v{i}"))
}
pub fn old_digest(i: usize) -> Digest {
    digest(&format!("app-old{i}"))
}
pub fn junk_digest(i: usize) -> Digest {
    digest(&format!("junk-{i}"))
}
/// The image of the thumbnailer function's version `v` (6 is `$LATEST`).
pub fn fn_digest(v: usize) -> Digest {
    digest(&format!("fn-v{v}"))
}
pub fn tools_digest(i: usize) -> Digest {
    digest(&format!("tools-{i}"))
}

/// Decides whether this call fails, by operation name.
pub fn fault(faults: &Faults, stats: &Stats, op: &'static str) -> Option<ErrorMetadata> {
    let n = stats.call(op);
    if faults.deny.contains(&op) {
        return Some(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized")
                .build(),
        );
    }
    let _ = n;
    None
}

pub fn throttle() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("ThrottlingException")
        .message("Rate exceeded")
        .build()
}

macro_rules! respond {
    ($faults:expr, $stats:expr, $op:literal, $err:ty, $body:expr) => {{
        let (faults, stats) = ($faults.clone(), $stats.clone());
        move |req: &_| match fault(&faults, &stats, $op) {
            Some(meta) => MockResponse::Error(<$err>::generic(meta)),
            None => MockResponse::Output(($body)(req, &*stats, &faults)),
        }
    }};
}

mod ecr;
mod ecs;
mod lambda;
mod quiet;
mod sns;

pub fn retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(2))
}

/// Clients for every service, answering as an account where nothing uses an image (ECS, ECR and
/// Lambda have no rules: a call to them fails the test).
pub fn quiet_clients() -> Clients {
    let none: Vec<Rule> = Vec::new();
    let (ev, sc, ba, ar) = (
        quiet::events(),
        quiet::scheduler(),
        quiet::batch(),
        quiet::apprunner(),
    );
    Clients {
        ecs: mock_client!(aws_sdk_ecs, RuleMode::MatchAny, none.iter()),
        ecr: mock_client!(aws_sdk_ecr, RuleMode::MatchAny, none.iter()),
        lambda: mock_client!(aws_sdk_lambda, RuleMode::MatchAny, none.iter()),
        events: mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, ev.iter()),
        scheduler: mock_client!(aws_sdk_scheduler, RuleMode::MatchAny, sc.iter()),
        batch: mock_client!(aws_sdk_batch, RuleMode::MatchAny, ba.iter()),
        apprunner: mock_client!(aws_sdk_apprunner, RuleMode::MatchAny, ar.iter()),
        s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, none.iter()),
    }
}

/// Runs the real orchestration over mocked clients.
pub async fn run_fleet(faults: Faults, mode: Mode, dry_run: bool) -> (Report, Arc<Stats>) {
    let (report, stats, _) = run_fleet_with_rules(faults, mode, dry_run).await;
    (report, stats)
}

/// The same, also returning the ECS and ECR rules so tests can count attempts.
pub async fn run_fleet_with_rules(
    faults: Faults,
    mode: Mode,
    dry_run: bool,
) -> (Report, Arc<Stats>, (Vec<Rule>, Vec<Rule>)) {
    let stats = Arc::new(Stats::default());
    let (e, r, l, n) = (
        ecs::rules(&faults, &stats),
        ecr::rules(&faults, &stats),
        lambda::rules(&faults, &stats),
        sns::rules(&stats),
    );
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, e.iter(), |c| c
        .retry_config(retry()));
    let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, r.iter(), |c| c
        .retry_config(retry()));
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, l.iter(), |c| c
        .retry_config(retry()));
    let sns = SnsTopic {
        client: mock_client!(aws_sdk_sns, RuleMode::MatchAny, n.iter()),
        topic_arn: "arn:aws:sns:us-east-1:123456789012:alerts".into(),
    };
    let settings = RunSettings {
        storage_price: 0.10,
        policy: Policy::new(PolicySettings {
            keep_recent: 0,
            keep_pushed_within_days: 0,
            keep_pulled_within_days: 0,
            rollback_revisions: if faults.no_rollback { 0 } else { 1 },
            ..PolicySettings::default()
        })
        .unwrap(),
        scan: ScanSettings {
            rollback_revisions: if faults.no_rollback { 0 } else { 1 },
            ..ScanSettings::default()
        },
        dry_run,
        guard_tag_prefix: None,
        memory_limit_mb: faults.memory_limit_mb,
        cache: match &faults.cache {
            Some(path) => CacheLocation::File(path.clone()),
            None => CacheLocation::Off,
        },
    };
    let clients = Clients {
        ecs,
        ecr,
        lambda,
        ..quiet_clients()
    };
    let scopes = Scopes::single("123456789012", "us-east-1", clients);
    let deadline = if faults.out_of_time {
        Deadline::at(
            std::time::Instant::now(),
            std::time::Duration::from_secs(20),
        )
    } else {
        Deadline::none()
    };
    let report = run(&scopes, Some(&sns), &settings, mode, None, NOW, &deadline).await;
    (report, stats, (e, r))
}

pub fn expected_deletions() -> BTreeSet<Digest> {
    (0..JUNK)
        .map(junk_digest)
        .chain((0..5).map(tools_digest))
        .chain([digest("fn-old")])
        .collect()
}
