//! Ed25519 keys and signed notes in the C2SP `signed-note` format.
//!
//! A signed note is a text ending in a newline, a blank line, then one or more signature
//! lines `— <key name> <base64(key ID (4 bytes, big-endian) ‖ signature)>`, where `—` is the
//! em dash U+2014. The signature covers the text including its final newline, not the blank
//! line. Keys are written as text: the verifier key (`vkey`)
//! `<name>+<key ID, 8 hex digits>+<base64(0x01 ‖ 32-byte public key)>` and the signer key
//! (`skey`) `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte private seed)>`.
//!
//! Sources: C2SP `signed-note` (<https://c2sp.org/signed-note>) and its reference
//! implementation `golang.org/x/mod/sumdb/note`, whose published example key and note the
//! tests reproduce byte for byte.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

/// The signature-type byte of Ed25519 in C2SP `signed-note` key IDs and key texts.
pub const ED25519_ALGORITHM: u8 = 0x01;

/// The prefix of every signature line: em dash (U+2014) and a space.
pub const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// The prefix of a signer key text.
pub const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// The most signature lines [`open_note`] accepts (the limit of the Go reference
/// implementation; C2SP `signed-note` lets verifiers reject notes with more).
pub const MAX_SIGNATURES: usize = 100;

/// Why a key name or key text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key name is empty or contains whitespace, a control character or `+`
    /// (C2SP `signed-note`: "non-empty, well-formed UTF-8 containing neither Unicode spaces
    /// nor plus").
    #[error("invalid key name (must be non-empty, without spaces, control characters or '+')")]
    InvalidName,
    /// A signer key text does not start with `PRIVATE+KEY+`.
    #[error("not a private key (expected the prefix PRIVATE+KEY+)")]
    NotPrivateKey,
    /// The key text does not have exactly three `+`-separated fields after the prefix.
    #[error("malformed key text (expected name+keyid+base64)")]
    WrongFieldCount,
    /// The key ID field is not exactly 8 hexadecimal digits.
    #[error("malformed key ID (expected 8 hexadecimal digits)")]
    BadKeyId,
    /// The key field is not standard base64 (RFC 4648 §4, padded).
    #[error("key is not valid base64")]
    BadBase64,
    /// The key's first byte is not [`ED25519_ALGORITHM`].
    #[error("unknown key algorithm {0:#04x} (only Ed25519, 0x01, is supported)")]
    UnknownAlgorithm(u8),
    /// The key, after its algorithm byte, is not 32 bytes.
    #[error("Ed25519 key has {0} bytes, expected 32")]
    WrongKeyLength(usize),
    /// The 32 bytes are not a valid Ed25519 public key (not a point on the curve).
    #[error("not a valid Ed25519 public key")]
    InvalidPublicKey,
    /// The stated key ID is not the one computed from the name and key.
    #[error("key ID {stated:08x} does not match the key (computed {computed:08x})")]
    KeyIdMismatch {
        /// The key ID written in the text.
        stated: u32,
        /// The key ID computed by [`key_id`].
        computed: u32,
    },
}

/// Why a note cannot be signed, or a signed note is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The key name is invalid.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The text to sign is empty or does not end with a newline.
    #[error("note text must be non-empty and end with a newline")]
    BadText,
    /// The note contains an ASCII control character other than newline (C2SP
    /// `signed-note`: "MUST NOT contain any ASCII control characters … other than newline").
    #[error("note contains a control character other than newline")]
    ControlCharacter,
    /// The note is not `text ‖ "\n" ‖ signature lines` as C2SP `signed-note` defines.
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("signed note has more than {MAX_SIGNATURES} signature lines")]
    TooManySignatures,
    /// No signature line is from the expected key (same name and key ID); signatures of
    /// other keys are ignored, as C2SP `signed-note` requires.
    #[error("no signature by key {name} ({key_id:08x})")]
    NoSignatureFromKey {
        /// The expected key name.
        name: String,
        /// The expected key ID.
        key_id: u32,
    },
    /// The signature line of the expected key does not verify: the text was altered or the
    /// signature forged. The whole note is refused.
    #[error("signature by key {name} ({key_id:08x}) does not verify")]
    BadSignature {
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
    },
}

/// Check a key name: non-empty, no Unicode whitespace, no control character, no `+`
/// (C2SP `signed-note`, "Signatures").
///
/// # Errors
/// [`KeyError::InvalidName`].
pub fn validate_key_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
    {
        return Err(KeyError::InvalidName);
    }
    Ok(())
}

