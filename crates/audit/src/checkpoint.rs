//! Signed checkpoints of the transition log in the C2SP `tlog-checkpoint` text format.
//!
//! A checkpoint fixes the log at one size: its RFC 6962 Merkle root and its chain
//! head, signed with the register's Ed25519 key kept outside the database. Auditors keep
//! checkpoint files; a later log must be consistent with them.
//!
//! The note text is (C2SP `tlog-checkpoint`, "Note text", with one extension line):
//!
//! ```text
//! <origin>\n
//! <tree size, ASCII decimal>\n
//! <base64 Merkle root>\n
//! chain <base64 chain head>\n
//! ```
//!
//! signed as a C2SP `signed-note` ([`crate::sign_note`]).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::chain::Hash;
use crate::note::{open_note, sign_note, NoteError};

/// The prefix of the extension line carrying the chain head: `chain <base64 chain hash>`.
pub const CHAIN_EXTENSION_PREFIX: &str = "chain ";

/// One checkpoint of the transition log: the state of the log after `size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, the note's first line (C2SP `tlog-checkpoint`: unique per log,
    /// conventionally a schema-less URL, and usually also the signing key's name). Non-empty,
    /// without control characters.
    pub origin: String,
    /// The tree size: the number of entries covered, i.e. the `seq` of the last one.
    pub size: u64,
    /// The RFC 6962 Merkle tree hash of the first `size` leaf hashes ([`crate::merkle_root`]).
    pub root: Hash,
    /// The chain hash of the entry with `seq = size` ([`crate::GENESIS`] for size 0).
    pub chain_head: Hash,
}

/// Why a checkpoint cannot be signed, or a signed checkpoint is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The origin is empty or contains a control character (a newline would change the
    /// lines of the note).
    #[error("invalid checkpoint origin (must be non-empty, without control characters)")]
    InvalidOrigin,
    /// The signed-note layer refused the note (malformed, no signature from the key, bad
    /// signature, invalid key name).
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The note text does not end with a newline, has an empty line, or has fewer than the
    /// three mandatory lines.
    #[error("malformed checkpoint text: {0}")]
    Malformed(&'static str),
    /// The second line is not a tree size: ASCII decimal digits without sign or leading
    /// zero ("0" itself is allowed), at most `u64::MAX`.
    #[error("malformed tree size line")]
    BadSize,
    /// The third line is not the standard base64 of 32 bytes.
    #[error("malformed root hash line (expected base64 of 32 bytes)")]
    BadRoot,
    /// No `chain ` extension line.
    #[error("checkpoint has no 'chain' extension line")]
    MissingChainHead,
    /// More than one `chain ` extension line.
    #[error("checkpoint has more than one 'chain' extension line")]
    DuplicateChainHead,
    /// The `chain ` line is not followed by the standard base64 of 32 bytes.
    #[error("malformed chain head line (expected 'chain ' and base64 of 32 bytes)")]
    BadChainHead,
}

fn decode_hash(b64: &str) -> Option<Hash> {
    let raw = BASE64.decode(b64).ok()?;
    raw.try_into().ok()
}

fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    let digits_only = !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = line.len() > 1 && line.starts_with('0');
    if !digits_only || leading_zero {
        return Err(CheckpointError::BadSize);
    }
    line.parse().map_err(|_| CheckpointError::BadSize)
}

impl Checkpoint {
    /// Check the origin: non-empty, no control character.
    ///
    /// # Errors
    /// [`CheckpointError::InvalidOrigin`].
    pub fn validate(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() || self.origin.chars().any(char::is_control) {
            return Err(CheckpointError::InvalidOrigin);
        }
        Ok(())
    }

    /// The note text: `origin\n`, `size\n` (decimal), `base64(root)\n`,
    /// `chain base64(chain_head)\n` (standard base64 with padding, RFC 4648 §4).
    ///
    /// Does not check the origin ([`Checkpoint::validate`] does; [`Checkpoint::sign`] calls it).
    pub fn to_note_body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{CHAIN_EXTENSION_PREFIX}{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root),
            BASE64.encode(self.chain_head)
        )
    }

    /// Parse a note text (already verified, e.g. returned by [`crate::open_note`]).
    ///
    /// Strict on the three C2SP lines (size without leading zeros, hashes of exactly 32
    /// bytes in canonical padded base64); requires exactly one `chain ` extension line and
    /// ignores other extension lines, as C2SP `tlog-checkpoint` lets clients do.
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`], [`CheckpointError::InvalidOrigin`],
    /// [`CheckpointError::BadSize`], [`CheckpointError::BadRoot`],
    /// [`CheckpointError::MissingChainHead`], [`CheckpointError::DuplicateChainHead`],
    /// [`CheckpointError::BadChainHead`].
    pub fn from_note_body(body: &str) -> Result<Self, CheckpointError> {
        let body = body.strip_suffix('\n').ok_or(CheckpointError::Malformed(
            "text does not end with a newline",
        ))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.iter().any(|l| l.is_empty()) {
            return Err(CheckpointError::Malformed("empty line"));
        }
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::Malformed("fewer than three lines"));
        };
        let size = parse_size(size)?;
        let root = decode_hash(root).ok_or(CheckpointError::BadRoot)?;
        let mut chain_head = None;
        for line in extensions {
            if let Some(b64) = line.strip_prefix(CHAIN_EXTENSION_PREFIX) {
                if chain_head.is_some() {
                    return Err(CheckpointError::DuplicateChainHead);
                }
                chain_head = Some(decode_hash(b64).ok_or(CheckpointError::BadChainHead)?);
            }
        }
        let checkpoint = Checkpoint {
            origin: (*origin).to_owned(),
            size,
            root,
            chain_head: chain_head.ok_or(CheckpointError::MissingChainHead)?,
        };
        checkpoint.validate()?;
        Ok(checkpoint)
    }

    /// The full signed checkpoint: [`Checkpoint::to_note_body`], a blank line and one
    /// signature line `— <key_name> <base64(key ID ‖ Ed25519 signature)>` ([`crate::sign_note`]).
    ///
    /// # Errors
    /// [`CheckpointError::InvalidOrigin`]; [`CheckpointError::Note`] with
    /// [`NoteError::Key`] for an invalid key name.
    pub fn sign(&self, key: &SigningKey, key_name: &str) -> Result<String, CheckpointError> {
        self.validate()?;
        Ok(sign_note(&self.to_note_body(), key, key_name)?)
    }

    /// Verify a signed checkpoint against the trusted key `key` named `key_name`
    /// ([`crate::open_note`]) and parse its text ([`Checkpoint::from_note_body`]).
    ///
    /// Signatures by other keys are ignored; the note must carry a valid signature by this
    /// key. Only the signed text is parsed, so nothing unsigned reaches the result.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] (malformed note, no signature by this key, bad signature),
    /// then the errors of [`Checkpoint::from_note_body`].
    pub fn parse_and_verify(
        text: &str,
        key: &VerifyingKey,
        key_name: &str,
    ) -> Result<Self, CheckpointError> {
        let body = open_note(text, key, key_name)?;
        Self::from_note_body(body)
    }
}
