//! Which proxy, if any, a target is reached through: `--proxy URL`, `--no-proxy`, the
//! scenario's `target.proxy`, else the environment as curl reads it — `http_proxy` for
//! `http://` targets, `https_proxy` for `https://`, `all_proxy` for both (each also
//! upper-case; lower-case wins), `no_proxy` naming the hosts that go direct. The same
//! rule for both schemes: one function decides, once per target (a target is one host).
//!
//! Loopback is not special: like curl, wget, reqwest and Python's requests, a target on
//! 127.0.0.1 or localhost goes through the proxy unless `NO_PROXY` names it. The bundled
//! fake is the exception: it runs inside this process, so it is never proxied.

use std::net::IpAddr;

/// How the proxy is chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// From the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).
    #[default]
    FromEnv,
    /// Never (`--no-proxy`, `target.proxy: none`).
    Off,
    /// Always this proxy (`--proxy URL`, `target.proxy: URL`), whatever the environment.
    Url(String),
}

/// The proxy a target goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy's URL, credentials included (never shown: see [`Proxy::shown`]).
    pub url: url::Url,
    /// Where it came from (`--proxy`, `HTTPS_PROXY`…), for messages.
    pub from: String,
}

impl Proxy {
    /// The URL without its credentials, for reports and messages.
    pub fn shown(&self) -> String {
        shown(&self.url)
    }
}

/// A URL without userinfo, path or query: what a report may say about a proxy.
fn shown(u: &url::Url) -> String {
    let mut u = u.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.as_str().trim_end_matches('/').to_string()
}

/// A proxy as written, with `http://` in front when it names no scheme (as curl reads
/// `proxy:3128`).
pub fn with_scheme(text: &str) -> String {
    let t = text.trim();
    if t.contains("://") {
        t.to_string()
    } else {
        format!("http://{t}")
    }
}

/// Parses a proxy URL (`http://[user:password@]host:port`; a bare `host:port` means
/// `http://`), registering its credentials for redaction first so no message or report
/// can show them.
pub fn parse(text: &str, from: &str) -> Result<Proxy, String> {
    let t = text.trim();
    let full = with_scheme(t);
    crate::redact::register_url(&full, &[]);
    let url = url::Url::parse(&full).map_err(|e| {
        format!(
            "{from}: {:?} is not a proxy URL ({e}); expected http://HOST:PORT",
            crate::redact::redact(t)
        )
    })?;
    match url.scheme() {
        "http" | "https" => {}
        s => {
            return Err(format!(
                "{from}: {s}:// proxies are not supported; expected an http:// or https:// proxy (or go direct with --no-proxy)"
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{from}: the proxy URL names no host; expected http://HOST:PORT"
        ));
    }
    Ok(Proxy {
        url,
        from: from.to_string(),
    })
}

/// The proxy for `target` (a base URL), if any. `env` reads a variable (the process
/// environment in a run; a table in tests).
pub fn for_target(
    setting: &ProxySetting,
    target: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, String> {
    match setting {
        ProxySetting::Off => Ok(None),
        ProxySetting::Url(u) => parse(u, "--proxy or target.proxy").map(Some),
        ProxySetting::FromEnv => {
            let Ok(t) = url::Url::parse(target) else {
                return Ok(None);
            };
            let var = |name: &str| -> Option<(String, String)> {
                [name.to_ascii_lowercase(), name.to_string()]
                    .into_iter()
                    .find_map(|n| env(&n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
            };
            let scheme_var = if t.scheme() == "https" {
                "HTTPS_PROXY"
            } else {
                "HTTP_PROXY"
            };
            let Some((name, value)) = var(scheme_var).or_else(|| var("ALL_PROXY")) else {
                return Ok(None);
            };
            // Parsed (and its credentials registered) even when NO_PROXY bypasses it:
            // a bad variable is an error whatever the target.
            let proxy = parse(&value, &name)?;
            let bypass = var("NO_PROXY").is_some_and(|(_, list)| {
                no_proxy_matches(&list, t.host(), t.port_or_known_default())
            });
            Ok((!bypass).then_some(proxy))
        }
    }
}

/// Whether a `NO_PROXY` list names this host: `*` (everything); a domain, matching it
/// and its subdomains (`example.com`, `.example.com` and `*.example.com` all match
/// `api.example.com`); an IP address; a CIDR block (`10.0.0.0/8`, `::1/128`). An entry
/// may carry a port (`localhost:8080`), then only that port matches. Case does not matter.
pub fn no_proxy_matches(list: &str, host: Option<url::Host<&str>>, port: Option<u16>) -> bool {
    let Some(host) = host else {
        return false;
    };
    let ip: Option<IpAddr> = match host {
        url::Host::Ipv4(a) => Some(a.into()),
        url::Host::Ipv6(a) => Some(a.into()),
        url::Host::Domain(_) => None,
    };
    let name = match host {
        url::Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        _ => String::new(),
    };
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (entry, want_port) = split_port(entry);
            if want_port.is_some() && want_port != port {
                return false;
            }
            let entry = entry.trim_start_matches('[').trim_end_matches(']');
            if let Some(ip) = ip {
                return match entry.split_once('/') {
                    Some((net, bits)) => in_cidr(ip, net, bits),
                    None => entry.parse::<IpAddr>().is_ok_and(|e| e == ip),
                };
            }
            let e = entry
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            !e.is_empty() && (name == e || name.ends_with(&format!(".{e}")))
        })
}

/// `host:port` → (host, port); an IPv6 address without brackets has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((h, p)) = rest.split_once("]:") {
            return (h, p.parse().ok());
        }
        return (entry, None);
    }
    match entry.rsplit_once(':') {
        Some((h, p))
            if !h.contains(':') && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (h, p.parse().ok())
        }
        _ => (entry, None),
    }
}

fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn via(setting: &ProxySetting, target: &str, pairs: &[(&str, &str)]) -> Option<String> {
        for_target(setting, target, env(pairs))
            .unwrap()
            .map(|p| p.shown())
    }

    #[test]
    fn the_environment_is_read_the_same_way_for_both_schemes() {
        let e = [
            ("HTTP_PROXY", "http://plain:3128"),
            ("HTTPS_PROXY", "http://secure:3128"),
        ];
        let f = ProxySetting::FromEnv;
        assert_eq!(
            via(&f, "http://api.test", &e).as_deref(),
            Some("http://plain:3128")
        );
        assert_eq!(
            via(&f, "https://api.test", &e).as_deref(),
            Some("http://secure:3128")
        );
        // Lower case wins over upper case; ALL_PROXY covers a scheme with no variable.
        let e = [
            ("http_proxy", "http://lower:1"),
            ("HTTP_PROXY", "http://upper:1"),
            ("ALL_PROXY", "http://all:1"),
        ];
        assert_eq!(
            via(&f, "http://api.test", &e).as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            via(&f, "https://api.test", &e).as_deref(),
            Some("http://all:1")
        );
        // An empty variable is unset; a bare host:port is http://.
        let e = [("HTTPS_PROXY", ""), ("all_proxy", "corp:8080")];
        assert_eq!(
            via(&f, "https://api.test", &e).as_deref(),
            Some("http://corp:8080")
        );
        assert_eq!(via(&f, "https://api.test", &[]), None);
    }

    #[test]
    fn flags_override_the_environment() {
        let e = [("HTTP_PROXY", "http://env:1")];
        assert_eq!(via(&ProxySetting::Off, "http://api.test", &e), None);
        let u = ProxySetting::Url("http://flag:2".into());
        // Even a host NO_PROXY names: the flag is explicit.
        let e = [("HTTP_PROXY", "http://env:1"), ("NO_PROXY", "*")];
        assert_eq!(
            via(&u, "http://api.test", &e).as_deref(),
            Some("http://flag:2")
        );
    }

    #[test]
    fn no_proxy_bypasses_names_addresses_blocks_and_ports() {
        let e = |list: &'static str| {
            [
                ("HTTP_PROXY", "http://p:1"),
                ("HTTPS_PROXY", "http://p:1"),
                ("no_proxy", list),
            ]
        };
        let f = ProxySetting::FromEnv;
        for (list, target) in [
            ("*", "http://anything.test"),
            ("example.com", "http://api.example.com"),
            (".example.com", "https://example.com"),
            ("*.Example.COM", "http://a.b.example.com:81"),
            ("127.0.0.1", "http://127.0.0.1:9000"),
            ("localhost,127.0.0.0/8", "http://127.3.4.5"),
            ("::1", "http://[::1]:80"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("localhost:8080", "http://localhost:8080"),
            ("10.0.0.0/8 ,  other", "https://10.9.8.7"),
        ] {
            assert_eq!(
                via(&f, target, &e(list)),
                None,
                "{list} should bypass {target}"
            );
        }
        for (list, target) in [
            ("example.com", "http://notexample.com"),
            ("127.0.0.1", "http://localhost"),
            ("localhost:8080", "http://localhost:8081"),
            ("10.0.0.0/8", "http://11.0.0.1"),
            ("", "http://127.0.0.1"),
        ] {
            assert!(
                via(&f, target, &e(list)).is_some(),
                "{list} should not bypass {target}"
            );
        }
    }

    #[test]
    fn bad_proxies_are_named_errors_and_credentials_are_masked() {
        let f = ProxySetting::FromEnv;
        let e = [("HTTP_PROXY", "socks5://h:1")];
        let msg = for_target(&f, "http://a.test", env(&e)).unwrap_err();
        assert!(
            msg.contains("HTTP_PROXY") && msg.contains("socks5"),
            "{msg}"
        );
        let p = parse(
            "http://proxyuser-77:pr0xy-SECRET-pw@127.0.0.1:3128",
            "--proxy",
        )
        .unwrap();
        assert_eq!(p.shown(), "http://127.0.0.1:3128");
        let out = crate::redact::redact("via http://proxyuser-77:pr0xy-SECRET-pw@127.0.0.1:3128");
        assert!(
            !out.contains("pr0xy-SECRET-pw") && !out.contains("proxyuser-77"),
            "{out}"
        );
    }
}
