//! Where `--metrics-listen` may serve: an IP address and port, loopback unless said.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A checked `--metrics-listen` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// Where to bind (port 0: any free port, printed when serving).
    pub addr: SocketAddr,
    /// Said on stderr when serving: the address is reachable from other machines.
    pub warning: Option<String>,
}

/// Parses `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`.
///
/// A loopback address serves this machine only. Another IP (`0.0.0.0:9464` for a pod
/// that Prometheus scrapes) is taken because it was typed as an IP, with a warning: the
/// metrics name the run's operations and phases. A host name is refused, since it may
/// resolve to an interface nobody meant to expose.
pub fn parse(text: &str) -> Result<Listen, String> {
    let t = text.trim();
    let example = "expected IP:PORT like 127.0.0.1:9464 (this machine only) or 0.0.0.0:9464 (every interface)";
    let addr = match t.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => match t.rsplit_once(':') {
            Some((host, port)) if host.eq_ignore_ascii_case("localhost") => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("{text:?}: the port {port:?} is not a number from 0 to 65535; {example}"))?;
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
            }
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() && host.parse::<IpAddr>().is_err() => {
                return Err(format!(
                    "{text:?}: give an IP address, not the host name {host:?} (a name may resolve to an interface you did not mean to expose); {example}"
                ))
            }
            _ => return Err(format!("{text:?}: {example}")),
        },
    };
    let warning = (!addr.ip().is_loopback()).then(|| {
        format!(
            "warning: --metrics-listen {addr} is not loopback: other machines can read this run's metrics (operation and phase names, rates, latencies) while it lasts"
        )
    });
    Ok(Listen { addr, warning })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_quiet_and_localhost_means_127_0_0_1() {
        for (text, want) in [
            ("127.0.0.1:9464", "127.0.0.1:9464"),
            ("[::1]:9464", "[::1]:9464"),
            ("localhost:0", "127.0.0.1:0"),
            (" 127.0.0.2:80 ", "127.0.0.2:80"),
        ] {
            let l = parse(text).unwrap();
            assert_eq!(l.addr.to_string(), want);
            assert_eq!(l.warning, None, "{text}");
        }
    }

    #[test]
    fn another_ip_is_taken_with_a_warning() {
        for text in ["0.0.0.0:9464", "10.1.2.3:9464", "[::]:9464"] {
            let l = parse(text).unwrap();
            assert!(l.warning.unwrap().contains("not loopback"), "{text}");
        }
    }

    #[test]
    fn names_and_malformed_addresses_are_refused_with_the_form_expected() {
        let e = parse("metrics.example:9464").unwrap_err();
        assert!(e.contains("not the host name \"metrics.example\""), "{e}");
        for bad in ["9464", "127.0.0.1", "localhost:http", "127.0.0.1:99999", ""] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("expected IP:PORT"), "{bad}: {e}");
        }
    }
}
