//! Loads a profile (built-in or file), checks it, and compiles its templates once.

use indexmap::IndexMap;
use std::path::{Path, PathBuf};

use super::builtin;
use super::profile::{IdSource, ListRead, OpKind, OutcomeRule, Profile, QuotaKind};
use super::template::{JsonTemplate, StrTemplate};
use crate::error::{ConfigError, Error};
use crate::yaml;

/// An operation ready to send: templates compiled, references resolved.
#[derive(Debug, Clone)]
pub struct CompiledOp {
    /// Profile operation name.
    pub name: String,
    /// Kind.
    pub kind: OpKind,
    /// HTTP method.
    pub method: reqwest::Method,
    /// Path (and query) template.
    pub path: StrTemplate,
    /// Headers (profile-wide and per operation).
    pub headers: Vec<(reqwest::header::HeaderName, StrTemplate)>,
    /// JSON body template.
    pub body: Option<JsonTemplate>,
    /// Raw body template.
    pub raw_body: Option<StrTemplate>,
    /// Quotas drawn on.
    pub touches: Vec<String>,
    /// Largest order accepted.
    pub max_amount: Option<u64>,
    /// Where a created id is.
    pub id: Option<IdSource>,
    /// Release: which consume operation's objects.
    pub releases: Option<String>,
    /// Consume: the setup operation whose object it moves.
    pub takes: Option<String>,
    /// Consume: the setup operation whose object it acts inside.
    pub uses: Option<String>,
    /// Delete: which setup or consume operation's objects.
    pub deletes: Option<String>,
    /// consume_invalid: why.
    pub reason: Option<String>,
    /// List: how to read.
    pub read: Option<ListRead>,
    /// List: the one quota a filtered list asks for.
    pub filter: Option<String>,
    /// Classification, first match wins.
    pub outcomes: Vec<OutcomeRule>,
    /// The profile's quota names (a list reads only these).
    pub quotas: Vec<String>,
    /// The declared window length of each windowed quota (checked against a length the
    /// service lists, `read.limits_from.window`).
    pub windows: Vec<(String, std::time::Duration)>,
    /// Largest answer body read, in bytes.
    pub max_body: usize,
    /// List or resources: how its pages are followed (none: one page).
    pub paging: Option<super::paging::Paging>,
}

/// The default body cap of a list or resources answer: big enough for a thousand
/// resources, small enough that an endless body stops early.
pub const LIST_BODY_CAP: usize = 1 << 20;
/// The default body cap of every other answer (ids and error messages).
pub const BODY_CAP: usize = 64 << 10;

/// A profile with every operation compiled.
#[derive(Debug, Clone)]
pub struct CompiledProfile {
    /// The declarations as written.
    pub profile: Profile,
    /// Where it came from (a path or `<builtin:NAME>`).
    pub source: PathBuf,
    /// Compiled operations by name, in declaration order.
    pub ops: IndexMap<String, CompiledOp>,
}

impl CompiledProfile {
    /// The first operation of a kind (in declaration order), if any.
    pub fn first_of(&self, kind: OpKind) -> Option<&CompiledOp> {
        self.ops.values().find(|o| o.kind == kind)
    }

    /// All operations of a kind.
    pub fn all_of(&self, kind: OpKind) -> Vec<&CompiledOp> {
        self.ops.values().filter(|o| o.kind == kind).collect()
    }
}

/// Loads a profile by built-in name or path (relative paths from `base_dir`).
pub fn load(name_or_path: &str, base_dir: &Path) -> Result<CompiledProfile, Error> {
    if let Some(text) = builtin::source(name_or_path) {
        let src = PathBuf::from(format!("<builtin:{name_or_path}>"));
        return compile_text(&src, text);
    }
    let path = base_dir.join(name_or_path);
    if !path.exists() {
        return Err(Error::Usage(format!(
            "profile {name_or_path:?}: neither a built-in profile ({}) nor a file at {}",
            builtin::names().join(", "),
            path.display()
        )));
    }
    let text = crate::yaml::read_file(&path)?;
    compile_text(&path, &text)
}

