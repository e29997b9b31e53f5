//! Each usage source against its own mocked service: every list call answered page by page, a
//! throttled call retried, and a failed call turned into a gap that names the resource.

use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use ecr_warden::cache::Cache;
use ecr_warden::limit::Limiter;
use ecr_warden::sources::{ScanSettings, Scope};
use ecr_warden_core::usage::{Consumer, Origin, Pinner, RevisionPin, Usage};

use crate::fleet::{NOW, page, quiet_clients, retry, throttle};
use crate::support::ECR;

mod apprunner;
mod batch;
mod documents;
mod eventbridge;
mod scheduler;

fn denied() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("AccessDeniedException")
        .message("not authorized")
        .build()
}

/// What a source needs besides its client: quiet clients for everything else, limits, settings.
struct Setup {
    aws: ecr_warden::aws::Clients,
    limit: Limiter,
    settings: ScanSettings,
    origin: Origin,
    cache: Cache,
}

impl Setup {
    fn new(settings: ScanSettings) -> Setup {
        Setup {
            aws: quiet_clients(),
            limit: Limiter::new(4),
            settings,
            origin: Origin {
                account: "123456789012".into(),
                region: "us-east-1".into(),
            },
            cache: Cache::off(),
        }
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            aws: &self.aws,
            origin: &self.origin,
            cache: &self.cache,
            limit: &self.limit,
            settings: &self.settings,
            now: NOW,
        }
    }
}
