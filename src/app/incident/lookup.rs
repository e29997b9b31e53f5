//! Looking images up for an incident check: each image in the registry its reference names, when
//! that registry is one this run can read (this account's in a managed region, or a scanned
//! account's); the findings of every registry looked in, as one plan.

use std::collections::{BTreeMap, BTreeSet};

use ecr_warden_core::plan::{Plan, plan_scopes};
use ecr_warden_core::policy::Policy;
use ecr_warden_core::reference::{ImageRef, Registry};
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{Origin, ScanGap, Usage};

use crate::inventory::look_up_inventory;
use crate::scopes::{Scope, Scopes};

/// The scope an event comes from: its account and region, or this account in its first region.
pub fn scope_of<'a>(
    scopes: &'a Scopes,
    account: Option<&str>,
    region: Option<&str>,
) -> Result<&'a Scope, ScanGap> {
    let home = &scopes.home[0].origin;
    let account = account.unwrap_or(&home.account);
    let region = region.unwrap_or(&home.region);
    scopes.find(account, region).ok_or_else(|| {
        ScanGap::new(
            "select scope",
            format!("account {account} {region}"),
            "the event comes from an account or region this function does not scan: add it to \
             ACCOUNTS and REGIONS",
        )
    })
}

/// Looks up every image `usage` names in the registries this run can read, and plans them.
/// Returns the merged findings and the registries looked in.
pub async fn look_up(scopes: &Scopes, usage: &Usage, now: Timestamp) -> (Plan, BTreeSet<Origin>) {
    let mut registries: BTreeMap<Origin, &Scope> = BTreeMap::new();
    for u in &usage.uses {
        let Ok(ImageRef {
            registry: Registry::Ecr { account, region },
            ..
        }) = ImageRef::parse(&u.image)
        else {
            continue;
        };
        if let Some(scope) = scopes.find(&account, &region) {
            registries.insert(Origin { account, region }, scope);
        }
    }
    let mut merged = Plan {
        withheld: usage.gaps.clone(),
        notes: usage.notes.clone(),
        ..Plan::default()
    };
    for (origin, scope) in &registries {
        let (inventory, gaps) =
            look_up_inventory(&scope.clients.ecr, Some(&origin.region), usage, 8).await;
        let checked = Usage {
            gaps,
            ..usage.clone()
        };
        let plan = plan_scopes(&inventory, &[checked], &Policy::usage_only(), now);
        merged.missing.extend(plan.missing);
        merged.at_risk.extend(plan.at_risk);
        merged.warnings.extend(plan.warnings);
        for gap in plan.withheld {
            if !merged.withheld.contains(&gap) {
                merged.withheld.push(gap);
            }
        }
    }
    (merged, registries.into_keys().collect())
}
