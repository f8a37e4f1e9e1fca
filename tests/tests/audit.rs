//! The tamper-evident transition log (issue 5, ARCHITECTURE.md "Audit", docs/audit-format.md), on both backends:
//! an untouched log verifies; tampering done with raw SQL behind the engine's back (dropping the append-only
//! triggers first, as an attacker with database access would) is found, with the exact first bad `seq` and the
//! kind of fault; no false alarm on an untouched log of 100,000 entries; inclusion proofs of every entry verify
//! offline and fail when altered; signing keys and checkpoints refuse misuse.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tempfile::TempDir;
use tuanji_audit::{chain_hash, encode_skey, generate_key, Hash};
use tuanji_engine::audit::{check_proof, FaultKind, InclusionProof, VerifyReport};
use tuanji_engine::relation::RelationCommand as R;
use tuanji_engine::EngineError;
use tuanji_store::{leaf_of, CheckpointRow, LogRow};
use tuanji_tests::*;
use tuanji_workflow::relation::{Destination, Initiator, RetentionReason};
use uuid::Uuid;

/// The log position the single-entry tamper tests attack.
const VICTIM: i64 = 7;

// ------------------------------------------------------------------ fixture

/// An engine with activity in its log, a registered signing key and one checkpoint of the whole log.
struct Audited {
    app: TestApp,
    /// Holds the key files.
    dir: TempDir,
    /// The private key file (mode 0600).
    key: PathBuf,
    /// The public key (C2SP vkey text).
    vkey: String,
    /// The checkpoint taken at the end of the activity.
    first: CheckpointRow,
}

fn committee() -> Option<&'static str> {
    Some("committee_admin")
}

async fn relation(app: &TestApp, who: &str, role: Option<&str>, cmd: R) {
    expect_ok(app.relation(who, role, &cmd).await, "a relation command");
}

/// An outgoing transfer request by the school committee.
fn outgoing(date: tuanji_domain::Date, to: &str, destination: Destination) -> R {
    R::RequestTransfer {
        date,
        to: to.into(),
        destination,
        initiator: Initiator::Outgoing,
        org: Some(SCHOOL.into()),
    }
}

fn approve(date: tuanji_domain::Date, org: &str) -> R {
    R::Approve {
        date,
        org: org.into(),
    }
}

fn contact(date: tuanji_domain::Date) -> R {
    R::RecordContact {
        date,
        reached: true,
        note: "电话联系上".into(),
    }
}

/// The school with its legacy members (standing entries), the senior class graduated (relation entries), two
/// completed transfers and a retention, and an applicant trained (admission entries).
async fn activity(app: TestApp) -> TestApp {
    let app = app.with_graduates().await;
    let g = app.members(SENIOR).good;
    relation(
        &app,
        &g[0],
        committee(),
        outgoing(d(2026, 8, 1), EMPLOYER_BRANCH, Destination::Employment),
    )
    .await;
    relation(&app, &g[0], committee(), approve(d(2026, 8, 3), EMPLOYER)).await;
    relation(
        &app,
        &g[1],
        committee(),
        R::Retain {
            date: d(2026, 8, 10),
            reason: RetentionReason::NoJob,
            branch: None,
        },
    )
    .await;
    relation(
        &app,
        &g[2],
        committee(),
        outgoing(d(2026, 8, 1), STREET, Destination::Employment),
    )
    .await;
    relation(&app, &g[2], committee(), approve(d(2026, 8, 3), STREET)).await;
    relation(
        &app,
        &g[2],
        committee(),
        R::AssignBranch {
            date: d(2026, 8, 5),
            org: STREET.into(),
            branch: STREET_BRANCH.into(),
        },
    )
    .await;
    app.applicant_at(NON_GRADUATING, Stage::Trained).await;
    app
}

/// [`activity`], a key `auditor` and a checkpoint of the whole log.
async fn audited(app: TestApp) -> Audited {
    let app = activity(app).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = dir.path().join("auditor.key");
    let vkey = expect_ok(app.audit_keygen("auditor", &key).await, "keygen");
    let first = expect_ok(app.audit_checkpoint(&key, "test").await, "checkpoint");
    Audited {
        app,
        dir,
        key,
        vkey,
        first,
    }
}

/// The whole log exported as JSON Lines by an auditor, masked or not.
async fn export(app: &TestApp, unmasked: bool) -> String {
    let auditor = tuanji_engine::Actor {
        name: "审计员".into(),
        role: Some("auditor".into()),
        ..Default::default()
    };
    let q = tuanji_engine::export::LogQuery::default();
    let mut out = Vec::new();
    expect_ok(
        tuanji_engine::with_engine!(app.engine(), e => e
            .audit_export(&auditor, &q, tuanji_engine::export::ExportFormat::JsonLines, unmasked, &mut out)
            .await),
        "export",
    );
    String::from_utf8(out).expect("UTF-8")
}

// ------------------------------------------------------------------ raw SQL, as an attacker

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A BLOB / BYTEA literal.
fn blob(app: &TestApp, bytes: &[u8]) -> String {
    match app.backend() {
        Backend::Sqlite => format!("X'{}'", hex(bytes)),
        Backend::Postgres => format!("decode('{}', 'hex')", hex(bytes)),
    }
}

/// A UUID literal (SQLite stores UUIDs as 16-byte BLOBs).
fn uuid_lit(app: &TestApp, id: Uuid) -> String {
    match app.backend() {
        Backend::Sqlite => format!("X'{}'", hex(id.as_bytes())),
        Backend::Postgres => format!("'{id}'::uuid"),
    }
}

/// A text literal.
fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Runs one raw statement and expects it to succeed.
async fn raw(app: &TestApp, sql: &str) -> u64 {
    match app.raw_execute(sql).await {
        Ok(n) => n,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// Checks that the log's triggers refuse an UPDATE and a DELETE, then drops them.
async fn drop_log_triggers(app: &TestApp) {
    for sql in [
        "UPDATE transition_log SET actor = 'forger' WHERE seq = 1",
        "DELETE FROM transition_log WHERE seq = 1",
    ] {
        let e = app
            .raw_execute(sql)
            .await
            .expect_err("the log's triggers refuse the change");
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    let drops: &[&str] = match app.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER transition_log_no_update",
            "DROP TRIGGER transition_log_no_delete",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER transition_log_no_update ON transition_log",
            "DROP TRIGGER transition_log_no_truncate ON transition_log",
        ],
    };
    for sql in drops {
        raw(app, sql).await;
    }
}

/// Checks that the checkpoints' triggers refuse an UPDATE and a DELETE, then drops (SQLite) or disables
/// (PostgreSQL) them.
async fn drop_checkpoint_triggers(app: &TestApp) {
    for sql in [
        "UPDATE checkpoints SET reason = 'forged'",
        "DELETE FROM checkpoints",
    ] {
        let e = app
            .raw_execute(sql)
            .await
            .expect_err("the checkpoints' triggers refuse the change");
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    let drops: &[&str] = match app.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER checkpoints_no_update",
            "DROP TRIGGER checkpoints_no_delete",
        ],
        Backend::Postgres => &["ALTER TABLE checkpoints DISABLE TRIGGER USER"],
    };
    for sql in drops {
        raw(app, sql).await;
    }
}

