//! What a run needs to know besides the clients, and a registry once scanned and planned.

use ecr_warden_core::inventory::Inventory;
use ecr_warden_core::plan::Plan;
use ecr_warden_core::policy::Policy;

use crate::cache::CacheLocation;
use crate::scopes::Scope;
use crate::sources::ScanSettings;

/// Everything a run needs to know besides the clients.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub policy: Policy,
    pub scan: ScanSettings,
    /// When true, nothing is deleted whatever the mode.
    pub dry_run: bool,
    /// Tag every in-use digest with this prefix plus its first 12 hex digits (`GUARD_TAG_PREFIX`).
    pub guard_tag_prefix: Option<String>,
    /// Where answers that never change are kept between runs (`CACHE_URI`).
    pub cache: CacheLocation,
    /// The Lambda function's memory in MB, to warn before a growing registry outgrows it.
    pub memory_limit_mb: Option<u64>,
    /// US dollars per GB-month, for the monthly saving.
    pub storage_price: f64,
}

/// One of this account's registries, scanned and planned.
pub struct Planned<'a> {
    pub scope: &'a Scope,
    pub inventory: Inventory,
    pub plan: Plan,
}
