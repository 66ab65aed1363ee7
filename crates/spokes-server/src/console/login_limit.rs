//! Console login attempts per client address: 10 a minute, then 429 with `Retry-After`.
//!
//! Every attempt counts, successful or not, and it is counted *before* the credential is
//! looked at: a client over the limit learns nothing about its guesses. (Counting only failures
//! would need to know whether a guess was right before deciding to answer 429, which is the
//! oracle the limit exists to take away.) Ten a minute is far above what a person needs.
//!
//! The address is the TCP peer. Behind a reverse proxy that is the proxy, so every client
//! shares one budget; the limit then protects the keys but can lock people out together.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

const PER_MINUTE: NonZeroU32 = NonZeroU32::MIN.saturating_add(9);
/// Forget addresses whose budget is full again every this many attempts, so a flood from many
/// addresses cannot grow the table without bound.
const PURGE_EVERY: u64 = 1024;

pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    attempts: AtomicU64,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(PER_MINUTE)),
            attempts: AtomicU64::new(0),
        }
    }
}

impl LoginLimiter {
    /// Counts one attempt from `ip`; `Err(wait)` when it is over the limit.
    pub fn attempt(&self, ip: IpAddr) -> Result<(), Duration> {
        let result = self
            .limiter
            .check_key(&client_key(ip))
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()));
        if self.attempts.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        result
    }
}

/// One budget per IPv4 address and per IPv6 /64 (one host usually holds a whole /64, so
/// counting single IPv6 addresses would let it rotate through them).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_a_minute_per_address_then_a_wait() {
        let limiter = LoginLimiter::default();
        let one: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..10 {
            assert!(limiter.attempt(one).is_ok());
        }
        let wait = limiter.attempt(one).expect_err("the 11th is refused");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60));
        assert!(limiter.attempt("192.0.2.2".parse().expect("ip")).is_ok());
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8::1".parse().expect("ip");
        let b: IpAddr = "2001:db8::ffff:2".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(
            client_key(a),
            client_key("2001:db8:0:1::1".parse().expect("ip"))
        );
        assert_eq!(
            client_key("::ffff:192.0.2.1".parse().expect("ip")),
            "192.0.2.1".parse::<IpAddr>().expect("ip")
        );
    }
}
