//! Interned names: operation labels, operation names and tenants repeat in every record,
//! so a record holds a 4-byte handle instead of three owned strings (the history of a
//! 10-million-operation run must fit in memory). Serialized as the plain string, so
//! history.jsonl is unchanged.

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A handle to an interned string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

#[derive(Default)]
struct Table {
    names: Vec<&'static str>,
    index: HashMap<&'static str, u32>,
}

/// The first names by handle, set once each as they are interned (names are never
/// removed and live for the process): a lookup is one load. A run has a handful.
static FAST: [OnceLock<&'static str>; 1024] = [const { OnceLock::new() }; 1024];

fn table() -> &'static RwLock<Table> {
    static T: OnceLock<RwLock<Table>> = OnceLock::new();
    T.get_or_init(Default::default)
}

impl Sym {
    /// Interns `s`. The set of names is small (labels, operations, tenants), so the
    /// strings live for the process.
    pub fn new(s: &str) -> Sym {
        if let Some(&i) = table()
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .index
            .get(s)
        {
            return Sym(i);
        }
        let mut t = table().write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = t.index.get(s) {
            return Sym(i);
        }
        let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
        let i = t.names.len() as u32;
        t.names.push(leaked);
        t.index.insert(leaked, i);
        if let Some(fast) = FAST.get(i as usize) {
            // Set under the write lock, once: this handle is new.
            let _ = fast.set(leaked);
        }
        Sym(i)
    }

    /// The handle's place in the table (0, 1, 2, … as names were first interned): for
    /// tables indexed by name, where a lookup is one load.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }

    /// The string.
    ///
    /// The first [`FAST`] names are read without the table's lock: the checker looks up
    /// a name per record per rule, and the lock (a shared atomic even to read) cost 8%
    /// of its time.
    #[inline]
    pub fn as_str(&self) -> &'static str {
        let i = self.0 as usize;
        if let Some(s) = FAST.get(i).and_then(|s| s.get()) {
            return s;
        }
        table().read().unwrap_or_else(|e| e.into_inner()).names[i]
    }
}

impl std::ops::Deref for Sym {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Sym {
    #[inline]
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Sym {
        Sym::new(s)
    }
}

impl From<String> for Sym {
    fn from(s: String) -> Sym {
        Sym::new(&s)
    }
}

impl From<&String> for Sym {
    fn from(s: &String) -> Sym {
        Sym::new(s)
    }
}

impl PartialEq<str> for Sym {
    #[inline]
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for Sym {
    #[inline]
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

impl PartialEq<String> for Sym {
    #[inline]
    fn eq(&self, o: &String) -> bool {
        self.as_str() == o
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Sym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Sym {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Sym, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Sym::new(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_handle_and_round_trip_as_strings() {
        let a = Sym::new("delete_identities");
        let b = Sym::from(String::from("delete_identities"));
        assert_eq!(a, b);
        assert_ne!(a, Sym::new("list"));
        assert!(a == "delete_identities" && a == *"delete_identities");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"delete_identities\"");
        assert_eq!(serde_json::from_str::<Sym>(&json).unwrap(), a);
        assert_eq!(std::mem::size_of::<Sym>(), 4);
    }

    #[test]
    fn every_name_reads_back_past_the_lock_free_ones_and_across_threads() {
        // More names than FAST holds: the later ones are read through the table.
        let syms: Vec<(Sym, String)> = (0..FAST.len() + 100)
            .map(|k| {
                let s = format!("sym-test-{k}");
                (Sym::new(&s), s)
            })
            .collect();
        assert!(syms.iter().any(|(s, _)| s.0 as usize >= FAST.len()));
        let there = std::thread::spawn(move || {
            let late = Sym::new("sym-test-interned-on-another-thread");
            let ok = syms.iter().all(|(s, text)| s.as_str() == text);
            (ok, late)
        })
        .join()
        .unwrap();
        assert!(there.0, "a name read back otherwise on another thread");
        assert_eq!(there.1.as_str(), "sym-test-interned-on-another-thread");
    }
}