/// Parses, checks and compiles profile YAML.
pub fn compile_text(src: &Path, text: &str) -> Result<CompiledProfile, Error> {
    let profile: Profile = yaml::from_str(src, text)?;
    let mut errors: Vec<ConfigError> = Vec::new();
    let err = |path: String, msg: String| yaml::error_at(src, text, &path, msg);

    let quota_names: Vec<&str> = profile.quotas.iter().map(|q| q.name.as_str()).collect();
    for (i, q) in profile.quotas.iter().enumerate() {
        // The checker tells quotas apart by name and by a bit each (check::facts): a name
        // given twice would be judged as its first, a 65th quota not at all.
        if let Some(j) = crate::vocab::declared_before(&profile.quotas, i) {
            errors.push(err(
                format!("quotas[{i}].name"),
                format!(
                    "quota {:?} is declared twice (first as quotas[{j}]); give each quota its own name",
                    q.name
                ),
            ));
        }
        if i == crate::vocab::MAX_QUOTAS {
            errors.push(err(
                format!("quotas[{i}]"),
                format!(
                    "a profile declares at most {max} quotas, found {}; split the API into profiles of {max} or fewer",
                    quota_names.len(),
                    max = crate::vocab::MAX_QUOTAS
                ),
            ));
        }
        if q.kind == QuotaKind::Period && q.period.is_none() {
            errors.push(err(
                format!("quotas[{i}].period"),
                "a period quota needs `period: daily | monthly | fixed 2s | fixed 2s from first hit | sliding 1h`".into(),
            ));
        }
    }
    let mut global_headers = Vec::new();
    for (k, v) in &profile.headers {
        match compile_header(k, v) {
            Ok(h) => global_headers.push(h),
            Err(e) => errors.push(err(format!("headers.{k}"), e)),
        }
    }
    let mut ops = IndexMap::new();
    for (name, decl) in &profile.operations {
        let at = format!("operations.{name}");
        let method = match reqwest::Method::from_bytes(
            decl.request.method.to_ascii_uppercase().as_bytes(),
        ) {
            Ok(m) => m,
            Err(_) => {
                errors.push(err(
                    format!("{at}.request.method"),
                    format!(
                        "expected an HTTP method like GET or POST, found {:?}",
                        decl.request.method
                    ),
                ));
                continue;
            }
        };
        let path = match StrTemplate::compile(&decl.request.path) {
            Ok(p) => p,
            Err(e) => {
                errors.push(err(format!("{at}.request.path"), e));
                continue;
            }
        };
        if !decl.request.path.starts_with('/') {
            errors.push(err(
                format!("{at}.request.path"),
                format!(
                    "expected a path starting with /, found {:?}",
                    decl.request.path
                ),
            ));
        }
        let mut headers = global_headers.clone();
        for (k, v) in &decl.request.headers {
            match compile_header(k, v) {
                Ok(h) => {
                    headers.retain(|(n, _)| n != h.0);
                    headers.push(h)
                }
                Err(e) => errors.push(err(format!("{at}.request.headers.{k}"), e)),
            }
        }
        let body = match &decl.request.body {
            Some(b) => match JsonTemplate::compile(b) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(err(format!("{at}.request.body"), e));
                    None
                }
            },
            None => None,
        };
        let raw_body = match &decl.request.raw_body {
            Some(b) => match StrTemplate::compile(b) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(err(format!("{at}.request.raw_body"), e));
                    None
                }
            },
            None => None,
        };
        if body.is_some() && raw_body.is_some() {
            errors.push(err(
                format!("{at}.request"),
                "give `body` or `raw_body`, not both".into(),
            ));
        }
        if let Some(src) = &decl.id {
            if src.body.is_some() == src.header.is_some() {
                errors.push(err(
                    format!("{at}.id"),
                    "give exactly one of `body: /json/pointer` or `header: NAME`".into(),
                ));
            }
        }
        for (i, t) in decl.touches.iter().enumerate() {
            if !quota_names.contains(&t.as_str()) {
                errors.push(err(
                    format!("{at}.touches[{i}]"),
                    format!(
                        "unknown quota {t:?}; expected one of {}",
                        quota_names.join(", ")
                    ),
                ));
            }
        }
        if let Some(q) = &decl.filter {
            if decl.kind != OpKind::List {
                errors.push(err(
                    format!("{at}.filter"),
                    format!(
                        "only a list operation takes a filter; this one is {}",
                        decl.kind.as_str()
                    ),
                ));
            } else if !quota_names.contains(&q.as_str()) {
                errors.push(err(
                    format!("{at}.filter"),
                    format!(
                        "unknown quota {q:?}; expected one of {}",
                        quota_names.join(", ")
                    ),
                ));
            }
        }
        match decl.kind {
            OpKind::Consume if decl.touches.is_empty() => errors.push(err(
                format!("{at}.touches"),
                "a consume operation must name the quotas it draws on".into(),
            )),
            OpKind::Release => match &decl.releases {
                None => errors.push(err(
                    format!("{at}.releases"),
                    "a release operation must name the consume operation whose objects it ends"
                        .into(),
                )),
                Some(r) => match profile.operations.get(r) {
                    Some(c)
                        if c.kind == OpKind::Consume && (c.id.is_some() || c.takes.is_some()) => {}
                    Some(_) => errors.push(err(
                        format!("{at}.releases"),
                        format!("{r:?} must be a consume operation with an `id` source or a `takes`"),
                    )),
                    None => errors.push(err(
                        format!("{at}.releases"),
                        format!("unknown operation {r:?}"),
                    )),
                },
            },
            OpKind::Delete => match decl.deletes.as_ref().map(|d| profile.operations.get(d)) {
                None => errors.push(err(
                    format!("{at}.deletes"),
                    "a delete operation must name the operation whose objects it deletes".into(),
                )),
                Some(Some(c))
                    if matches!(c.kind, OpKind::Setup | OpKind::Consume)
                        && (c.id.is_some() || c.takes.is_some()) => {}
                Some(_) => errors.push(err(
                    format!("{at}.deletes"),
                    format!(
                        "{:?} must be a setup or consume operation with an `id` source",
                        decl.deletes.as_deref().unwrap_or_default()
                    ),
                )),
            },
            OpKind::List => match &decl.read {
                None => errors.push(err(format!("{at}.read"), "a list operation needs `read: {items, name, limit, consumed | remaining}` or `read: {limits, count}`".into())),
                Some(r) => {
                    let item_form = r.items.is_some();
                    if item_form {
                        if r.name.is_none() || (r.limit.is_none() && r.limits_from.is_none()) {
                            errors.push(err(format!("{at}.read"), "with `items`, give `name` and `limit` pointers too (or `limits_from` for limits listed by another operation)".into()));
                        }
                        if r.limit.is_some() && r.limits_from.is_some() {
                            errors.push(err(format!("{at}.read.limit"), "give `limit` (in the same item) or `limits_from` (another operation's answer), not both".into()));
                        }
                        if r.consumed.is_some() && r.remaining.is_some() {
                            errors.push(err(format!("{at}.read"), "give `consumed` or `remaining`, not both".into()));
                        }
                    }
                    if item_form == r.limits.is_some() {
                        errors.push(err(format!("{at}.read"), "give exactly one of `items` (an array of quota objects) or `limits` (an object of limits by quota name)".into()));
                    }
                    if let Some(j) = &r.limits_from {
                        match profile.operations.get(&j.from) {
                            Some(o) if o.kind == OpKind::Resources => {}
                            _ => errors.push(err(format!("{at}.read.limits_from.from"), format!("{:?} must name an operation of kind resources (the one that lists the limits)", j.from))),
                        }
                        if !item_form {
                            errors.push(err(format!("{at}.read.limits_from"), "`limits_from` joins limits to `items`: give `items`, `name` and `remaining` | `consumed` too".into()));
                        }
                    }
                    if r.absent.is_some() && r.limits_from.is_none() {
                        errors.push(err(format!("{at}.read.absent"), "a quota missing from the list has no limit to read: `absent: zero` needs `limits_from` (an operation that lists every limit)".into()));
                    }
                    if r.expires_in.is_some() && !item_form {
                        errors.push(err(format!("{at}.read.expires_in"), "`expires_in` points inside each of `items`: give `items` too".into()));
                    }
                    for (i, c) in r.count.iter().enumerate() {
                        if !quota_names.contains(&c.quota.as_str()) {
                            errors.push(err(format!("{at}.read.count[{i}].quota"), format!("unknown quota {:?}; expected one of {}", c.quota, quota_names.join(", "))));
                        }
                        match profile.operations.get(&c.from) {
                            Some(o) if o.kind == OpKind::Resources => {}
                            _ => errors.push(err(format!("{at}.read.count[{i}].from"), format!("{:?} must name an operation of kind resources", c.from))),
                        }
                    }
                }
            },
            _ => {}
        }
        for (field, target) in [("takes", &decl.takes), ("uses", &decl.uses)] {
            if let Some(t) = target {
                match profile.operations.get(t) {
                    Some(o) if o.kind == OpKind::Setup && o.id.is_some() => {}
                    _ => errors.push(err(
                        format!("{at}.{field}"),
                        format!("{t:?} must name a setup operation with an `id` source"),
                    )),
                }
            }
        }
        if let Some((field, msg)) = decl.clock_error() {
            errors.push(err(format!("{at}.{field}"), msg));
        }
        let paging = decl.paging.as_ref().and_then(|d| {
            check_paging(&profile, name, decl, d, &mut |f: String, m: String| {
                errors.push(err(format!("{at}.paging{f}"), m))
            })
        });
        if decl.kind == OpKind::Setup && decl.id.is_none() {
            errors.push(err(
                format!("{at}.id"),
                "a setup operation must say where the created object's id is".into(),
            ));
        }
        ops.insert(
            name.clone(),
            CompiledOp {
                name: name.clone(),
                kind: decl.kind,
                method,
                path,
                headers,
                body,
                raw_body,
                touches: decl.touches.clone(),
                max_amount: decl.max_amount,
                id: decl.id.clone(),
                releases: decl.releases.clone(),
                takes: decl.takes.clone(),
                uses: decl.uses.clone(),
                deletes: decl.deletes.clone(),
                reason: decl.reason.clone(),
                read: decl.read.clone(),
                filter: decl.filter.clone(),
                outcomes: decl
                    .outcomes
                    .clone()
                    .unwrap_or_else(|| profile.outcomes.clone()),
                quotas: quota_names.iter().map(|q| q.to_string()).collect(),
                windows: profile
                    .quotas
                    .iter()
                    .filter_map(|q| {
                        let len = q.period.as_ref()?.length()?;
                        Some((q.name.clone(), len.0))
                    })
                    .collect(),
                max_body: decl.max_body.unwrap_or(match decl.kind {
                    OpKind::List | OpKind::Resources => LIST_BODY_CAP,
                    _ => BODY_CAP,
                }),
                paging,
            },
        );
    }
    if !profile.operations.values().any(|o| o.kind == OpKind::List) {
        errors.push(err(
            "operations".into(),
            "a profile needs one operation of kind list".into(),
        ));
    }
    match errors.len() {
        0 => Ok(CompiledProfile {
            profile,
            source: src.to_path_buf(),
            ops,
        }),
        1 => Err(Error::Config(errors.remove(0))),
        _ => Err(Error::ConfigMany(errors)),
    }
}

