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
//! does not match.
//!
//! Over the leaf hashes, the log is an RFC 6962 Merkle tree:
//!
//! - [`merkle_root`] and the streaming [`MerkleBuilder`] compute its root (RFC 6962 §2.1);
//! - [`inclusion_proof`] / [`verify_inclusion`] show that one entry is in the log without
//!   handing over the rest (RFC 6962 §2.1.1, RFC 9162 §2.1.3.2);
//! - [`consistency_proof`] / [`verify_consistency`] show that a later log only appended to an
//!   earlier one (RFC 6962 §2.1.2, RFC 9162 §2.1.4.2);
//! - a [`Checkpoint`] (size, Merkle root, chain head) is signed with Ed25519 as a C2SP
//!   `tlog-checkpoint` / `signed-note` text ([`Checkpoint::sign`],
//!   [`Checkpoint::parse_and_verify`]); keys are kept as C2SP key texts ([`encode_skey`],
//!   [`decode_skey`], [`encode_vkey`], [`decode_vkey`]).
//!
//! The byte-for-byte formats are documented in `docs/audit-format.md`.
//!
//! The crate is pure and synchronous: it knows nothing about the database.

mod canonical;
mod chain;
mod checkpoint;
mod merkle;
mod note;
mod personal;
mod proof;

pub use canonical::{
    canonical, canonical_v1, canonical_v2, commitment, LogEntry, Personal, ACTOR_TAG,
    CANONICAL_V1_VERSION, CANONICAL_V2_VERSION, COMMITMENT_PREFIX, PERSONAL_TAG, SALT_LEN,
};
pub use chain::{
    chain_hash, leaf_hash, verify_chain, ChainFault, ChainFaultKind, Hash, GENESIS,
    LEAF_HASH_PREFIX,
};
pub use checkpoint::{Checkpoint, CheckpointError, CHAIN_EXTENSION_PREFIX};
pub use merkle::{merkle_root, node_hash, MerkleBuilder, EMPTY_ROOT, NODE_HASH_PREFIX};
pub use note::{
    decode_skey, decode_vkey, encode_skey, encode_vkey, generate_key, key_id, open_note, sign_note,
    validate_key_name, KeyError, NoteError, ED25519_ALGORITHM, MAX_SIGNATURES,
    SIGNATURE_LINE_PREFIX, SKEY_PREFIX,
};
pub use personal::{join_personal, split_personal, PersonalError, PERSONAL_KEYS};
pub use proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, ProofError,
};

/// Re-export of the Ed25519 key types used by [`Checkpoint`] and the key texts.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
