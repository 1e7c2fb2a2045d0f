//! Who is calling, by address: the socket's peer, or — when the peer is a proxy this server
//! was told to trust (`--trusted-proxy`) — the client that proxy names in `X-Forwarded-For`.
//! The address feeds the per-address sign-in limit and the audit log, so a header is believed
//! only from a trusted peer: anyone else could send any address.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address (`127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(IpNet);

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical(ip))
    }
}

/// Parsed here rather than by `IpNet::from_str` for three things it does not do: a bare address
/// is a range of one, an IPv4 address written as IPv6 is taken as IPv4 (as [`canonical`] reads
/// peers), and the error tells which half of `10.0.0.0/33` is wrong.
impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = IpAddr::from_str(addr)
            .map(canonical)
            .map_err(|_| format!("`{s}` is not an IP address or range (e.g. 10.0.0.0/8)"))?;
        let Some(prefix) = prefix else {
            return Ok(Cidr(IpNet::from(addr)));
        };
        prefix
            .parse::<u8>()
            .ok()
            .and_then(|p| IpNet::new(addr, p).ok())
            .map(Cidr)
            .ok_or_else(|| {
                let max = IpNet::from(addr).max_prefix_len();
                format!("`{s}`: the prefix length must be 0 to {max}")
            })
    }
}

/// IPv4 addresses written as IPv6 (`::ffff:10.0.0.1`, as dual-stack sockets report them)
/// compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: `peer` itself unless it is trusted; then the rightmost address of
/// `forwarded_for` (the `X-Forwarded-For` values, in order) that is not a trusted proxy.
/// Each proxy appends the address it saw, so that is the first hop no trusted proxy vouches
/// for; entries left of it could have been written by the client.
pub fn client_ip(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return canonical(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| IpAddr::from_str(s).ok().map(canonical))
        .collect::<Option<Vec<_>>>()
        // A malformed header proves nothing: the proxy is the client we can name.
        .unwrap_or_default();
    hops.iter()
        .rev()
        .copied()
        .find(|ip| !is_trusted(*ip))
        .or_else(|| hops.first().copied())
        .unwrap_or_else(|| canonical(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn ranges_parse_and_match() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(c.contains(ip("::ffff:10.1.2.3")));
        assert!(!c.contains(ip("11.0.0.1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0/8", "::1/129", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_are_believed_only_from_trusted_peers() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        // Not trusted: the header is ignored, whatever it says.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
        // One trusted proxy: the address it saw.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
        // The client forged an entry; the rightmost untrusted hop is what the proxy saw.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["1.2.3.4, 198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
        // Two proxies, over two header lines.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["198.51.100.1", "10.0.0.7"], &trusted),
            ip("198.51.100.1")
        );
        // No header, or a malformed one: the proxy itself.
        assert_eq!(client_ip(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["unknown"], &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted: the socket address, always.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["198.51.100.1"], &[]),
            ip("10.0.0.2")
        );
    }
}
