//! Every scope's usage applied to the index: its uses, the task-definition revisions the revision
//! rule keeps, and its gaps, each narrowed to what it can concern.

use crate::inventory::Inventory;
use crate::policy::Policy;
use crate::reference::ImageRef;
use crate::usage::{Blocks, ScanGap, Usage};

use super::resolve::Resolver;
use super::task_definitions;

/// Marks what every scope's usage keeps (each consumer named with its origin); returns the gaps,
/// narrowed to what they can concern, and warnings about pins.
pub(super) fn resolve_usages(
    resolver: &mut Resolver,
    inventory: &Inventory,
    usages: &[Usage],
    policy: &Policy,
) -> (Vec<ScanGap>, Vec<String>) {
    let (mut gaps, mut warnings) = (Vec::new(), Vec::new());
    for usage in usages {
        let origin = usage.origin.as_ref();
        for u in &usage.uses {
            let consumer = std::sync::Arc::new(u.consumer.clone().in_scope(origin));
            resolver.apply(&consumer, &u.image, u.pinned_digest);
        }
        let (revision_gaps, pin_warnings) =
            task_definitions::apply_revisions(resolver, usage, policy.rollback_revisions);
        gaps.extend(
            (usage.gaps.iter().cloned())
                .chain(revision_gaps)
                .flat_map(|g| narrow(g, inventory, usage)),
        );
        warnings.extend(pin_warnings);
    }
    (gaps, warnings)
}

/// A gap scoped to a task definition, turned into the repositories that revision's containers
/// name in this registry (one gap each), or into a gap that blocks everything when the revision's
/// images are not known.
fn narrow(gap: ScanGap, inventory: &Inventory, usage: &Usage) -> Vec<ScanGap> {
    let Blocks::TaskDefinition { family, revision } = &gap.blocks else {
        return vec![gap];
    };
    let containers = usage
        .families
        .get(family)
        .and_then(|f| f.revisions.get(revision))
        .cloned()
        .flatten();
    let mut repositories = std::collections::BTreeSet::new();
    for c in containers.iter().flatten() {
        match ImageRef::parse(&c.image) {
            Ok(r) if inventory.is_ours(&r.registry) => {
                repositories.insert(r.repository);
            }
            Ok(_) => {}
            Err(_) => return vec![gap.blocking(Blocks::Everything)],
        }
    }
    if containers.is_none() {
        return vec![gap.blocking(Blocks::Everything)];
    }
    if repositories.is_empty() {
        return vec![gap];
    }
    (repositories.into_iter())
        .map(|repository| gap.clone().blocking(Blocks::Repository { repository }))
        .collect()
}
