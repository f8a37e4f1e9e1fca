//! Audit use cases (ARCHITECTURE.md "Audit", docs/audit-format.md): signing keys, signed checkpoints of the
//! transition log, full verification (leaves, chain, Merkle roots, signatures, a trusted checkpoint, and a
//! replay of every instance through the workflow tables), inclusion proofs, and the export of a selection of
//! the log.
//!
//! The log is an RFC 6962 Merkle tree over the leaf hashes `SHA-256(0x00 ‖ canonical_v1(entry))`, hash-chained
//! entry by entry; a checkpoint (size, root, chain head) is a C2SP `tlog-checkpoint` note signed with Ed25519.

use crate::{Engine, EngineError, EngineResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tuanji_audit::{
    chain_hash, decode_skey, decode_vkey, encode_skey, encode_vkey, generate_key, inclusion_proof,
    validate_key_name, verify_inclusion, Checkpoint, Hash, MerkleBuilder, VerifyingKey, GENESIS,
};
use tuanji_store::{
    leaf_of, CheckpointRow, InstanceRow, LogFilter, LogRow, Store, StoreError, StoreTx,
};
use tuanji_workflow::admission::AdmissionData;
use tuanji_workflow::relation::{CheckpointRef, RelationData, RelationStep};
use tuanji_workflow::standing::{StandingData, StandingStep};
use tuanji_workflow::{evaluation::EvaluationData, party::PartyData};
use tuanji_workflow::{HISTORY, NEW};
use uuid::Uuid;

/// The origin line of Tuanji's checkpoints unless `TUANJI_LOG_ORIGIN` names another (C2SP: a unique name of
/// the log, conventionally a schema-less URL).
pub const DEFAULT_ORIGIN: &str = "tuanji.local/transition-log";

/// Entries read per database round trip while verifying or proving.
const BATCH: i64 = 10_000;

/// What is wrong with the log, found by [`Engine::audit_verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A stored entry's fields no longer hash to its stored leaf hash.
    AlteredField,
    /// An entry is missing: the sequence has a gap, or the log ends before its head or a checkpoint.
    MissingEntry,
    /// An entry sits at another position than the one it was written at.
    Reordered,
    /// An entry that was never appended through the log head (beyond the head, or with a forged chain).
    Inserted,
    /// The chain hash does not follow from the previous chain hash and the leaf.
    ChainBroken,
    /// A stored checkpoint's root or chain head differs from the log's.
    CheckpointMismatch,
    /// A checkpoint's signature does not verify, or its key is unknown.
    BadSignature,
    /// The auditor's trusted checkpoint is not a prefix of this log.
    TrustedInconsistent,
    /// An entry records a transition the workflow table does not allow.
    TransitionNotAllowed,
    /// A stored projection (instance state, version or data) differs from the replay of the log.
    ProjectionDrift,
}

/// The first fault found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// The first bad log position, when the fault is in the log.
    pub seq: Option<i64>,
    /// The checkpoint concerned, when the fault is in a checkpoint.
    pub checkpoint: Option<i64>,
    /// What is wrong.
    pub kind: FaultKind,
    /// Details.
    pub detail: String,
}

/// The result of [`Engine::audit_verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: i64,
    /// Stored checkpoints verified.
    pub checkpoints: usize,
    /// Instances replayed and compared.
    pub instances: usize,
    /// The Merkle root of the whole log (hex).
    pub root: String,
    /// `None` when everything verified.
    pub fault: Option<Fault>,
}

/// The version of the inclusion-proof file: 2 (entries carry their canonical version and commitments).
pub const PROOF_VERSION: u32 = 2;

/// An inclusion proof as written by `tuanji audit prove` and read by `tuanji audit check-proof`: the signed
/// checkpoint, the entry, and the audit path from its leaf to the checkpoint's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Format version: [`PROOF_VERSION`].
    pub version: u32,
    /// The signed checkpoint text (C2SP tlog-checkpoint).
    pub checkpoint: String,
    /// Name of the key that signed it.
    pub key_name: String,
    /// 0-based leaf index (`seq − 1`).
    pub index: u64,
    /// Tree size of the checkpoint.
    pub size: u64,
    /// The entry, as stored.
    pub entry: ProofEntry,
    /// Leaf hash of the entry (hex).
    pub leaf_hash: String,
    /// Audit path, leaf to root (hex hashes).
    pub path: Vec<String>,
}

/// The fields of a log entry that its leaf hash covers (docs/audit-format.md). A `canonical_v2` entry is disclosed
/// without its personal data: the actor and the payload's personal fields appear only as their salted
/// commitments, which the leaf hash covers, so the proof shows the transition without naming anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofEntry {
    /// The canonical encoding of the entry: 1 (`canonical_v1`) or 2 (`canonical_v2`).
    pub canonical: u8,
    /// Sequence number.
    pub seq: i64,
    /// Entry id.
    pub entry_id: Uuid,
    /// Instance.
    pub instance_id: Uuid,
    /// Person.
    pub person_id: Option<Uuid>,
    /// Organisation.
    pub org_id: Option<Uuid>,
    /// Workflow.
    pub workflow: String,
    /// Workflow version.
    pub workflow_version: i32,
    /// Definition hash (hex text).
    pub definition_sha256: String,
    /// From state.
    pub from_state: String,
    /// To state.
    pub to_state: String,
    /// Command.
    pub command: String,
    /// Actor (`canonical_v1` only; a v2 entry gives [`ProofEntry::actor_commitment`]).
    pub actor: Option<String>,
    /// Commitment of the actor, hex (`canonical_v2`).
    pub actor_commitment: Option<String>,
    /// Role.
    pub role: String,
    /// Rule codes.
    pub rule_codes: Vec<String>,
    /// Payload JSON text, exactly as hashed (for `canonical_v2`, without its personal fields).
    pub payload: String,
    /// Commitment of the payload's personal fields, hex (`canonical_v2`, when it had any).
    pub personal_commitment: Option<String>,
    /// Effective date.
    pub effective_date: chrono::NaiveDate,
    /// Recording time (UTC, microseconds).
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
}