/// The stored leaf hash of a row, as an array.
fn hash_of(bytes: &[u8]) -> Hash {
    bytes.try_into().expect("a 32-byte hash")
}

/// The leaf hash of `row`'s fields.
fn leaf(row: &LogRow) -> Hash {
    let codes = row.rule_code_list().expect("rule codes");
    leaf_of(row, &codes, row.salt32().expect("salt").as_ref())
}

// ------------------------------------------------------------------ assertions

async fn verify(app: &TestApp, trusted: Option<(&str, &str)>) -> VerifyReport {
    expect_ok(app.audit_verify(trusted).await, "audit verify")
}

/// Verifies and expects the fault `kind` at `seq` (and `checkpoint`).
#[track_caller]
fn expect_fault(
    r: &VerifyReport,
    seq: Option<i64>,
    checkpoint: Option<i64>,
    kind: FaultKind,
) -> String {
    let f = r
        .fault
        .as_ref()
        .unwrap_or_else(|| panic!("expected {kind:?} at {seq:?}, but the log verified: {r:?}"));
    assert_eq!(
        (f.kind, f.seq, f.checkpoint),
        (kind, seq, checkpoint),
        "{}",
        f.detail
    );
    f.detail.clone()
}

/// An untouched log: no fault, every entry, checkpoint and instance counted.
async fn expect_clean(app: &TestApp, checkpoints: usize) -> VerifyReport {
    let r = verify(app, None).await;
    assert_eq!(r.fault, None, "{r:?}");
    let counts = app.counts().await;
    assert_eq!(r.entries, counts.log);
    assert_eq!(r.checkpoints, checkpoints);
    assert_eq!(r.instances as i64, counts.instances);
    r
}

// ------------------------------------------------------------------ an untouched log

both_backends!(audit_verify_untouched_log_has_no_fault, |app| async move {
    let a = audited(app).await;
    let app = &a.app;
    let log = app.log(None).await;
    let counts = app.counts().await;
    assert_eq!(log.len() as i64, counts.log);
    assert!(counts.log >= 40, "the fixture has {} entries", counts.log);
    let workflows: std::collections::BTreeSet<&str> =
        log.iter().map(|r| r.workflow.as_str()).collect();
    assert_eq!(
        workflows.into_iter().collect::<Vec<_>>(),
        ["admission", "relation", "standing"]
    );
    assert_eq!(a.first.id, 1);
    assert_eq!(a.first.size, counts.log);

    let r = expect_clean(app, 1).await;
    assert_eq!(r.entries, counts.log);
    assert_eq!(r.root, hex(&a.first.root));

    // More activity and a second checkpoint; then more activity not yet checkpointed.
    let g = app.members(SENIOR).good;
    relation(app, &g[1], committee(), contact(d(2026, 9, 1))).await;
    let second = expect_ok(app.audit_checkpoint(&a.key, "test").await, "checkpoint");
    assert_eq!((second.id, second.size), (2, counts.log + 1));
    relation(app, &g[1], committee(), contact(d(2026, 9, 2))).await;
    let r = expect_clean(app, 2).await;
    assert_eq!(r.entries, counts.log + 2);

    // Against the auditor's own copies of either checkpoint.
    for cp in [&a.first, &second] {
        let r = verify(app, Some((&cp.note, &a.vkey))).await;
        assert_eq!(r.fault, None, "{r:?}");
        assert_eq!((r.entries, r.checkpoints), (counts.log + 2, 2));
    }
});

// ------------------------------------------------------------------ tampering with the log

both_backends!(
    audit_tamper_altered_field_is_found_at_its_seq,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        expect_clean(app, 1).await;
        let log = app.log(None).await;
        let last = log.len() as i64;
        let row = |seq: i64| log[(seq - 1) as usize].clone();
        // Each text column of the victim and of the last entry in turn: altered, found, restored.
        for seq in [VICTIM, last] {
            let r0 = row(seq);
            for (column, original) in [
                ("actor", r0.actor.clone()),
                ("role", r0.role.clone()),
                ("command", r0.command.clone()),
                ("to_state", r0.to_state.clone()),
                ("payload", r0.payload.clone()),
                ("rule_codes", r0.rule_codes.clone()),
            ] {
                let forged = if column == "payload" {
                    r0.payload.replacen('{', "{\"forged\":true,", 1)
                } else if column == "rule_codes" {
                    r#"["FORGED"]"#.to_owned()
                } else {
                    "forger".to_owned()
                };
                let n = raw(
                    app,
                    &format!(
                        "UPDATE transition_log SET {column} = {} WHERE seq = {seq}",
                        text(&forged)
                    ),
                )
                .await;
                assert_eq!(n, 1);
                let r = verify(app, None).await;
                let detail = expect_fault(&r, Some(seq), None, FaultKind::AlteredField);
                assert!(detail.contains("altered"), "{detail}");
                assert_eq!(r.entries, seq - 1, "entries before the fault");
                raw(
                    app,
                    &format!(
                        "UPDATE transition_log SET {column} = {} WHERE seq = {seq}",
                        text(&original)
                    ),
                )
                .await;
                expect_clean(app, 1).await;
            }
        }
        // The effective date, back-dated (an admission moved to another day).
        let date_lit = match app.backend() {
            Backend::Sqlite => "'2026-01-01'",
            Backend::Postgres => "DATE '2026-01-01'",
        };
        raw(
            app,
            &format!("UPDATE transition_log SET effective_date = {date_lit} WHERE seq = {VICTIM}"),
        )
        .await;
        let r = verify(app, None).await;
        expect_fault(&r, Some(VICTIM), None, FaultKind::AlteredField);
    }
);

