//! Paged reads: the `paging:` declaration of a `list` or `resources` operation, and the
//! walk over its pages. Each page is its own request, rendered by `Target::render` and
//! then moved to its page here ([`apply`]); `perform` sends it. The walk follows every
//! page up to `max_pages` and hands back one body holding every page's items, or says
//! why the read was cut short: a read that is not whole is never a count.

use hyper::http::{HeaderMap, Request, Uri};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::Deserialize;
use serde_json::Value;

/// Pages followed when the profile says nothing: enough for 10,000 resources at 100 a
/// page, few enough that an endless next link stops in seconds.
pub const DEFAULT_MAX_PAGES: u32 = 100;

/// How a list's pages are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PagingStyle {
    /// An offset query parameter (`$skip`), advanced by the items each page held.
    Offset,
    /// A page number query parameter (`page`), from `first`, one more per page.
    Page,
    /// The next page's URL, in the body (`next: {body: /links/next}`) or a header
    /// (`next: {header: link}`, RFC 8288 `rel="next"`); none means the last page.
    Next,
    /// A cursor read from each answer (`next: {body: /next_cursor}`) and sent back in
    /// the query parameter `param`; none means the last page.
    Cursor,
}

/// `paging:` on a `list` (with `read.items`) or `resources` operation.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PagingDecl {
    /// `offset`, `page`, `next` or `cursor`.
    pub style: PagingStyle,
    /// offset, page, cursor: the query parameter naming the position (`$skip`, `page`,
    /// `cursor`).
    #[serde(default)]
    pub param: Option<String>,
    /// The query parameter asking for a page size (`$limit`, `limit`), set on every page.
    #[serde(default)]
    pub size_param: Option<String>,
    /// The page size asked for with `size_param` (a server may send fewer).
    #[serde(default)]
    pub size: Option<u64>,
    /// page: the first page's number (0 or 1, as the API counts).
    #[serde(default)]
    pub first: Option<u64>,
    /// Pointer to the number of items in all pages (`/total`, `/total_count`): every
    /// page must say the same, and the pages together must hold exactly that many.
    #[serde(default)]
    pub total: Option<String>,
    /// page: pointer to the number of pages (`/total_pages`).
    #[serde(default)]
    pub pages: Option<String>,
    /// next, cursor: where the next page's URL or cursor is.
    #[serde(default)]
    pub next: Option<NextSource>,
    /// Pointer to the array of items in each page; default: the list's `read.items`, or
    /// the `items` of the counts that read this resources operation.
    #[serde(default)]
    pub items: Option<String>,
    /// Most pages read (default 100); a read needing more is indeterminate.
    #[serde(default)]
    pub max_pages: Option<u32>,
}

/// Where the next page is named: a JSON pointer into the body, or a response header.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NextSource {
    /// A JSON pointer into the answer's body.
    #[serde(default)]
    pub body: Option<String>,
    /// A response header (`link`: RFC 8288, the `rel="next"` entry; any other: its value).
    #[serde(default)]
    pub header: Option<String>,
}

/// A checked paging declaration, its items pointer resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// The style.
    pub style: PagingStyle,
    /// Position parameter (offset, page, cursor).
    pub param: String,
    /// Page size parameter and value.
    pub size: Option<(String, u64)>,
    /// page: first page number; offset: 0.
    pub first: u64,
    /// Pointer to the total.
    pub total: Option<String>,
    /// Pointer to the page count.
    pub pages: Option<String>,
    /// next, cursor: body pointer (`Ok`) or header name (`Err`).
    pub next: Option<Result<String, String>>,
    /// Pointer to each page's items.
    pub items: String,
    /// Bound on pages.
    pub max_pages: u32,
}