/// The key ID of an Ed25519 key: the first 4 bytes, big-endian, of
/// `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)` (C2SP `signed-note`, "Signature
/// types"). It does not validate the name.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_ALGORITHM]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A new Ed25519 signing key from the operating system's random source.
///
/// The key's bytes are wiped from memory when it is dropped (`ed25519-dalek`'s `zeroize`).
pub fn generate_key() -> SigningKey {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    key
}

/// The signer key text `PRIVATE+KEY+<name>+<key ID, 8 lowercase hex>+<base64(0x01 ‖ seed)>`
/// of `key` (the format of `golang.org/x/mod/sumdb/note`'s `GenerateKey`). It is secret:
/// write it to a file of mode 0600, never to a log.
///
/// # Errors
/// [`KeyError::InvalidName`].
pub fn encode_skey(key: &SigningKey, name: &str) -> Result<String, KeyError> {
    validate_key_name(name)?;
    let id = key_id(name, &key.verifying_key());
    let mut raw = [0u8; 33];
    raw[0] = ED25519_ALGORITHM;
    raw[1..].copy_from_slice(key.as_bytes());
    let text = format!("{SKEY_PREFIX}{name}+{id:08x}+{}", BASE64.encode(raw));
    raw.fill(0);
    Ok(text)
}

/// The verifier key text `<name>+<key ID, 8 lowercase hex>+<base64(0x01 ‖ public key)>`
/// (C2SP `signed-note` "vkey"). Public: give it to auditors.
///
/// # Errors
/// [`KeyError::InvalidName`].
pub fn encode_vkey(key: &VerifyingKey, name: &str) -> Result<String, KeyError> {
    validate_key_name(name)?;
    let id = key_id(name, key);
    let mut raw = [0u8; 33];
    raw[0] = ED25519_ALGORITHM;
    raw[1..].copy_from_slice(key.as_bytes());
    Ok(format!("{name}+{id:08x}+{}", BASE64.encode(raw)))
}

/// Strip one trailing line ending (`\n` or `\r\n`), as a key file's last line has.
fn strip_line_ending(text: &str) -> &str {
    text.strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text)
}

/// Split `name+keyid+base64` into its parts, checking the name and the key ID digits.
fn split_key_text(text: &str) -> Result<(&str, u32, [u8; 32]), KeyError> {
    // The base64 field may itself contain '+': split at the first two only.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::WrongFieldCount);
    };
    validate_key_name(name)?;
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::BadKeyId);
    }
    let stated = u32::from_str_radix(id_hex, 16).map_err(|_| KeyError::BadKeyId)?;
    let raw = BASE64.decode(b64).map_err(|_| KeyError::BadBase64)?;
    let Some((&alg, key)) = raw.split_first() else {
        return Err(KeyError::WrongKeyLength(0));
    };
    if alg != ED25519_ALGORITHM {
        return Err(KeyError::UnknownAlgorithm(alg));
    }
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| KeyError::WrongKeyLength(key.len()))?;
    Ok((name, stated, key))
}

/// Parse a signer key text written by [`encode_skey`] (one trailing newline is allowed).
/// Returns the key name and the signing key; the key ID must match the key derived from the
/// seed.
///
/// # Errors
/// [`KeyError::NotPrivateKey`], [`KeyError::WrongFieldCount`], [`KeyError::InvalidName`],
/// [`KeyError::BadKeyId`], [`KeyError::BadBase64`], [`KeyError::UnknownAlgorithm`],
/// [`KeyError::WrongKeyLength`], [`KeyError::KeyIdMismatch`].
pub fn decode_skey(text: &str) -> Result<(String, SigningKey), KeyError> {
    let rest = strip_line_ending(text)
        .strip_prefix(SKEY_PREFIX)
        .ok_or(KeyError::NotPrivateKey)?;
    let (name, stated, mut seed) = split_key_text(rest)?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let computed = key_id(name, &key.verifying_key());
    if stated != computed {
        return Err(KeyError::KeyIdMismatch { stated, computed });
    }
    Ok((name.to_owned(), key))
}