both_backends!(
    audit_tamper_deleted_entry_is_missing_at_its_seq,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        let n = raw(
            app,
            &format!("DELETE FROM transition_log WHERE seq = {VICTIM}"),
        )
        .await;
        assert_eq!(n, 1);
        let r = verify(app, None).await;
        let detail = expect_fault(&r, Some(VICTIM), None, FaultKind::MissingEntry);
        assert!(
            detail.contains(&format!("entry {VICTIM} is missing")),
            "{detail}"
        );
        assert_eq!(r.entries, VICTIM - 1);
    }
);

both_backends!(
    audit_tamper_deleted_last_entry_is_missing_at_its_seq,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        let last = app.counts().await.log;
        raw(
            app,
            &format!("DELETE FROM transition_log WHERE seq = {last}"),
        )
        .await;
        let r = verify(app, None).await;
        // The log ends before its head (and before the checkpoint).
        expect_fault(&r, Some(last), None, FaultKind::MissingEntry);
        assert_eq!(r.entries, last - 1);
    }
);

both_backends!(
    audit_tamper_swapped_entries_are_reordered_at_the_first,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        let before = app.log(None).await;
        let (e7, e8) = (before[6].entry_id, before[7].entry_id);
        for sql in [
            "UPDATE transition_log SET seq = -8 WHERE seq = 8",
            "UPDATE transition_log SET seq = 8 WHERE seq = 7",
            "UPDATE transition_log SET seq = 7 WHERE seq = -8",
        ] {
            assert_eq!(raw(app, sql).await, 1, "{sql}");
        }
        let after = app.log(None).await;
        assert_eq!((after[6].entry_id, after[7].entry_id), (e8, e7));
        let r = verify(app, None).await;
        let detail = expect_fault(&r, Some(VICTIM), None, FaultKind::Reordered);
        assert!(detail.contains("entries 7 and 8 were swapped"), "{detail}");
    }
);

both_backends!(
    audit_tamper_deleted_and_renumbered_entry_is_missing_at_its_seq,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        let before = app.log(None).await;
        // The attacker deletes entry 7 and closes the gap, so seq stays dense.
        for sql in [
            format!("DELETE FROM transition_log WHERE seq = {VICTIM}"),
            format!("UPDATE transition_log SET seq = -seq WHERE seq > {VICTIM}"),
            "UPDATE transition_log SET seq = -seq - 1 WHERE seq < 0".to_owned(),
        ] {
            raw(app, &sql).await;
        }
        let after = app.log(None).await;
        assert_eq!(after.len(), before.len() - 1);
        assert_eq!(after[6].entry_id, before[7].entry_id);
        let r = verify(app, None).await;
        let detail = expect_fault(&r, Some(VICTIM), None, FaultKind::MissingEntry);
        assert!(
            detail.contains("entry 7 is missing: the entry stored at seq 7 was written as seq 8"),
            "{detail}"
        );
        assert_eq!(r.entries, VICTIM - 1);
    }
);

both_backends!(
    audit_personal_fields_are_stored_apart_and_committed_with_a_salt,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        let log = app.log(None).await;
        // Every entry written by this version is canonical_v2, with its own 32-byte salt.
        assert!(log
            .iter()
            .all(|e| e.salt.as_ref().map(Vec::len) == Some(32)));
        let salts: std::collections::BTreeSet<&Vec<u8>> =
            log.iter().filter_map(|e| e.salt.as_ref()).collect();
        assert_eq!(salts.len(), log.len(), "salts are never reused");
        // The talk (who held it) and the contact note are personal: stored beside the payload, not in it.
        let talk = log
            .iter()
            .find(|e| e.command == "record_talk")
            .expect("a talk entry");
        assert!(!talk.payload.contains("\"by\""), "{}", talk.payload);
        let personal: serde_json::Value =
            serde_json::from_str(talk.personal.as_deref().expect("personal fields")).expect("JSON");
        let by = talk.payload_value().expect("payload")["step"]["by"].clone();
        assert_eq!(personal, serde_json::json!({ "/step/by": by.clone() }));
        assert!(by.as_str().is_some_and(|s| !s.is_empty()));
        // A step without personal fields stores none.
        let graduate = log
            .iter()
            .find(|e| e.command == "graduate")
            .expect("a graduate entry");
        assert_eq!(graduate.personal, None);
        // The masked export gives the payload as hashed; the unmasked one the whole payload.
        let masked = export(app, false).await;
        let unmasked = export(app, true).await;
        let line = |text: &str| -> serde_json::Value {
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
                .find(|v| v["seq"] == talk.seq)
                .expect("the talk's line")
        };
        assert_eq!(line(&masked)["payload"], talk.payload.as_str());
        let whole: serde_json::Value =
            serde_json::from_str(line(&unmasked)["payload"].as_str().expect("payload text"))
                .expect("JSON");
        assert_eq!(whole["step"]["by"], by);
        assert!(!masked.contains(by.as_str().expect("text")));

        // Altering the personal fields, or the salt, breaks the leaf of that entry.
        drop_log_triggers(app).await;
        let seq = talk.seq;
        for (column, value) in [
            ("personal", text(r#"{"/step/by":"某某"}"#)),
            ("personal", "NULL".to_owned()),
            ("salt", blob(app, &[9u8; 32])),
            ("salt", blob(app, &[9u8; 31])),
        ] {
            // A 31-byte salt is refused by the column's CHECK on both backends, triggers or not.
            let sql = format!("UPDATE transition_log SET {column} = {value} WHERE seq = {seq}");
            match app.raw_execute(&sql).await {
                Ok(1) => {
                    let r = verify(app, None).await;
                    expect_fault(&r, Some(seq), None, FaultKind::AlteredField);
                }
                Ok(n) => panic!("{sql}: {n} rows"),
                Err(e) => assert!(
                    column == "salt" && e.to_string().to_lowercase().contains("check"),
                    "{sql}: {e}"
                ),
            }
            let restore = match column {
                "personal" => text(talk.personal.as_deref().expect("personal")),
                _ => blob(app, talk.salt.as_deref().expect("salt")),
            };
            raw(
                app,
                &format!("UPDATE transition_log SET {column} = {restore} WHERE seq = {seq}"),
            )
            .await;
            expect_clean(app, 1).await;
        }
    }
);

/// Appends a copy of the last entry at `last + 1` with a fresh entry id; with `rehash`, the leaf and chain
/// hashes are recomputed so that both verify. The log head's seq is not moved.
async fn forge_after_last(app: &TestApp, rehash: bool) -> i64 {
    let log = app.log(None).await;
    let last = log.last().expect("a log").clone();
    let mut forged = last.clone();
    forged.seq = last.seq + 1;
    forged.entry_id = Uuid::now_v7();
    let (leaf_sql, chain_sql) = if rehash {
        let l = leaf(&forged);
        let c = chain_hash(&hash_of(&last.chain_hash), &l);
        (blob(app, &l), blob(app, &c))
    } else {
        ("leaf_hash".to_owned(), "chain_hash".to_owned())
    };
    let sql = format!(
        "INSERT INTO transition_log (seq, entry_id, instance_id, person_id, org_id, workflow, workflow_version, \
         definition_sha256, from_state, to_state, command, actor, role, rule_codes, payload, effective_date, \
         recorded_at, idempotency_key, leaf_hash, chain_hash, salt, personal) \
         SELECT {}, {}, instance_id, person_id, org_id, workflow, workflow_version, definition_sha256, from_state, \
         to_state, command, actor, role, rule_codes, payload, effective_date, recorded_at, idempotency_key, \
         {leaf_sql}, {chain_sql}, salt, personal FROM transition_log WHERE seq = {}",
        forged.seq,
        uuid_lit(app, forged.entry_id),
        last.seq
    );
    assert_eq!(raw(app, &sql).await, 1);
    let stored = app.log(None).await.pop().expect("the forged entry");
    assert_eq!((stored.seq, stored.entry_id), (forged.seq, forged.entry_id));
    if rehash {
        // The forgery is internally consistent: its fields hash to its leaf, and the chain continues.
        assert_eq!(stored.leaf_hash, leaf(&stored).to_vec());
        assert_eq!(
            stored.chain_hash,
            chain_hash(&hash_of(&last.chain_hash), &leaf(&stored)).to_vec()
        );
    }
    forged.seq
}

both_backends!(
    audit_tamper_forged_entry_with_valid_hashes_is_inserted,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        let seq = forge_after_last(app, true).await;
        let r = verify(app, None).await;
        let detail = expect_fault(&r, Some(seq), None, FaultKind::Inserted);
        assert!(detail.contains("beyond the log head"), "{detail}");
        assert_eq!(r.entries, seq - 1);
    }
);