/// Checks a declaration; `items` is the default items pointer (see
/// [`PagingDecl::items`]). `Err` holds (field under `paging`, message) pairs.
pub fn check(d: &PagingDecl, items: Option<&str>) -> Result<Paging, Vec<(String, String)>> {
    let mut errs = Vec::new();
    let mut e = |f: &str, m: &str| errs.push((f.to_string(), m.to_string()));
    let needs_param = d.style != PagingStyle::Next;
    if needs_param && d.param.as_deref().is_none_or(str::is_empty) {
        e(
            "param",
            "give the query parameter that names the position (`$skip`, `page`, `cursor`)",
        );
    }
    if d.style == PagingStyle::Next && d.param.is_some() {
        e("param", "next links carry their own position: drop `param`");
    }
    if d.size_param.is_some() != d.size.is_some() {
        e(
            "size",
            "give `size_param` and `size` together (the parameter and the page size asked)",
        );
    }
    if d.size == Some(0) {
        e("size", "a page size of 0 reads nothing: give 1 or more");
    }
    match d.style {
        PagingStyle::Page if d.first.is_none() => e(
            "first",
            "say whether pages count from 0 or 1 (`first: 0` or `first: 1`)",
        ),
        PagingStyle::Page => {}
        _ if d.first.is_some() => e("first", "only `style: page` takes `first`"),
        _ => {}
    }
    if d.pages.is_some() && d.style != PagingStyle::Page {
        e("pages", "only `style: page` takes `pages` (a page count)");
    }
    let next = match (&d.next, d.style) {
        (None, PagingStyle::Next | PagingStyle::Cursor) => {
            e("next", "say where the next page is named: `next: {body: /pointer}` or `next: {header: link}`");
            None
        }
        (Some(_), PagingStyle::Offset | PagingStyle::Page) => {
            e("next", "only `style: next` and `style: cursor` take `next`");
            None
        }
        (None, _) => None,
        (Some(n), _) => match (&n.body, &n.header) {
            (Some(b), None) => Some(Ok(b.clone())),
            (None, Some(h)) => Some(Err(h.to_ascii_lowercase())),
            _ => {
                e(
                    "next",
                    "give exactly one of `body: /json/pointer` or `header: NAME`",
                );
                None
            }
        },
    };
    if d.max_pages == Some(0) {
        e(
            "max_pages",
            "a bound of 0 pages reads nothing: give 1 or more",
        );
    }
    let items = d.items.as_deref().or(items);
    if items.is_none() {
        e(
            "items",
            "give `items`, the pointer to each page's array of items",
        );
    }
    for (f, p) in [
        ("total", &d.total),
        ("pages", &d.pages),
        ("items", &d.items),
    ] {
        if let Some(p) = p
            .as_deref()
            .filter(|p| !p.is_empty() && !p.starts_with('/'))
        {
            e(
                f,
                &format!("expected a JSON pointer starting with /, found {p:?}"),
            );
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Paging {
        style: d.style,
        param: d.param.clone().unwrap_or_default(),
        size: d.size_param.clone().zip(d.size),
        first: d.first.unwrap_or(0),
        total: d.total.clone(),
        pages: d.pages.clone(),
        next,
        items: items.unwrap_or_default().to_string(),
        max_pages: d.max_pages.unwrap_or(DEFAULT_MAX_PAGES),
    })
}

/// What to change in an operation's rendered request to reach a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    /// Set these query parameters (replacing any of the same name).
    Query(Vec<(String, String)>),
    /// Send to this URL (a next link, already checked to be on the target's origin),
    /// with these query parameters set too.
    Url(Uri, Vec<(String, String)>),
}

/// What a page said.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Send this page next.
    Next(PageAt),
    /// Every page was read: one body holding all items (`None`: the only page's body is
    /// that body as it came).
    Done(Option<Vec<u8>>),
    /// The answer is not in the declared shape (the listing is wrong: an error).
    Bad(String),
    /// The read cannot be whole (indeterminate: never a count), and why.
    Cut(String),
}

/// A paged read in progress.
#[derive(Debug)]
pub struct Walk<'a> {
    p: &'a Paging,
    /// Pages answered so far.
    pages: u32,
    /// The first page's body, whose items array becomes the merged one.
    first_body: Option<Value>,
    items: Vec<Value>,
    total: Option<u64>,
    total_pages: Option<u64>,
    /// The URLs or cursors already followed (a repeat would loop).
    seen: Vec<String>,
}

