//! The one line that sums a run up: counts, what it frees, findings, and whether the scan was
//! complete.

use super::storage::human_bytes;
use super::{Mode, Report};

impl Report {
    /// One line that sums the run up.
    pub fn headline(&self) -> String {
        let s = &self.summary;
        if matches!(
            self.mode,
            Mode::Retirement | Mode::PullFailure | Mode::Ignored
        ) {
            let mut line = match self.mode {
                Mode::Ignored => "event ignored".to_string(),
                _ => format!("{} missing, {} at risk", s.missing, s.at_risk),
            };
            if !self.diagnoses.is_empty() {
                line.push_str(&format!(
                    "; {} container(s) diagnosed",
                    self.diagnoses.len()
                ));
            }
            if self.scan_incomplete {
                line.push_str("; CHECK INCOMPLETE: see errors");
            }
            return line;
        }
        let deleting = !self.dry_run && self.mode == Mode::Prune;
        let (count, verb) = if deleting {
            (s.deleted, "deleted")
        } else {
            (s.planned_deletions, "to delete")
        };
        let mut line = format!(
            "{} image(s) in {} managed repositories: {} kept ({} in use), {count} {verb}{}",
            s.images,
            s.repositories,
            s.protected,
            s.in_use,
            self.freed()
        );
        line.push_str(&format!("; {} missing, {} at risk", s.missing, s.at_risk));
        if s.lifecycle_risks > 0 {
            line.push_str(&format!(
                ", {} threatened by lifecycle policies",
                s.lifecycle_risks
            ));
        }
        if self.deletions_withheld {
            line.push_str("; SCAN INCOMPLETE: nothing deleted");
        } else if !self.held_repositories.is_empty() {
            line.push_str(&format!(
                "; SCAN INCOMPLETE: nothing deleted in {}",
                self.held_repositories.join(", ")
            ));
        } else if self.scan_incomplete {
            line.push_str("; SCAN INCOMPLETE: see errors");
        }
        if s.unscanned_consumers > 0 {
            line.push_str(&format!(
                "; {} repositories shared with unscanned consumers",
                s.unscanned_consumers
            ));
        }
        line
    }

    /// ` (at most 1.25 GiB, about $0.12 a month)`, when there is something to free and ECR gave
    /// its size.
    fn freed(&self) -> String {
        let bytes = self.bytes_freed();
        if bytes == 0 {
            return String::new();
        }
        format!(
            " (at most {}, about ${:.2} a month)",
            human_bytes(bytes),
            self.summary.monthly_saving_usd
        )
    }
}
