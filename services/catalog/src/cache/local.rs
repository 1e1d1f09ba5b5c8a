//! A small in-process copy of recently served entries, so a hot page costs no Redis transfer.
//! It is only used with a version just read through the gate, and under the same age bound.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use actix_web::web::Bytes;

/// Entries kept at most; past it the map starts over (hot pages come back at once).
const CAPACITY: usize = 512;

/// key → (version, built_at_ms, payload).
#[derive(Default)]
pub struct LocalPages {
    pages: Mutex<HashMap<String, (u64, u64, Bytes)>>,
}

impl LocalPages {
    /// The entry under `key` if it has `version` and was built at or after `built_after_ms`.
    pub fn get(&self, key: &str, version: u64, built_after_ms: u64) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        let (v, built, payload) = pages.get(key)?;
        (*v == version && *built >= built_after_ms).then(|| payload.clone())
    }

    /// Keeps an entry (replacing an older one).
    pub fn put(&self, key: &str, version: u64, built_at_ms: u64, payload: Bytes) {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.len() >= CAPACITY && !pages.contains_key(key) {
            pages.clear();
        }
        match pages.get_mut(key) {
            Some(entry) if entry.0 > version || (entry.0 == version && entry.1 >= built_at_ms) => {}
            _ => {
                pages.insert(key.to_owned(), (version, built_at_ms, payload));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_asked_version_and_age_are_served() {
        let local = LocalPages::default();
        local.put("k", 3, 1000, Bytes::from("a"));
        assert_eq!(local.get("k", 3, 900), Some(Bytes::from("a")));
        assert_eq!(local.get("k", 4, 900), None, "another version");
        assert_eq!(local.get("k", 3, 1001), None, "too old");
        local.put("k", 2, 5000, Bytes::from("old"));
        assert_eq!(local.get("k", 3, 900), Some(Bytes::from("a")), "an older version never replaces a newer");
        for i in 0..=CAPACITY {
            local.put(&i.to_string(), 1, 1, Bytes::new());
        }
        assert!(local.pages.lock().unwrap().len() <= CAPACITY);
    }
}