impl ProofEntry {
    fn of(row: &LogRow) -> Result<Self, StoreError> {
        let salt = row.salt32()?;
        let commitments = salt.as_ref().map(|salt| {
            tuanji_audit::Personal::Open {
                salt,
                personal_json: row.personal.as_deref(),
            }
            .commitments(&row.actor)
        });
        let (actor, actor_commitment, personal_commitment) = match commitments.flatten() {
            Some((a, p)) => (None, Some(hex::encode(a)), p.map(hex::encode)),
            None => (Some(row.actor.clone()), None, None),
        };
        Ok(ProofEntry {
            canonical: if salt.is_some() { 2 } else { 1 },
            seq: row.seq,
            entry_id: row.entry_id,
            instance_id: row.instance_id,
            person_id: row.person_id,
            org_id: row.org_id,
            workflow: row.workflow.clone(),
            workflow_version: row.workflow_version,
            definition_sha256: row.definition_sha256.clone(),
            from_state: row.from_state.clone(),
            to_state: row.to_state.clone(),
            command: row.command.clone(),
            actor,
            actor_commitment,
            role: row.role.clone(),
            rule_codes: row.rule_code_list()?,
            payload: row.payload.clone(),
            personal_commitment,
            effective_date: row.effective_date,
            recorded_at: row.recorded_at,
            idempotency_key: row.idempotency_key.clone(),
        })
    }

    /// The leaf hash of these fields.
    ///
    /// # Errors
    /// [`EngineError::Input`] if the fields do not match the encoding they name (a v1 entry without its actor, a
    /// v2 entry without its actor commitment, a commitment that is not 32 bytes of hex, an unknown version).
    pub fn leaf(&self) -> Result<Hash, EngineError> {
        let bad =
            |what: &str| EngineError::Input(format!("the proof's entry {}: {what}", self.seq));
        let commitment = |h: &str| -> Result<Hash, EngineError> {
            hex::decode(h)
                .ok()
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .ok_or_else(|| bad("a commitment is not 64 hex digits"))
        };
        let (actor, personal) = match (self.canonical, &self.actor, &self.actor_commitment) {
            (1, Some(actor), None) if self.personal_commitment.is_none() => {
                (actor.as_str(), tuanji_audit::Personal::Clear)
            }
            (2, None, Some(a)) => (
                "",
                tuanji_audit::Personal::Committed {
                    actor: commitment(a)?,
                    personal: self
                        .personal_commitment
                        .as_deref()
                        .map(commitment)
                        .transpose()?,
                },
            ),
            (1 | 2, _, _) => {
                return Err(bad("its actor fields do not match its canonical version"))
            }
            (v, _, _) => return Err(bad(&format!("unknown canonical version {v}"))),
        };
        Ok(tuanji_audit::leaf_hash(&tuanji_audit::LogEntry {
            seq: self.seq,
            entry_id: self.entry_id,
            instance_id: self.instance_id,
            person_id: self.person_id,
            org_id: self.org_id,
            workflow: &self.workflow,
            workflow_version: self.workflow_version,
            definition_sha256: &self.definition_sha256,
            from_state: &self.from_state,
            to_state: &self.to_state,
            command: &self.command,
            actor,
            role: &self.role,
            rule_codes: &self.rule_codes,
            payload_json: &self.payload,
            effective_date: self.effective_date,
            recorded_at: self.recorded_at,
            idempotency_key: self.idempotency_key.as_deref(),
            personal,
        }))
    }
}

/// A hint when a private key file was given where the public key text belongs.
fn private_hint(text: &str) -> &'static str {
    if text.trim_start().starts_with(tuanji_audit::SKEY_PREFIX) {
        " (this is a private key: give the public key text `tuanji audit keygen` printed, never the private key)"
    } else {
        ""
    }
}

/// The leaf hash of a stored row as its fields give it; `None` when its salt or rule codes are malformed (an
/// altered row).
fn row_leaf(row: &LogRow) -> Option<Hash> {
    let codes = row.rule_code_list().ok()?;
    let salt = row.salt32().ok()?;
    Some(leaf_of(row, &codes, salt.as_ref()))
}

fn hash32(bytes: &[u8], what: &str) -> Result<Hash, EngineError> {
    bytes
        .try_into()
        .map_err(|_| EngineError::Store(StoreError::Corrupt(format!("{what} is not 32 bytes"))))
}

fn unhex(s: &str, what: &str) -> EngineResult<Hash> {
    let v = hex::decode(s).map_err(|e| EngineError::Input(format!("{what}: not hex: {e}")))?;
    v.as_slice()
        .try_into()
        .map_err(|_| EngineError::Input(format!("{what}: not 32 bytes")))
}

/// The origin line of new checkpoints.
pub fn origin() -> String {
    std::env::var("TUANJI_LOG_ORIGIN")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ORIGIN.to_owned())
}

