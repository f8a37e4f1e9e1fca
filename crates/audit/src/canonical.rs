//! `canonical_v1`: the versioned, unambiguous byte encoding of one transition-log entry.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use uuid::Uuid;

/// The first byte of every `canonical_v1` encoding: the format version.
pub const CANONICAL_V1_VERSION: u8 = 0x01;

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
    let mut out = Vec::with_capacity(
        256 + e.payload_json.len() + e.rule_codes.iter().map(|c| c.len() + 4).sum::<usize>(),
    );
    out.push(CANONICAL_V1_VERSION);
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
    put_str(&mut out, tag::ACTOR, Some(e.actor));
    put_str(&mut out, tag::ROLE, Some(e.role));
    put_rule_codes(&mut out, tag::RULE_CODES, e.rule_codes);
    put_str(&mut out, tag::PAYLOAD_JSON, Some(e.payload_json));
    let date = e.effective_date.format("%Y-%m-%d").to_string();
    put_str(&mut out, tag::EFFECTIVE_DATE, Some(&date));
    let at = e.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true);
    put_str(&mut out, tag::RECORDED_AT, Some(&at));
    put_str(&mut out, tag::IDEMPOTENCY_KEY, e.idempotency_key);
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
    match v {
        Some(s) => {
            put_header(out, tag, s.len());
            out.extend_from_slice(s.as_bytes());
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
