//! `canonical_v1` and `canonical_v2`: the versioned, unambiguous byte encodings of one transition-log entry.
//!
//! `canonical_v2` differs from v1 only in how personal data enters the leaf: the actor and the payload's personal
//! fields are replaced by salted commitments ([`commitment`]), so a leaf hash (in an export or a proof) cannot be
//! brute-forced back to a name or an ID number, and an entry can be disclosed with its personal fields withheld.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::chain::Hash;

/// The first byte of every `canonical_v1` encoding: the format version.
pub const CANONICAL_V1_VERSION: u8 = 0x01;

/// The first byte of every `canonical_v2` encoding: the format version.
pub const CANONICAL_V2_VERSION: u8 = 0x02;

/// The domain-separation byte of a salted commitment (leaves use `0x00`, Merkle nodes `0x01`).
pub const COMMITMENT_PREFIX: u8 = 0x02;

/// Length of the per-entry salt of `canonical_v2`, in bytes.
pub const SALT_LEN: usize = 32;

/// The length written in place of a value for an absent optional field (`None`).
const NONE_LENGTH: u32 = 0xFFFF_FFFF;

/// Field tags of `canonical_v1`: the 0-based index of the field in [`LogEntry`].
mod tag {
    pub const SEQ: u8 = 0;
    pub const ENTRY_ID: u8 = 1;
    pub const INSTANCE_ID: u8 = 2;
    pub const PERSON_ID: u8 = 3;
    pub const ORG_ID: u8 = 4;
    pub const WORKFLOW: u8 = 5;
    pub const WORKFLOW_VERSION: u8 = 6;
    pub const DEFINITION_SHA256: u8 = 7;
    pub const FROM_STATE: u8 = 8;
    pub const TO_STATE: u8 = 9;
    pub const COMMAND: u8 = 10;
    pub const ACTOR: u8 = 11;
    pub const ROLE: u8 = 12;
    pub const RULE_CODES: u8 = 13;
    pub const PAYLOAD_JSON: u8 = 14;
    pub const EFFECTIVE_DATE: u8 = 15;
    pub const RECORDED_AT: u8 = 16;
    pub const IDEMPOTENCY_KEY: u8 = 17;
    pub const PERSONAL: u8 = 18;
}

/// The field tag of the actor (`11`), as used in its commitment.
pub const ACTOR_TAG: u8 = tag::ACTOR;

/// The field tag of the personal fields (`18`, `canonical_v2` only), as used in their commitment.
pub const PERSONAL_TAG: u8 = tag::PERSONAL;

/// How the personal data of an entry enters its leaf.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Personal<'a> {
    /// `canonical_v1`: the actor and the whole payload are hashed in clear (entries written before v2).
    Clear,
    /// `canonical_v2` with the opening: the entry's 32-byte salt and its personal fields as stored (a JSON object of
    /// JSON Pointer → value, `None` when the payload had none). The actor is [`LogEntry::actor`].
    Open {
        /// The entry's salt (random, 32 bytes).
        salt: &'a [u8; SALT_LEN],
        /// The personal fields as stored JSON text, hashed as-is.
        personal_json: Option<&'a str>,
    },
    /// `canonical_v2` disclosed without the personal data: the two commitments only. [`LogEntry::actor`] is ignored.
    Committed {
        /// [`commitment`] of the actor.
        actor: Hash,
        /// [`commitment`] of the personal fields, `None` when there were none.
        personal: Option<Hash>,
    },
}

impl Personal<'_> {
    /// The actor's and the personal fields' commitments (`canonical_v2`), `None` for [`Personal::Clear`].
    pub fn commitments(&self, actor: &str) -> Option<(Hash, Option<Hash>)> {
        match *self {
            Personal::Clear => None,
            Personal::Open {
                salt,
                personal_json,
            } => Some((
                commitment(salt, ACTOR_TAG, actor.as_bytes()),
                personal_json.map(|p| commitment(salt, PERSONAL_TAG, p.as_bytes())),
            )),
            Personal::Committed { actor, personal } => Some((actor, personal)),
        }
    }
}

impl std::fmt::Debug for Personal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the salt nor the personal values are printed.
        match self {
            Personal::Clear => f.write_str("Clear"),
            Personal::Open { personal_json, .. } => f
                .debug_struct("Open")
                .field(
                    "personal_json",
                    &personal_json.map(|p| format!("<{} bytes>", p.len())),
                )
                .finish_non_exhaustive(),
            Personal::Committed { actor, personal } => f
                .debug_struct("Committed")
                .field("actor", &hex::encode(actor))
                .field("personal", &personal.map(hex::encode))
                .finish(),
        }
    }
}

/// A salted commitment to one field: `SHA-256(0x02 ‖ salt (32 bytes) ‖ tag (1 byte) ‖ value)`.
///
/// Without the salt, the commitment reveals nothing about a low-entropy value (an 18-digit ID number has about
/// 10^7 plausible values once its masked digits are known); with it, anyone can check a disclosed value.
pub fn commitment(salt: &[u8; SALT_LEN], tag: u8, value: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([COMMITMENT_PREFIX]);
    h.update(salt);
    h.update([tag]);
    h.update(value);
    h.finalize().into()
}

