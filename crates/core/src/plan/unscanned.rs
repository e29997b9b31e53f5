//! Consumers ecr-warden cannot see: principals outside the scanned accounts that the repository's
//! or the registry's policy lets pull, replicas in unscanned registries that receive this
//! repository's deletions, and consumers that use an unknown digest of it.

use std::collections::BTreeSet;

use crate::access::{Grantee, pull_grantees};
use crate::inventory::{Inventory, Repository};
use crate::reference::ImageRef;
use crate::usage::Usage;

/// What ecr-warden scanned: the accounts whose consumers it saw, the regions it saw them in, and
/// the organization whose every account it saw.
pub(super) struct Scanned<'a> {
    accounts: BTreeSet<&'a str>,
    regions: BTreeSet<&'a str>,
    organization: Option<&'a str>,
}

impl<'a> Scanned<'a> {
    /// The scopes usage was gathered in; this registry's own account and region always count.
    pub(super) fn new(inventory: &'a Inventory, usages: &'a [Usage]) -> Self {
        let mut accounts: BTreeSet<&str> = BTreeSet::new();
        let mut regions: BTreeSet<&str> = BTreeSet::new();
        for u in usages {
            accounts.extend(u.scanned_accounts.iter().map(String::as_str));
            regions.extend(u.scanned_regions.iter().map(String::as_str));
            if let Some(o) = &u.origin {
                accounts.insert(&o.account);
                regions.insert(&o.region);
            }
        }
        accounts.extend(inventory.account.as_deref());
        regions.extend(inventory.region.as_deref());
        let organization = usages
            .iter()
            .find_map(|u| u.scanned_organization.as_deref());
        Scanned {
            accounts,
            regions,
            organization,
        }
    }

    fn sees(&self, grantee: &Grantee) -> bool {
        match grantee {
            Grantee::Account { account } => self.accounts.contains(account.as_str()),
            Grantee::Organization { organization } => self.organization == Some(organization),
            _ => false,
        }
    }
}

/// Who can pull from one repository, and what else uses it unseen.
pub(super) struct Access {
    /// Each grantee and the policy that grants it.
    grantees: Vec<(Grantee, &'static str)>,
    /// Policies that cannot be read: anyone may pull.
    unreadable: Vec<String>,
    /// Replication destinations that receive this repository's deletions.
    replicas: Vec<(String, String)>,
    /// Consumers of an unknown digest of this repository.
    holds: Vec<String>,
}

impl Access {
    pub(super) fn of(
        inventory: &Inventory,
        usages: &[Usage],
        name: &str,
        repo: &Repository,
    ) -> Access {
        let arn = inventory.repository_arn(name);
        let policies = [
            (repo.policy.as_deref(), None, "repository policy"),
            (
                inventory.registry_policy.as_deref(),
                Some(arn.as_str()),
                "registry policy",
            ),
        ];
        let mut access = Access {
            grantees: Vec::new(),
            unreadable: Vec::new(),
            replicas: Vec::new(),
            holds: Vec::new(),
        };
        for (text, resource, via) in policies {
            let Some(text) = text else { continue };
            match pull_grantees(text, resource) {
                Ok(g) => access.grantees.extend(g.into_iter().map(|g| (g, via))),
                Err(e) => access
                    .unreadable
                    .push(format!("anyone: the {via} could not be read ({e})")),
            }
        }
        for rule in inventory
            .replication
            .iter()
            .filter(|r| r.delete_replication && r.applies_to(name))
        {
            access.replicas.extend(rule.destinations.iter().cloned());
        }
        for hold in usages.iter().flat_map(|u| &u.holds) {
            let held = ImageRef::parse(&hold.image)
                .is_ok_and(|r| inventory.is_ours(&r.registry) && r.repository == name);
            if held {
                access.holds.push(hold.by.clone());
            }
        }
        access
    }

    /// The repository's unscanned consumers, each with what lets it pull; empty when none.
    pub(super) fn unscanned(&self, scanned: &Scanned) -> Vec<String> {
        let mut out: Vec<String> = (self.grantees.iter())
            .filter(|(g, _)| !scanned.sees(g))
            .map(|(g, via)| format!("{g} ({via})"))
            .collect();
        out.extend(self.unreadable.iter().cloned());
        out.extend(self.holds.iter().cloned());
        for (registry, region) in &self.replicas {
            let seen = scanned.accounts.contains(registry.as_str())
                && scanned.regions.contains(region.as_str());
            if !seen {
                out.push(format!(
                    "replicas in account {registry} {region} (replication deletes there too)"
                ));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// True when one of these accounts may pull from the repository: a policy grants it, or
    /// grants more than named accounts, or cannot be read.
    pub(super) fn reachable_by(&self, accounts: &BTreeSet<String>) -> bool {
        if accounts.is_empty() {
            return false;
        }
        !self.unreadable.is_empty()
            || self.grantees.iter().any(|(g, _)| match g {
                Grantee::Account { account } => accounts.contains(account),
                _ => true,
            })
            || self
                .replicas
                .iter()
                .any(|(registry, _)| accounts.contains(registry))
    }
}
