//! Maps keyed by numbers the program or the kernel hands out (pids, probe
//! and target indices), hashed with one multiplication instead of SipHash:
//! nobody picks these keys to make them collide, and the hot loops (a
//! socket listing's rows, a ping flood's replies) look one up per item.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` keyed by an integer, with [`IntHasher`].
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// Fibonacci hashing of integer keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        // The product's high bits depend on every key bit, its low bits only
        // on the key's low bits; the table indexes by the low bits, so fold
        // the high half down (keys that differ only above bit 20 spread too).
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(29) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_int_map_finds_every_key_it_holds() {
        let keys: Vec<u32> = (1..=70_000).chain([4_194_304, u32::MAX]).collect();
        let map: IntMap<u32, u32> = keys.iter().map(|&k| (k, k ^ 0x5a5a)).collect();
        assert_eq!(map.len(), keys.len());
        assert!(keys.iter().all(|k| map.get(k) == Some(&(k ^ 0x5a5a))));
        assert!(!map.contains_key(&0) && !map.contains_key(&70_001));
        let wide: IntMap<usize, usize> = (0..50_000).map(|k| (k << 20, k)).collect();
        assert!((0..50_000).all(|k| wide.get(&(k << 20)) == Some(&k)));
    }

    #[test]
    fn neighbouring_keys_hash_apart() {
        let hash = |n: u64| {
            let mut h = IntHasher::default();
            h.write_u64(n);
            h.finish()
        };
        assert_ne!(hash(41), hash(42));
        assert_ne!(
            hash(41) >> 57,
            hash(42) >> 57,
            "the top bits pick the group"
        );
    }
}
