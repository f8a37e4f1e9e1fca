//! Replay and the log chain: replaying a person's log rebuilds their projection exactly, and the transition log
//! is dense from seq 1 with leaf and chain hashes that verify (tuanji_audit::verify_chain).

use tuanji_audit::{verify_chain, Hash, LogEntry, Personal};
use tuanji_engine::admission::AdmissionCommand;
use tuanji_store::LogRow;
use tuanji_tests::*;

both_backends!(replay_after_a_full_admission_matches, |app| async move {
    let app = app.with_school().await.with_quota(SCHOOL, 2026, 5).await;
    let a = app.applicant_at(NON_GRADUATING, Stage::Archived).await;
    let steps: usize = Stage::ALL.iter().map(|s| s.entries()).sum();
    assert_eq!(steps, 20);
    let r = app.replay(&a.rid).await;
    assert!(r.differences.is_empty(), "{:?}", r.differences);
    assert!(r.matches);
    assert_eq!(r.entries, 20);
    // The 20 admission steps and the standing opened on admission (standing v1 `open`).
    assert_eq!(app.log(Some(&a.rid)).await.len(), 21);
    assert_eq!(app.instance(&a.rid).await, ("admitted".to_owned(), 20));
});

both_backends!(
    replay_after_annulment_and_a_rejection_matches,
    |app| async move {
        let app = app.with_school().await.with_quota(SCHOOL, 2026, 5).await;
        let a = app.applicant_at(NON_GRADUATING, Stage::Admitted).await;
        expect_ok(
            app.step(
                &a.rid,
                &AdmissionCommand::Annul {
                    date: d(2026, 11, 2),
                    reason: "撤销".into(),
                },
            )
            .await,
            "annul",
        );
        let r = app.replay(&a.rid).await;
        assert!(r.matches, "{:?}", r.differences);
        assert_eq!(r.entries, 19);

        let b = app.applicant_at(NON_GRADUATING, Stage::Activist).await;
        expect_ok(
            app.step(
                &b.rid,
                &AdmissionCommand::Reject {
                    date: d(2026, 4, 11),
                    reason: "不合格".into(),
                },
            )
            .await,
            "reject",
        );
        let r = app.replay(&b.rid).await;
        assert!(r.matches, "{:?}", r.differences);
        assert_eq!(r.entries, 4);
    }
);

fn entry<'a>(row: &'a LogRow, codes: &'a [String], salt: &'a Option<[u8; 32]>) -> LogEntry<'a> {
    LogEntry {
        seq: row.seq,
        entry_id: row.entry_id,
        instance_id: row.instance_id,
        person_id: row.person_id,
        org_id: row.org_id,
        workflow: &row.workflow,
        workflow_version: row.workflow_version,
        definition_sha256: &row.definition_sha256,
        from_state: &row.from_state,
        to_state: &row.to_state,
        command: &row.command,
        actor: &row.actor,
        role: &row.role,
        rule_codes: codes,
        payload_json: &row.payload,
        effective_date: row.effective_date,
        recorded_at: row.recorded_at,
        idempotency_key: row.idempotency_key.as_deref(),
        personal: match salt {
            Some(salt) => Personal::Open {
                salt,
                personal_json: row.personal.as_deref(),
            },
            None => Personal::Clear,
        },
    }
}

fn hash(bytes: &[u8]) -> Hash {
    bytes.try_into().expect("a 32-byte hash")
}

both_backends!(log_chain_is_dense_and_verifies, |app| async move {
    let app = app.with_school().await.with_quota(SCHOOL, 2026, 5).await;
    let a = app.applicant_at(NON_GRADUATING, Stage::Admitted).await;
    let b = app.applicant_at(JUNIOR, Stage::Publicised).await;
    // A refused command appends nothing.
    let _ = app
        .step(
            &b.rid,
            &AdmissionCommand::HoldMeeting {
                date: d(2026, 10, 16),
                present: 5,
                yes: 5,
            },
        )
        .await;
    let log = app.log(None).await;
    // 14 legacy members (one with a probation entry), 18 steps up to admission and the standing it opens, 15 up to
    // publicity.
    assert_eq!(log.len(), 14 + 1 + 18 + 1 + 15);
    assert_eq!(app.counts().await.log, log.len() as i64);
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=log.len() as i64).collect::<Vec<_>>());
    let codes: Vec<Vec<String>> = log
        .iter()
        .map(|e| e.rule_code_list().expect("rule codes"))
        .collect();
    let salts: Vec<Option<[u8; 32]>> = log.iter().map(|e| e.salt32().expect("salt")).collect();
    for (row, c) in log.iter().zip(&codes) {
        assert_eq!(
            tuanji_store::leaf_of(row, c, row.salt32().expect("salt").as_ref()).as_slice(),
            row.leaf_hash.as_slice(),
            "leaf of seq {}",
            row.seq
        );
    }
    let checked = verify_chain(
        log.iter()
            .zip(codes.iter().zip(&salts))
            .map(|(row, (c, s))| {
                (
                    entry(row, c, s),
                    hash(&row.leaf_hash),
                    hash(&row.chain_hash),
                )
            }),
    );
    assert_eq!(checked, Ok(log.len() as u64));
    // The admission's 18 entries and the standing opened on admission.
    assert_eq!(app.log(Some(&a.rid)).await.len(), 19);

    // Tampering with a field is detected at that seq.
    let mut altered = log.clone();
    altered[20].to_state = "admitted".into();
    let fault = verify_chain(
        altered
            .iter()
            .zip(codes.iter().zip(&salts))
            .map(|(row, (c, s))| {
                (
                    entry(row, c, s),
                    hash(&row.leaf_hash),
                    hash(&row.chain_hash),
                )
            }),
    )
    .expect_err("an altered entry fails");
    assert_eq!(fault.seq, 21);
});
