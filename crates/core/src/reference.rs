//! Image references as task definitions, tasks and Lambda functions hold them, parsed into registry,
//! repository, tag and digest.
//!
//! ECR hosts in every form AWS documents are recognised (`ACCT.dkr.ecr.REGION.amazonaws.com`, China
//! `.amazonaws.com.cn`, FIPS `dkr.ecr-fips`, dual-stack `ACCT.dkr-ecr.REGION.on.aws`). Anything else
//! (Docker Hub short names, `public.ecr.aws`, other registries) is [`Registry::Other`]: recorded as in
//! use, never managed.

use std::fmt;

use serde::Serialize;

use crate::digest::{Digest, DigestError};

/// The registry an image reference points into.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Registry {
    /// A private ECR registry: one per account and region.
    Ecr { account: String, region: String },
    /// Any other registry host (`docker.io` for Docker Hub short names).
    Other { host: String },
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ImageRef {
    pub registry: Registry,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why an image reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("image reference is empty")]
    Empty,
    #[error("image reference {0:?} contains white space")]
    WhiteSpace(String),
    #[error("image reference {reference:?} has an invalid digest: {source}")]
    Digest {
        reference: String,
        source: DigestError,
    },
    #[error(
        "image reference {reference:?} has an invalid tag {tag:?} (1-128 of A-Z a-z 0-9 _ . -, not starting with . or -)"
    )]
    Tag { reference: String, tag: String },
    #[error(
        "image reference {reference:?} has an invalid repository name {repository:?} (lowercase letters, digits, and . _ - / separators)"
    )]
    Repository {
        reference: String,
        repository: String,
    },
}

impl ImageRef {
    /// Parses an image reference in any form a container definition accepts.
    pub fn parse(input: &str) -> Result<ImageRef, ReferenceError> {
        if input.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if input.chars().any(char::is_whitespace) {
            return Err(ReferenceError::WhiteSpace(input.to_string()));
        }
        let (name_and_tag, digest) = match input.split_once('@') {
            Some((rest, d)) => {
                let digest = d.parse().map_err(|source| ReferenceError::Digest {
                    reference: input.to_string(),
                    source,
                })?;
                (rest, Some(digest))
            }
            None => (input, None),
        };

        // The first path component is a host when it looks like one (has '.', ':' or is localhost).
        let (host, path) = match name_and_tag.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), rest)
            }
            _ => (None, name_and_tag),
        };

        // A tag is whatever follows the last ':' of the path (the host may hold a port's ':').
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) => (repo, Some(tag)),
            None => (path, None),
        };
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(ReferenceError::Tag {
                reference: input.to_string(),
                tag: tag.to_string(),
            });
        }
        if !valid_repository(repository) {
            return Err(ReferenceError::Repository {
                reference: input.to_string(),
                repository: repository.to_string(),
            });
        }

        let (registry, repository) = registry_and_repository(host, repository);
        // `repo` alone means `repo:latest` for every container runtime.
        let tag = match (tag, digest) {
            (None, None) => Some("latest"),
            (tag, _) => tag,
        };
        Ok(ImageRef {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// For a reference that cannot be parsed: the registry and repository it seems to name, when
    /// its host and path can be told apart (`None` when not even that can be read).
    pub fn repository_hint(input: &str) -> Option<(Registry, String)> {
        let name = input.trim().split('@').next()?;
        let (host, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), rest)
            }
            _ => (None, name),
        };
        let repository = path.split(':').next()?.trim();
        if repository.is_empty() || host.is_some_and(|h| h.contains(char::is_whitespace)) {
            return None;
        }
        Some(registry_and_repository(host, repository))
    }

    /// True when this reference points into a private ECR registry.
    pub fn is_ecr(&self) -> bool {
        matches!(self.registry, Registry::Ecr { .. })
    }

    /// True when it points into the ECR registry of `account` in `region`.
    pub fn is_in_registry(&self, account: &str, region: &str) -> bool {
        matches!(&self.registry, Registry::Ecr { account: a, region: r } if a == account && r == region)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.registry {
            Registry::Ecr { account, region } => {
                write!(f, "{account}.dkr.ecr.{region}.amazonaws.com/")?
            }
            Registry::Other { host } => write!(f, "{host}/")?,
        }
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The registry a host names (no host: Docker Hub), and the repository's full name in it.
fn registry_and_repository(host: Option<&str>, repository: &str) -> (Registry, String) {
    let host = match host {
        None | Some("index.docker.io" | "registry-1.docker.io") => "docker.io",
        Some(h) => h,
    };
    match ecr_host(host) {
        Some((account, region)) => (
            Registry::Ecr {
                account: account.to_string(),
                region: region.to_string(),
            },
            repository.to_string(),
        ),
        None => (
            Registry::Other {
                host: host.to_string(),
            },
            docker_hub_path(host, repository),
        ),
    }
}

fn docker_hub_path(host: &str, repository: &str) -> String {
    if host == "docker.io" && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_string()
    }
}

/// Recognises ECR registry hosts and returns (account, region).
pub fn ecr_host(host: &str) -> Option<(&str, &str)> {
    let (account, rest) = host.split_once('.')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    const PREFIXES: [&str; 3] = ["dkr.ecr.", "dkr.ecr-fips.", "dkr-ecr."];
    const SUFFIXES: [&str; 7] = [
        ".amazonaws.com",
        ".amazonaws.com.cn",
        ".on.aws",
        ".c2s.ic.gov",
        ".sc2s.sgov.gov",
        ".cloud.adc-e.uk",
        ".csp.hci.ic.gov",
    ];
    let rest = PREFIXES.iter().find_map(|p| rest.strip_prefix(p))?;
    let region = SUFFIXES.iter().find_map(|s| rest.strip_suffix(s))?;
    let valid_region = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid_region.then_some((account, region))
}

fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Repository path: components of lowercase alphanumerics joined by `.`, `_`, `__`, or runs of `-`.
fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.len() <= 256
        && repo.split('/').all(|component| {
            let b = component.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
                })
                && !component.contains("..")
                && !component.contains("___")
        })
}
