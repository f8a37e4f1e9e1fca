//! Annual evaluation (团员教育评议) rules on both backends: every EVL_* rule accepted and refused, with exact
//! messages. The branch is [`PARTY_BRANCH`]: 10 members in good standing since 2022-05-04.

use tuanji_engine::evaluation::{parse_grade, parse_grades_csv, EvaluationCommand as E};
use tuanji_engine::EngineError;
use tuanji_tests::*;
use tuanji_workflow::evaluation::Grade;

/// Grades for the 10 members: the first `excellent` excellent, member 9 (the last) unqualified, the rest
/// qualified.
fn grades(m: &[String], excellent: usize) -> Vec<(String, Grade)> {
    m.iter()
        .enumerate()
        .map(|(i, r)| {
            let g = if i < excellent {
                Grade::Excellent
            } else if i == m.len() - 1 {
                Grade::Unqualified
            } else {
                Grade::Qualified
            };
            (r.clone(), g)
        })
        .collect()
}

fn record(m: &[String], present: u32, excellent: usize) -> E {
    E::Record {
        date: d(2025, 12, 20),
        present,
        grades: grades(m, excellent),
    }
}

fn approve(org: &str) -> E {
    E::Approve {
        date: d(2026, 1, 10),
        org: org.into(),
    }
}

both_backends!(
    evl_grades_accepts_seven_of_ten_present_and_three_excellent,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        let out = expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &record(&m, 7, 3))
                .await,
            "the round",
        );
        assert_eq!((out.from.as_str(), out.to.as_str()), ("new", "recorded"));
        assert_eq!(out.rule_codes, vec!["EVL_GRADES"]);
        assert_eq!((out.round.members, out.round.present), (10, 7));
        assert_eq!(
            out.round.counts,
            vec![
                ("excellent".to_owned(), 3),
                ("qualified".to_owned(), 6),
                ("basically_qualified".to_owned(), 0),
                ("unqualified".to_owned(), 1)
            ]
        );
        assert_eq!(
            out.round.pending,
            vec![tuanji_domain::mask_id_like(&m[9])],
            "unqualified, to be re-evaluated"
        );
        assert_eq!(app.last_grade(&m[0]).await.expect("grade"), None);
        assert_eq!(app.verify_fault().await, None);
    }
);

both_backends!(evl_grades_refuses_two_thirds_attendance, |app| async move {
    let app = app.with_school().await;
    let m = app.with_party_branch(10, 0).await.good;
    let v = expect_rule(
        app.evaluation(PARTY_BRANCH, 2025, None, &record(&m, 6, 3))
            .await,
        "EVL_GRADES",
    );
    assert_eq!(
        v.message,
        "6 of 10 members present; more than 2/3 are required"
    );
    assert!(app.evaluation_show(PARTY_BRANCH, 2025).await.is_err());
});

both_backends!(evl_grades_refuses_four_excellent_of_ten, |app| async move {
    let app = app.with_school().await;
    let m = app.with_party_branch(10, 0).await.good;
    let v = expect_rule(
        app.evaluation(PARTY_BRANCH, 2025, None, &record(&m, 8, 4))
            .await,
        "EVL_GRADES",
    );
    assert_eq!(
        v.message,
        "4 of 10 evaluated graded excellent; at most 30 % (3) may be"
    );
});

both_backends!(
    evl_grades_refuses_a_member_of_another_branch,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        let stranger = app.members(NON_GRADUATING).good[0].clone();
        let mut g = grades(&m, 1);
        g[1].0 = stranger.clone();
        let v = expect_rule(
            app.evaluation(
                PARTY_BRANCH,
                2025,
                None,
                &E::Record {
                    date: d(2025, 12, 20),
                    present: 8,
                    grades: g,
                },
            )
            .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            format!(
                "{} is not a member of the branch on 2025-12-20",
                tuanji_domain::mask_id_like(&stranger)
            )
        );
    }
);

both_backends!(
    evl_grades_approval_refused_to_the_branch_and_accepted_from_the_school,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &record(&m, 8, 3))
                .await,
            "the round",
        );
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &approve(PARTY_BRANCH))
                .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            "青年教师团支部 (S001-T1) is not a committee above the branch S001-T1"
        );
        let out = expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &approve(SCHOOL))
                .await,
            "approval by the school committee",
        );
        assert_eq!(out.to, "approved");
        assert_eq!(
            out.round.approved,
            Some((d(2026, 1, 10), SCHOOL.to_owned()))
        );
        assert_eq!(
            app.last_grade(&m[0]).await.expect("grade"),
            Some((2025, Grade::Excellent))
        );
        assert_eq!(
            app.last_grade(&m[5]).await.expect("grade"),
            Some((2025, Grade::Qualified))
        );
        assert_eq!(out.round.pending, vec![tuanji_domain::mask_id_like(&m[9])]);
        // A second round of the same year is refused; amending after approval is not a transition.
        assert!(matches!(
            app.evaluation(PARTY_BRANCH, 2025, None, &record(&m, 8, 3))
                .await,
            Err(EngineError::Input(_))
        ));
        let amend = E::Amend {
            date: d(2025, 12, 20),
            present: 8,
            grades: grades(&m, 2),
        };
        expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &amend).await,
            "WF_NOT_ALLOWED",
        );
        assert_eq!(app.verify_fault().await, None);
    }
);

