//! Limits on a scan's AWS calls: how many are in flight at once, and how fast ECS is called. ECS
//! refills its describe and list token buckets at about 20 per second per account and region,
//! shared with deployments and every other tool; a scan that stays at or under that rate leaves
//! them their share and is not throttled.

use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

/// Bounds the AWS calls of one scan.
pub struct Limiter {
    in_flight: Semaphore,
    ecs: Option<DefaultDirectRateLimiter>,
}

impl Limiter {
    /// At most `concurrency` calls in flight, with no rate limit.
    pub fn new(concurrency: usize) -> Self {
        Limiter {
            in_flight: Semaphore::new(concurrency.max(1)),
            ecs: None,
        }
    }

    /// At most `concurrency` calls in flight, and ECS calls at `per_second` (0: unlimited) with a
    /// burst of one second's worth.
    pub fn with_ecs_rate(concurrency: usize, per_second: f64) -> Self {
        Limiter {
            ecs: rate_limiter(per_second),
            ..Limiter::new(concurrency)
        }
    }

    /// Runs an AWS call once a place in flight is free.
    pub async fn call<T>(&self, f: impl Future<Output = T>) -> T {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        f.await
    }

    /// Runs an ECS call: waits for the ECS rate, then for a place in flight.
    pub async fn ecs<T>(&self, f: impl Future<Output = T>) -> T {
        if let Some(rate) = &self.ecs {
            rate.until_ready().await;
        }
        self.call(f).await
    }
}

fn rate_limiter(per_second: f64) -> Option<DefaultDirectRateLimiter> {
    if per_second <= 0.0 {
        return None;
    }
    let burst = NonZeroU32::new(per_second.max(1.0) as u32)?;
    let quota = Quota::with_period(Duration::from_secs_f64(1.0 / per_second))?.allow_burst(burst);
    Some(RateLimiter::direct(quota))
}
