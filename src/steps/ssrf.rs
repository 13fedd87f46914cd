//! The SSRF guard for `http_request`: which destination addresses a workflow may reach.
//! Checked after DNS resolution (in the HTTP client's resolver) and for IP literals, including
//! those in redirects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Marker in errors caused by a refusal, so callers can tell refusals from network failures.
pub const REFUSED: &str = "refused by the SSRF guard";

/// Whether `ip` may be reached: public addresses always, internal ones only when listed.
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) matches the allow list by its IPv4 form,
/// and is otherwise refused like every IPv6 address outside global unicast.
pub fn is_allowed(ip: IpAddr, allow: &[IpNet]) -> bool {
    let mapped = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    if allow
        .iter()
        .any(|net| net.contains(&ip) || mapped.is_some_and(|v4| net.contains(&v4)))
    {
        return true;
    }
    !is_internal(ip)
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

/// Every IPv4 range that is not the public internet (IANA special-purpose registry).
fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254.0.0/16, cloud metadata lives here
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || o[0] == 0 // "this network" 0.0.0.0/8
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64.0.0/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments 192.0.0.0/24
        || (o[0] == 192 && o[1] == 0 && o[2] == 2) // documentation TEST-NET-1
        || (o[0] == 198 && o[1] == 51 && o[2] == 100) // documentation TEST-NET-2
        || (o[0] == 203 && o[1] == 0 && o[2] == 113) // documentation TEST-NET-3
        || (o[0] == 192 && o[1] == 88 && o[2] == 99) // 6to4 relay anycast
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || o[0] >= 240 // reserved, and broadcast
}

/// IPv6 is public only inside global unicast (`2000::/3`), and not in the parts of it that
/// embed or reach IPv4 or are reserved. Everything outside it is refused, which covers
/// loopback, unspecified, IPv4-mapped (`::ffff:0:0/96`) and IPv4-compatible (`::/96`)
/// forms, NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), discard (`100::/64`), unique local
/// (`fc00::/7`), link-local (`fe80::/10`), site-local (`fec0::/10`) and multicast.
fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    !global_unicast
        || (s[0] == 0x2001 && s[1] == 0) // Teredo 2001::/32: tunnels to an IPv4 address
        || (s[0] == 0x2001 && s[1] == 0x2 && s[2] == 0) // benchmarking 2001:2::/48
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation 2001:db8::/32
        || s[0] == 0x2002 // 6to4 2002::/16: tunnels to an IPv4 address
        || (s[0] & 0xfff0) == 0x3ff0 // documentation 3fff::/20
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(s: &str) -> bool {
        is_allowed(s.parse().unwrap(), &[])
    }

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.1",
            "192.88.99.1",
            "240.0.0.1",
            "::1",
            "::",
            "::127.0.0.2",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::7f00:2",
            "2001:2::1",
            "2001:db8::1",
            "2002:7f00:2::",
            "3fff::1",
            "fe80::1",
            "fec0::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
        ] {
            assert!(!allowed(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "2a00:1450::1",
            "100.128.0.1",
        ] {
            assert!(allowed(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn the_allow_list_opens_internal_ranges() {
        let allow: Vec<IpNet> = vec!["127.0.0.0/8".parse().unwrap()];
        assert!(is_allowed("127.0.0.1".parse().unwrap(), &allow));
        assert!(!is_allowed("10.0.0.1".parse().unwrap(), &allow));
        // The IPv4-mapped form of an allowed address is allowed too.
        assert!(is_allowed("::ffff:127.0.0.1".parse().unwrap(), &allow));
    }
}