both_backends!(
    evl_unqualified_reevaluation_from_three_months_then_advice_then_close,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &record(&m, 8, 3))
                .await,
            "the round",
        );
        expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &approve(SCHOOL))
                .await,
            "approval",
        );
        let close = E::Close {
            date: d(2026, 8, 1),
        };
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &close).await,
            "EVL_UNQUALIFIED",
        );
        assert!(
            v.message
                .starts_with("1 unqualified member(s) still to be re-evaluated or advised: "),
            "{}",
            v.message
        );
        let early = E::Reevaluate {
            date: d(2026, 4, 9),
            member: m[9].clone(),
            grade: Grade::Unqualified,
        };
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &early).await,
            "EVL_UNQUALIFIED",
        );
        assert_eq!(
            v.message,
            "re-evaluation comes at least 3 months after the approval of 2026-01-10: from 2026-04-10, not 2026-04-09"
        );
        let qualified = E::Reevaluate {
            date: d(2026, 4, 10),
            member: m[5].clone(),
            grade: Grade::Qualified,
        };
        expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &qualified).await,
            "EVL_UNQUALIFIED",
        );
        let advise = E::AdviseWithdrawal {
            date: d(2026, 7, 20),
            member: m[9].clone(),
        };
        expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &advise).await,
            "EVL_UNQUALIFIED",
        );
        // Late (after 6 months) is flagged, not refused.
        let late = E::Reevaluate {
            date: d(2026, 7, 11),
            member: m[9].clone(),
            grade: Grade::Unqualified,
        };
        let out = expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &late).await,
            "a late re-evaluation",
        );
        assert_eq!(
            out.flags,
            vec![(
                "EVL_UNQUALIFIED".to_owned(),
                "re-evaluated on 2026-07-11, after 2026-07-10 (6 months from the approval)"
                    .to_owned()
            )]
        );
        expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &advise).await,
            "advice to withdraw",
        );
        let out = expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &close).await,
            "close",
        );
        assert_eq!(out.to, "closed");
        let v = app.evaluation_show(PARTY_BRANCH, 2025).await.expect("show");
        assert_eq!(v.closed_on, Some(d(2026, 8, 1)));
        assert_eq!(v.grades[9].advised_on, Some(d(2026, 7, 20)));
        assert_eq!(
            v.grades[9].reevaluation,
            Some((d(2026, 7, 11), Grade::Unqualified))
        );
        assert_eq!(
            app.last_grade(&m[9]).await.expect("grade"),
            Some((2025, Grade::Unqualified))
        );
        assert_eq!(app.verify_fault().await, None);
    }
);

#[test]
fn evl_grades_csv_reads_a_roster_and_names_bad_lines() {
    let csv = "\u{feff}姓名,公民身份号码,等次\n张三,110105200406010011,优秀\n李四,110105200406010027,qualified\n\n王五,110105200406010035,good\n赵六,,合格\n";
    match parse_grades_csv(csv.as_bytes()) {
        Err(EngineError::Rows(rows)) => {
            let got: Vec<(usize, Option<String>, Option<&str>)> = rows
                .iter()
                .map(|r| (r.line, r.column.clone(), r.code.map(|c| c.as_str())))
                .collect();
            assert_eq!(
                got,
                vec![
                    (5, Some("等次".to_owned()), Some("EVL_GRADES")),
                    (6, Some("公民身份号码".to_owned()), None)
                ]
            );
        }
        other => panic!("expected bad rows, got {other:?}"),
    }
    let ok = "member,grade\n110105200406010011,excellent\n110105200406010027,基本合格\n";
    assert_eq!(
        parse_grades_csv(ok.as_bytes()).expect("valid"),
        vec![
            ("110105200406010011".to_owned(), Grade::Excellent),
            ("110105200406010027".to_owned(), Grade::BasicallyQualified)
        ]
    );
    assert_eq!(
        parse_grade("basically-qualified"),
        Ok(Grade::BasicallyQualified)
    );
    assert_eq!(parse_grade("不合格"), Ok(Grade::Unqualified));
    assert!(parse_grades_csv("姓名,等次\n张三,优秀\n".as_bytes()).is_err());
}