/// Checks an operation's `paging:`: only lists of quota objects and resources page, and
/// the items of every page must be known (a list's `read.items`, or the one `items`
/// pointer of the counts reading this resources operation, unless `paging.items` says).
fn check_paging(
    profile: &Profile,
    name: &str,
    decl: &super::profile::OperationDecl,
    d: &super::paging::PagingDecl,
    report: &mut dyn FnMut(String, String),
) -> Option<super::paging::Paging> {
    let items: Option<String> = match decl.kind {
        OpKind::List => match decl.read.as_ref().and_then(|r| r.items.clone()) {
            Some(i) => Some(i),
            None => {
                report(String::new(), "only a list read with `items` (an array of quota objects) pages; a `limits` list is one object, its counts' resources operations page".into());
                return None;
            }
        },
        OpKind::Resources => {
            let mut seen: Vec<&str> = profile
                .operations
                .values()
                .filter_map(|o| o.read.as_ref())
                .flat_map(|r| &r.count)
                .filter(|c| c.from == name)
                .map(|c| c.items.as_str())
                .collect();
            seen.sort_unstable();
            seen.dedup();
            match seen.as_slice() {
                [] | [_] => seen.first().map(|s| s.to_string()),
                _ if d.items.is_some() => None,
                _ => {
                    report(".items".into(), format!("the counts reading {name} point at different arrays ({}): say which holds each page's items", seen.join(", ")));
                    return None;
                }
            }
        }
        k => {
            report(
                String::new(),
                format!(
                    "only list and resources operations page; this one is {}",
                    k.as_str()
                ),
            );
            return None;
        }
    };
    match super::paging::check(d, items.as_deref()) {
        Ok(p) => Some(p),
        Err(es) => {
            for (f, m) in es {
                report(format!(".{f}"), m);
            }
            None
        }
    }
}

