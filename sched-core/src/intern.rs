//! String interning for label keys, label values, taint keys, resource and node names.
//!
//! The hot path compares `Sym`s (a `u32`), never strings. Every string that a filter or
//! score could compare is interned once, at conversion time. The interner also caches the
//! base-10 `i64` parse of each string, so NodeAffinity's `Gt`/`Lt` never parse on the hot path.
//!
//! **Bounded under pod churn.** Strings interned for nodes, configuration and cluster objects
//! are *pinned*: their `Sym` lives as long as the interner. Strings interned while a pod is
//! converted ([`crate::convert::pod_info`]) and used by nothing pinned are *leased* to that
//! pod's `PodInfo` ([`SymLease`], reference counted per symbol); when the last copy of every
//! pod holding one is dropped, the string is freed and its id reused. Labels such as
//! `pod-template-hash` or a Job's `controller-uid` thus cost memory only while a pod carries
//! them. Plugins and indexes that keep a `Sym` beyond a cycle keep pinned ones, or keep the
//! pod that leases it.

use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// `refs` of a pinned symbol: never freed.
const PINNED: u32 = u32::MAX;

/// Where dropped leases leave their symbols until the interner next collects them.
#[derive(Debug, Default)]
struct Released {
    pending: AtomicBool,
    syms: Mutex<Vec<Box<[Sym]>>>,
}

/// A pod's hold on the symbols it interned that nothing pinned uses. Shared by every copy of
/// the pod's `PodInfo`; dropping the last one hands the symbols back to their interner, which
/// frees those no other lease holds at its next conversion of a pod ([`Interner::collect`]).
pub struct SymLease {
    syms: Box<[Sym]>,
    sink: Arc<Released>,
}

impl std::fmt::Debug for SymLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SymLease({} symbols)", self.syms.len())
    }
}

impl Drop for SymLease {
    fn drop(&mut self) {
        let syms = std::mem::take(&mut self.syms);
        self.sink
            .syms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(syms);
        self.sink.pending.store(true, Ordering::Release);
    }
}

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
    /// Per symbol: how many pod leases hold it, or [`PINNED`].
    refs: Vec<u32>,
    /// Freed ids, reused first.
    free: Vec<Sym>,
    /// While a pod is converted: every symbol it interned.
    recording: Option<Vec<Sym>>,
    /// Leases dropped since the last collection.
    released: Arc<Released>,
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
            refs: self.refs.clone(),
            free: self.free.clone(),
            recording: None,
            // Leases taken from `self` report to `self`: the copy keeps their symbols (a leak
            // bounded by its lifetime, never a string freed under a live pod).
            released: Arc::default(),
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
            refs: Vec::new(),
            free: Vec::new(),
            recording: None,
            released: Arc::default(),
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

    /// The id of `s`, interning it if new. Outside a pod's conversion the symbol is pinned.
    pub fn intern(&mut self, s: &str) -> Sym {
        let id = match self.ids.get(s) {
            Some(&id) => id,
            None => self.insert(s),
        };
        match &mut self.recording {
            Some(syms) => syms.push(id),
            None => self.refs[id.index()] = PINNED,
        }
        id
    }

    fn insert(&mut self, s: &str) -> Sym {
        let shared: Arc<str> = Arc::from(s);
        // upstream: nodeaffinity Gt/Lt parse label values with strconv.ParseInt(v, 10, 64).
        let int = parse_go_int64(s);
        let id = if let Some(id) = self.free.pop() {
            self.strings[id.index()] = shared.clone();
            self.ints[id.index()] = int;
            self.refs[id.index()] = 0;
            id
        } else {
            let id =
                Sym(u32::try_from(self.strings.len()).expect("more than 2^32 distinct strings"));
            self.strings.push(shared.clone());
            self.ints.push(int);
            self.refs.push(0);
            id
        };
        self.ids.insert(shared, id);
        id
    }

    /// Starts recording the symbols a pod's conversion interns (first freeing those released).
    pub(crate) fn begin_pod(&mut self) {
        self.collect();
        let mut syms = self.recording.take().unwrap_or_default();
        syms.clear();
        self.recording = Some(syms);
    }

    /// Ends the recording: the pod's lease on its symbols that nothing pinned uses (`None`
    /// when there are none).
    pub(crate) fn end_pod(&mut self) -> Option<Arc<SymLease>> {
        let mut syms = self.recording.take()?;
        syms.sort_unstable();
        syms.dedup();
        syms.retain(|s| self.refs[s.index()] != PINNED);
        if syms.is_empty() {
            return None;
        }
        for s in &syms {
            self.refs[s.index()] += 1;
        }
        Some(Arc::new(SymLease {
            syms: syms.into_boxed_slice(),
            sink: self.released.clone(),
        }))
    }

    /// Frees the symbols of dropped leases that no other lease holds and nothing pinned.
    /// Called at each pod conversion; call it to reclaim memory at other times.
    pub fn collect(&mut self) {
        if !self.released.pending.swap(false, Ordering::Acquire) {
            return;
        }
        let batches = std::mem::take(
            &mut *self
                .released
                .syms
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let empty = self.strings[Sym::EMPTY.index()].clone();
        for sym in batches.iter().flat_map(|b| b.iter()) {
            let refs = &mut self.refs[sym.index()];
            if *refs == PINNED || *refs == 0 {
                continue;
            }
            *refs -= 1;
            if *refs == 0 {
                let old = std::mem::replace(&mut self.strings[sym.index()], empty.clone());
                self.ids.remove(&old);
                self.ints[sym.index()] = None;
                self.free.push(*sym);
            }
        }
    }

    /// Number of strings interned now (freed ones not counted).
    #[must_use]
    pub fn live(&self) -> usize {
        self.strings.len() - self.free.len()
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

    /// Number of symbol ids handed out (freed ones included: the bound on every `Sym` index).
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
            + self.refs.capacity() * std::mem::size_of::<u32>()
            + self.free.capacity() * std::mem::size_of::<Sym>()
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
