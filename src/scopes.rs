//! Scopes: every account × region whose usage is scanned, each with its own clients. This
//! account's clients use the standard credentials; another account's assume the scan role there,
//! through credentials that refresh themselves (a run can outlast a chained role session). A scope
//! that cannot be reached is a gap naming the account, the region and the reason.

use std::collections::BTreeSet;
use std::sync::Mutex;

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_types::region::Region;
use futures_util::future::join_all;

use ecr_warden_core::usage::{Blocks, Origin, ScanGap};

use crate::aws::{AwsError, Clients};

/// Which accounts to scan besides this one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Accounts {
    /// This account only.
    #[default]
    This,
    /// These accounts too.
    List(Vec<String>),
    /// Every ACTIVE account of the organization.
    Organization,
}

/// How to reach the other accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSettings {
    pub accounts: Accounts,
    /// Regions to scan in every account; this account's repositories are managed in each.
    pub regions: Vec<String>,
    /// The role assumed in every other account.
    pub role_name: String,
    pub external_id: Option<String>,
}

impl Default for ScopeSettings {
    fn default() -> Self {
        ScopeSettings {
            accounts: Accounts::This,
            regions: Vec::new(),
            role_name: "ecr-warden-scan".into(),
            external_id: None,
        }
    }
}

/// One account and region, with its clients.
#[derive(Clone)]
pub struct Scope {
    pub origin: Origin,
    pub clients: Clients,
}

/// Everything a run scans and manages.
pub struct Scopes {
    /// This account's id.
    pub account: String,
    /// Where usage is scanned.
    pub scanned: Vec<Scope>,
    /// This account's scopes (one per region): where images are managed.
    pub home: Vec<Scope>,
    /// Scopes that could not be reached, as gaps.
    pub unreachable: Vec<ScanGap>,
    /// The organization, when every ACTIVE account of it is scanned.
    pub organization: Option<String>,
}

impl Scopes {
    /// This account in one region only (tests, and a run without ACCOUNTS or REGIONS).
    pub fn single(account: &str, region: &str, clients: Clients) -> Scopes {
        let scope = Scope {
            origin: Origin {
                account: account.to_string(),
                region: region.to_string(),
            },
            clients,
        };
        Scopes {
            account: account.to_string(),
            scanned: vec![scope.clone()],
            home: vec![scope],
            unreachable: Vec::new(),
            organization: None,
        }
    }

    /// The scope of an account and region, when it is scanned.
    pub fn find(&self, account: &str, region: &str) -> Option<&Scope> {
        (self.scanned.iter()).find(|s| s.origin.account == account && s.origin.region == region)
    }

    /// This account's scope in a region, when its registry there is managed.
    pub fn home_in(&self, region: &str) -> Option<&Scope> {
        self.home.iter().find(|s| s.origin.region == region)
    }

    /// True when more than one scope is scanned: consumers are then named with their origin.
    pub fn several(&self) -> bool {
        self.scanned.len() + self.unreachable.len() > 1
    }
}

/// The partition of a region's ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// Builds every scope: this account in every region, and every other account in every region
/// through the scan role.
pub async fn connect(base: &SdkConfig, settings: &ScopeSettings) -> Result<Scopes, AwsError> {
    let account = crate::aws::identity::caller_account(base).await?;
    let regions = regions(base, settings);
    let home: Vec<Scope> = regions
        .iter()
        .map(|r| Scope {
            origin: Origin {
                account: account.clone(),
                region: r.clone(),
            },
            clients: Clients::new(&in_region(base, r)),
        })
        .collect();
    let mut scopes = Scopes {
        account: account.clone(),
        scanned: home.clone(),
        home,
        unreachable: Vec::new(),
        organization: None,
    };
    let (others, organization, gap) = other_accounts(base, settings, &account).await;
    scopes.organization = organization;
    scopes.unreachable.extend(gap);
    let pairs: Vec<(&String, &String)> = others
        .iter()
        .flat_map(|a| regions.iter().map(move |r| (a, r)))
        .collect();
    let assumed = join_all(pairs.iter().map(|(a, r)| assume(base, settings, a, r))).await;
    for result in assumed {
        match result {
            Ok(scope) => scopes.scanned.push(scope),
            Err(gap) => scopes.unreachable.push(gap),
        }
    }
    Ok(scopes)
}

/// `REGIONS`, or the configured region alone.
fn regions(base: &SdkConfig, settings: &ScopeSettings) -> Vec<String> {
    if settings.regions.is_empty() {
        vec![base.region().map(|r| r.to_string()).unwrap_or_default()]
    } else {
        settings.regions.clone()
    }
}

