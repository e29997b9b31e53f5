//! Limits on a scan's AWS calls: how many are in flight at once, and how fast ECS is called. ECS
//! throttles each account and region with one token bucket per category of call, each with its
//! own burst, refilled at about 20 per second and shared with deployments and every other tool; a
//! scan that draws from each bucket at or under that rate is not throttled.

use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::aws::AwsError;

/// ECS's throttling categories (one token bucket each per account and region), with the calls the
/// scan makes in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcsBucket {
    /// ListClusters.
    ClusterRead,
    /// DescribeTaskDefinition, ListTaskDefinitions.
    TaskDefinitionRead,
    /// DescribeTasks, ListTasks.
    ClusterResourceRead,
    /// DescribeServices, ListServices.
    ServiceRead,
    /// DescribeServiceRevisions.
    ServiceRevisionRead,
}

impl EcsBucket {
    pub const ALL: [EcsBucket; 5] = [
        EcsBucket::ClusterRead,
        EcsBucket::TaskDefinitionRead,
        EcsBucket::ClusterResourceRead,
        EcsBucket::ServiceRead,
        EcsBucket::ServiceRevisionRead,
    ];

    /// The bucket's documented burst: calls that may be made at once after a quiet spell.
    pub fn burst(self) -> u32 {
        match self {
            EcsBucket::ClusterResourceRead | EcsBucket::ServiceRead => 100,
            _ => 50,
        }
    }
}

/// A page of a list call, and the token of the next one.
pub type Page<T> = (Vec<T>, Option<String>);

/// Bounds the AWS calls of one scan (one account and region).
pub struct Limiter {
    in_flight: Semaphore,
    /// One rate per [`EcsBucket`], in the order of [`EcsBucket::ALL`]; none means no limit.
    ecs: Option<Vec<DefaultDirectRateLimiter>>,
    /// One queue per bucket: callers wait for a token one at a time, in order, rather than
    /// thousands of waiting calls all waking for every token.
    queues: Vec<tokio::sync::Mutex<()>>,
}

impl Limiter {
    /// At most `concurrency` calls in flight, with no rate limit.
    pub fn new(concurrency: usize) -> Self {
        Limiter {
            in_flight: Semaphore::new(concurrency.max(1)),
            ecs: None,
            queues: EcsBucket::ALL
                .iter()
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// At most `concurrency` calls in flight, and each ECS bucket drawn at `per_second` (0: no
    /// limit) after its documented burst.
    pub fn with_ecs_rate(concurrency: usize, per_second: f64) -> Self {
        let rates: Option<Vec<_>> = EcsBucket::ALL
            .iter()
            .map(|b| rate_limiter(per_second, b.burst()))
            .collect();
        Limiter {
            ecs: rates,
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

    /// Runs an ECS call: waits for a token of its bucket, then for a place in flight.
    pub async fn ecs<T>(&self, bucket: EcsBucket, f: impl Future<Output = T>) -> T {
        if let Some(rates) = &self.ecs {
            let index = EcsBucket::ALL.iter().position(|b| *b == bucket);
            let index = index.expect("every bucket has a rate");
            let _turn = self.queues[index].lock().await;
            rates[index].until_ready().await;
        }
        self.call(f).await
    }

    /// Follows an ECS list call to its last page, each page paced in `bucket`.
    pub async fn ecs_pages<T, F, Fut>(
        &self,
        bucket: EcsBucket,
        call: &'static str,
        mut page: F,
    ) -> Result<Vec<T>, AwsError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<Page<T>, AwsError>>,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (mut got, next) = self.ecs(bucket, page(token.clone())).await?;
            items.append(&mut got);
            match next {
                None => return Ok(items),
                // A token that repeats would page forever; what was listed is not all there is.
                Some(next) if Some(&next) == token.as_ref() => {
                    return Err(AwsError::invalid(
                        call,
                        "page token",
                        "the same page token came back twice",
                    ));
                }
                Some(next) => token = Some(next),
            }
        }
    }
}

fn rate_limiter(per_second: f64, burst: u32) -> Option<DefaultDirectRateLimiter> {
    if per_second <= 0.0 {
        return None;
    }
    let burst = NonZeroU32::new(burst.max(1))?;
    let quota = Quota::with_period(Duration::from_secs_f64(1.0 / per_second))?.allow_burst(burst);
    Some(RateLimiter::direct(quota))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ecs_bucket_allows_its_documented_burst_and_no_more() {
        let limiter = Limiter::with_ecs_rate(8, 20.0);
        let rates = limiter.ecs.as_ref().unwrap();
        for (bucket, rate) in EcsBucket::ALL.iter().zip(rates) {
            let allowed = (0..200).take_while(|_| rate.check().is_ok()).count() as u32;
            // A token may come back while the loop runs; never a whole second's worth.
            assert!(
                (bucket.burst()..bucket.burst() + 2).contains(&allowed),
                "{bucket:?}: {allowed}"
            );
        }
        assert_eq!(EcsBucket::ServiceRead.burst(), 100);
        assert_eq!(EcsBucket::TaskDefinitionRead.burst(), 50);
    }

    #[test]
    fn no_rate_means_no_ecs_limit() {
        assert!(Limiter::with_ecs_rate(8, 0.0).ecs.is_none());
    }

    #[tokio::test]
    async fn a_repeated_page_token_is_an_error_not_the_end_of_the_listing() {
        let limiter = Limiter::new(1);
        let pages = limiter
            .ecs_pages(EcsBucket::ClusterRead, "ecs:ListClusters", |_| async {
                Ok((vec![1], Some("again".to_string())))
            })
            .await;
        assert!(pages.unwrap_err().to_string().contains("same page token"));
        let mut served = 0;
        let all = limiter
            .ecs_pages(EcsBucket::ClusterRead, "ecs:ListClusters", |t| {
                served += 1;
                let next = match t.as_deref() {
                    None => Some("2".to_string()),
                    Some("2") => Some("3".to_string()),
                    _ => None,
                };
                async move { Ok((vec![served], next)) }
            })
            .await
            .unwrap();
        assert_eq!(all, [1, 2, 3]);
    }
}