impl<'a> Walk<'a> {
    /// A walk over `p`'s pages.
    pub fn new(p: &'a Paging) -> Walk<'a> {
        Walk {
            p,
            pages: 0,
            first_body: None,
            items: Vec::new(),
            total: None,
            total_pages: None,
            seen: Vec::new(),
        }
    }

    /// Pages answered so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    fn size(&self) -> Vec<(String, String)> {
        self.p
            .size
            .iter()
            .map(|(k, n)| (k.clone(), n.to_string()))
            .collect()
    }

    /// The first page.
    pub fn first(&self) -> PageAt {
        let mut q = self.size();
        match self.p.style {
            PagingStyle::Offset | PagingStyle::Page => {
                q.insert(0, (self.p.param.clone(), self.p.first.to_string()))
            }
            PagingStyle::Next | PagingStyle::Cursor => {}
        }
        PageAt::Query(q)
    }

    /// Takes the answer to the page last sent (`url`, the request's URL) and says what
    /// comes next.
    pub fn take(&mut self, body: &[u8], headers: &HeaderMap, url: &Uri) -> Step {
        self.pages += 1;
        let n = self.pages;
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return Step::Bad(format!("page {n} is not JSON: {e}")),
        };
        let Some(got) = v.pointer(&self.p.items).and_then(Value::as_array) else {
            return Step::Bad(format!("page {n}: no array at {}", self.p.items));
        };
        let got_len = got.len() as u64;
        // Every page must agree on the total and the page count.
        for (ptr, seen, what) in [
            (&self.p.total, &mut self.total, "total"),
            (&self.p.pages, &mut self.total_pages, "page count"),
        ] {
            let Some(ptr) = ptr else { continue };
            let Some(t) = v.pointer(ptr).and_then(Value::as_u64) else {
                return Step::Bad(format!("page {n}: no non-negative integer {what} at {ptr}"));
            };
            match *seen {
                Some(before) if before != t => {
                    return Step::Cut(format!(
                        "the {what} changed between pages: {before} on page 1, {t} on page {n}"
                    ))
                }
                _ => *seen = Some(t),
            }
        }
        self.items.extend(got.iter().cloned());
        let read = self.items.len() as u64;
        if self.first_body.is_none() {
            self.first_body = Some(v.clone());
        }
        if let Some(t) = self.total.filter(|&t| read > t) {
            return Step::Cut(format!(
                "{n} pages held {read} items, more than the total {t}"
            ));
        }
        let next = match self.p.style {
            PagingStyle::Offset => {
                let more = match self.total {
                    Some(t) => read < t,
                    None => got_len > 0,
                };
                more.then(|| {
                    let mut q = vec![(self.p.param.clone(), read.to_string())];
                    q.extend(self.size());
                    Ok(PageAt::Query(q))
                })
            }
            PagingStyle::Page => {
                let more = match (self.total_pages, self.total) {
                    (Some(tp), _) => u64::from(n) < tp,
                    (None, Some(t)) => read < t,
                    (None, None) => got_len > 0,
                };
                more.then(|| {
                    let mut q = vec![(
                        self.p.param.clone(),
                        (self.p.first + u64::from(n)).to_string(),
                    )];
                    q.extend(self.size());
                    Ok(PageAt::Query(q))
                })
            }
            PagingStyle::Next | PagingStyle::Cursor => {
                match next_of(self.p.next.as_ref(), &v, headers) {
                    None => None,
                    Some(s) if self.seen.contains(&s) => {
                        return Step::Cut(format!(
                            "page {n} names a next page already read ({s}): the pages loop"
                        ))
                    }
                    Some(s) => {
                        self.seen.push(s.clone());
                        Some(if self.p.style == PagingStyle::Cursor {
                            let mut q = vec![(self.p.param.clone(), s)];
                            q.extend(self.size());
                            Ok(PageAt::Query(q))
                        } else {
                            same_origin(url, &s).map(|u| PageAt::Url(u, self.size()))
                        })
                    }
                }
            }
        };
        match next {
            Some(Err(why)) => Step::Cut(format!("page {n}: {why}")),
            // An empty page with more to come moves nowhere: the pages contradict the total.
            Some(Ok(_))
                if got_len == 0
                    && matches!(self.p.style, PagingStyle::Offset | PagingStyle::Page) =>
            {
                Step::Cut(format!(
                    "page {n} is empty, yet the total says {} and {read} were read",
                    self.total.unwrap_or_default()
                ))
            }
            Some(Ok(_)) if n >= self.p.max_pages => Step::Cut(format!(
                "more than {n} pages (paging.max_pages); raise it to read the whole list"
            )),
            Some(Ok(at)) => Step::Next(at),
            None => match self.total.filter(|&t| t != read) {
                Some(t) => Step::Cut(format!("{n} pages held {read} items, the total says {t}")),
                None => Step::Done((n > 1).then(|| self.merged())),
            },
        }
    }

    /// The first page's body with its items array holding every page's items.
    fn merged(&mut self) -> Vec<u8> {
        let mut v = self.first_body.take().unwrap_or(Value::Null);
        if let Some(slot) = v.pointer_mut(&self.p.items) {
            *slot = Value::Array(std::mem::take(&mut self.items));
        }
        serde_json::to_vec(&v).unwrap_or_default()
    }
}

