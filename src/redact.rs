//! Secret redaction for every output: terminal, reports, logs, history.
//!
//! Secrets are registered once, when a scenario is loaded (credential header values and
//! every value substituted from the environment into them); every writer passes its text
//! through [`redact`]. A process-wide registry keeps one path for all writers.

use std::borrow::Cow;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Header names whose values are always secrets.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n == "cookie"
        || n.contains("api-key")
        || n.contains("apikey")
        || n.contains("token")
        || n.contains("secret")
        || n.contains("password")
}

/// Registers a secret value so every later output masks it. Short values (under 4
/// characters) are not registered: masking them would shred ordinary text.
pub fn register(secret: &str) {
    let s = secret.trim();
    if s.len() < 4 {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|x| x == s) {
        all.push(s.to_string());
        // Longest first, so a secret containing another is masked whole.
        all.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
    // The bearer token alone, without its scheme, is the secret part too.
    if let Some(rest) = s
        .strip_prefix("Bearer ")
        .or_else(|| s.strip_prefix("bearer "))
    {
        drop(all);
        register(rest);
    }
}

/// Query parameters whose values are always secrets (matched without regard to case);
/// a scenario adds its own with `target.secret_params`.
pub const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "signature",
    "sig",
    "password",
    "secret",
    "client_secret",
];

/// Registers the secrets a URL carries: its userinfo (`http://user:SECRET@host`) and
/// the values of sensitive query parameters ([`SECRET_PARAMS`] and `extra`), both as
/// decoded and as written, so every writer masks them wherever the URL is shown.
/// Text that is not a URL registers nothing.
pub fn register_url(text: &str, extra: &[String]) {
    let Ok(url) = url::Url::parse(text.trim()) else {
        return;
    };
    if let Some(p) = url.password() {
        register(p);
        register(&decode(p));
    }
    if !url.username().is_empty() {
        register(url.username());
        register(&decode(url.username()));
    }
    let secret = |k: &str| {
        SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(k))
            || extra.iter().any(|p| p.eq_ignore_ascii_case(k))
    };
    if let Some(q) = url.query() {
        for pair in q.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if secret(&decode(k)) && !v.is_empty() {
                register(v);
                register(&decode(v));
            }
        }
    }
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Whether `value` is a registered secret (a tenant from a secret-named variable).
pub fn is_secret(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty()
        && SECRETS
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|s| s == v)
}

/// Masks every registered secret in `text`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let all = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for s in all.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// Masks a header value for display: sensitive headers are masked whole.
pub fn header_value(name: &str, value: &str) -> String {
    if is_sensitive_header(name) {
        match value.split_once(' ') {
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("bearer") => {
                format!("{scheme} {MASK}")
            }
            _ => MASK.to_string(),
        }
    } else {
        redact(value).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_everywhere_in_text() {
        register("Bearer tok-SECRET-123");
        let out = redact("curl -H 'Authorization: Bearer tok-SECRET-123' x; tok-SECRET-123");
        assert!(!out.contains("tok-SECRET-123"), "{out}");
        assert!(out.contains(MASK));
    }

    #[test]
    fn url_userinfo_and_secret_query_parameters_are_registered() {
        register_url(
            "http://user-u1:pa%40ss-SECRET-1@example.test/v1?api_key=k-SECRET-2&page=2&Sig=s-SECRET-3&mine=m-SECRET-4",
            &["mine".to_string()],
        );
        let out = redact("GET http://user-u1:pa%40ss-SECRET-1@example.test/v1?api_key=k-SECRET-2&page=2&Sig=s-SECRET-3&mine=m-SECRET-4 pa@ss-SECRET-1");
        for s in ["SECRET-1", "SECRET-2", "SECRET-3", "SECRET-4", "user-u1"] {
            assert!(!out.contains(s), "{s} in {out}");
        }
        assert!(out.contains("page=2"), "{out}");
        assert!(is_secret("k-SECRET-2"));
        assert!(!is_secret("page"));
    }

    #[test]
    fn sensitive_headers_are_masked_whole() {
        assert_eq!(header_value("x-api-key", "k-9999"), MASK);
        assert_eq!(
            header_value("Authorization", "Bearer abc.def"),
            "Bearer ***"
        );
        assert_eq!(header_value("x-gw-ims-org-id", "ORG1"), "ORG1");
    }
}
