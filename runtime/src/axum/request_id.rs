//! Request ids: random UUID v4 text, and the check for ids a client sends.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

thread_local! {
    // xorshift128+ seeded once per thread from the OS (through RandomState):
    // a request id needs to be unique, not secret, and a syscall per request
    // would cost more than the rest of the layer.
    static STATE: Cell<(u64, u64)> = Cell::new(seed());
}

fn seed() -> (u64, u64) {
    let mut a = RandomState::new().build_hasher();
    a.write_u64(0x9e37_79b9_7f4a_7c15);
    let mut b = RandomState::new().build_hasher();
    b.write_usize(std::process::id() as usize);
    (a.finish() | 1, b.finish() | 2)
}

fn next() -> u64 {
    STATE.with(|s| {
        let (mut x, y) = s.get();
        x ^= x << 23;
        let z = x ^ y ^ (x >> 17) ^ (y >> 26);
        s.set((y, z));
        z.wrapping_add(y)
    })
}

/// A random UUID v4 as lowercase hex with dashes, in one allocation.
pub(crate) fn new_uuid_v4() -> Arc<str> {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_le_bytes());
    bytes[8..].copy_from_slice(&next().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0xf)];
        at += 2;
    }
    Arc::from(std::str::from_utf8(&out).expect("hex digits and dashes are ASCII"))
}

/// Whether a client's `x-request-id` may be used as the transaction id:
/// 1 to 64 characters of `[A-Za-z0-9._-]`, so it can never forge a line.
pub(crate) fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_version_and_variant() {
        let id = new_uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(
            id.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
            }),
            "{id}"
        );
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(new_uuid_v4(), id);
    }

    #[test]
    fn only_safe_client_ids_are_accepted() {
        assert!(acceptable("abc-123_x.y"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("a b"));
        assert!(!acceptable("a\nb"));
        assert!(!acceptable("x]y"));
    }
}
