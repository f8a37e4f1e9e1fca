//! Concurrency of development numbers (ADM_QUOTA_EXHAUSTED, ADM_NUMBER_REQUIRED): approvals racing for the last
//! numbers of an allocation never over-issue and never issue a number twice.

use std::collections::BTreeSet;
use tuanji_engine::admission::AdmissionCommand;
use tuanji_tests::*;

both_backends!(
    adm_quota_exhausted_eight_concurrent_approvals_for_five_numbers,
    |app| async move {
        let app = app.with_school().await.with_quota(SCHOOL, 2026, 5).await;
        let mut applicants = Vec::new();
        for _ in 0..8 {
            applicants.push(
                app.applicant_at(NON_GRADUATING, Stage::BranchApproved)
                    .await,
            );
        }
        let q = app.quota(SCHOOL, 2026).await;
        assert_eq!((q.used, q.left), (0, 5));

        let mut tasks = Vec::new();
        for a in &applicants {
            let (app, rid) = (app.clone(), a.rid.clone());
            tasks.push(tokio::spawn(async move {
                app.step(
                    &rid,
                    &AdmissionCommand::Approve {
                        date: d(2026, 10, 23),
                        committee: SCHOOL.into(),
                    },
                )
                .await
            }));
        }
        let mut numbers = BTreeSet::new();
        let mut exhausted = 0;
        for t in tasks {
            match t.await.expect("the task ran") {
                Ok(out) => {
                    assert_eq!(out.to, "admitted");
                    assert!(
                        numbers.insert(out.number.expect("a number")),
                        "a number was issued twice"
                    );
                }
                Err(e) => {
                    assert_eq!(
                        e.rule_code(),
                        Some("ADM_QUOTA_EXHAUSTED"),
                        "unexpected error: {e:?}"
                    );
                    exhausted += 1;
                }
            }
        }
        assert_eq!(numbers.len(), 5);
        assert_eq!(exhausted, 3);
        let expected: BTreeSet<String> = (1..=5).map(|n| format!("2026{n:08}")).collect();
        assert_eq!(numbers, expected);

        let q = app.quota(SCHOOL, 2026).await;
        assert_eq!((q.allocated, q.used, q.left, q.voided), (5, 5, 0, 0));
        let mut states = std::collections::BTreeMap::new();
        for a in &applicants {
            *states.entry(app.instance(&a.rid).await.0).or_insert(0) += 1;
        }
        assert_eq!(states.get("admitted"), Some(&5));
        assert_eq!(states.get("branch_approved"), Some(&3));
        assert_eq!(app.counts().await.numbers_used, 5);
    }
);