both_backends!(
    audit_tamper_forged_entry_without_rehash_is_altered,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        let seq = forge_after_last(app, false).await;
        let r = verify(app, None).await;
        expect_fault(&r, Some(seq), None, FaultKind::AlteredField);
    }
);

both_backends!(
    audit_tamper_changed_projection_drifts_at_last_seq,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        // The retained graduate's relation instance: open, graduate, retain.
        let g = &app.members(SENIOR).good[1];
        let mine = app.log(Some(g)).await;
        let inst = mine
            .iter()
            .rev()
            .find(|r| r.workflow == "relation")
            .expect("a relation entry")
            .instance_id;
        let log = app.log(None).await;
        let last_seq = log
            .iter()
            .filter(|r| r.instance_id == inst)
            .map(|r| r.seq)
            .max()
            .expect("entries of the instance");
        assert_eq!(log[(last_seq - 1) as usize].command, "retain");
        assert!(last_seq < log.len() as i64, "not simply the last entry");
        let id = uuid_lit(app, inst);
        let original = stored_data(app, inst).await;
        for (set, restore) in [
            (
                "state = 'lost_contact'".to_owned(),
                "state = 'retained'".to_owned(),
            ),
            (
                "version = version + 1".to_owned(),
                "version = version - 1".to_owned(),
            ),
            (
                format!("data = {}", text(r#"{"return_to":"at_branch"}"#)),
                format!("data = {}", text(&original)),
            ),
        ] {
            assert_eq!(
                raw(app, &format!("UPDATE instances SET {set} WHERE id = {id}")).await,
                1
            );
            let r = verify(app, None).await;
            let detail = expect_fault(&r, Some(last_seq), None, FaultKind::ProjectionDrift);
            assert!(detail.contains("relation instance"), "{detail}");
            // The log itself is intact: every entry was read.
            assert_eq!(r.entries, app.counts().await.log);
            raw(
                app,
                &format!("UPDATE instances SET {restore} WHERE id = {id}"),
            )
            .await;
            expect_clean(app, 1).await;
        }
    }
);

/// The stored data (JSON text) of an instance, read through the store.
async fn stored_data(app: &TestApp, id: Uuid) -> String {
    use tuanji_store::{Store as _, StoreTx as _};
    tuanji_engine::with_engine!(app.engine(), e => {
        let mut tx = e.store().begin_read().await.expect("a read transaction");
        tx.instance(id).await.expect("an instance read").expect("the instance").data
    })
}

/// `note` with one byte of its (last) signature changed.
fn flip_signature_byte(note: &str) -> String {
    let (body, sig_line) = note
        .trim_end_matches('\n')
        .rsplit_once('\n')
        .expect("a signature line");
    let (prefix, b64) = sig_line.rsplit_once(' ').expect("name and signature");
    // Character 28 of base64(key ID ‖ signature) encodes byte 21: in the Ed25519 signature, after the 4-byte key ID.
    let mut chars: Vec<char> = b64.chars().collect();
    chars[28] = if chars[28] == 'A' { 'B' } else { 'A' };
    let b64: String = chars.into_iter().collect();
    format!("{body}\n{prefix} {b64}\n")
}

both_backends!(
    audit_tamper_replaced_checkpoint_signature_is_bad_signature,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        let g = app.members(SENIOR).good;
        relation(app, &g[1], committee(), contact(d(2026, 9, 1))).await;
        let second = expect_ok(app.audit_checkpoint(&a.key, "test").await, "checkpoint");
        expect_clean(app, 2).await;
        drop_checkpoint_triggers(app).await;

        // One byte of the second checkpoint's signature changed.
        let forged = flip_signature_byte(&second.note);
        assert_ne!(forged, second.note);
        assert_eq!(forged.len(), second.note.len());
        let sql = format!(
            "UPDATE checkpoints SET note = {} WHERE id = {}",
            text(&forged),
            second.id
        );
        assert_eq!(raw(app, &sql).await, 1);
        let r = verify(app, None).await;
        expect_fault(
            &r,
            Some(second.size),
            Some(second.id),
            FaultKind::BadSignature,
        );
        assert_eq!(r.checkpoints, 1, "the first checkpoint verified");

        // The first checkpoint's signature line put under the second's body.
        let sig = a
            .first
            .note
            .trim_end_matches('\n')
            .rsplit_once('\n')
            .expect("a signature")
            .1;
        let body = second
            .note
            .trim_end_matches('\n')
            .rsplit_once('\n')
            .expect("a body")
            .0;
        let sql = format!(
            "UPDATE checkpoints SET note = {} WHERE id = {}",
            text(&format!("{body}\n{sig}\n")),
            second.id
        );
        raw(app, &sql).await;
        let r = verify(app, None).await;
        expect_fault(
            &r,
            Some(second.size),
            Some(second.id),
            FaultKind::BadSignature,
        );

        // A signature by a key that is not registered: the note of another database's key.
        let intruder = generate_key();
        let cp =
            tuanji_audit::Checkpoint::from_note_body(body).expect("the checkpoint body parses");
        let resigned = cp.sign(&intruder, "auditor").expect("a signed note");
        raw(
            app,
            &format!(
                "UPDATE checkpoints SET note = {} WHERE id = {}",
                text(&resigned),
                second.id
            ),
        )
        .await;
        let r = verify(app, None).await;
        expect_fault(
            &r,
            Some(second.size),
            Some(second.id),
            FaultKind::BadSignature,
        );
    }
);