/// The next page's URL or cursor, if the answer names one (null, "" and absent: none).
fn next_of(src: Option<&Result<String, String>>, v: &Value, headers: &HeaderMap) -> Option<String> {
    match src? {
        Ok(ptr) => match v.pointer(ptr)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
        Err(name) if name.as_str() == "link" => headers
            .get_all("link")
            .iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(','))
            .find_map(link_next),
        Err(name) => headers
            .get(name.as_str())
            .and_then(|h| h.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    }
}

/// `<URL>; rel="next"` (RFC 8288; rel may list several relations).
fn link_next(entry: &str) -> Option<String> {
    let (target, params) = entry.trim().strip_prefix('<')?.split_once('>')?;
    params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        })
        .then(|| target.trim().to_string())
}

/// Resolves a next link against the page that named it; only a link on the same
/// scheme, host and port is followed (credentials go nowhere else).
fn same_origin(page: &Uri, link: &str) -> Result<Uri, String> {
    let base = url::Url::parse(&page.to_string())
        .map_err(|e| format!("the page's URL {page} cannot be resolved against: {e}"))?;
    let u = base
        .join(link)
        .map_err(|e| format!("next link {link:?} is not a URL: {e}"))?;
    if u.origin() != base.origin() {
        return Err(format!(
            "next link {u} leaves the target ({}): not followed",
            base.origin().ascii_serialization()
        ));
    }
    u.as_str()
        .parse()
        .map_err(|e| format!("next link {u} is not a valid request URL: {e}"))
}

/// Characters escaped in a query key or value set here.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'<')
    .add(b'>');

