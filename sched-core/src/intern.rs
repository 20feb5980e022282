//! String interning for label keys, label values, taint keys, resource and node names.
//!
//! The hot path compares `Sym`s (a `u32`), never strings. Every string that a filter or
//! score could compare is interned once, at conversion time. The interner also caches the
//! base-10 `i64` parse of each string, so NodeAffinity's `Gt`/`Lt` never parse on the hot path.

use rustc_hash::FxHashMap;
use std::sync::Arc;

/// An interned string. `Sym::EMPTY` is always the empty string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Sym(u32);

impl Sym {
    /// The empty string, interned in every interner at id 0.
    pub const EMPTY: Sym = Sym(0);

    /// The dense index of this symbol.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Maps strings to dense `Sym` ids and back.
#[derive(Debug, Clone)]
pub struct Interner {
    ids: FxHashMap<Arc<str>, Sym>,
    strings: Vec<Arc<str>>,
    ints: Vec<Option<i64>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            ids: FxHashMap::default(),
            strings: Vec::new(),
            ints: Vec::new(),
        };
        let empty = interner.intern("");
        debug_assert_eq!(empty, Sym::EMPTY);
        interner
    }
}

impl Interner {
    /// A new interner holding only the empty string.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `s`, interning it if new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = Sym(u32::try_from(self.strings.len()).expect("more than 2^32 distinct strings"));
        let shared: Arc<str> = Arc::from(s);
        self.ids.insert(shared.clone(), id);
        self.strings.push(shared);
        // upstream: nodeaffinity Gt/Lt parse label values with strconv.ParseInt(v, 10, 64).
        self.ints.push(parse_go_int64(s));
        id
    }

    /// The id of `s` if it was interned before.
    #[must_use]
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.ids.get(s).copied()
    }

    /// The string behind `sym`.
    #[must_use]
    pub fn resolve(&self, sym: Sym) -> &str {
        &self.strings[sym.index()]
    }

    /// The shared string behind `sym` (cheap to clone).
    #[must_use]
    pub fn resolve_arc(&self, sym: Sym) -> Arc<str> {
        self.strings[sym.index()].clone()
    }

    /// The base-10 `i64` value of the string behind `sym`, if it parses as Go's
    /// `strconv.ParseInt(s, 10, 64)` would.
    #[must_use]
    pub fn as_int(&self, sym: Sym) -> Option<i64> {
        self.ints[sym.index()]
    }

    /// Number of interned strings.
    #[must_use]
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Always false: the empty string is interned at creation.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Bytes held by the interner's strings and tables (an estimate of the heap it owns).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.strings.iter().map(|s| s.len() + 16).sum();
        strings
            + self.strings.capacity() * std::mem::size_of::<Arc<str>>()
            + self.ints.capacity() * std::mem::size_of::<Option<i64>>()
            + self.ids.capacity()
                * (std::mem::size_of::<Arc<str>>() + std::mem::size_of::<Sym>() + 1)
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, ASCII digits only, no spaces, in range.
pub(crate) fn parse_go_int64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_string_is_sym_zero() {
        let mut i = Interner::new();
        assert_eq!(i.intern(""), Sym::EMPTY);
        assert_eq!(i.resolve(Sym::EMPTY), "");
    }

    #[test]
    fn interning_is_idempotent() {
        let mut i = Interner::new();
        let a = i.intern("zone");
        let b = i.intern("zone");
        assert_eq!(a, b);
        assert_ne!(a, i.intern("region"));
        assert_eq!(i.get("zone"), Some(a));
        assert_eq!(i.get("absent"), None);
    }

    #[test]
    fn int_cache_follows_go_parse_int() {
        // upstream: nodeaffinity uses strconv.ParseInt(labelValue, 10, 64) for Gt/Lt.
        let mut i = Interner::new();
        for (text, want) in [
            ("42", Some(42)),
            ("-7", Some(-7)),
            ("+7", Some(7)),
            ("007", Some(7)),
            ("1.5", None),
            (" 1", None),
            ("", None),
            ("-", None),
            ("9223372036854775808", None),
            ("0x10", None),
        ] {
            let s = i.intern(text);
            assert_eq!(i.as_int(s), want, "{text:?}");
        }
    }
}