both_backends!(
    audit_tamper_consistent_history_rewrite_is_caught_by_checkpoints,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        // The auditor keeps the first checkpoint (and the public key) outside the database.
        let trusted = a.first.note.clone();
        let n1 = a.first.size;
        let g = app.members(SENIOR).good;
        relation(app, &g[1], committee(), contact(d(2026, 9, 1))).await;
        expect_clean(app, 1).await;

        // Rewrite entry 3 and every chain hash after it, and the log head: the chain verifies on its own.
        drop_log_triggers(app).await;
        let altered = 3;
        let log = app.log(None).await;
        let mut prev = hash_of(&log[(altered - 2) as usize].chain_hash);
        for row in &log[(altered - 1) as usize..] {
            let mut row = row.clone();
            if row.seq == altered {
                row.actor = "forger".into();
            }
            let l = leaf(&row);
            let c = chain_hash(&prev, &l);
            let sql = format!(
                "UPDATE transition_log SET actor = {}, leaf_hash = {}, chain_hash = {} WHERE seq = {}",
                text(&row.actor),
                blob(app, &l),
                blob(app, &c),
                row.seq
            );
            assert_eq!(raw(app, &sql).await, 1);
            prev = c;
        }
        raw(
            app,
            &format!(
                "UPDATE log_head SET chain_hash = {} WHERE id = 1",
                blob(app, &prev)
            ),
        )
        .await;
        assert_eq!(app.log(None).await[(altered - 1) as usize].actor, "forger");

        // The stored checkpoint no longer matches the log at its size.
        let r = verify(app, None).await;
        let detail = expect_fault(
            &r,
            Some(n1),
            Some(a.first.id),
            FaultKind::CheckpointMismatch,
        );
        assert!(detail.contains("another log"), "{detail}");

        // With the stored checkpoints gone, the log alone looks consistent ...
        drop_checkpoint_triggers(app).await;
        raw(app, "DELETE FROM checkpoints").await;
        let r = verify(app, None).await;
        assert_eq!(
            r.fault, None,
            "without checkpoints the rewrite is consistent: {r:?}"
        );
        assert_eq!(r.checkpoints, 0);
        // ... but not to the auditor holding the earlier checkpoint.
        let r = verify(app, Some((&trusted, &a.vkey))).await;
        let detail = expect_fault(&r, Some(n1), None, FaultKind::TrustedInconsistent);
        assert!(detail.contains("history was rewritten"), "{detail}");

        // A trusted checkpoint beyond the end of a truncated log.
        raw(
            app,
            &format!("DELETE FROM transition_log WHERE seq >= {}", n1 - 1),
        )
        .await;
        raw(
            app,
            &format!(
                "UPDATE log_head SET seq = {}, chain_hash = {} WHERE id = 1",
                n1 - 2,
                blob(
                    app,
                    &app.log(None).await.last().expect("entries").chain_hash
                )
            ),
        )
        .await;
        // The replay now finds instances whose last entries are gone; the trusted checkpoint is checked first.
        let r = verify(app, Some((&trusted, &a.vkey))).await;
        expect_fault(&r, Some(n1 - 1), None, FaultKind::TrustedInconsistent);
    }
);

// ------------------------------------------------------------------ no false alarm on 100,000 entries

/// Graduating classes the 100,000-entry log is spread over (500 members, 1,000 entries each), one graduation
/// transaction per class. On PostgreSQL a bulk append costs time quadratic in the entries of its transaction: each
/// entry's trigger updates the one `log_head` row, and each update walks that row's versions written earlier in the
/// same transaction (one class of 50,000 members took 150–300 s there, against 12 s on SQLite).
const CLASSES: i64 = 100;