/// One transition-log entry as it is hashed. All fields exactly as stored in `transition_log`.
///
/// The fields appear in the encoding in declaration order; their tags are their 0-based index
/// (`seq` = 0 … `idempotency_key` = 17). See `docs/audit-format.md`.
///
/// `Debug` does not print `payload_json` (it may carry personal data), only its length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LogEntry<'a> {
    /// Position in the log: dense, starting at 1.
    pub seq: i64,
    /// The entry's own identifier.
    pub entry_id: Uuid,
    /// The workflow instance the transition belongs to.
    pub instance_id: Uuid,
    /// The person (member or applicant) concerned, if any.
    pub person_id: Option<Uuid>,
    /// The organisation concerned, if any.
    pub org_id: Option<Uuid>,
    /// Workflow name, e.g. `admission`.
    pub workflow: &'a str,
    /// Workflow version the instance runs on (encoded as an 8-byte i64).
    pub workflow_version: i32,
    /// Hex SHA-256 of the workflow definition file, as stored.
    pub definition_sha256: &'a str,
    /// State before the transition.
    pub from_state: &'a str,
    /// State after the transition.
    pub to_state: &'a str,
    /// The command that caused the transition.
    pub command: &'a str,
    /// Who issued the command (principal identifier as stored).
    pub actor: &'a str,
    /// The role the actor acted in, e.g. `committee_admin`.
    pub role: &'a str,
    /// Rule codes checked for this transition (e.g. `ADM_AGE_MIN`), in stored order.
    pub rule_codes: &'a [String],
    /// The command payload as stored JSON text (hashed as-is, not re-serialised).
    pub payload_json: &'a str,
    /// Effective date: the calendar date (China Standard Time) the transition takes effect.
    pub effective_date: NaiveDate,
    /// Server time the entry was recorded; encoded to microsecond precision (finer digits are
    /// truncated, so stores must keep at least microseconds).
    pub recorded_at: DateTime<Utc>,
    /// The client's idempotency key, if it sent one.
    pub idempotency_key: Option<&'a str>,
    /// How the actor and the personal fields enter the leaf: [`Personal::Clear`] selects `canonical_v1`, the other
    /// variants `canonical_v2`.
    pub personal: Personal<'a>,
}

impl std::fmt::Debug for LogEntry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogEntry")
            .field("seq", &self.seq)
            .field("entry_id", &self.entry_id)
            .field("instance_id", &self.instance_id)
            .field("person_id", &self.person_id)
            .field("org_id", &self.org_id)
            .field("workflow", &self.workflow)
            .field("workflow_version", &self.workflow_version)
            .field("definition_sha256", &self.definition_sha256)
            .field("from_state", &self.from_state)
            .field("to_state", &self.to_state)
            .field("command", &self.command)
            .field("actor", &self.actor)
            .field("role", &self.role)
            .field("rule_codes", &self.rule_codes)
            .field(
                "payload_json",
                &format_args!("<{} bytes>", self.payload_json.len()),
            )
            .field("effective_date", &self.effective_date)
            .field("recorded_at", &self.recorded_at)
            .field("idempotency_key", &self.idempotency_key)
            .field("personal", &self.personal)
            .finish()
    }
}

/// Encode an entry as `canonical_v1` bytes.
///
/// Layout: the version byte `0x01`, then every field of [`LogEntry`] in declaration order as
/// `tag (1 byte, the field's 0-based index) ‖ length (4 bytes, big-endian u32) ‖ value`:
///
/// - integers (`seq`, `workflow_version`): length 8, the value as a big-endian `i64`;
/// - UUIDs: length 16, the 16 raw bytes (RFC 9562 byte order);
/// - `None`: length `0xFFFFFFFF` and no value bytes; `Some(x)` is encoded like `x`;
/// - strings: the UTF-8 bytes;
/// - `rule_codes`: a 4-byte big-endian count, then each code as 4-byte length ‖ UTF-8;
///   the outer length covers all of it;
/// - `effective_date`: `YYYY-MM-DD` (chrono `%Y-%m-%d`);
/// - `recorded_at`: RFC 3339 in UTC with exactly six fractional digits and `Z`,
///   e.g. `2026-11-30T10:47:56.123456Z` (digits below the microsecond are dropped).
///
/// A value of 4 GiB − 1 bytes or more cannot be length-prefixed; such an entry must be refused
/// before it is appended (its length is written as `0xFFFFFFFE`, which no longer decodes
/// unambiguously). The function itself never fails or panics.
pub fn canonical_v1(e: &LogEntry) -> Vec<u8> {
    encode(e, None)
}

