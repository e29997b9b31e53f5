//! The organization's accounts: every page listed, only ACTIVE accounts kept, and a refusal that
//! says who may make the call.

use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
use aws_sdk_organizations::types::{Account, AccountState};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use ecr_warden::scopes::organization_accounts;

fn account(id: &str, state: AccountState) -> Account {
    Account::builder()
        .id(id)
        .arn(format!(
            "arn:aws:organizations::111111111111:account/o-abc123/{id}"
        ))
        .state(state)
        .build()
}

#[tokio::test]
async fn every_page_is_listed_and_only_active_accounts_are_kept() {
    let first = ListAccountsOutput::builder()
        .accounts(account("222222222222", AccountState::Active))
        .accounts(account("333333333333", AccountState::Suspended))
        .next_token("2")
        .build();
    let second = ListAccountsOutput::builder()
        .accounts(account("444444444444", AccountState::Active))
        .accounts(account("555555555555", AccountState::PendingClosure))
        .build();
    let pages = mock!(aws_sdk_organizations::Client::list_accounts)
        .sequence()
        .output(move || first.clone())
        .output(move || second.clone())
        .build();
    let client = mock_client!(aws_sdk_organizations, RuleMode::Sequential, [&pages]);

    let (organization, accounts) = organization_accounts(&client).await.unwrap();
    assert_eq!(organization, "o-abc123");
    assert_eq!(accounts, ["222222222222", "444444444444"]);
    assert_eq!(pages.num_calls(), 2);
}

#[tokio::test]
async fn a_refusal_says_who_may_list_the_accounts() {
    let denied = mock!(aws_sdk_organizations::Client::list_accounts).then_error(|| {
        aws_sdk_organizations::operation::list_accounts::ListAccountsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("You don't have permissions to access this resource.")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_organizations, [&denied]);

    let gap = organization_accounts(&client).await.unwrap_err();
    let text = gap.to_string();
    assert!(text.contains("organizations:ListAccounts"), "{text}");
    assert!(
        text.contains("management account or a delegated administrator"),
        "{text}"
    );
}
