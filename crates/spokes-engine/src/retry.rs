//! How Spokes waits between attempts of its own outbound calls (`backon` computes the waits).
//! Whether an error is worth another attempt is decided once, next to the error: HubSpot's in
//! `spokes_hubspot::http::ApiError::is_transient` (and `OAuthError::is_transient` built on it);
//! event deliveries retry every failure, since the partner's endpoint may be mid-deploy.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Attempts of one token refresh (the first and two retries).
pub const REFRESH_ATTEMPTS: usize = 3;
const REFRESH_FIRST_WAIT: Duration = Duration::from_millis(400);

/// The waits between the attempts of a token refresh: 400 ms, 800 ms, each plus up to 100 %
/// jitter.
pub fn refresh_backoff() -> ExponentialBuilder {
    refresh_waits().with_jitter()
}

fn refresh_waits() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(REFRESH_FIRST_WAIT)
        .with_factor(2.0)
        .with_max_times(REFRESH_ATTEMPTS - 1)
}

/// The longest `Retry-After` of the token endpoint that a refresh waits out in place; a longer
/// one ends the refresh as unavailable (the connection stays), and the next call tries again.
pub const MAX_TOKEN_RETRY_AFTER: Duration = Duration::from_secs(10);

/// How long the refresh lease must last: every attempt running into the HTTP timeout, the
/// longest waits between them (a token endpoint's `Retry-After` included), and room for the
/// database writes. Sized from the configured timeout so another process never takes over a
/// refresh that is still running.
pub fn refresh_lease(request_timeout: Duration) -> Duration {
    let waits: Duration = refresh_waits()
        .build()
        // Jitter adds at most the wait itself.
        .map(|wait| wait * 2)
        .sum();
    let retry_afters = MAX_TOKEN_RETRY_AFTER * (REFRESH_ATTEMPTS as u32 - 1);
    request_timeout * REFRESH_ATTEMPTS as u32 + waits.max(retry_afters) + Duration::from_secs(15)
}

/// Deliveries of one event before Spokes gives up on it.
pub const EVENT_ATTEMPTS: i64 = 12;

/// The wait after the `failed`-th failed delivery of an event (1-based): 5 s doubling up to one
/// hour, plus up to 100 % jitter, about four hours over all attempts; `None` to give up.
pub fn event_retry_wait(failed: i64) -> Option<Duration> {
    if !(1..EVENT_ATTEMPTS).contains(&failed) {
        return None;
    }
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(5))
        .with_max_delay(Duration::from_secs(3600))
        .with_factor(2.0)
        .with_max_times(EVENT_ATTEMPTS as usize)
        .with_jitter()
        .build()
        .nth(failed as usize - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_outlasts_the_worst_refresh() {
        let timeout = Duration::from_secs(30);
        // Every attempt timing out, with the token endpoint's longest Retry-After between.
        let worst = timeout * 3 + MAX_TOKEN_RETRY_AFTER * 2;
        assert!(refresh_lease(timeout) > worst);
        assert!(
            refresh_lease(Duration::from_secs(1))
                > Duration::from_secs(3) + MAX_TOKEN_RETRY_AFTER * 2
        );
        assert!(refresh_lease(Duration::from_secs(1)) < Duration::from_secs(60));
    }

    #[test]
    fn event_waits_grow_are_capped_and_end() {
        let first = event_retry_wait(1).unwrap();
        assert!(first >= Duration::from_secs(5) && first <= Duration::from_secs(10));
        let second = event_retry_wait(2).unwrap();
        assert!(second >= Duration::from_secs(10) && second <= Duration::from_secs(20));
        assert!(event_retry_wait(11).unwrap() <= Duration::from_secs(7200));
        assert_eq!(event_retry_wait(12), None);
        let total: Duration = (1..EVENT_ATTEMPTS).filter_map(event_retry_wait).sum();
        assert!(total > Duration::from_secs(2 * 3600) && total < Duration::from_secs(5 * 3600));
    }
}
