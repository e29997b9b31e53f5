//! One report for a run over several registries (this account's, one per region): counts add up,
//! findings and entries are joined, each naming its region, and what the shared usage scan said
//! (errors, notes, warnings) appears once.

use super::Report;

impl Report {
    /// Joins the reports of a run's registries, each with its region.
    pub fn combine(parts: Vec<(String, Report)>) -> Report {
        let several = parts.len() > 1;
        let mut parts = parts.into_iter();
        let Some((region, first)) = parts.next() else {
            return Report::empty(super::Mode::Plan, None);
        };
        let mut out = labelled(first, &region, several);
        for (region, part) in parts {
            out.add(labelled(part, &region, several));
        }
        out
    }

    fn add(&mut self, other: Report) {
        let (s, o) = (&mut self.summary, other.summary);
        s.repositories += o.repositories;
        s.images += o.images;
        s.protected += o.protected;
        s.in_use += o.in_use;
        s.planned_deletions += o.planned_deletions;
        s.deleted += o.deleted;
        s.skipped += o.skipped;
        s.failed += o.failed;
        s.remaining += o.remaining;
        s.missing += o.missing;
        s.at_risk += o.at_risk;
        s.lifecycle_risks += o.lifecycle_risks;
        s.unscanned_consumers += o.unscanned_consumers;
        self.protected.extend(other.protected);
        self.deletions.extend(other.deletions);
        self.missing.extend(other.missing);
        self.at_risk.extend(other.at_risk);
        self.lifecycle_risks.extend(other.lifecycle_risks);
        self.delete_failures.extend(other.delete_failures);
        self.diagnoses.extend(other.diagnoses);
        self.unscanned_consumers.extend(other.unscanned_consumers);
        self.scan_incomplete |= other.scan_incomplete;
        self.deletions_withheld |= other.deletions_withheld;
        if let (Some(g), Some(h)) = (&mut self.guard, other.guard) {
            g.added.extend(h.added);
            g.removed.extend(h.removed);
            g.stale_guard.extend(h.stale_guard);
            g.failures.extend(h.failures);
        }
        for (mine, theirs) in [
            (&mut self.held_repositories, other.held_repositories),
            (&mut self.unscanned, other.unscanned),
            (&mut self.delete_errors, other.delete_errors),
            (&mut self.errors, other.errors),
            (&mut self.notes, other.notes),
            (&mut self.warnings, other.warnings),
        ] {
            for item in theirs {
                if !mine.contains(&item) {
                    mine.push(item);
                }
            }
        }
    }
}

/// The report with its region on every repository-level entry, when there are several regions.
fn labelled(mut report: Report, region: &str, several: bool) -> Report {
    if !several {
        return report;
    }
    let label = || Some(region.to_string());
    report.protected.iter_mut().for_each(|p| p.region = label());
    report.deletions.iter_mut().for_each(|d| d.region = label());
    report
        .unscanned_consumers
        .iter_mut()
        .for_each(|u| u.region = label());
    for h in &mut report.held_repositories {
        *h = format!("{h} ({region})");
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Mode, ProtectedImage};

    #[test]
    fn two_regions_add_up_name_their_region_and_share_the_scans_errors() {
        let part = |n: usize| {
            let mut r = Report::empty(Mode::Plan, None);
            r.summary.images = n;
            r.protected.push(ProtectedImage {
                region: None,
                repository: "app".into(),
                digest: crate::Digest::from_bytes([n as u8; 32]),
                tags: vec![],
                reasons: vec![],
                in_use: false,
                size_bytes: None,
            });
            r.errors
                .push("ecs:ListTasks on cluster c failed: denied".into());
            r.held_repositories.push("app".into());
            r
        };
        let one = Report::combine(vec![("us-east-1".into(), part(3))]);
        assert_eq!(one.protected[0].region, None, "one region: unchanged");
        let both = Report::combine(vec![
            ("us-east-1".into(), part(3)),
            ("eu-west-1".into(), part(4)),
        ]);
        assert_eq!(both.summary.images, 7);
        assert_eq!(both.protected.len(), 2);
        assert_eq!(both.protected[1].region.as_deref(), Some("eu-west-1"));
        assert_eq!(both.errors.len(), 1, "the shared scan's error once");
        assert_eq!(
            both.held_repositories,
            vec!["app (us-east-1)", "app (eu-west-1)"]
        );
    }
}