/// Encode an entry as `canonical_v2` bytes, given the commitments of its actor and personal fields.
///
/// Layout: the version byte `0x02`, then the fields of [`canonical_v1`] with the same tags and rules, except that
/// tag 11 (`actor`) carries the 32-byte actor commitment instead of the actor, and a last field, tag 18
/// (`personal`), carries the 32-byte commitment of the personal fields or `None`. `payload_json` is the payload
/// with its personal fields removed, as stored. See [`commitment`] and `docs/audit-format.md`.
pub fn canonical_v2(e: &LogEntry, actor: &Hash, personal: Option<&Hash>) -> Vec<u8> {
    encode(e, Some((actor, personal)))
}

/// Encode an entry in the version its [`LogEntry::personal`] selects (`canonical_v1` or `canonical_v2`).
pub fn canonical(e: &LogEntry) -> Vec<u8> {
    match e.personal.commitments(e.actor) {
        None => canonical_v1(e),
        Some((actor, personal)) => canonical_v2(e, &actor, personal.as_ref()),
    }
}

fn encode(e: &LogEntry, v2: Option<(&Hash, Option<&Hash>)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        256 + e.payload_json.len() + e.rule_codes.iter().map(|c| c.len() + 4).sum::<usize>(),
    );
    out.push(match v2 {
        None => CANONICAL_V1_VERSION,
        Some(_) => CANONICAL_V2_VERSION,
    });
    put_i64(&mut out, tag::SEQ, e.seq);
    put_uuid(&mut out, tag::ENTRY_ID, Some(e.entry_id));
    put_uuid(&mut out, tag::INSTANCE_ID, Some(e.instance_id));
    put_uuid(&mut out, tag::PERSON_ID, e.person_id);
    put_uuid(&mut out, tag::ORG_ID, e.org_id);
    put_str(&mut out, tag::WORKFLOW, Some(e.workflow));
    put_i64(
        &mut out,
        tag::WORKFLOW_VERSION,
        i64::from(e.workflow_version),
    );
    put_str(&mut out, tag::DEFINITION_SHA256, Some(e.definition_sha256));
    put_str(&mut out, tag::FROM_STATE, Some(e.from_state));
    put_str(&mut out, tag::TO_STATE, Some(e.to_state));
    put_str(&mut out, tag::COMMAND, Some(e.command));
    match v2 {
        None => put_str(&mut out, tag::ACTOR, Some(e.actor)),
        Some((actor, _)) => put_bytes(&mut out, tag::ACTOR, Some(actor)),
    }
    put_str(&mut out, tag::ROLE, Some(e.role));
    put_rule_codes(&mut out, tag::RULE_CODES, e.rule_codes);
    put_str(&mut out, tag::PAYLOAD_JSON, Some(e.payload_json));
    let date = e.effective_date.format("%Y-%m-%d").to_string();
    put_str(&mut out, tag::EFFECTIVE_DATE, Some(&date));
    let at = e.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true);
    put_str(&mut out, tag::RECORDED_AT, Some(&at));
    put_str(&mut out, tag::IDEMPOTENCY_KEY, e.idempotency_key);
    if let Some((_, personal)) = v2 {
        put_bytes(&mut out, tag::PERSONAL, personal.map(|p| p.as_slice()));
    }
    out
}

/// A length as 4 big-endian bytes; lengths that do not fit below the `None` marker saturate
/// to `0xFFFFFFFE` (documented on [`canonical_v1`]).
fn len_bytes(len: usize) -> [u8; 4] {
    u32::try_from(len)
        .ok()
        .filter(|&l| l != NONE_LENGTH)
        .unwrap_or(NONE_LENGTH - 1)
        .to_be_bytes()
}

fn put_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    out.extend_from_slice(&len_bytes(len));
}

fn put_none(out: &mut Vec<u8>, tag: u8) {
    out.push(tag);
    out.extend_from_slice(&NONE_LENGTH.to_be_bytes());
}

fn put_i64(out: &mut Vec<u8>, tag: u8, v: i64) {
    put_header(out, tag, 8);
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_uuid(out: &mut Vec<u8>, tag: u8, v: Option<Uuid>) {
    match v {
        Some(u) => {
            put_header(out, tag, 16);
            out.extend_from_slice(u.as_bytes());
        }
        None => put_none(out, tag),
    }
}

fn put_str(out: &mut Vec<u8>, tag: u8, v: Option<&str>) {
    put_bytes(out, tag, v.map(str::as_bytes));
}

fn put_bytes(out: &mut Vec<u8>, tag: u8, v: Option<&[u8]>) {
    match v {
        Some(b) => {
            put_header(out, tag, b.len());
            out.extend_from_slice(b);
        }
        None => put_none(out, tag),
    }
}

fn put_rule_codes(out: &mut Vec<u8>, tag: u8, codes: &[String]) {
    let body_len = 4 + codes.iter().map(|c| 4 + c.len()).sum::<usize>();
    put_header(out, tag, body_len);
    out.extend_from_slice(&len_bytes(codes.len()));
    for code in codes {
        out.extend_from_slice(&len_bytes(code.len()));
        out.extend_from_slice(code.as_bytes());
    }
}
