//! A part of the usage scan that did not complete, and how much it withholds: everything, or only
//! the repositories it could concern.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A part of the usage scan that did not complete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScanGap {
    /// The API call or step (`ecs:DescribeTasks`).
    pub call: String,
    /// What it was about (a cluster, service, family or function).
    pub resource: String,
    /// The error, as the service or the scanner reported it.
    pub error: String,
    /// Which deletions it withholds: every one unless it can only concern some repositories.
    #[serde(default, skip_serializing_if = "Blocks::is_everything")]
    pub blocks: Blocks,
}

/// What a gap keeps from being deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocks {
    /// Every deletion: what was not seen could use any image.
    #[default]
    Everything,
    /// Deletions in this repository of this registry (a name, or an image reference whose
    /// repository it is).
    Repository { repository: String },
    /// Deletions in every repository this task-definition revision's containers name (everything,
    /// when the revision was not described).
    TaskDefinition { family: String, revision: u32 },
    /// Deletions in every repository this account could pull from: one its consumers were not
    /// scanned in. A repository no policy lets it pull from is not held.
    Account { account: String },
}

impl Blocks {
    pub fn is_everything(&self) -> bool {
        *self == Blocks::Everything
    }
}

impl ScanGap {
    /// A gap that withholds every deletion.
    pub fn new(
        call: impl Into<String>,
        resource: impl Into<String>,
        error: impl Into<String>,
    ) -> ScanGap {
        ScanGap {
            call: call.into(),
            resource: resource.into(),
            error: error.into(),
            blocks: Blocks::Everything,
        }
    }

    /// The same gap, withholding only what `blocks` names.
    pub fn blocking(self, blocks: Blocks) -> ScanGap {
        ScanGap { blocks, ..self }
    }
}

impl fmt::Display for ScanGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} failed: {}",
            self.call, self.resource, self.error
        )?;
        match &self.blocks {
            Blocks::Everything => Ok(()),
            Blocks::Repository { repository } => {
                write!(f, " (nothing is deleted from {repository})")
            }
            Blocks::TaskDefinition { family, revision } => write!(
                f,
                " (nothing is deleted from the repositories {family}:{revision} names)"
            ),
            Blocks::Account { account } => write!(
                f,
                " (nothing is deleted from repositories account {account} can pull from)"
            ),
        }
    }
}
