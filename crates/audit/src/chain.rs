//! Leaf and chain hashes, and verification of a stored run of entries.

use sha2::{Digest, Sha256};

use crate::canonical::{canonical, LogEntry};

/// A SHA-256 digest (32 bytes), as stored in `transition_log.leaf_hash` and `chain_hash`.
pub type Hash = [u8; 32];

/// The `prev` chain value of the entry with `seq` 1: 32 zero bytes.
pub const GENESIS: Hash = [0u8; 32];

/// The domain-separation byte prefixed to leaf data (RFC 6962 §2.1: `0x00` for leaves,
/// `0x01` for interior Merkle nodes).
pub const LEAF_HASH_PREFIX: u8 = 0x00;

/// The leaf hash of an entry: `SHA-256(0x00 ‖ canonical(e))` (RFC 6962 §2.1 leaf hash), where `canonical` is
/// `canonical_v1` or `canonical_v2` as [`LogEntry::personal`] selects.
pub fn leaf_hash(e: &LogEntry) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_HASH_PREFIX]);
    h.update(canonical(e));
    h.finalize().into()
}

/// The chain hash of an entry: `SHA-256(prev ‖ leaf)`, where `prev` is the chain hash of the
/// entry before it ([`GENESIS`] for `seq` 1) and `leaf` its [`leaf_hash`].
pub fn chain_hash(prev: &Hash, leaf: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(leaf);
    h.finalize().into()
}

/// What is wrong with the first bad entry found by [`verify_chain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainFaultKind {
    /// The recomputed leaf hash differs from the stored one: the entry's fields were altered
    /// after it was appended (or the stored leaf hash was).
    LeafMismatch,
    /// The leaf matches but the recomputed chain hash differs from the stored one: the stored
    /// chain hash was altered, or entries were reordered, removed or inserted before this one
    /// with their leaf hashes recomputed.
    ChainMismatch,
    /// The entry's `seq` is not the previous `seq` + 1 (the first must be 1): an entry is
    /// missing, duplicated or out of order. `expected` is the `seq` that should have come here.
    SeqGap {
        /// The `seq` expected at this position.
        expected: i64,
    },
}

impl std::fmt::Display for ChainFaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainFaultKind::LeafMismatch => f.write_str("leaf hash mismatch"),
            ChainFaultKind::ChainMismatch => f.write_str("chain hash mismatch"),
            ChainFaultKind::SeqGap { expected } => {
                write!(f, "sequence gap (expected seq {expected})")
            }
        }
    }
}

/// The first entry at which [`verify_chain`] found the log inconsistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("transition log fails verification at seq {seq}: {kind}")]
pub struct ChainFault {
    /// The `seq` of the offending entry, as stored.
    pub seq: i64,
    /// What is wrong with it.
    pub kind: ChainFaultKind,
}

/// Recompute the leaf and chain hashes of a run of stored entries, from [`GENESIS`].
///
/// `entries` yields `(entry, stored leaf hash, stored chain hash)` in log order, starting with
/// `seq` 1. Each entry is checked in turn, in this order:
///
/// 1. its `seq` is the previous `seq` + 1 (1 for the first), else [`ChainFaultKind::SeqGap`];
/// 2. [`leaf_hash`] equals the stored leaf, else [`ChainFaultKind::LeafMismatch`];
/// 3. [`chain_hash`] of the previous stored chain hash and the leaf equals the stored chain,
///    else [`ChainFaultKind::ChainMismatch`].
///
/// Returns the number of entries checked (0 for an empty log), or the first fault. Iteration
/// stops at the first fault, so a lazy iterator over a large log is read only that far.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = (LogEntry<'a>, Hash, Hash)>,
) -> Result<u64, ChainFault> {
    let mut prev = GENESIS;
    let mut expected: i64 = 1;
    let mut checked: u64 = 0;
    for (entry, stored_leaf, stored_chain) in entries {
        let seq = entry.seq;
        if seq != expected {
            return Err(ChainFault {
                seq,
                kind: ChainFaultKind::SeqGap { expected },
            });
        }
        if leaf_hash(&entry) != stored_leaf {
            return Err(ChainFault {
                seq,
                kind: ChainFaultKind::LeafMismatch,
            });
        }
        let chain = chain_hash(&prev, &stored_leaf);
        if chain != stored_chain {
            return Err(ChainFault {
                seq,
                kind: ChainFaultKind::ChainMismatch,
            });
        }
        prev = chain;
        expected = expected.saturating_add(1);
        checked += 1;
    }
    Ok(checked)
}