/// The other accounts to scan: those `ACCOUNTS` lists, or the organization's ACTIVE ones (with
/// the organization's id), never this one; a refused organization listing is a gap.
async fn other_accounts(
    base: &SdkConfig,
    settings: &ScopeSettings,
    account: &str,
) -> (BTreeSet<String>, Option<String>, Option<ScanGap>) {
    let (others, organization, gap) = match &settings.accounts {
        Accounts::This => (Vec::new(), None, None),
        Accounts::List(list) => (list.clone(), None, None),
        Accounts::Organization => {
            // One endpoint per partition, which the SDK resolves from any region of it.
            let client = aws_sdk_organizations::Client::new(base);
            match organization_accounts(&client).await {
                Ok((org, list)) => (list, Some(org), None),
                Err(gap) => (Vec::new(), None, Some(gap)),
            }
        }
    };
    let others = others.into_iter().filter(|a| a != account).collect();
    (others, organization, gap)
}

/// Every account-region a run covers, without reaching into them (the fan-out's list): this
/// account and the others, each in every region.
pub async fn list(base: &SdkConfig, settings: &ScopeSettings) -> Result<ScopeList, AwsError> {
    let account = crate::aws::identity::caller_account(base).await?;
    let regions = regions(base, settings);
    let (others, organization, gap) = other_accounts(base, settings, &account).await;
    if let Some(gap) = gap {
        return Err(AwsError::invalid(
            "organizations:ListAccounts",
            "organization",
            gap.error,
        ));
    }
    let scopes = std::iter::once(&account)
        .chain(&others)
        .flat_map(|a| {
            regions.iter().map(move |r| Origin {
                account: a.clone(),
                region: r.clone(),
            })
        })
        .collect();
    Ok(ScopeList {
        scopes,
        organization,
    })
}

/// The account-regions of a run, and the organization when every account of it is included.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeList {
    pub scopes: Vec<Origin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

/// The base configuration in another region.
fn in_region(base: &SdkConfig, region: &str) -> SdkConfig {
    base.to_builder()
        .region(Region::new(region.to_string()))
        .build()
}

/// Another account's scope, through its scan role; the role is assumed once now, so a refusal is
/// one gap rather than a failure of every call.
async fn assume(
    base: &SdkConfig,
    settings: &ScopeSettings,
    account: &str,
    region: &str,
) -> Result<Scope, ScanGap> {
    let role = format!(
        "arn:{}:iam::{account}:role/{}",
        partition(region),
        settings.role_name
    );
    let mut builder = AssumeRoleProvider::builder(&role)
        .session_name("ecr-warden")
        .region(Region::new(region.to_string()));
    if let Some(id) = &settings.external_id {
        builder = builder.external_id(id);
    }
    let provider = builder.configure(&in_region(base, region)).build().await;
    let first = match provider.provide_credentials().await {
        Ok(credentials) => credentials,
        Err(e) => return Err(ScanGap::new(
            "sts:AssumeRole",
            format!("account {account} {region} (role {role})"),
            format!(
                "{}: deploy the scan role there (infra/scan-role.yaml) trusting this function's role",
                crate::aws::error_chain(&e)
            ),
        )
        .blocking(Blocks::Account {
            account: account.to_string(),
        })),
    };
    let primed = Primed {
        first: Mutex::new(Some(first)),
        provider,
    };
    let config = in_region(base, region)
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(primed))
        .build();
    Ok(Scope {
        origin: Origin {
            account: account.to_string(),
            region: region.to_string(),
        },
        clients: Clients::new(&config),
    })
}

/// The scan role's credentials: first the ones assumed to check the role, then fresh ones from the
/// provider whenever the SDK's cache finds them expiring.
#[derive(Debug)]
struct Primed {
    first: Mutex<Option<Credentials>>,
    provider: AssumeRoleProvider,
}

impl ProvideCredentials for Primed {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match self.first.lock().expect("not poisoned").take() {
            Some(credentials) => future::ProvideCredentials::ready(Ok(credentials)),
            None => self.provider.provide_credentials(),
        }
    }
}

/// The organization's id and its ACTIVE accounts. Only the management account or a delegated
/// administrator may list them.
pub async fn organization_accounts(
    client: &aws_sdk_organizations::Client,
) -> Result<(String, Vec<String>), ScanGap> {
    let pages: Vec<_> = client
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            let e = AwsError::from_sdk("organizations:ListAccounts", "organization", e);
            let mut gap = ScanGap::from(e.clone());
            if e.code.as_deref() == Some("AccessDeniedException") {
                gap.error = format!(
                    "{}: ACCOUNTS=organization needs the organization's management account or a \
                     delegated administrator; run there, or list the accounts in ACCOUNTS",
                    e.message
                );
            }
            gap
        })?;
    let accounts: Vec<_> = pages.iter().flat_map(|p| p.accounts()).collect();
    let organization = accounts
        .iter()
        .filter_map(|a| a.arn()?.split('/').nth(1).map(str::to_string))
        .next()
        .unwrap_or_default();
    let active = accounts
        .iter()
        .filter(|a| match a.state() {
            Some(state) => state.as_str() == "ACTIVE",
            // Only an answer without State (an emulator) falls back to the retired Status.
            None => a.status().is_some_and(|s| s.as_str() == "ACTIVE"),
        })
        .filter_map(|a| a.id().map(str::to_string))
        .collect();
    Ok((organization, active))
}