both_backends!(
    audit_verify_no_false_alarm_on_100000_entries,
    |app| async move {
        let app = app.with_school().await.with_relation_orgs().await;
        let mut csv = String::from(
            "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n",
        );
        for c in 0..CLASSES {
            csv.push_str(&format!(
                "S001-X{c:02},高三({c})班团支部,branch,S001,,senior_high,true,2000\n"
            ));
        }
        expect_ok(
            app.import_org_csv(csv.as_bytes(), false).await,
            "the classes",
        );
        let base = app.counts().await.log;
        // Seeded members of the classes graduate: 2 entries each (open, graduate).
        let extra = (100_000 - base + 1) / 2;
        let t = Instant::now();
        let seed_persons = match app.backend() {
            Backend::Sqlite => format!(
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {extra}) \
                 INSERT INTO persons (id, resident_id, name, sex, ethnicity, birth_date) \
                 SELECT randomblob(16), printf('B%02d%015d', x % {CLASSES}, x), '团员', 'male', NULL, \
                 '2008-03-01' FROM n"
            ),
            Backend::Postgres => format!(
                "INSERT INTO persons (id, resident_id, name, sex, ethnicity, birth_date) \
                 SELECT gen_random_uuid(), 'B' || lpad((x % {CLASSES})::text, 2, '0') || lpad(x::text, 15, '0'), \
                 '团员', 'male', NULL, DATE '2008-03-01' FROM generate_series(1, {extra}) AS x"
            ),
        };
        assert_eq!(raw(&app, &seed_persons).await, extra as u64);
        let membership = match app.backend() {
            Backend::Sqlite => "'2025-05-04'",
            Backend::Postgres => "DATE '2025-05-04'",
        };
        let mut seeded_members = 0;
        for c in 0..CLASSES {
            seeded_members += raw(
                &app,
                &format!(
                    "INSERT INTO members (person_id, branch_id, membership_date, standing, source) \
                     SELECT p.id, o.id, {membership}, 'member', 'legacy' FROM persons p, organisations o \
                     WHERE o.code = 'S001-X{c:02}' AND p.resident_id LIKE 'B{c:02}%'"
                ),
            )
            .await;
        }
        assert_eq!(seeded_members, extra as u64);
        let seeded = t.elapsed();

        let on = d(GRADUATION.0, GRADUATION.1, GRADUATION.2);
        let t = Instant::now();
        let mut graduated = 0;
        for c in 0..CLASSES {
            let class = format!("S001-X{c:02}");
            expect_ok(app.mark_graduating(&class, on).await, "mark graduating");
            graduated += expect_ok(app.graduate(&class, on).await, "graduate").graduated;
        }
        let graduating = t.elapsed();
        assert_eq!(graduated as i64, extra);
        let size = app.counts().await.log;
        assert_eq!(size, base + 2 * extra);
        assert!(size >= 100_000, "{size} entries");

        let dir = tempfile::tempdir().expect("a temporary directory");
        let key = dir.path().join("k");
        expect_ok(app.audit_keygen("auditor", &key).await, "keygen");
        let t = Instant::now();
        let cp = expect_ok(app.audit_checkpoint(&key, "test").await, "checkpoint");
        let checkpointed = t.elapsed();
        assert_eq!(cp.size, size);

        let t = Instant::now();
        let last = std::sync::Mutex::new((0u64, 0u64));
        let report = tuanji_engine::with_engine!(app.engine(), e => e
            .audit_verify(None, &|done, total| {
                *last.lock().expect("progress") = (done, total);
            })
            .await);
        let report = expect_ok(report, "verify");
        let verified = t.elapsed();
        assert_eq!(report.fault, None, "{report:?}");
        assert_eq!(report.entries, size);
        assert_eq!(report.checkpoints, 1);
        assert_eq!(report.instances as i64, app.counts().await.instances);
        assert_eq!(report.root, hex(&cp.root));
        assert_eq!(*last.lock().expect("progress"), (size as u64, size as u64));
        println!(
            "{}: {size} entries; seed {seeded:.2?}, graduate {graduating:.2?}, checkpoint {checkpointed:.2?}, \
             verify {verified:.2?} ({:.0} entries/s)",
            app.backend().name(),
            size as f64 / verified.as_secs_f64()
        );
    }
);

// ------------------------------------------------------------------ inclusion proofs

