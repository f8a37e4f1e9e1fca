//! Property test (STYLE.md): random sequences of admission commands over a few applicants of random ages never
//! admit anyone under 14 (ADM_AGE_MIN), never issue a development number twice or past the allocation
//! (ADM_NUMBER_REQUIRED, ADM_QUOTA_EXHAUSTED), never put a graduating class over its cap (ADM_CLASS_CAP), keep
//! the log dense, and replaying each applicant's log rebuilds their projection. SQLite only: each case is a
//! fresh database.

use proptest::prelude::*;
use std::collections::BTreeSet;
use tuanji_domain::age_on;
use tuanji_engine::admission::AdmissionCommand;
use tuanji_tests::*;

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Run the applicant's next stage (or apply).
    Next(usize),
    /// Annul, reject or withdraw (dated 2026-11-20).
    Close(usize, u8),
    /// Approve, whatever the state.
    Approve(usize),
    /// Apply again for the same person.
    Reapply(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4usize).prop_map(Op::Next),
        1 => (0..4usize, 0..3u8).prop_map(|(a, k)| Op::Close(a, k)),
        1 => (0..4usize).prop_map(Op::Approve),
        1 => (0..4usize).prop_map(Op::Reapply),
    ]
}

async fn run(births: Vec<(i32, u32, u32)>, ops: Vec<Op>) {
    let app = TestApp::new(Backend::Sqlite)
        .await
        .with_school()
        .await
        .with_quota(SCHOOL, 2026, 3)
        .await;
    let mut people: Vec<Applicant> = births
        .iter()
        .enumerate()
        .map(|(i, (y, m, day))| {
            app.applicant_born(
                if i % 2 == 0 { JUNIOR } else { NON_GRADUATING },
                d(*y, *m, *day),
            )
        })
        .collect();
    for op in ops {
        match op {
            Op::Next(i) => {
                let a = &mut people[i];
                let Some(next) = Stage::ALL.iter().copied().find(|s| *s > a.stage) else {
                    continue;
                };
                let ok = if next == Stage::Applied {
                    app.apply(&TestApp::application(a, d(2026, 3, 2)))
                        .await
                        .is_ok()
                } else {
                    let mut ok = true;
                    for cmd in app.commands(a, next).await {
                        if app.step(&a.rid, &cmd).await.is_err() {
                            ok = false;
                            break;
                        }
                    }
                    ok
                };
                if ok {
                    a.stage = next;
                }
            }
            Op::Close(i, k) => {
                let (date, reason) = (d(2026, 11, 20), "随机".to_owned());
                let cmd = match k {
                    0 => AdmissionCommand::Annul { date, reason },
                    1 => AdmissionCommand::Reject { date, reason },
                    _ => AdmissionCommand::Withdraw { date, reason },
                };
                let _ = app.step(&people[i].rid, &cmd).await;
            }
            Op::Approve(i) => {
                let cmd = AdmissionCommand::Approve {
                    date: d(2026, 10, 23),
                    committee: SCHOOL.into(),
                };
                let _ = app.step(&people[i].rid, &cmd).await;
            }
            Op::Reapply(i) => {
                let _ = app
                    .apply(&TestApp::application(&people[i], d(2026, 3, 2)))
                    .await;
            }
        }
    }

    // Nobody admitted (or even on record) was under 14 on the application date.
    let log = app.log(None).await;
    for p in &people {
        if app.member_view(&p.rid).await.is_err() {
            continue; // never on record: every application was refused
        }
        let entries = app.log(Some(&p.rid)).await;
        if entries.iter().any(|e| e.command == "apply") {
            assert!(
                age_on(p.birth, d(2026, 3, 2)) >= 14,
                "{p:?} applied under 14"
            );
            let r = app.replay(&p.rid).await;
            assert!(r.matches, "replay of {p:?}: {:?}", r.differences);
        }
    }
    // Numbers: distinct, within the allocation, and exactly as many as the quota shows used.
    let numbers: Vec<String> = log
        .iter()
        .filter(|e| e.command == "approve")
        .map(|e| {
            let v = e.payload_value().expect("payload");
            v["step"]["number"].as_str().expect("number").to_owned()
        })
        .collect();
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(
        distinct.len(),
        numbers.len(),
        "a number issued twice: {numbers:?}"
    );
    assert!(numbers.len() <= 3);
    let q = app.quota(SCHOOL, 2026).await;
    assert_eq!(q.used as usize, numbers.len());
    assert_eq!(q.left, 3 - q.used);
    // The graduating class stays within 30 % of 20.
    assert!(app.branch_counts(JUNIOR).await.members <= 6);
    // The log is dense from 1.
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=log.len() as i64).collect::<Vec<_>>());
    app.finish().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_admission_commands_keep_the_floor_rules(
        births in prop::collection::vec((2011i32..=2012, 1u32..=12, 1u32..=28), 4),
        ops in prop::collection::vec(op(), 40..140),
    ) {
        tokio::runtime::Runtime::new().expect("runtime").block_on(run(births, ops));
    }
}