/// Parse a verifier key text written by [`encode_vkey`] (one trailing newline is allowed).
/// Returns the key name and the verifying key; the key ID must match.
///
/// # Errors
/// [`KeyError::WrongFieldCount`], [`KeyError::InvalidName`], [`KeyError::BadKeyId`],
/// [`KeyError::BadBase64`], [`KeyError::UnknownAlgorithm`], [`KeyError::WrongKeyLength`],
/// [`KeyError::InvalidPublicKey`], [`KeyError::KeyIdMismatch`].
pub fn decode_vkey(text: &str) -> Result<(String, VerifyingKey), KeyError> {
    let (name, stated, raw) = split_key_text(strip_line_ending(text))?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::InvalidPublicKey)?;
    let computed = key_id(name, &key);
    if stated != computed {
        return Err(KeyError::KeyIdMismatch { stated, computed });
    }
    Ok((name.to_owned(), key))
}

/// Sign `text` with `key` under `name`: returns `text ‖ "\n" ‖ "— <name> <base64(key ID ‖
/// signature)>\n"`, the C2SP signed note with one signature. Ed25519 is deterministic
/// (RFC 8032), so the same key and text always give the same note.
///
/// # Errors
/// [`NoteError::Key`] for an invalid name; [`NoteError::BadText`] if `text` is empty or does
/// not end with a newline; [`NoteError::ControlCharacter`] if it contains a control character
/// other than newline.
pub fn sign_note(text: &str, key: &SigningKey, name: &str) -> Result<String, NoteError> {
    validate_key_name(name)?;
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::BadText);
    }
    if has_forbidden_control(text) {
        return Err(NoteError::ControlCharacter);
    }
    let id = key_id(name, &key.verifying_key());
    let signature = key.sign(text.as_bytes());
    let mut blob = Vec::with_capacity(4 + 64);
    blob.extend_from_slice(&id.to_be_bytes());
    blob.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{text}\n{SIGNATURE_LINE_PREFIX}{name} {}\n",
        BASE64.encode(blob)
    ))
}

fn has_forbidden_control(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 && b != b'\n')
}

/// Verify a signed note against one trusted key and return its text (including the final
/// newline, without the blank line and signatures).
///
/// As C2SP `signed-note` and `golang.org/x/mod/sumdb/note`'s `Open`: the text is everything
/// up to the last blank line; every signature line must be well-formed
/// (`— <valid name> <base64 of at least 5 bytes>`); lines of other keys (another name or key
/// ID) are ignored; the first line of the expected key decides: it must verify (Ed25519,
/// strict: non-canonical or small-order values are refused), else the whole note is refused.
///
/// # Errors
/// [`NoteError::Key`] for an invalid `name`; [`NoteError::ControlCharacter`];
/// [`NoteError::Malformed`]; [`NoteError::TooManySignatures`];
/// [`NoteError::NoSignatureFromKey`]; [`NoteError::BadSignature`].
pub fn open_note<'a>(note: &'a str, key: &VerifyingKey, name: &str) -> Result<&'a str, NoteError> {
    validate_key_name(name)?;
    if has_forbidden_control(note) {
        return Err(NoteError::ControlCharacter);
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let text = &note[..=split];
    let signatures = &note[split + 2..];
    let lines = signatures
        .strip_suffix('\n')
        .ok_or(NoteError::Malformed("signatures do not end with a newline"))?;
    if lines.is_empty() {
        return Err(NoteError::Malformed("no signature lines"));
    }
    let want_id = key_id(name, key);
    let mut count = 0usize;
    let mut ours: Option<Vec<u8>> = None;
    for line in lines.split('\n') {
        count += 1;
        if count > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let rest = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .ok_or(NoteError::Malformed(
                "signature line does not start with '— '",
            ))?;
        let (line_name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed(
            "signature line has no space after the key name",
        ))?;
        if validate_key_name(line_name).is_err() {
            return Err(NoteError::Malformed("invalid key name in a signature line"));
        }
        let blob = BASE64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature is not valid base64"))?;
        if blob.len() < 5 {
            return Err(NoteError::Malformed("signature is shorter than 5 bytes"));
        }
        let line_id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
        if ours.is_none() && line_name == name && line_id == want_id {
            ours = Some(blob);
        }
    }
    let Some(blob) = ours else {
        return Err(NoteError::NoSignatureFromKey {
            name: name.to_owned(),
            key_id: want_id,
        });
    };
    let bad = || NoteError::BadSignature {
        name: name.to_owned(),
        key_id: want_id,
    };
    let signature = Signature::from_slice(&blob[4..]).map_err(|_| bad())?;
    key.verify_strict(text.as_bytes(), &signature)
        .map_err(|_| bad())?;
    Ok(text)
}
