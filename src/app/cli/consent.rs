//! Whether a prune from the command line may delete: `--dry-run` or `DRY_RUN=true` never, `--yes`
//! or `DRY_RUN=false` without asking, otherwise only after a yes on a terminal. Without a terminal
//! and without either, it stops before scanning and says how to go on.

use std::io::{BufRead, Write};

use super::Cli;

/// What a prune may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Decided by the settings (`DRY_RUN`, `--dry-run`, `--yes`): no question.
    Given,
    /// Show the plan and ask.
    Ask,
}

impl Consent {
    /// The consent of a prune: `DRY_RUN` as set, the flags, or a question when on a terminal.
    pub fn of(cli: &Cli, terminal: bool) -> Result<Consent, String> {
        let dry_run_set = std::env::var("DRY_RUN").is_ok_and(|v| !v.trim().is_empty());
        Consent::decide(cli.dry_run || cli.yes || dry_run_set, terminal)
    }

    fn decide(decided: bool, terminal: bool) -> Result<Consent, String> {
        match (decided, terminal) {
            (true, _) => Ok(Consent::Given),
            (false, true) => Ok(Consent::Ask),
            (false, false) => Err(
                "prune: not on a terminal, so there is no one to ask: pass --yes (or set DRY_RUN=false) to delete, or --dry-run to only report"
                    .into(),
            ),
        }
    }
}

/// Asks a yes-or-no question on stderr; only `y` or `yes` is a yes.
pub fn ask(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::Consent;

    #[test]
    fn a_prune_asks_only_on_a_terminal_and_never_when_the_settings_decide() {
        assert_eq!(Consent::decide(true, false), Ok(Consent::Given));
        assert_eq!(Consent::decide(true, true), Ok(Consent::Given));
        assert_eq!(Consent::decide(false, true), Ok(Consent::Ask));
        let refusal = Consent::decide(false, false).unwrap_err();
        assert!(
            refusal.contains("--yes") && refusal.contains("--dry-run"),
            "{refusal}"
        );
    }
}
