//! Which accounts and regions are scanned: `ACCOUNTS` (12-digit ids, or `organization`), `REGIONS`,
//! and the role assumed in the other accounts (`SCAN_ROLE_NAME`, `SCAN_ROLE_EXTERNAL_ID`).

use super::ConfigError;
use super::vars::Vars;
use crate::scopes::{Accounts, ScopeSettings};

pub(super) fn scope_settings(vars: &Vars) -> Result<ScopeSettings, ConfigError> {
    let invalid = |variable, value: &str, problem| ConfigError::Invalid {
        variable,
        value: value.to_string(),
        problem,
    };
    let listed = vars.list("ACCOUNTS");
    let accounts = match listed.as_slice() {
        [] => Accounts::This,
        [one] if one.eq_ignore_ascii_case("organization") => Accounts::Organization,
        list => {
            if let Some(bad) = list
                .iter()
                .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(invalid(
                    "ACCOUNTS",
                    bad,
                    "is not a 12-digit account id; list account ids, or set `organization` alone",
                ));
            }
            Accounts::List(list.to_vec())
        }
    };
    let regions = vars.list("REGIONS");
    if let Some(bad) = regions.iter().find(|r| !is_region(r)) {
        return Err(invalid(
            "REGIONS",
            bad,
            "is not a region name such as us-east-1",
        ));
    }
    let role_name = vars
        .get("SCAN_ROLE_NAME")
        .unwrap_or_else(|| "ecr-warden-scan".into());
    let role_ok = role_name.len() <= 64
        && role_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if !role_ok {
        return Err(invalid(
            "SCAN_ROLE_NAME",
            &role_name,
            "is not an IAM role name (1-64 of A-Z a-z 0-9 + = , . @ _ -)",
        ));
    }
    let external_id = vars.get("SCAN_ROLE_EXTERNAL_ID");
    if let Some(id) = &external_id {
        let ok = (2..=1224).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/_-".contains(&b));
        if !ok {
            return Err(invalid(
                "SCAN_ROLE_EXTERNAL_ID",
                id,
                "must be 2-1224 of A-Z a-z 0-9 + = , . @ : / _ -",
            ));
        }
    }
    Ok(ScopeSettings {
        accounts,
        regions,
        role_name,
        external_id,
    })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}
