//! Consumers ecr-warden cannot see: principals outside the scanned accounts that the repository's
//! or the registry's policy lets pull, and replicas in unscanned registries that receive this
//! repository's deletions.

use std::collections::BTreeSet;

use crate::access::{Grantee, pull_grantees};
use crate::inventory::{Inventory, Repository};
use crate::reference::ImageRef;
use crate::usage::Usage;

/// What ecr-warden scanned: the accounts whose consumers it saw, and the regions it saw them in.
pub(super) struct Scanned<'a> {
    accounts: BTreeSet<&'a str>,
    regions: BTreeSet<&'a str>,
}

impl<'a> Scanned<'a> {
    /// The scopes usage was gathered in; this registry's own account and region always count.
    pub(super) fn new(inventory: &'a Inventory, usage: &'a Usage) -> Self {
        let mut accounts: BTreeSet<&str> =
            usage.scanned_accounts.iter().map(String::as_str).collect();
        let mut regions: BTreeSet<&str> =
            usage.scanned_regions.iter().map(String::as_str).collect();
        accounts.extend(inventory.account.as_deref());
        regions.extend(inventory.region.as_deref());
        Scanned { accounts, regions }
    }

    fn sees(&self, grantee: &Grantee) -> bool {
        match grantee {
            Grantee::Account { account } => self.accounts.contains(account.as_str()),
            _ => false,
        }
    }
}

/// The repository's unscanned consumers, each with what lets it pull; empty when there are none.
pub(super) fn unscanned_consumers(
    inventory: &Inventory,
    usage: &Usage,
    scanned: &Scanned,
    name: &str,
    repo: &Repository,
) -> Vec<String> {
    let mut out = Vec::new();
    let arn = inventory.repository_arn(name);
    let policies = [
        (repo.policy.as_deref(), None, "repository policy"),
        (
            inventory.registry_policy.as_deref(),
            Some(arn.as_str()),
            "registry policy",
        ),
    ];
    for (text, resource, via) in policies {
        let Some(text) = text else { continue };
        match pull_grantees(text, resource) {
            Ok(grantees) => out.extend(
                grantees
                    .iter()
                    .filter(|g| !scanned.sees(g))
                    .map(|g| format!("{g} ({via})")),
            ),
            Err(e) => out.push(format!("anyone: the {via} could not be read ({e})")),
        }
    }
    for hold in &usage.holds {
        let held = ImageRef::parse(&hold.image)
            .is_ok_and(|r| inventory.is_ours(&r.registry) && r.repository == name);
        if held {
            out.push(hold.by.clone());
        }
    }
    for rule in &inventory.replication {
        if !rule.delete_replication || !rule.applies_to(name) {
            continue;
        }
        for (registry, region) in &rule.destinations {
            let seen = scanned.accounts.contains(registry.as_str())
                && scanned.regions.contains(region.as_str());
            if !seen {
                out.push(format!(
                    "replicas in account {registry} {region} (replication deletes there too)"
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
