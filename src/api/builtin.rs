//! Profiles shipped inside the binary, written in the same YAML format a vendor uses.

/// (name, YAML source) of every built-in profile.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "adobe-hygiene",
        include_str!("../../profiles/adobe-hygiene.yaml"),
    ),
    ("didomi", include_str!("../../profiles/didomi.yaml")),
];

/// The YAML source of a built-in profile.
pub fn source(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Names of all built-in profiles.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}
