//! App Runner services whose source is an ECR image. The API shows the image as configured, not
//! the digest deployed: with automatic deployment every push of the tag deploys it, so the tag's
//! image is what runs; without, an older digest may run, so nothing in that repository is deleted
//! (reported among its unscanned consumers).

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};

use ecr_warden_core::usage::{Consumer, Hold, Usage, Use};

use super::{Scope, UsageSource, keep_ok};
use crate::aws::apprunner::AppRunnerApi;

/// App Runner services' images.
pub struct AppRunnerServices;

impl UsageSource for AppRunnerServices {
    fn kind(&self) -> &'static str {
        "apprunner"
    }

    fn scan<'a>(&'a self, scope: &'a Scope<'a>) -> BoxFuture<'a, Usage> {
        scan(&scope.aws.apprunner, scope).boxed()
    }
}

/// Lists every service and reads each one's image source.
pub async fn scan<A: AppRunnerApi>(apprunner: &A, scope: &Scope<'_>) -> Usage {
    let mut usage = Usage::default();
    let limit = scope.limit;
    let Some(arns) = keep_ok(limit.call(apprunner.list_services()).await, &mut usage.gaps) else {
        return usage;
    };
    let described = join_all(arns.iter().map(|a| limit.call(apprunner.image_service(a)))).await;
    for service in described
        .into_iter()
        .filter_map(|r| keep_ok(r, &mut usage.gaps))
        .flatten()
    {
        if !service.auto_deploy {
            usage.holds.push(Hold {
                image: service.image.clone(),
                by: format!(
                    "App Runner service {} (automatic deployment is off, so the digest it runs is not visible)",
                    service.name
                ),
            });
        }
        usage.uses.push(Use {
            consumer: Consumer::AppRunner {
                service: service.name,
            },
            image: service.image,
            pinned_digest: None,
        });
    }
    usage
}
