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
    fn sensitive_headers_are_masked_whole() {
        assert_eq!(header_value("x-api-key", "k-9999"), MASK);
        assert_eq!(
            header_value("Authorization", "Bearer abc.def"),
            "Bearer ***"
        );
        assert_eq!(header_value("x-gw-ims-org-id", "ORG1"), "ORG1");
    }
}
