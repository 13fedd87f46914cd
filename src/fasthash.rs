//! The hasher of every in-memory map on the request path. std's default (SipHash 1-3) costs
//! a few hundred instructions per short key, and several lookups happen per event (catalog,
//! rate limits, parsed definitions, the writer's counters). foldhash is several times
//! cheaper and still seeded at random per map, so keys cannot be chosen to collide ahead of
//! time; no map here is keyed by raw client input it inserts without authentication.

use std::collections::{HashMap, HashSet};

pub type FastState = foldhash::fast::RandomState;
pub type FastMap<K, V> = HashMap<K, V, FastState>;
pub type FastSet<K> = HashSet<K, FastState>;