fn compile_header(k: &str, v: &str) -> Result<(reqwest::header::HeaderName, StrTemplate), String> {
    let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
        .map_err(|_| format!("{k:?} is not a valid header name"))?;
    Ok((name, StrTemplate::compile(v)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::MAX_QUOTAS;

    /// The error a profile's text is refused with, as `p.yaml`.
    fn refused(text: &str) -> String {
        compile_text(Path::new("p.yaml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn builtin_profiles_compile() {
        for name in builtin::names() {
            let p = load(name, Path::new(".")).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(p.first_of(OpKind::List).is_some());
        }
    }

    #[test]
    fn a_quota_named_twice_and_a_65th_quota_are_refused_where_they_stand() {
        let list = "operations:\n  l:\n    kind: list\n    request: {method: GET, path: /l}\n    read: {items: /q, name: /n, limit: /l, consumed: /c}\noutcomes: []\n";
        let twice = format!("name: t\nquotas:\n  - {{name: q, kind: concurrent}}\n  - {{name: r, kind: concurrent}}\n  - {{name: q, kind: concurrent}}\n{list}");
        let e = refused(&twice);
        assert!(
            e.starts_with(
                "p.yaml:5:6: quotas[2].name: quota \"q\" is declared twice (first as quotas[0])"
            ),
            "{e}"
        );
        let with_quotas = |n: usize| {
            let quotas: String = (0..n)
                .map(|i| format!("  - {{name: q{i}, kind: concurrent}}\n"))
                .collect();
            format!("name: t\nquotas:\n{quotas}{list}")
        };
        let e = refused(&with_quotas(MAX_QUOTAS + 1));
        assert!(
            e.starts_with(
                "p.yaml:67:5: quotas[64]: a profile declares at most 64 quotas, found 65"
            ),
            "{e}"
        );
        compile_text(Path::new("p.yaml"), &with_quotas(MAX_QUOTAS)).unwrap();
    }

    #[test]
    fn a_consume_touching_an_undeclared_quota_is_located() {
        let text = "name: t\nquotas:\n  - {name: q, kind: concurrent}\noperations:\n  c:\n    kind: consume\n    touches: [nope]\n    request: {method: POST, path: /c}\n  l:\n    kind: list\n    request: {method: GET, path: /l}\n    read: {items: /q, name: /n, limit: /l, consumed: /c}\noutcomes: []\n";
        let e = refused(text);
        assert!(
            e.starts_with("p.yaml:7:15: operations.c.touches[0]: unknown quota \"nope\""),
            "{e}"
        );
    }

    #[test]
    fn a_filter_must_name_a_declared_quota_and_sit_on_a_list() {
        let base = "name: t\nquotas:\n  - {name: q, kind: concurrent}\noperations:\n  l:\n    kind: list\n    request: {method: GET, path: /l}\n    read: {items: /q, name: /n, limit: /l, consumed: /c}\n";
        let unknown = format!("{base}  f:\n    kind: list\n    filter: nope\n    request: {{method: GET, path: /l?t=nope}}\n    read: {{items: /q, name: /n, limit: /l, consumed: /c}}\noutcomes: []\n");
        let e = refused(&unknown);
        assert!(
            e.starts_with(
                "p.yaml:11:5: operations.f.filter: unknown quota \"nope\"; expected one of q"
            ),
            "{e}"
        );
        let misplaced = format!("{base}  x:\n    kind: list_invalid\n    filter: q\n    request: {{method: GET, path: /l?t=zz}}\noutcomes: []\n");
        let e = refused(&misplaced);
        assert!(
            e.contains("operations.x.filter: only a list operation takes a filter; this one is list_invalid"),
            "{e}"
        );
        let good = format!("{base}  f:\n    kind: list\n    filter: q\n    request: {{method: GET, path: /l?t=q}}\n    read: {{items: /q, name: /n, limit: /l, consumed: /c}}\n  x:\n    kind: list_invalid\n    request: {{method: GET, path: /l?t=zz}}\noutcomes: []\n");
        let p = compile_text(Path::new("p.yaml"), &good).unwrap();
        assert_eq!(p.ops["f"].filter.as_deref(), Some("q"));
        assert_eq!(p.all_of(OpKind::ListInvalid).len(), 1);
    }

    #[test]
    fn paging_is_checked_where_it_is_declared() {
        let base = "name: t\nquotas:\n  - {name: q, kind: scoped}\noperations:\n  l:\n    kind: list\n    request: {method: GET, path: /l}\n    read:\n      limits: /data/0\n      count:\n        - {quota: q, from: r, items: /data, per_item: /d}\n  r:\n    kind: resources\n    request: {method: GET, path: /r}\n";
        let bad = format!("{base}    paging: {{style: page, param: page}}\noutcomes: []\n");
        let e = refused(&bad);
        assert!(
            e.contains("p.yaml:15:")
                && e.contains("operations.r.paging.first: say whether pages count from 0 or 1"),
            "{e}"
        );
        let good = format!(
            "{base}    paging: {{style: offset, param: $skip, total: /total}}\noutcomes: []\n"
        );
        let p = compile_text(Path::new("p.yaml"), &good).unwrap();
        // The items of each page default to those of the count that reads it.
        assert_eq!(p.ops["r"].paging.as_ref().unwrap().items, "/data");
        let on_limits = base.replace(
            "kind: list\n",
            "kind: list\n    paging: {style: offset, param: o}\n",
        ) + "outcomes: []\n";
        let e = refused(&on_limits);
        assert!(
            e.contains("operations.l.paging: only a list read with `items`"),
            "{e}"
        );
    }
}
