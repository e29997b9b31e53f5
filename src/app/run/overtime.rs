//! A run whose scan cannot finish before its deadline: it stops, deletes nothing, and says what was
//! left and how to make it fit.

use std::time::Duration;

use ecr_warden_core::inventory::Inventory;
use ecr_warden_core::plan::plan_scopes;
use ecr_warden_core::time::Timestamp;
use ecr_warden_core::usage::{ScanGap, Usage};

use super::settings::{Planned, RunSettings};
use crate::scopes::Scopes;
use crate::sources::Progress;

/// A scan that used more than half the time it had: the next, larger one may not fit.
pub fn time_warning(used: Duration, budget: Option<Duration>) -> Option<String> {
    let budget = budget?;
    (used * 2 > budget).then(|| {
        format!(
            "the scan took {} s of the {} s it had: as the fleet grows it will not fit; turn the \
             stack's FanOut on (one invocation per account-region), or narrow REGIONS, ACCOUNTS or CLUSTERS",
            used.as_secs(),
            budget.as_secs()
        )
    })
}

/// One withheld plan per registry, whose gap names the account-regions the scan did not finish.
pub fn out_of_time<'a>(
    scopes: &'a Scopes,
    progress: &Progress,
    budget: Duration,
    settings: &RunSettings,
    now: Timestamp,
) -> Vec<Planned<'a>> {
    let finished = progress.finished();
    let left: Vec<String> = (scopes.scanned.iter())
        .filter(|s| !finished.contains(&s.origin))
        .map(|s| s.origin.to_string())
        .collect();
    let what = if left.is_empty() {
        "the ECR listing of this account's repositories".to_string()
    } else {
        let shown: Vec<&str> = left.iter().take(10).map(String::as_str).collect();
        let more = left.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!(
            "{} of {} account-regions ({}{more})",
            left.len(),
            scopes.scanned.len(),
            shown.join(", ")
        )
    };
    let gap = ScanGap::new(
        "the scan",
        what,
        format!(
            "not finished in the {} s the run had for it, so nothing was deleted. To fit: raise the \
             function's Timeout (at most 900 s) or MemorySize (more CPU), narrow REGIONS, ACCOUNTS \
             or CLUSTERS, or turn the stack's FanOut on (one invocation per account-region); answers learnt so far are cached, so the next run gets further",
            budget.as_secs()
        ),
    );
    tracing::error!(%gap, "out of time");
    let usage = Usage {
        gaps: vec![gap],
        ..Usage::default()
    };
    (scopes.home.iter())
        .map(|home| {
            let inventory = Inventory::for_region(Some(&home.origin.region));
            let plan = plan_scopes(
                &inventory,
                std::slice::from_ref(&usage),
                &settings.policy,
                now,
            );
            Planned {
                scope: home,
                inventory,
                plan,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_past_half_its_time_warns_and_names_the_fan_out() {
        let budget = Some(Duration::from_secs(860));
        assert_eq!(time_warning(Duration::from_secs(430), budget), None);
        let warning = time_warning(Duration::from_secs(431), budget).unwrap();
        assert!(
            warning.starts_with("the scan took 431 s of the 860 s"),
            "{warning}"
        );
        assert!(warning.contains("FanOut"));
        assert_eq!(time_warning(Duration::from_secs(5000), None), None);
    }
}