/// The hex hash `h` with one byte (number `at` modulo 32) changed.
fn flip_hex(h: &str, at: usize) -> String {
    let mut bytes: Vec<u8> = (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    bytes[at % 32] ^= 0x01;
    hex(&bytes)
}

#[track_caller]
fn expect_refused(proof: &InclusionProof, vkey: &str, why: &str) {
    match check_proof(proof, vkey) {
        Err(EngineError::Input(m)) => assert!(m.contains(why), "{m}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

/// Proves every entry against the latest checkpoint (of `size` entries) and checks each proof; with `alter`,
/// also that the proof fails with an altered entry, path, index or signature, and with another key.
async fn prove_all(app: &TestApp, size: i64, vkey: &str, other_vkey: &str, alter: bool) {
    for seq in 1..=size {
        let p = expect_ok(app.audit_prove(seq).await, "prove");
        assert_eq!(
            (p.version, p.index, p.size),
            (2, (seq - 1) as u64, size as u64)
        );
        assert_eq!(p.entry.seq, seq);
        // Every entry is canonical_v2: the proof names no actor and carries no personal field.
        assert_eq!((p.entry.canonical, &p.entry.actor), (2, &None));
        let written = serde_json::to_string(&p).expect("proof JSON");
        assert!(
            !written.contains("demo") && !written.contains("\"by\""),
            "{written}"
        );
        let cp = expect_ok(check_proof(&p, vkey), "check proof");
        assert_eq!(cp.size, size as u64);

        let mut q = p.clone();
        q.entry.actor_commitment = Some("00".repeat(32));
        expect_refused(&q, vkey, "do not hash");
        let mut q = p.clone();
        q.entry.actor = Some("forger".into());
        expect_refused(&q, vkey, "do not match its canonical version");
        if !alter {
            continue;
        }

        let mut q = p.clone();
        q.entry.effective_date = d(2026, 1, 1);
        expect_refused(&q, vkey, "do not hash");

        for i in 0..p.path.len() {
            let mut q = p.clone();
            q.path[i] = flip_hex(&p.path[i], seq as usize + i);
            expect_refused(&q, vkey, "audit path");
        }
        if !p.path.is_empty() {
            let mut q = p.clone();
            q.path.pop();
            expect_refused(&q, vkey, "audit path");
        }

        let mut q = p.clone();
        q.index ^= 1;
        expect_refused(&q, vkey, "cannot sit at index");

        let mut q = p.clone();
        q.checkpoint = flip_signature_byte(&p.checkpoint);
        expect_refused(&q, vkey, "does not verify");

        expect_refused(&p, other_vkey, "but is checked with key `other`");
    }
    let logged = app.counts().await.log;
    let expected = if logged > size {
        format!("no checkpoint covers entry {}; take one first", size + 1)
    } else {
        format!(
            "there is no entry {}: the log has {logged} entries",
            size + 1
        )
    };
    match app.audit_prove(size + 1).await {
        Err(EngineError::Input(m)) => assert!(m.starts_with(&expected), "{m}"),
        other => panic!("a proof beyond the checkpoint: {other:?}"),
    }
}

both_backends!(
    audit_prove_every_entry_verifies_and_altered_proofs_fail,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        let other = expect_ok(
            app.audit_keygen("other", &a.dir.path().join("other.key"))
                .await,
            "keygen",
        );
        prove_all(app, a.first.size, &a.vkey, &other, true).await;
        match app.audit_prove(0).await {
            Err(EngineError::Input(m)) => assert!(m.contains("numbered from 1"), "{m}"),
            other => panic!("seq 0: {other:?}"),
        }

        // As the log grows, one entry at a time, each new checkpoint proves every entry again.
        let g = app.members(SENIOR).good;
        for day in 1..=3 {
            relation(app, &g[1], committee(), contact(d(2026, 9, day))).await;
            let cp = expect_ok(app.audit_checkpoint(&a.key, "test").await, "checkpoint");
            assert_eq!(cp.size, a.first.size + day as i64);
            prove_all(app, cp.size, &a.vkey, &other, false).await;
        }
        expect_clean(app, 4).await;
    }
);

both_backends!(audit_prove_in_a_log_of_one_entry, |app| async move {
    // One registration: the school's tree plus one legacy member.
    expect_ok(
        app.import_org_csv(SCHOOL_ORGS_CSV.as_bytes(), false).await,
        "orgs",
    );
    let rid = app.new_rid(d(2008, 3, 1));
    let csv = format!(
        "姓名,公民身份号码,入团日期,团员编号,留团察看至\n团员0,{rid},2025-05-04,202500000001,\n"
    );
    expect_ok(
        app.import_roster(SENIOR, csv.as_bytes(), false).await,
        "roster",
    );
    assert_eq!(app.counts().await.log, 1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = dir.path().join("k");
    let vkey = expect_ok(app.audit_keygen("auditor", &key).await, "keygen");
    let other = expect_ok(
        app.audit_keygen("other", &dir.path().join("o")).await,
        "keygen",
    );
    expect_ok(app.audit_checkpoint(&key, "test").await, "checkpoint");
    let p = expect_ok(app.audit_prove(1).await, "prove");
    assert!(p.path.is_empty(), "a single leaf is the root");
    prove_all(&app, 1, &vkey, &other, true).await;
    expect_clean(&app, 1).await;
});

// ------------------------------------------------------------------ key and checkpoint misuse

/// Writes a key text to `path` with `mode`.
fn write_key(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).expect("write a key file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[track_caller]
fn expect_input<T: std::fmt::Debug>(r: tuanji_engine::EngineResult<T>, why: &str) {
    match r {
        Err(EngineError::Input(m)) => assert!(m.contains(why), "{m}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

both_backends!(
    audit_keygen_and_checkpoint_refuse_misuse,
    |app| async move {
        use std::os::unix::fs::PermissionsExt as _;
        let app = activity(app).await;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let key = dir.path().join("auditor.key");
        let vkey = expect_ok(app.audit_keygen("auditor", &key).await, "keygen");
        assert!(vkey.starts_with("auditor+"), "{vkey}");
        let mode = std::fs::metadata(&key)
            .expect("the key file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);

        // An existing file is never overwritten, and nothing is registered.
        let existing = dir.path().join("existing");
        std::fs::write(&existing, "keep me").expect("write");
        expect_input(
            app.audit_keygen("second", &existing).await,
            "cannot create the key file",
        );
        assert_eq!(std::fs::read_to_string(&existing).expect("read"), "keep me");
        expect_ok(
            app.audit_keygen("second", &dir.path().join("second.key"))
                .await,
            "the name is still free",
        );

        // A name already registered: refused, and no file is written.
        let dup = dir.path().join("dup.key");
        expect_input(
            app.audit_keygen("auditor", &dup).await,
            "already registered",
        );
        assert!(!dup.exists());
        // A name the signed-note format cannot carry.
        expect_input(
            app.audit_keygen("bad name", &dir.path().join("bad.key"))
                .await,
            "key name",
        );

        // A key file others may read.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        expect_input(app.audit_checkpoint(&key, "test").await, "mode 644");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");

        // A key whose name is not registered.
        let ghost = dir.path().join("ghost.key");
        write_key(
            &ghost,
            &encode_skey(&generate_key(), "ghost").expect("key"),
            0o600,
        );
        expect_input(
            app.audit_checkpoint(&ghost, "test").await,
            "no key named `ghost`",
        );

        // Another key under a registered name (e.g. from another database's keygen).
        let impostor = dir.path().join("impostor.key");
        write_key(
            &impostor,
            &encode_skey(&generate_key(), "auditor").expect("key"),
            0o600,
        );
        expect_input(
            app.audit_checkpoint(&impostor, "test").await,
            "registered as `auditor`",
        );

        // Not a key at all.
        let junk = dir.path().join("junk.key");
        write_key(&junk, "not a key\n", 0o600);
        expect_input(
            app.audit_checkpoint(&junk, "test").await,
            "not a Tuanji signing key",
        );
        expect_input(
            app.audit_checkpoint(&dir.path().join("absent.key"), "test")
                .await,
            "cannot read the key file",
        );

        // None of the refusals took a checkpoint; the right key does.
        expect_clean(&app, 0).await;
        let cp = expect_ok(app.audit_checkpoint(&key, "test").await, "checkpoint");
        assert_eq!((cp.id, cp.key_name.as_str()), (1, "auditor"));
        expect_clean(&app, 1).await;

        // A trusted checkpoint checked with the wrong key is refused outright.
        let other = expect_ok(
            app.audit_keygen("third", &dir.path().join("third.key"))
                .await,
            "keygen",
        );
        expect_input(
            app.audit_verify(Some((&cp.note, &other))).await,
            "does not verify",
        );
    }
);

// ------------------------------------------------------------------ checkpoints continue from their frontier

both_backends!(
    audit_checkpoint_continues_from_the_last_frontier_and_ignores_a_bad_one,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        // The first checkpoint keeps its frontier: one hash per set bit of its size.
        let size = a.first.size;
        assert_eq!(
            a.first.frontier.as_ref().map(Vec::len),
            Some(32 * size.count_ones() as usize)
        );
        // Each later checkpoint, continued from the one before, has the root of the whole log at its size.
        let g = app.members(SENIOR).good;
        for (i, date) in [d(2026, 9, 1), d(2026, 9, 2)].into_iter().enumerate() {
            relation(app, &g[1], committee(), contact(date)).await;
            let cp = expect_ok(app.audit_checkpoint(&a.key, "test").await, "checkpoint");
            assert_eq!(cp.size, size + 1 + i as i64);
            let leaves: Vec<Hash> = app
                .log(None)
                .await
                .iter()
                .map(|r| hash_of(&r.leaf_hash))
                .collect();
            assert_eq!(cp.root, tuanji_audit::merkle_root(&leaves).to_vec());
        }
        expect_clean(app, 3).await;
        // A forged frontier (or none, as before migration 0008) is not trusted: the next checkpoint recomputes.
        drop_checkpoint_triggers(app).await;
        for forged in [
            blob(app, &[0u8; 32].repeat((size + 2).count_ones() as usize)),
            "NULL".to_owned(),
        ] {
            raw(
                app,
                &format!("UPDATE checkpoints SET frontier = {forged} WHERE id = (SELECT MAX(id) FROM checkpoints)"),
            )
            .await;
            relation(app, &g[1], committee(), contact(d(2026, 9, 3))).await;
            let cp = expect_ok(app.audit_checkpoint(&a.key, "test").await, "checkpoint");
            let leaves: Vec<Hash> = app
                .log(None)
                .await
                .iter()
                .map(|r| hash_of(&r.leaf_hash))
                .collect();
            assert_eq!(cp.root, tuanji_audit::merkle_root(&leaves).to_vec());
        }
        expect_clean(app, 5).await;
    }
);

// ------------------------------------------------------------------ rows rewritten so that they no longer read

both_backends!(
    audit_tamper_unparsable_payload_with_recomputed_hashes_is_an_altered_field,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        // The last entry's payload replaced by text that is not JSON, its leaf and chain recomputed.
        let mut last = app.log(None).await.pop().expect("an entry");
        let before = app.log(None).await[last.seq as usize - 2].clone();
        last.payload = "not json".into();
        let l = leaf(&last);
        let c = chain_hash(&hash_of(&before.chain_hash), &l);
        raw(
            app,
            &format!(
                "UPDATE transition_log SET payload = 'not json', leaf_hash = {}, chain_hash = {} WHERE seq = {}",
                blob(app, &l),
                blob(app, &c),
                last.seq
            ),
        )
        .await;
        let r = verify(app, None).await;
        let detail = expect_fault(&r, Some(last.seq), None, FaultKind::AlteredField);
        assert!(
            detail.contains(&format!("log seq {}", last.seq)),
            "{detail}"
        );
    }
);

both_backends!(
    audit_tamper_row_that_no_longer_decodes_is_found_at_its_seq,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        // SQLite keeps any text in a timestamp column; PostgreSQL's types refuse such a value outright.
        let sql = match app.backend() {
            Backend::Sqlite => {
                format!("UPDATE transition_log SET recorded_at = 'yesterday' WHERE seq = {VICTIM}")
            }
            Backend::Postgres => return,
        };
        raw(app, &sql).await;
        let r = verify(app, None).await;
        let detail = expect_fault(&r, Some(VICTIM), None, FaultKind::AlteredField);
        assert!(
            detail.starts_with(&format!(
                "the entry after seq {} cannot be read",
                VICTIM - 1
            )),
            "{detail}"
        );
        assert_eq!(r.entries, VICTIM - 1);
    }
);

// ------------------------------------------------------------------ member rows against the replay

both_backends!(
    audit_tamper_changed_member_row_drifts_with_its_person,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        let who = app.members(SENIOR).good[1].clone();
        let person = expect_ok(app.member_view(&who).await, "member")
            .member
            .expect("a member row")
            .person_id;
        let last = app
            .log(Some(&who))
            .await
            .iter()
            .map(|e| e.seq)
            .max()
            .expect("entries");
        let id = uuid_lit(app, person);
        let date_lit = match app.backend() {
            Backend::Sqlite => "'2027-01-01'",
            Backend::Postgres => "DATE '2027-01-01'",
        };
        for (set, what) in [
            (
                "standing = 'expelled'".to_owned(),
                "standing `expelled`, replay `member`",
            ),
            (
                "development_number = NULL".to_owned(),
                "development number None, replay Some(",
            ),
            (
                format!("probation_until = {date_lit}"),
                "probation until Some(2027-01-01), replay None",
            ),
            (
                format!("deleted_on = {date_lit}"),
                "deleted on Some(2027-01-01), but the replayed relation is not deleted",
            ),
        ] {
            let restore = raw_member_row(app, &who).await;
            raw(
                app,
                &format!("UPDATE members SET {set} WHERE person_id = {id}"),
            )
            .await;
            let r = verify(app, None).await;
            let detail = expect_fault(&r, Some(last), None, FaultKind::ProjectionDrift);
            assert!(
                detail.starts_with(&format!("member row of person {person}: {what}")),
                "{detail}"
            );
            raw(
                app,
                &format!("UPDATE members SET {restore} WHERE person_id = {id}"),
            )
            .await;
            expect_clean(app, 1).await;
        }
    }
);

/// The member row's tampered columns as they are now, as an SQL `SET` list that restores them.
async fn raw_member_row(app: &TestApp, who: &str) -> String {
    let m = expect_ok(app.member_view(who).await, "member")
        .member
        .expect("a member row");
    let date = |d: Option<tuanji_domain::Date>| match (d, app.backend()) {
        (None, _) => "NULL".to_owned(),
        (Some(d), Backend::Sqlite) => format!("'{d}'"),
        (Some(d), Backend::Postgres) => format!("DATE '{d}'"),
    };
    format!(
        "standing = {}, development_number = {}, probation_until = {}, deleted_on = {}",
        text(&m.standing),
        m.development_number
            .as_deref()
            .map_or("NULL".to_owned(), text),
        date(m.probation_until),
        date(m.deleted_on)
    )
}

both_backends!(
    audit_tamper_entry_downgraded_to_canonical_v1_is_an_altered_field,
    |app| async move {
        let a = audited(app).await;
        let app = &a.app;
        drop_log_triggers(app).await;
        // The last entry rewritten as canonical_v1 (no salt: actor and personal fields hashed in clear), with its
        // leaf and chain recomputed so that both verify.
        let log = app.log(None).await;
        let mut last = log.last().expect("an entry").clone();
        let before = &log[log.len() - 2];
        last.payload = last.payload_value().expect("payload").to_string();
        last.salt = None;
        last.personal = None;
        let l = leaf(&last);
        let c = chain_hash(&hash_of(&before.chain_hash), &l);
        raw(
            app,
            &format!(
                "UPDATE transition_log SET salt = NULL, personal = NULL, payload = {}, leaf_hash = {}, chain_hash = {} WHERE seq = {}",
                text(&last.payload),
                blob(app, &l),
                blob(app, &c),
                last.seq
            ),
        )
        .await;
        let r = verify(app, None).await;
        let detail = expect_fault(&r, Some(last.seq), None, FaultKind::AlteredField);
        assert_eq!(
            detail,
            format!(
                "entry {} is canonical_v1 after canonical_v2 entries: it was rewritten without its salt",
                last.seq
            )
        );
    }
);