/// Writes a private key file readable by its owner only (mode 0600); refuses to overwrite.
fn write_private(path: &Path, text: &str) -> EngineResult<()> {
    use std::io::Write as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(|e| {
        EngineError::Input(format!(
            "cannot create the key file {}: {e}",
            path.display()
        ))
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| EngineError::Input(format!("cannot write {}: {e}", path.display())))
}

/// Reads a private key file; refuses one that others can read (like ssh).
pub fn read_private(path: &Path) -> EngineResult<(String, tuanji_audit::SigningKey)> {
    let meta = std::fs::metadata(path).map_err(|e| {
        EngineError::Input(format!("cannot read the key file {}: {e}", path.display()))
    })?;
    if !meta.is_file() {
        return Err(EngineError::Input(format!(
            "the key file {} is not a regular file",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(EngineError::Input(format!(
                "the key file {} has mode {mode:o}; others may read it. Run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(|e| {
        EngineError::Input(format!("cannot read the key file {}: {e}", path.display()))
    })?;
    decode_skey(text.trim()).map_err(|e| {
        EngineError::Input(format!(
            "{} is not a Tuanji signing key: {e}",
            path.display()
        ))
    })
}

/// A signing key the engine uses for automatic checkpoints (`TUANJI_AUDIT_KEY`).
#[derive(Debug, Clone)]
pub struct Signer {
    /// Key name (as registered by `audit keygen`).
    pub name: String,
    /// The private key.
    pub key: tuanji_audit::SigningKey,
    /// Take a checkpoint after this many new entries.
    pub every: Option<i64>,
    /// Take a checkpoint when this many minutes have passed since the last one (and entries were appended).
    pub minutes: Option<i64>,
}

impl Signer {
    /// Reads the private key file (see [`read_private`]).
    ///
    /// Errors: [`EngineError::Input`] for an unreadable, malformed or too open key file, or a period below 1.
    pub fn from_file(path: &Path, every: Option<i64>, minutes: Option<i64>) -> EngineResult<Self> {
        if every.is_some_and(|n| n < 1) || minutes.is_some_and(|m| m < 1) {
            return Err(EngineError::Input(
                "checkpoint periods must be at least 1".into(),
            ));
        }
        let (name, key) = read_private(path)?;
        Ok(Signer {
            name,
            key,
            every,
            minutes,
        })
    }
}

/// Per-instance state of the replay during verification.
struct Replayed {
    workflow: String,
    person_id: Option<Uuid>,
    state: String,
    version: i64,
    last_seq: i64,
    data: Option<Data>,
}

/// An instance's data as the replay rebuilds it, typed, so each entry applies its step in place.
#[derive(Debug, PartialEq)]
enum Data {
    Admission(AdmissionData),
    Relation(RelationData),
    Standing(StandingData),
    Evaluation(EvaluationData),
    Party(PartyData),
    /// audit v1: the recorded step is the record.
    Raw(serde_json::Value),
}

impl Data {
    /// Whether the stored data text (an instance's `data`) equals this replay, compared through the type so that
    /// field order and defaults do not matter.
    fn matches(&self, stored: &str) -> bool {
        fn same<T: serde::de::DeserializeOwned + PartialEq>(stored: &str, d: &T) -> bool {
            serde_json::from_str::<T>(stored).ok().as_ref() == Some(d)
        }
        match self {
            Data::Admission(d) => same(stored, d),
            Data::Relation(d) => same(stored, d),
            Data::Standing(d) => same(stored, d),
            Data::Evaluation(d) => same(stored, d),
            Data::Party(d) => same(stored, d),
            Data::Raw(v) => same(stored, v),
        }
    }
}

/// The step of an entry: read straight from the payload text when the entry has no personal fields (the common
/// case), else from the payload with its personal fields put back.
fn step_of<T: serde::de::DeserializeOwned>(row: &LogRow) -> Result<T, StoreError> {
    #[derive(Deserialize)]
    struct Envelope<T> {
        step: T,
    }
    let corrupt =
        |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("log seq {}: {e}", row.seq));
    match row.personal {
        None => serde_json::from_str::<Envelope<T>>(&row.payload)
            .map(|e| e.step)
            .map_err(|e| corrupt(&e)),
        Some(_) => {
            let mut payload = row.payload_value()?;
            let step = payload
                .get_mut("step")
                .map(serde_json::Value::take)
                .unwrap_or(serde_json::Value::Null);
            serde_json::from_value(step).map_err(|e| corrupt(&e))
        }
    }
}

impl<S: Store> Engine<S> {
    /// Creates a signing key `name`: writes the private key to `out` (mode 0600, never overwritten), stores the
    /// public key in the database and returns it (C2SP vkey text).
    ///
    /// Errors: [`EngineError::Input`] for an invalid name (C2SP: no spaces or `+`), a key name already stored,
    /// or a file that exists or cannot be written.
    pub async fn audit_keygen(&self, name: &str, out: &Path) -> EngineResult<String> {
        validate_key_name(name)
            .map_err(|e| EngineError::Input(format!("key name `{name}`: {e}")))?;
        let mut tx = self.store().begin().await?;
        if tx.audit_key(name).await?.is_some() {
            return Err(EngineError::Input(format!(
                "a key named `{name}` is already registered; choose another name"
            )));
        }
        let key = generate_key();
        let skey = encode_skey(&key, name).map_err(|e| EngineError::Input(e.to_string()))?;
        let vkey = encode_vkey(&key.verifying_key(), name)
            .map_err(|e| EngineError::Input(e.to_string()))?;
        write_private(out, &format!("{skey}\n"))?;
        if let Err(e) = tx.insert_audit_key(name, &vkey).await {
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
        if let Err(e) = tx.commit().await {
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
        Ok(vkey)
    }

    /// Takes a signed checkpoint of the log as it is now with the private key in `key_file`.
    ///
    /// Errors: [`EngineError::Input`] when the key file is unreadable, readable by others, or its key is not the
    /// one registered under its name.
    pub async fn audit_checkpoint(
        &self,
        key_file: &Path,
        reason: &str,
    ) -> EngineResult<CheckpointRow> {
        let signer = Signer::from_file(key_file, None, None)?;
        let mut tx = self.store().begin().await?;
        let row = self.checkpoint_in(&mut tx, &signer, reason).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Takes a checkpoint inside an open write transaction (its entries so far included).
    pub(crate) async fn checkpoint_in(
        &self,
        tx: &mut S::Tx,
        signer: &Signer,
        reason: &str,
    ) -> EngineResult<CheckpointRow> {
        let name = &signer.name;
        let stored = tx.audit_key(name).await?.ok_or_else(|| {
            EngineError::Input(format!(
                "no key named `{name}` is registered; run `tuanji audit keygen`"
            ))
        })?;
        let (_, vk) = decode_vkey(&stored)
            .map_err(|e| EngineError::Store(StoreError::Corrupt(e.to_string())))?;
        if vk != signer.key.verifying_key() {
            return Err(EngineError::Input(format!(
                "the signing key differs from the one registered as `{name}`"
            )));
        }
        let (size, chain) = tx.log_head().await?;
        let last = tx.last_checkpoint().await?;
        // Continue the tree from the last checkpoint's frontier when it is sound (its root is the stored root),
        // so a checkpoint hashes only the entries after the last one; else from the first entry.
        let mut tree = last
            .as_ref()
            .filter(|c| c.size <= size)
            .and_then(|c| {
                let hashes: Vec<Hash> = c
                    .frontier
                    .as_deref()?
                    .chunks(32)
                    .map(|h| h.try_into().ok())
                    .collect::<Option<_>>()?;
                MerkleBuilder::from_frontier(c.size as u64, &hashes)
                    .filter(|b| b.root().as_slice() == c.root.as_slice())
            })
            .unwrap_or_default();
        self.extend_tree(tx, &mut tree, size).await?;
        let root = tree.root();
        let chain = hash32(&chain, "log_head.chain_hash")?;
        let cp = Checkpoint {
            origin: origin(),
            size: size as u64,
            root,
            chain_head: chain,
        };
        let note = cp
            .sign(&signer.key, name)
            .map_err(|e| EngineError::Input(e.to_string()))?;
        let id = last.map_or(1, |c| c.id + 1);
        let row = CheckpointRow {
            id,
            size,
            root: root.to_vec(),
            chain_head: chain.to_vec(),
            key_name: name.clone(),
            note,
            reason: reason.to_owned(),
            created_at: tuanji_store::__now_micros(),
            frontier: Some(tree.frontier().concat()),
        };
        tx.insert_checkpoint(&row).await?;
        Ok(row)
    }

    /// With a signer configured ([`Engine::with_signer`]): takes a checkpoint when `every` entries were appended
    /// since the last one (reason `every_n`) or `minutes` have passed with new entries (reason `every_t`).
    /// Returns the checkpoint taken, if any.
    ///
    /// Errors: as [`Engine::audit_checkpoint`].
    pub async fn maybe_checkpoint(&self) -> EngineResult<Option<CheckpointRow>> {
        let Some(signer) = self.signer.clone() else {
            return Ok(None);
        };
        let mut tx = self.store().begin().await?;
        let (size, _) = tx.log_head().await?;
        let last = tx.last_checkpoint().await?;
        let last_size = last.as_ref().map_or(0, |c| c.size);
        if size == last_size {
            return Ok(None);
        }
        let reason = if signer.every.is_some_and(|n| size - last_size >= n) {
            "every_n"
        } else if signer.minutes.is_some_and(|m| {
            last.as_ref()
                .is_none_or(|c| (chrono::Utc::now() - c.created_at).num_minutes() >= m)
        }) {
            "every_t"
        } else {
            return Ok(None);
        };
        let row = self.checkpoint_in(&mut tx, &signer, reason).await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Takes a signed checkpoint of the log as it is now (reason `on_demand`) with the signing key the engine was
    /// configured with ([`Engine::with_signer`]; `tuanji serve` reads it from `TUANJI_AUDIT_KEY`), for the HTTP
    /// API, which holds no key file of its own.
    ///
    /// Errors: [`EngineError::Conflict`] when no signing key is configured; otherwise as
    /// [`Engine::audit_checkpoint`].
    pub async fn audit_checkpoint_configured(&self) -> EngineResult<CheckpointRow> {
        let signer = self.signer.clone().ok_or_else(|| {
            EngineError::Conflict(
                "this server has no signing key (TUANJI_AUDIT_KEY is not set): take the checkpoint with \
                 `tuanji audit checkpoint --key FILE`, or restart the server with the key"
                    .into(),
            )
        })?;
        let mut tx = self.store().begin().await?;
        let row = self.checkpoint_in(&mut tx, &signer, "on_demand").await?;
        tx.commit().await?;
        Ok(row)
    }

    /// [`Engine::maybe_checkpoint`] after a committed command: the command stands either way, so a failed
    /// checkpoint is reported as a warning naming the command to run, not as the command's error.
    pub(crate) async fn checkpoint_after_commit(&self) {
        if let Err(e) = self.maybe_checkpoint().await {
            tracing::warn!(error = %e, "the automatic checkpoint failed; run `tuanji audit checkpoint`");
        }
    }

    /// The checkpoint a completed transfer records: a fresh one when a signer is configured (reason
    /// `transfer`), else the latest stored one, if any.
    pub(crate) async fn transfer_checkpoint(
        &self,
        tx: &mut S::Tx,
    ) -> EngineResult<Option<CheckpointRef>> {
        let row = match self.signer.clone() {
            Some(signer) => Some(self.checkpoint_in(tx, &signer, "transfer").await?),
            None => tx.last_checkpoint().await?,
        };
        Ok(row.map(|c| CheckpointRef {
            id: c.id,
            size: c.size,
            root: hex::encode(&c.root),
        }))
    }

    /// The stored checkpoints, oldest first.
    ///
    /// Errors: store errors.
    pub async fn audit_checkpoints(&self) -> EngineResult<Vec<CheckpointRow>> {
        let mut tx = self.store().begin_read().await?;
        Ok(tx.checkpoints().await?)
    }

    /// Pushes the stored leaf hashes of entries `tree.size() + 1 ..= size` onto `tree`.
    async fn extend_tree(
        &self,
        tx: &mut S::Tx,
        tree: &mut MerkleBuilder,
        size: i64,
    ) -> EngineResult<()> {
        let mut after = tree.size() as i64;
        while after < size {
            let rows = tx.log_leaves(after, BATCH.min(size - after)).await?;
            if rows.is_empty() {
                break;
            }
            for (seq, leaf) in &rows {
                tree.push(hash32(leaf, &format!("leaf of seq {seq}"))?);
                after = *seq;
            }
        }
        Ok(())
    }

    /// Verifies the whole log: every leaf recomputed from the row's fields, the chain, the dense sequence and the
    /// head, the Merkle root and signature of every stored checkpoint, the auditor's `trusted` checkpoint (text
    /// and the verifying key text it is signed with), and a replay of every entry through the workflow tables
    /// compared with the stored instances. Stops at the first fault. `progress(done, total)` reports entries.
    ///
    /// Errors: [`EngineError::Input`] for a trusted checkpoint or key that does not parse or verify; store errors.
    pub async fn audit_verify(
        &self,
        trusted: Option<(&str, &str)>,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> EngineResult<VerifyReport> {
        let trusted = match trusted {
            Some((note, vkey)) => {
                let (name, vk) = decode_vkey(vkey.trim()).map_err(|e| {
                    EngineError::Input(format!(
                        "the trusted key does not parse: {e}{}",
                        private_hint(vkey)
                    ))
                })?;
                Some(Checkpoint::parse_and_verify(note, &vk, &name).map_err(|e| {
                    EngineError::Input(format!("the trusted checkpoint does not verify: {e}"))
                })?)
            }
            None => None,
        };
        let mut tx = self.store().begin_read().await?;
        let (head, head_chain) = tx.log_head().await?;
        let checkpoints = tx.checkpoints().await?;
        let mut keys: HashMap<String, (String, VerifyingKey)> = HashMap::new();
        // The last readable seq before a row that no longer decodes, and why it does not.
        let mut unreadable: Option<(i64, String)> = None;
        let mut seen_v2 = false;
        let mut report = VerifyReport {
            entries: 0,
            checkpoints: 0,
            instances: 0,
            root: String::new(),
            fault: None,
        };
        let fault =
            |seq: Option<i64>, checkpoint: Option<i64>, kind: FaultKind, detail: String| Fault {
                seq,
                checkpoint,
                kind,
                detail,
            };
        let mut prev = GENESIS;
        let mut builder = MerkleBuilder::new();
        let mut cp_at = 0usize;
        let mut replay: HashMap<Uuid, Replayed> = HashMap::new();
        let mut after = 0i64;
        let total = head.max(0) as u64;
        progress(0, total);
        // Checkpoints of the empty log.
        'read: loop {
            while let Some(cp) = checkpoints
                .get(cp_at)
                .filter(|c| c.size == builder.size() as i64)
            {
                if let Some(f) = self
                    .check_checkpoint(&mut tx, cp, &builder.root(), &prev, &mut keys)
                    .await?
                {
                    report.fault = Some(f);
                    break 'read;
                }
                report.checkpoints += 1;
                cp_at += 1;
            }
            if let Some(t) = &trusted {
                if t.size == builder.size() && (t.root != builder.root() || t.chain_head != prev) {
                    report.fault = Some(fault(
                        Some(t.size as i64),
                        None,
                        FaultKind::TrustedInconsistent,
                        format!(
                            "the trusted checkpoint of size {} has another root or chain head than this log at that size: history was rewritten",
                            t.size
                        ),
                    ));
                    break;
                }
            }
            // Rows up to an unreadable one are verified first; then the fault is reported at it.
            if let Some((at, detail)) = &unreadable {
                if after >= *at {
                    report.fault = Some(fault(
                        Some(at + 1),
                        None,
                        FaultKind::AlteredField,
                        format!("the entry after seq {at} cannot be read: {detail}"),
                    ));
                    break 'read;
                }
            }
            let limit = unreadable
                .as_ref()
                .map_or(BATCH, |(at, _)| (at - after).min(BATCH));
            let rows = match tx
                .log(&LogFilter {
                    after_seq: Some(after),
                    limit: Some(limit),
                    ..LogFilter::default()
                })
                .await
            {
                Ok(rows) => rows,
                Err(e @ StoreError::Database(_)) if unreadable.is_none() => {
                    // A row whose columns no longer decode: find it, one row at a time.
                    let mut at = after;
                    let detail = loop {
                        let one = tx
                            .log(&LogFilter {
                                after_seq: Some(at),
                                limit: Some(1),
                                ..LogFilter::default()
                            })
                            .await;
                        match one {
                            Ok(r) if r.is_empty() => break e.to_string(),
                            Ok(r) => at = r[0].seq,
                            Err(e) => break e.to_string(),
                        }
                    };
                    unreadable = Some((at, detail));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if rows.is_empty() {
                break;
            }
            for (i, row) in rows.iter().enumerate() {
                let row = row.clone();
                let expected = after + 1;
                if row.seq != expected {
                    report.fault = Some(fault(
                        Some(expected),
                        None,
                        FaultKind::MissingEntry,
                        format!(
                            "entry {expected} is missing: the next stored entry is {}",
                            row.seq
                        ),
                    ));
                    break 'read;
                }
                // canonical_v2 since migration 0005: an entry without a salt after one with a salt was downgraded
                // to canonical_v1 (its actor and personal data in clear) and rehashed.
                if row.salt.is_some() {
                    seen_v2 = true;
                } else if seen_v2 {
                    report.fault = Some(fault(
                        Some(row.seq),
                        None,
                        FaultKind::AlteredField,
                        format!(
                            "entry {} is canonical_v1 after canonical_v2 entries: it was rewritten without its salt",
                            row.seq
                        ),
                    ));
                    break 'read;
                }
                let stored = row.leaf_hash.as_slice();
                let Some(leaf) = row_leaf(&row).filter(|l| l.as_slice() == stored) else {
                    // Written at another position? One later: the entry before it was deleted and the rest
                    // renumbered, unless the next stored entry was written here (a swap). One earlier: an entry
                    // was inserted before it and the rest renumbered.
                    let written_as = |r: &LogRow, seq: i64| {
                        let mut other = r.clone();
                        other.seq = seq;
                        row_leaf(&other).is_some_and(|l| l.as_slice() == r.leaf_hash.as_slice())
                    };
                    let (kind, detail) = if written_as(&row, row.seq + 1) {
                        if rows
                            .get(i + 1)
                            .is_some_and(|next| written_as(next, row.seq))
                        {
                            (
                                FaultKind::Reordered,
                                format!(
                                    "entries {} and {} were swapped: each was written at the other's position",
                                    row.seq,
                                    row.seq + 1
                                ),
                            )
                        } else {
                            (
                                FaultKind::MissingEntry,
                                format!(
                                    "entry {} is missing: the entry stored at seq {} was written as seq {}, so the log was renumbered after a deletion",
                                    row.seq,
                                    row.seq,
                                    row.seq + 1
                                ),
                            )
                        }
                    } else if written_as(&row, row.seq - 1) {
                        (
                            FaultKind::Inserted,
                            format!(
                                "the entry stored at seq {} was written as seq {}: an entry was inserted before it and the log renumbered",
                                row.seq,
                                row.seq - 1
                            ),
                        )
                    } else {
                        (
                            FaultKind::AlteredField,
                            format!(
                                "the fields of entry {} ({} `{}`) no longer hash to its stored leaf hash: a field was altered",
                                row.seq, row.workflow, row.command
                            ),
                        )
                    };
                    report.fault = Some(fault(Some(row.seq), None, kind, detail));
                    break 'read;
                };
                let chain = chain_hash(&prev, &leaf);
                if chain.as_slice() != row.chain_hash.as_slice() {
                    report.fault = Some(fault(
                        Some(row.seq),
                        None,
                        FaultKind::ChainBroken,
                        format!(
                            "the chain hash of entry {} does not follow from entry {}",
                            row.seq,
                            row.seq - 1
                        ),
                    ));
                    break 'read;
                }
                if row.seq > head {
                    report.fault = Some(fault(
                        Some(row.seq),
                        None,
                        FaultKind::Inserted,
                        format!("entry {} lies beyond the log head ({head}): it was not appended through the log", row.seq),
                    ));
                    break 'read;
                }
                let replayed = match self.replay_entry(&row, &mut replay) {
                    // A payload that hashes correctly but does not parse was rewritten with its hashes.
                    Err(EngineError::Store(StoreError::Corrupt(detail))) => {
                        Some(fault(Some(row.seq), None, FaultKind::AlteredField, detail))
                    }
                    other => other?,
                };
                if let Some(f) = replayed {
                    report.fault = Some(f);
                    break 'read;
                }
                prev = chain;
                builder.push(leaf);
                after = row.seq;
                report.entries += 1;
                while let Some(cp) = checkpoints
                    .get(cp_at)
                    .filter(|c| c.size == builder.size() as i64)
                {
                    if let Some(f) = self
                        .check_checkpoint(&mut tx, cp, &builder.root(), &prev, &mut keys)
                        .await?
                    {
                        report.fault = Some(f);
                        break 'read;
                    }
                    report.checkpoints += 1;
                    cp_at += 1;
                }
                if let Some(t) = &trusted {
                    if t.size == builder.size()
                        && (t.root != builder.root() || t.chain_head != prev)
                    {
                        report.fault = Some(fault(
                            Some(row.seq),
                            None,
                            FaultKind::TrustedInconsistent,
                            format!(
                                "the trusted checkpoint of size {} has another root or chain head than this log at that size: history was rewritten",
                                t.size
                            ),
                        ));
                        break 'read;
                    }
                }
            }
            progress(after as u64, total);
        }
        report.root = hex::encode(builder.root());
        if report.fault.is_none() {
            if after < head {
                report.fault = Some(fault(
                    Some(after + 1),
                    None,
                    FaultKind::MissingEntry,
                    format!("the log head says {head} entries but the log ends at {after}"),
                ));
            } else if head_chain.as_slice() != prev.as_slice() {
                report.fault = Some(fault(
                    Some(after),
                    None,
                    FaultKind::ChainBroken,
                    "the log head's chain hash is not the last entry's".into(),
                ));
            } else if let Some(cp) = checkpoints.get(cp_at) {
                report.fault = Some(fault(
                    Some(after + 1),
                    Some(cp.id),
                    FaultKind::MissingEntry,
                    format!(
                        "checkpoint {} covers {} entries but the log has {after}",
                        cp.id, cp.size
                    ),
                ));
            } else if let Some(t) = trusted.as_ref().filter(|t| t.size as i64 > after) {
                report.fault = Some(fault(
                    Some(after + 1),
                    None,
                    FaultKind::TrustedInconsistent,
                    format!("the trusted checkpoint covers {} entries but the log has only {after}: entries were removed", t.size),
                ));
            }
        }
        if report.fault.is_none() {
            let (n, f) = self.compare_projections(&mut tx, &replay).await?;
            report.instances = n;
            report.fault = f;
        }
        if report.fault.is_none() {
            report.fault = compare_members(&mut tx, &replay).await?;
        }
        progress(total, total);
        Ok(report)
    }

    async fn check_checkpoint(
        &self,
        tx: &mut S::Tx,
        cp: &CheckpointRow,
        root: &Hash,
        chain: &Hash,
        keys: &mut HashMap<String, (String, VerifyingKey)>,
    ) -> EngineResult<Option<Fault>> {
        let bad = |kind: FaultKind, detail: String| {
            Ok(Some(Fault {
                seq: Some(cp.size),
                checkpoint: Some(cp.id),
                kind,
                detail,
            }))
        };
        if !keys.contains_key(&cp.key_name) {
            match tx.audit_key(&cp.key_name).await? {
                Some(text) => match decode_vkey(&text) {
                    Ok(k) => {
                        keys.insert(cp.key_name.clone(), k);
                    }
                    Err(e) => {
                        return bad(
                            FaultKind::BadSignature,
                            format!("key `{}` does not parse: {e}", cp.key_name),
                        )
                    }
                },
                None => {
                    return bad(
                        FaultKind::BadSignature,
                        format!(
                            "checkpoint {} names the unknown key `{}`",
                            cp.id, cp.key_name
                        ),
                    )
                }
            }
        }
        let Some((name, vk)) = keys.get(&cp.key_name) else {
            return bad(
                FaultKind::BadSignature,
                format!("key `{}` is missing", cp.key_name),
            );
        };
        let parsed = match Checkpoint::parse_and_verify(&cp.note, vk, name) {
            Ok(p) => p,
            Err(e) => {
                return bad(
                    FaultKind::BadSignature,
                    format!("checkpoint {}: {e}", cp.id),
                )
            }
        };
        if parsed.size as i64 != cp.size
            || parsed.root.as_slice() != cp.root.as_slice()
            || parsed.chain_head.as_slice() != cp.chain_head.as_slice()
        {
            return bad(
                FaultKind::CheckpointMismatch,
                format!("checkpoint {}: the stored size, root or chain head differ from the signed text", cp.id),
            );
        }
        if parsed.root != *root || parsed.chain_head != *chain {
            return bad(
                FaultKind::CheckpointMismatch,
                format!("checkpoint {} (size {}) was signed over another log: its root or chain head differ", cp.id, cp.size),
            );
        }
        Ok(None)
    }

    /// Checks one entry against the workflow table and the instance's previous state, and applies it to the
    /// replayed data.
    fn replay_entry(
        &self,
        row: &LogRow,
        replay: &mut HashMap<Uuid, Replayed>,
    ) -> EngineResult<Option<Fault>> {
        let not_allowed = |detail: String| {
            Ok(Some(Fault {
                seq: Some(row.seq),
                checkpoint: None,
                kind: FaultKind::TransitionNotAllowed,
                detail,
            }))
        };
        let r = replay.entry(row.instance_id).or_insert_with(|| Replayed {
            workflow: row.workflow.clone(),
            person_id: row.person_id,
            state: NEW.to_owned(),
            version: 0,
            last_seq: 0,
            data: None,
        });
        if r.state != row.from_state || r.workflow != row.workflow {
            return not_allowed(format!(
                "entry {} starts {} `{}` from `{}`, but the instance was {} `{}`",
                row.seq, row.workflow, row.command, row.from_state, r.workflow, r.state
            ));
        }
        let Some(def) = self
            .registry()
            .get(&row.workflow, row.workflow_version as u32)
        else {
            return not_allowed(format!(
                "workflow {} v{} is not installed",
                row.workflow, row.workflow_version
            ));
        };
        if def.sha256 != row.definition_sha256 {
            return not_allowed(format!(
                "entry {} names a definition hash other than {} v{}'s",
                row.seq, def.name, def.version
            ));
        }
        // standing v1: the legacy import's payload `{"membership": …}` is its own step.
        let standing_step = match &row.workflow[..] {
            "standing" => {
                let payload = match row.payload_value() {
                    Ok(p) => p,
                    Err(e) => return not_allowed(e.to_string()),
                };
                let raw = payload.get("step").unwrap_or(&payload);
                Some(
                    StandingStep::from_log(&row.command, raw)
                        .map_err(|e| StoreError::Corrupt(format!("log seq {}: {e}", row.seq)))?,
                )
            }
            _ => None,
        };
        // Where a `history` transition returns: recorded in the relation's data, or (standing v1 `end_probation`,
        // StandingData::back_to, and `reinstate`, StandingData::reinstated_to) in the step.
        let return_to = match (&r.data, &standing_step) {
            (Some(Data::Relation(d)), _) => d.return_to.clone(),
            (_, Some(StandingStep::EndProbation { back_to, .. }))
            | (_, Some(StandingStep::Reinstate { back_to, .. })) => Some(back_to.clone()),
            _ => None,
        };
        match def.transition(&row.from_state, &row.command) {
            Ok(t) if t.to == row.to_state => {}
            Ok(t) if t.to == HISTORY && return_to.as_deref() == Some(row.to_state.as_str()) => {}
            _ => {
                return not_allowed(format!(
                    "entry {}: `{}` from `{}` to `{}` is not a transition of {} v{}",
                    row.seq, row.command, row.from_state, row.to_state, def.name, def.version
                ))
            }
        }
        let data = r.data.take();
        r.data = Some(match (&row.workflow[..], data) {
            ("admission", d) => {
                let mut d = match d {
                    Some(Data::Admission(d)) => d,
                    _ => AdmissionData::default(),
                };
                d.apply(&step_of(row)?);
                Data::Admission(d)
            }
            ("relation", d) => {
                let mut d = match d {
                    Some(Data::Relation(d)) => d,
                    _ => RelationData::default(),
                };
                d.apply(&row.from_state, &step_of::<RelationStep>(row)?);
                Data::Relation(d)
            }
            ("evaluation", d) => {
                let mut d = match d {
                    Some(Data::Evaluation(d)) => d,
                    _ => EvaluationData::default(),
                };
                d.apply(&row.from_state, &step_of(row)?);
                Data::Evaluation(d)
            }
            ("party_recommendation", d) => {
                let mut d = match d {
                    Some(Data::Party(d)) => d,
                    _ => PartyData::default(),
                };
                d.apply(&row.from_state, &step_of(row)?);
                Data::Party(d)
            }
            ("standing", d) => {
                let mut d = match d {
                    Some(Data::Standing(d)) => d,
                    _ => StandingData::default(),
                };
                if let Some(step) = &standing_step {
                    d.apply(&row.from_state, step);
                }
                Data::Standing(d)
            }
            // audit v1, and any other workflow: the instance's data is the recorded step.
            _ => Data::Raw(step_of(row)?),
        });
        r.state = row.to_state.clone();
        r.version += 1;
        r.last_seq = row.seq;
        Ok(None)
    }

    /// Compares every stored instance with its replay.
    async fn compare_projections(
        &self,
        tx: &mut S::Tx,
        replay: &HashMap<Uuid, Replayed>,
    ) -> EngineResult<(usize, Option<Fault>)> {
        let mut seen = 0usize;
        let mut after = None;
        loop {
            let page = tx.instances_page(after, BATCH).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for inst in &page {
                seen += 1;
                if let Some(f) = drift(inst, replay.get(&inst.id))? {
                    return Ok((seen, Some(f)));
                }
            }
        }
        // Evaluation rounds (one per branch and year) are stored apart from the person instances.
        let mut after = None;
        loop {
            let page = tx.evaluations_page(after, BATCH).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for e in page {
                seen += 1;
                let inst = InstanceRow {
                    id: e.id,
                    workflow: "evaluation".into(),
                    workflow_version: e.workflow_version,
                    definition_sha256: e.definition_sha256,
                    person_id: Uuid::nil(),
                    branch_id: e.branch_id,
                    state: e.state,
                    version: e.version,
                    data: e.data,
                    opened_on: e.opened_on,
                };
                if let Some(f) = drift(&inst, replay.get(&inst.id))? {
                    return Ok((seen, Some(f)));
                }
            }
        }
        // Audit entries (an unmasked export) have no projection: the entry is the record.
        let projected = replay.values().filter(|r| r.workflow != "audit").count();
        if seen != projected {
            let mut missing: Vec<&Replayed> = Vec::new();
            for (id, r) in replay.iter().filter(|(_, r)| r.workflow != "audit") {
                let stored = if r.workflow == "evaluation" {
                    tx.evaluation_by_id(*id).await?.is_some()
                } else {
                    tx.instance(*id).await?.is_some()
                };
                if !stored {
                    missing.push(r);
                }
            }
            if let Some(r) = missing.into_iter().min_by_key(|r| r.last_seq) {
                return Ok((
                    seen,
                    Some(Fault {
                        seq: Some(r.last_seq),
                        checkpoint: None,
                        kind: FaultKind::ProjectionDrift,
                        detail: format!(
                            "a {} instance in the log (last entry {}) is not stored",
                            r.workflow, r.last_seq
                        ),
                    }),
                ));
            }
        }
        Ok((seen, None))
    }

    /// An inclusion proof for entry `seq` against the latest stored checkpoint that covers it.
    ///
    /// Errors: [`EngineError::Input`] when no checkpoint covers `seq` (take one with `tuanji audit checkpoint`)
    /// or `seq` is not in the log.
    pub async fn audit_prove(&self, seq: i64) -> EngineResult<InclusionProof> {
        if seq < 1 {
            return Err(EngineError::Input(format!(
                "there is no entry {seq}: entries are numbered from 1"
            )));
        }
        let mut tx = self.store().begin_read().await?;
        let (size, _) = tx.log_head().await?;
        if seq > size {
            return Err(EngineError::Input(format!(
                "there is no entry {seq}: the log has {size} entries"
            )));
        }
        // The latest checkpoint is the largest: it covers the entry if any does.
        let cp = tx
            .last_checkpoint()
            .await?
            .filter(|c| c.size >= seq)
            .ok_or_else(|| {
                EngineError::Input(format!(
                    "no checkpoint covers entry {seq}; take one first: tuanji audit checkpoint --key FILE"
                ))
            })?;
        let mut leaves = Vec::with_capacity(cp.size as usize);
        let mut after = 0;
        while after < cp.size {
            let rows = tx.log_leaves(after, BATCH.min(cp.size - after)).await?;
            if rows.is_empty() {
                break;
            }
            for (s, leaf) in &rows {
                leaves.push(hash32(leaf, &format!("leaf of seq {s}"))?);
                after = *s;
            }
        }
        let row = tx
            .log(&LogFilter {
                after_seq: Some(seq - 1),
                limit: Some(1),
                ..LogFilter::default()
            })
            .await?
            .into_iter()
            .next()
            .filter(|r| r.seq == seq)
            .ok_or_else(|| EngineError::Input(format!("entry {seq} is not in the log")))?;
        let index = (seq - 1) as u64;
        let path =
            inclusion_proof(&leaves, index).map_err(|e| EngineError::Input(e.to_string()))?;
        let vkey = tx.audit_key(&cp.key_name).await?.ok_or_else(|| {
            EngineError::Store(StoreError::Corrupt(format!(
                "checkpoint {} names key `{}`, which is not registered",
                cp.id, cp.key_name
            )))
        })?;
        let proof = InclusionProof {
            version: PROOF_VERSION,
            checkpoint: cp.note,
            key_name: cp.key_name,
            index,
            size: cp.size as u64,
            leaf_hash: hex::encode(&row.leaf_hash),
            entry: ProofEntry::of(&row)?,
            path: path.iter().map(hex::encode).collect(),
        };
        // A proof is only handed out if it checks: a log that no longer matches its checkpoint gives none.
        check_proof(&proof, &vkey).map_err(|e| {
            EngineError::Input(format!(
                "the stored log does not match checkpoint {} ({e}); run `tuanji audit verify`",
                cp.id
            ))
        })?;
        Ok(proof)
    }
}

/// Checks an inclusion proof offline with the verifying key text (C2SP vkey): the checkpoint's signature, the
/// entry's fields against its leaf hash, and the audit path against the checkpoint's root. Returns the
/// verified checkpoint.
///
/// Errors: [`EngineError::Input`] naming what does not verify.
pub fn check_proof(proof: &InclusionProof, vkey: &str) -> EngineResult<Checkpoint> {
    let (name, vk) = decode_vkey(vkey.trim()).map_err(|e| {
        EngineError::Input(format!("the key does not parse: {e}{}", private_hint(vkey)))
    })?;
    if proof.key_name != name {
        return Err(EngineError::Input(format!(
            "the proof names key `{}` but is checked with key `{name}`",
            proof.key_name
        )));
    }
    let cp = Checkpoint::parse_and_verify(&proof.checkpoint, &vk, &name).map_err(|e| {
        EngineError::Input(format!(
            "the checkpoint does not verify with key `{name}`: {e}"
        ))
    })?;
    if cp.size != proof.size {
        return Err(EngineError::Input(format!(
            "the proof says size {} but the signed checkpoint says {}",
            proof.size, cp.size
        )));
    }
    if proof.version != PROOF_VERSION {
        return Err(EngineError::Input(format!(
            "proof format version {} is not supported (this version reads {PROOF_VERSION})",
            proof.version
        )));
    }
    let leaf = proof.entry.leaf()?;
    if hex::encode(leaf) != proof.leaf_hash {
        return Err(EngineError::Input(
            "the entry's fields do not hash to the proof's leaf hash".into(),
        ));
    }
    if proof.entry.seq < 1 || (proof.entry.seq - 1) as u64 != proof.index {
        return Err(EngineError::Input(format!(
            "entry {} cannot sit at index {}",
            proof.entry.seq, proof.index
        )));
    }
    let path = proof
        .path
        .iter()
        .enumerate()
        .map(|(i, h)| unhex(h, &format!("path[{i}]")))
        .collect::<EngineResult<Vec<_>>>()?;
    verify_inclusion(&leaf, proof.index, cp.size, &path, &cp.root).map_err(|e| {
        EngineError::Input(format!(
            "the audit path does not lead to the signed root: {e}"
        ))
    })?;
    Ok(cp)
}

/// Compares every member row with what the replay of its person's instances gives: the standing (the standing
/// machine's state, or `annulled` for an annulled admission), the development number, the probation end, the
/// tombstone (a relation that reached `deleted`), and that the person row exists.
async fn compare_members<T: StoreTx>(
    tx: &mut T,
    replay: &HashMap<Uuid, Replayed>,
) -> EngineResult<Option<Fault>> {
    let mut by_person: HashMap<Uuid, Vec<&Replayed>> = HashMap::new();
    for r in replay.values() {
        if let Some(p) = r.person_id {
            by_person.entry(p).or_default().push(r);
        }
    }
    let mut after = None;
    loop {
        let page = tx.members_page(after, BATCH).await?;
        let Some((last, _)) = page.last() else {
            return Ok(None);
        };
        after = Some(last.person_id);
        for (m, person_exists) in &page {
            let mine = by_person.get(&m.person_id).map_or(&[][..], Vec::as_slice);
            let latest = |workflow: &str| {
                mine.iter()
                    .filter(|r| r.workflow == workflow)
                    .max_by_key(|r| r.last_seq)
            };
            let last_seq = mine.iter().map(|r| r.last_seq).max();
            let drift = |what: String| {
                Ok(Some(Fault {
                    seq: last_seq,
                    checkpoint: None,
                    kind: FaultKind::ProjectionDrift,
                    detail: format!("member row of person {}: {what}", m.person_id),
                }))
            };
            if mine.is_empty() {
                return drift("no entry of the log made this member".into());
            }
            if !person_exists {
                return drift("its person row is missing".into());
            }
            let admission = latest("admission");
            let standing = latest("standing");
            let expected_standing = match (admission, standing) {
                (Some(a), _) if a.state == "annulled" => Some("annulled"),
                (_, Some(s)) => Some(s.state.as_str()),
                _ => None,
            };
            if let Some(want) = expected_standing {
                if m.standing != want {
                    return drift(format!("standing `{}`, replay `{want}`", m.standing));
                }
            }
            let number = match (
                standing.and_then(|s| s.data.as_ref()),
                admission.and_then(|a| a.data.as_ref()),
            ) {
                (Some(Data::Standing(d)), _) if d.number.is_some() => d.number.clone(),
                (_, Some(Data::Admission(d))) => d.number.clone(),
                _ => None,
            };
            if number.is_some() && m.development_number != number {
                return drift(format!(
                    "development number {:?}, replay {:?}",
                    m.development_number, number
                ));
            }
            if let Some(Data::Standing(d)) = standing.and_then(|s| s.data.as_ref()) {
                if m.probation_until != d.probation_until {
                    return drift(format!(
                        "probation until {:?}, replay {:?}",
                        m.probation_until, d.probation_until
                    ));
                }
            }
            let deleted = latest("relation").is_some_and(|r| r.state == "deleted");
            if deleted != m.deleted_on.is_some() {
                return drift(format!(
                    "deleted on {:?}, but the replayed relation {} deleted",
                    m.deleted_on,
                    if deleted { "is" } else { "is not" }
                ));
            }
        }
    }
}

fn drift(inst: &InstanceRow, r: Option<&Replayed>) -> EngineResult<Option<Fault>> {
    let Some(r) = r else {
        return Ok(Some(Fault {
            seq: None,
            checkpoint: None,
            kind: FaultKind::ProjectionDrift,
            detail: format!(
                "{} instance {} has no entry in the log",
                inst.workflow, inst.id
            ),
        }));
    };
    let same_data = r.data.as_ref().is_some_and(|d| d.matches(&inst.data));
    let what = if inst.state != r.state {
        Some(format!("state `{}`, replay `{}`", inst.state, r.state))
    } else if inst.version != r.version {
        Some(format!("version {}, replay {}", inst.version, r.version))
    } else if !same_data {
        Some("data differ from the replay".to_owned())
    } else {
        None
    };
    Ok(what.map(|w| Fault {
        seq: Some(r.last_seq),
        checkpoint: None,
        kind: FaultKind::ProjectionDrift,
        detail: format!("{} instance {}: stored {w}", inst.workflow, inst.id),
    }))
}
