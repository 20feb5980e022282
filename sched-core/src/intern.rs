//! String interning for label keys, label values, taint keys, resource and node names.
//!
//! The hot path compares `Sym`s (a `u32`), never strings. Every string that a filter or
//! score could compare is interned once, at conversion time. The interner also caches the
//! base-10 `i64` parse of each string, so NodeAffinity's `Gt`/`Lt` never parse on the hot path.

use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Source of interner identities: every new or cloned interner takes the next one.
static NEXT_INTERNER_ID: AtomicU64 = AtomicU64::new(1);

fn next_interner_id() -> u64 {
    NEXT_INTERNER_ID.fetch_add(1, Ordering::Relaxed)
}

/// Which interner, at which length, a holder of `Sym`s (a scheduler's plugins) interned its
/// symbols with. [`Interner::accepts`] tells whether another interner gives those `Sym`s the
/// same strings: the same interner, or a clone made after the stamp was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InternerStamp {
    id: u64,
    len: usize,
}

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
#[derive(Debug)]
pub struct Interner {
    ids: FxHashMap<Arc<str>, Sym>,
    strings: Vec<Arc<str>>,
    ints: Vec<Option<i64>>,
    /// This interner's identity.
    id: u64,
    /// The interners this one was cloned from, each with its length at the clone: their first
    /// `len` symbols are this one's too.
    forks: Arc<[InternerStamp]>,
}

impl Clone for Interner {
    /// A copy with its own identity: from here on the two may give the same new `Sym` to
    /// different strings, so only stamps taken before the clone are accepted by both.
    fn clone(&self) -> Self {
        let mut forks = self.forks.to_vec();
        forks.push(self.stamp());
        Interner {
            ids: self.ids.clone(),
            strings: self.strings.clone(),
            ints: self.ints.clone(),
            id: next_interner_id(),
            forks: forks.into(),
        }
    }
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            ids: FxHashMap::default(),
            strings: Vec::new(),
            ints: Vec::new(),
            id: next_interner_id(),
            forks: Arc::from([]),
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

    /// This interner's identity and length now: every `Sym` interned so far.
    #[must_use]
    pub fn stamp(&self) -> InternerStamp {
        InternerStamp {
            id: self.id,
            len: self.strings.len(),
        }
    }

    /// Whether the `Sym`s interned up to `stamp` mean the same strings here: `stamp` was taken
    /// from this interner, or from one it was cloned from, before the clone.
    #[must_use]
    pub fn accepts(&self, stamp: InternerStamp) -> bool {
        (stamp.id == self.id && stamp.len <= self.strings.len())
            || self
                .forks
                .iter()
                .any(|f| f.id == stamp.id && stamp.len <= f.len)
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
    fn a_stamp_is_accepted_by_its_interner_and_by_clones_made_after_it_only() {
        let mut a = Interner::new();
        a.intern("zone");
        let before_clone = a.stamp();
        let mut b = a.clone();
        assert!(a.accepts(before_clone) && b.accepts(before_clone));
        // After the clone the two diverge: the same new Sym names different strings.
        let in_a = a.intern("only-in-a");
        let in_b = b.intern("only-in-b");
        assert_eq!(in_a, in_b);
        assert!(a.accepts(a.stamp()));
        assert!(!b.accepts(a.stamp()), "a's later symbols are not b's");
        assert!(!a.accepts(b.stamp()), "b's later symbols are not a's");
        // A fresh interner accepts no other's stamp, even an empty one's.
        let c = Interner::new();
        assert!(!c.accepts(before_clone));
        assert!(!a.accepts(c.stamp()));
        // A clone of a clone still knows its grandparent.
        let d = b.clone();
        assert!(d.accepts(before_clone));
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
