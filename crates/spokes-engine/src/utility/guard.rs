//! The SSRF guard of the HTTP utility: which hosts a cycle may call, and which addresses it
//! may connect to.
//!
//! Names are resolved by [`GuardedResolver`], the HTTP client's own resolver: every address a
//! name resolves to is checked, and the connection is made to exactly the checked addresses,
//! so a name that resolves to a public address when checked and a private one when connecting
//! (DNS rebinding) gets nowhere. URLs with a literal IP skip the resolver and are checked by
//! [`Guard::check_addr`] before the request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The host or address a request may not reach, with why.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {addr}, a private, loopback or link-local address")]
pub(crate) struct PrivateAddress {
    pub host: String,
    pub addr: IpAddr,
}

pub(crate) struct Guard {
    /// Exact host names, or `.suffix` for `*.suffix`; empty: any host.
    allowed_hosts: Vec<String>,
    /// Host names allowed to resolve to private addresses.
    private_hosts: Vec<String>,
    /// Private networks allowed anyway.
    private_nets: Vec<IpNet>,
}

impl Guard {
    pub fn new(allowed_hosts: &[String], allow_private: &[String]) -> Self {
        let mut private_hosts = Vec::new();
        let mut private_nets = Vec::new();
        for entry in allow_private {
            let entry = entry.trim();
            if let Ok(net) = entry.parse::<IpNet>() {
                private_nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                private_nets.push(IpNet::from(ip));
            } else {
                private_hosts.push(normalize_host(entry));
            }
        }
        Self {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| normalize_host(h.trim().trim_start_matches('*')))
                .collect(),
            private_hosts,
            private_nets,
        }
    }

    /// Whether the allow-list admits `host` (a name, or an IP without brackets).
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.allowed_hosts.is_empty()
            || self.allowed_hosts.iter().any(|allowed| match allowed {
                // `*.example.com` is stored as `.example.com`: subdomains only.
                suffix if suffix.starts_with('.') => host.ends_with(suffix.as_str()),
                exact => *exact == host,
            })
    }

    /// Refuses an address that is not public, unless `allow_private` admits it (by network, or
    /// by the host name it was resolved from).
    pub fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), PrivateAddress> {
        let addr = addr.to_canonical();
        if !is_non_public(addr)
            || self.private_nets.iter().any(|net| net.contains(&addr))
            || self.private_hosts.contains(&normalize_host(host))
        {
            return Ok(());
        }
        Err(PrivateAddress {
            host: host.to_owned(),
            addr,
        })
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Loopback, private, link-local (cloud metadata 169.254.169.254 included), unspecified,
/// broadcast, multicast, CGNAT and reserved addresses, and IPv6 addresses that embed one
/// (IPv4-mapped, IPv4-compatible, NAT64).
pub(crate) fn is_non_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_non_public_v4(v4),
        IpAddr::V6(v6) => is_non_public_v6(v6),
    }
}

fn is_non_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        // 0.0.0.0/8 "this network", 100.64.0.0/10 CGNAT, 192.0.0.0/24 IETF, 240.0.0.0/4
        // reserved.
        || a == 0
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || a >= 240
}

fn is_non_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_non_public_v4(v4);
    }
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) embed an IPv4 address.
    let embedded = Ipv4Addr::new(
        (segments[6] >> 8) as u8,
        segments[6] as u8,
        (segments[7] >> 8) as u8,
        segments[7] as u8,
    );
    if segments[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return is_non_public_v4(embedded);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_non_public_v4(embedded);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated).
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
}

/// The HTTP client's resolver: resolves with the system resolver and answers the addresses
/// only when every one of them passes the guard.
pub(crate) struct GuardedResolver(pub Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: the client puts in the URL's port.
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                guard.check_addr(&host, addr.ip())?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_addresses() {
        for addr in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.0.170",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_non_public(ip(addr)), "{addr} should be refused");
        }
        for addr in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "2606:2800:220:1:248:1893:25c8:1946",
            "::ffff:93.184.216.34",
            "64:ff9b::808:808",
        ] {
            assert!(!is_non_public(ip(addr)), "{addr} should be allowed");
        }
    }

    #[test]
    fn allow_lists() {
        let guard = Guard::new(
            &[
                "api.example.com".to_owned(),
                "*.hooks.example.org".to_owned(),
            ],
            &[
                "127.0.0.1/32".to_owned(),
                "::1".to_owned(),
                "Internal.Example.".to_owned(),
            ],
        );
        assert!(guard.host_allowed("api.example.com"));
        assert!(guard.host_allowed("API.example.com."));
        assert!(guard.host_allowed("a.hooks.example.org"));
        assert!(!guard.host_allowed("hooks.example.org"));
        assert!(!guard.host_allowed("evilhooks.example.org"));
        assert!(!guard.host_allowed("example.com"));
        assert!(!guard.host_allowed("api.example.com.evil.net"));
        assert!(Guard::new(&[], &[]).host_allowed("anything.net"));

        assert!(guard.check_addr("x", ip("127.0.0.1")).is_ok());
        assert!(guard.check_addr("x", ip("::ffff:127.0.0.1")).is_ok());
        assert!(guard.check_addr("x", ip("::1")).is_ok());
        assert!(guard.check_addr("x", ip("127.0.0.2")).is_err());
        assert!(guard.check_addr("x", ip("10.1.1.1")).is_err());
        assert!(guard.check_addr("internal.example", ip("10.1.1.1")).is_ok());
        assert!(guard.check_addr("x", ip("93.184.216.34")).is_ok());
    }
}