/// Moves a rendered request to a page: its query parameters set (replacing those of the
/// same name the template wrote), or its URL replaced by a next link.
pub fn apply(req: &mut Request<bytes::Bytes>, at: &PageAt) -> Result<(), String> {
    let (uri, set) = match at {
        PageAt::Query(q) => (req.uri().clone(), q),
        PageAt::Url(u, q) => (u.clone(), q),
    };
    let mut parts = uri.into_parts();
    let pq = parts
        .path_and_query
        .as_ref()
        .map_or("/", |p| p.as_str())
        .to_string();
    let (path, query) = pq.split_once('?').unwrap_or((pq.as_str(), ""));
    let decoded = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .filter(|kv| {
            let k = decoded(kv.split_once('=').map_or(*kv, |(k, _)| k));
            !set.iter().any(|(s, _)| *s == k)
        })
        .map(str::to_string)
        .collect();
    for (k, v) in set {
        pairs.push(format!(
            "{}={}",
            utf8_percent_encode(k, QUERY),
            utf8_percent_encode(v, QUERY)
        ));
    }
    let joined = if pairs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", pairs.join("&"))
    };
    parts.path_and_query = Some(
        joined
            .parse()
            .map_err(|e| format!("page URL {joined:?} is not valid: {e}"))?,
    );
    *req.uri_mut() = Uri::from_parts(parts).map_err(|e| format!("page URL is not valid: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paging(yaml: &str, items: Option<&str>) -> Paging {
        let d: PagingDecl = crate::yaml::from_str(std::path::Path::new("t.yaml"), yaml).unwrap();
        check(&d, items).unwrap()
    }

    fn url() -> Uri {
        "http://127.0.0.1:9/v1/things?org=a&$limit=1000"
            .parse()
            .unwrap()
    }

    /// Walks pages served by `serve(page request) -> (body, headers)`, applying each
    /// step to a real rendered request, as `perform` does.
    fn walk(p: &Paging, mut serve: impl FnMut(&Uri) -> (Value, HeaderMap)) -> (Step, Vec<String>) {
        let mut w = Walk::new(p);
        let mut at = w.first();
        let mut sent = Vec::new();
        loop {
            let mut req = Request::get(url()).body(bytes::Bytes::new()).unwrap();
            apply(&mut req, &at).unwrap();
            sent.push(req.uri().to_string());
            let (body, h) = serve(req.uri());
            match w.take(&serde_json::to_vec(&body).unwrap(), &h, req.uri()) {
                Step::Next(n) => at = n,
                s => return (s, sent),
            }
            assert!(sent.len() < 50, "the walk must stop by itself");
        }
    }

    fn q(u: &Uri, k: &str) -> Option<String> {
        url::Url::parse(&u.to_string())
            .unwrap()
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    }

    fn merged_len(s: &Step, ptr: &str) -> usize {
        match s {
            Step::Done(Some(b)) => serde_json::from_slice::<Value>(b)
                .unwrap()
                .pointer(ptr)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            other => panic!("expected a merged body, got {other:?}"),
        }
    }

    /// A Feathers service with 7 rows that caps `$limit` at 3.
    fn feathers(rows: u64, cap: u64) -> impl FnMut(&Uri) -> (Value, HeaderMap) {
        move |u| {
            let skip: u64 = q(u, "$skip").unwrap().parse().unwrap();
            let limit = q(u, "$limit").unwrap().parse::<u64>().unwrap().min(cap);
            let data: Vec<u64> = (skip..rows.min(skip + limit)).collect();
            (
                json!({"total": rows, "limit": limit, "skip": skip, "data": data}),
                HeaderMap::new(),
            )
        }
    }

    const OFFSET: &str =
        "{style: offset, param: $skip, size_param: $limit, size: 100, total: /total}";

    #[test]
    fn offset_paging_advances_by_what_each_page_held_and_merges_every_item() {
        let p = paging(OFFSET, Some("/data"));
        let (s, sent) = walk(&p, feathers(7, 3));
        assert_eq!(merged_len(&s, "/data"), 7);
        assert_eq!(sent.len(), 3, "{sent:?}");
        // The template's $limit is replaced, not repeated; the tenant stays.
        assert_eq!(
            sent[1],
            "http://127.0.0.1:9/v1/things?org=a&$skip=3&$limit=100"
        );
        // One page: the body is used as it came.
        let (s, _) = walk(&p, feathers(2, 3));
        assert_eq!(s, Step::Done(None));
    }

    #[test]
    fn a_read_cut_short_is_cut_never_done() {
        // Bound hit.
        let p = paging(&OFFSET.replace('}', ", max_pages: 2}"), Some("/data"));
        let (s, _) = walk(&p, feathers(7, 3));
        assert!(
            matches!(&s, Step::Cut(w) if w.contains("max_pages")),
            "{s:?}"
        );
        // The total changes between pages (an item created while reading).
        let p = paging(OFFSET, Some("/data"));
        let mut rows = 7;
        let mut inner = move |u: &Uri| {
            let r = feathers(rows, 3)(u);
            rows += 1;
            r
        };
        let (s, _) = walk(&p, &mut inner);
        assert!(
            matches!(&s, Step::Cut(w) if w.contains("total changed")),
            "{s:?}"
        );
        // A page contradicting the total: empty while items are missing.
        let (s, _) = walk(&p, |u: &Uri| {
            let skip: u64 = q(u, "$skip").unwrap().parse().unwrap();
            let data: Vec<u64> = if skip == 0 { vec![1, 2] } else { vec![] };
            (json!({"total": 5, "data": data}), HeaderMap::new())
        });
        assert!(matches!(&s, Step::Cut(w) if w.contains("empty")), "{s:?}");
        // More items than the total.
        let (s, _) = walk(&p, |_: &Uri| {
            (json!({"total": 1, "data": [1, 2]}), HeaderMap::new())
        });
        assert!(
            matches!(&s, Step::Cut(w) if w.contains("more than the total")),
            "{s:?}"
        );
        // A page not in the declared shape is the listing's fault.
        let (s, _) = walk(&p, |_: &Uri| {
            (json!({"total": 1, "rows": []}), HeaderMap::new())
        });
        assert!(
            matches!(&s, Step::Bad(w) if w.contains("no array at /data")),
            "{s:?}"
        );
    }

    #[test]
    fn offset_paging_without_a_total_stops_at_an_empty_page() {
        let p = paging("{style: offset, param: $skip}", Some("/data"));
        let (s, sent) = walk(&p, |u: &Uri| {
            let skip: u64 = q(u, "$skip").unwrap().parse().unwrap();
            let data: Vec<u64> = (skip..5.min(skip + 2)).collect();
            (json!({"data": data}), HeaderMap::new())
        });
        assert_eq!(merged_len(&s, "/data"), 5);
        assert_eq!(sent.len(), 4);
    }

    /// Adobe's `GET /ttl`: 0-based pages, `total_pages` and `total_count`.
    fn adobe(rows: u64) -> impl FnMut(&Uri) -> (Value, HeaderMap) {
        move |u| {
            let page: u64 = q(u, "page").unwrap().parse().unwrap();
            let limit: u64 = q(u, "limit").unwrap().parse().unwrap();
            let results: Vec<u64> = (page * limit..rows.min((page + 1) * limit)).collect();
            let body = json!({"results": results, "current_page": page,
                "total_pages": rows.div_ceil(limit), "total_count": rows});
            (body, HeaderMap::new())
        }
    }

    #[test]
    fn page_numbers_follow_the_page_count_and_check_the_total() {
        let p = paging(
            "{style: page, param: page, first: 0, size_param: limit, size: 2, total: /total_count, pages: /total_pages}",
            Some("/results"),
        );
        let (s, sent) = walk(&p, adobe(5));
        assert_eq!(merged_len(&s, "/results"), 5);
        assert_eq!(sent.len(), 3);
        assert_eq!(q(&sent[2].parse().unwrap(), "page").as_deref(), Some("2"));
        // No rows: one page, nothing more asked.
        let (s, sent) = walk(&p, adobe(0));
        assert_eq!((s, sent.len()), (Step::Done(None), 1));
        // A server that ignores `page` keeps answering page 0: more than the total.
        let (s, _) = walk(&p, |u: &Uri| {
            let u2: Uri = u
                .to_string()
                .replace("page=1", "page=0")
                .replace("page=2", "page=0")
                .parse()
                .unwrap();
            adobe(5)(&u2)
        });
        assert!(
            matches!(&s, Step::Cut(w) if w.contains("more than the total")),
            "{s:?}"
        );
    }

    #[test]
    fn next_links_are_followed_in_the_body_or_the_link_header_on_the_same_origin_only() {
        let p = paging("{style: next, next: {body: /next}}", Some("/items"));
        let (s, sent) = walk(&p, |u: &Uri| {
            let at: u64 = q(u, "after").map_or(0, |a| a.parse().unwrap());
            let next = (at < 4).then(|| format!("/v1/things?org=a&after={}", at + 2));
            (
                json!({"items": [at, at + 1], "next": next}),
                HeaderMap::new(),
            )
        });
        assert_eq!(merged_len(&s, "/items"), 6);
        assert_eq!(sent[2], "http://127.0.0.1:9/v1/things?org=a&after=4");
        let p = paging("{style: next, next: {header: link}}", Some("/items"));
        let (s, _) = walk(&p, |u: &Uri| {
            let mut h = HeaderMap::new();
            if q(u, "p").is_none() {
                h.insert(
                    "link",
                    "<http://127.0.0.1:9/v1/things?p=2>; rel=\"next\", </v1/things>; rel=\"first\""
                        .parse()
                        .unwrap(),
                );
            }
            (json!({"items": [1]}), h)
        });
        assert_eq!(merged_len(&s, "/items"), 2);
        // Another host is never sent to.
        let (s, sent) = walk(&p, |_: &Uri| {
            let mut h = HeaderMap::new();
            h.insert(
                "link",
                "<http://example.com/v1/things?p=2>; rel=next"
                    .parse()
                    .unwrap(),
            );
            (json!({"items": [1]}), h)
        });
        assert!(
            matches!(&s, Step::Cut(w) if w.contains("leaves the target")),
            "{s:?}"
        );
        assert_eq!(sent.len(), 1);
        // A link to a page already read loops: cut.
        let p = paging("{style: next, next: {body: /next}}", Some("/items"));
        let (s, _) = walk(&p, |_: &Uri| {
            (
                json!({"items": [1], "next": "/v1/things?again=1"}),
                HeaderMap::new(),
            )
        });
        assert!(matches!(&s, Step::Cut(w) if w.contains("loop")), "{s:?}");
    }

    #[test]
    fn cursors_are_sent_back_until_none_and_the_total_is_checked() {
        let p = paging("{style: cursor, param: cursor, next: {body: /meta/next_cursor}, size_param: n, size: 2, total: /meta/total}", Some("/data"));
        let serve = |total: u64| {
            move |u: &Uri| {
                let at: u64 =
                    q(u, "cursor").map_or(0, |c| c.trim_start_matches("c").parse().unwrap());
                let data: Vec<u64> = (at..5.min(at + 2)).collect();
                let next = (at + 2 < 5).then(|| format!("c{}", at + 2));
                (
                    json!({"data": data, "meta": {"next_cursor": next, "total": total}}),
                    HeaderMap::new(),
                )
            }
        };
        let (s, sent) = walk(&p, serve(5));
        assert_eq!(merged_len(&s, "/data"), 5);
        assert_eq!(
            q(&sent[0].parse().unwrap(), "cursor"),
            None,
            "the first page has no cursor"
        );
        assert_eq!(
            q(&sent[1].parse().unwrap(), "cursor").as_deref(),
            Some("c2")
        );
        // The pages end before the total is reached: a page was lost.
        let (s, _) = walk(&p, serve(6));
        assert!(
            matches!(&s, Step::Cut(w) if w.contains("the total says 6")),
            "{s:?}"
        );
    }

    #[test]
    fn declarations_are_checked_with_the_fix_named() {
        let errs = |y: &str, items: Option<&str>| {
            let d: PagingDecl = crate::yaml::from_str(std::path::Path::new("t.yaml"), y).unwrap();
            check(&d, items).unwrap_err()
        };
        let e = errs("{style: page, param: page}", Some("/r"));
        assert!(
            e.iter()
                .any(|(f, m)| f == "first" && m.contains("first: 0")),
            "{e:?}"
        );
        let e = errs("{style: cursor, param: c}", Some("/r"));
        assert!(e.iter().any(|(f, _)| f == "next"), "{e:?}");
        let e = errs("{style: offset, size: 3}", None);
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["param", "size", "items"]);
        let e = errs(
            "{style: offset, param: $skip, total: total, max_pages: 0}",
            Some("/r"),
        );
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["max_pages", "total"]);
        assert_eq!(
            paging("{style: offset, param: o}", Some("/r")).max_pages,
            DEFAULT_MAX_PAGES
        );
    }
}
