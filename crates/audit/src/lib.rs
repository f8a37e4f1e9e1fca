//! Tuanji audit: the canonical encoding of a transition-log entry and its leaf and chain hashes.
//!
//! Every change to a member is recorded as one entry of the append-only transition log
//! (see `ARCHITECTURE.md`, "Audit"). Each entry is hashed twice:
//!
//! - its **leaf hash** `SHA-256(0x00 ‖ canonical_v1(entry))` — the RFC 6962 §2.1 leaf hash of the
//!   entry's canonical bytes ([`canonical_v1`], [`leaf_hash`]);
//! - its **chain hash** `SHA-256(prev_chain ‖ leaf)`, where the entry with `seq` 1 chains onto
//!   [`GENESIS`] ([`chain_hash`]).
//!
//! [`verify_chain`] recomputes both for a run of stored entries and names the first `seq` that
//! does not match. The byte-for-byte format is documented in `docs/audit-format.md`.
//!
//! The crate is pure and synchronous: it knows nothing about the database.

mod canonical;
mod chain;

pub use canonical::{canonical_v1, LogEntry, CANONICAL_V1_VERSION};
pub use chain::{
    chain_hash, leaf_hash, verify_chain, ChainFault, ChainFaultKind, Hash, GENESIS,
    LEAF_HASH_PREFIX,
};
