//! Annual evaluation (团员教育评议) rules on both backends: every EVL_* rule accepted and refused, with exact
//! messages. The branch is [`PARTY_BRANCH`]: 10 members in good standing since 2022-05-04.

use tuanji_domain::mask_id_like;
use tuanji_engine::evaluation::{parse_grade, parse_grades_csv, EvaluationCommand as E};
use tuanji_engine::standing::StandingCommand as S;
use tuanji_engine::{with_engine, Actor, AnyEngine, EngineError, EngineResult};
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
        // The member is named by masked ID, never by internal person id.
        assert_eq!(
            v.message,
            format!(
                "1 unqualified member(s) still to be re-evaluated or advised: {}",
                tuanji_domain::mask_id_like(&m[9])
            )
        );
        let advise_first = E::AdviseWithdrawal {
            date: d(2026, 8, 1),
            member: m[9].clone(),
        };
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &advise_first)
                .await,
            "EVL_UNQUALIFIED",
        );
        assert_eq!(
            v.message,
            format!(
                "{} has not been re-evaluated; advice follows a second unqualified grade",
                tuanji_domain::mask_id_like(&m[9])
            )
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

// ------------------------------------------------------------------ EVL_GRADES: the roll

/// The round for `year` met on `date` with `present` members and these grades.
fn record_on(date: tuanji_domain::Date, present: u32, grades: Vec<(String, Grade)>) -> E {
    E::Record {
        date,
        present,
        grades,
    }
}

both_backends!(
    evl_grades_refuses_a_round_that_leaves_a_member_out,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        let log_before = app.log(None).await.len();
        let mut g = grades(&m, 2);
        g.remove(4);
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &record_on(d(2025, 12, 20), 8, g))
                .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            format!(
                "1 of the 10 members of the branch in good standing on 2025-12-20 (members by 2025-12-31) is not graded: {}",
                mask_id_like(&m[4])
            )
        );
        // Seven left out: five named, the rest counted.
        let v = expect_rule(
            app.evaluation(
                PARTY_BRANCH,
                2025,
                None,
                &record_on(d(2025, 12, 20), 8, grades(&m[..3], 0)),
            )
            .await,
            "EVL_GRADES",
        );
        assert!(
            v.message.starts_with(
                "7 of the 10 members of the branch in good standing on 2025-12-20 (members by 2025-12-31) are not graded: "
            ) && v.message.ends_with(", 2 more"),
            "{}",
            v.message
        );
        assert_eq!(v.message.matches("********").count(), 5, "{}", v.message);
        assert!(!v.message.contains(&m[5]), "IDs are masked: {}", v.message);
        // Nothing was written.
        assert_eq!(app.log(None).await.len(), log_before);
        assert!(app.evaluation_show(PARTY_BRANCH, 2025).await.is_err());
    }
);

both_backends!(
    evl_grades_approval_refuses_a_round_missing_a_member_of_the_meeting_date,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &record(&m, 8, 3))
                .await,
            "the round",
        );
        // A member since 2023 is entered in the register after the round was recorded.
        let late = app.with_party_member(d(2004, 6, 1), d(2023, 5, 4)).await;
        let log_before = app.log(None).await.len();
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &approve(SCHOOL))
                .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            format!(
                "1 of the 11 members of the branch in good standing on 2025-12-20 (members by 2025-12-31) is not graded: {}",
                mask_id_like(&late)
            )
        );
        assert_eq!(app.log(None).await.len(), log_before);
        assert_eq!(
            app.evaluation_show(PARTY_BRANCH, 2025)
                .await
                .expect("show")
                .state,
            "recorded"
        );
        assert_eq!(app.last_grade(&m[0]).await.expect("grade"), None);
        // Amended with the member graded (and counted), the round is approved.
        let mut g = grades(&m, 3);
        g.push((late.clone(), Grade::Qualified));
        expect_ok(
            app.evaluation(
                PARTY_BRANCH,
                2025,
                None,
                &E::Amend {
                    date: d(2025, 12, 20),
                    present: 8,
                    grades: g,
                },
            )
            .await,
            "the amendment",
        );
        let out = expect_ok(
            app.evaluation(PARTY_BRANCH, 2025, None, &approve(SCHOOL))
                .await,
            "the approval",
        );
        assert_eq!((out.round.members, out.round.grades.len()), (11, 11));
        assert_eq!(
            app.last_grade(&late).await.expect("grade"),
            Some((2025, Grade::Qualified))
        );
        assert_eq!(app.verify_fault().await, None);
    }
);

both_backends!(
    evl_grades_members_who_joined_after_the_year_are_not_required,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        let newcomer = app.with_party_member(d(2004, 6, 1), d(2026, 1, 5)).await;
        // The 2025 round meets on 2026-01-10: the newcomer is a member then (and counts for attendance),
        // but joined after 2025 and need not be graded.
        let out = expect_ok(
            app.evaluation(
                PARTY_BRANCH,
                2025,
                None,
                &record_on(d(2026, 1, 10), 8, grades(&m, 3)),
            )
            .await,
            "the round without the newcomer",
        );
        assert_eq!(
            (out.round.members, out.round.present, out.round.grades.len()),
            (11, 8, 10)
        );
        let mut g = grades(&m, 3);
        g.push((newcomer.clone(), Grade::Qualified));
        let out = expect_ok(
            app.evaluation(
                PARTY_BRANCH,
                2025,
                None,
                &E::Amend {
                    date: d(2026, 1, 10),
                    present: 8,
                    grades: g,
                },
            )
            .await,
            "the round with the newcomer",
        );
        assert_eq!(out.round.grades.len(), 11);
        assert_eq!(app.verify_fault().await, None);
    }
);

both_backends!(
    evl_grades_refuses_a_year_before_any_graded_member_joined,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2020, None, &record(&m, 8, 3))
                .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            "no graded member was a member in 2020: the earliest membership starts on 2022-05-04, after 2020-12-31"
        );
        assert!(app.evaluation_show(PARTY_BRANCH, 2020).await.is_err());
        // 2022, the year they joined, is accepted.
        expect_ok(
            app.evaluation(PARTY_BRANCH, 2022, None, &record(&m, 8, 3))
                .await,
            "the 2022 round",
        );
    }
);

both_backends!(
    evl_grades_refuses_a_year_after_the_current_year,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        let v = expect_rule(
            app.evaluation(
                PARTY_BRANCH,
                2027,
                None,
                &record_on(d(2026, 11, 20), 8, grades(&m, 3)),
            )
            .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            "the round for 2027 is after the current year (2026)"
        );
        assert!(app.evaluation_show(PARTY_BRANCH, 2027).await.is_err());
        // The current year is accepted.
        expect_ok(
            app.evaluation(
                PARTY_BRANCH,
                2026,
                None,
                &record_on(d(2026, 11, 20), 8, grades(&m, 3)),
            )
            .await,
            "the 2026 round",
        );
    }
);

both_backends!(
    evl_grades_refuses_a_member_graded_twice_naming_both_entries,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await.good;
        // Three excellent of ten and the first member again, excellent: reported as graded twice, not as
        // 4 of 11 excellent.
        let mut g = grades(&m, 3);
        g.push((m[0].clone(), Grade::Excellent));
        let v = expect_rule(
            app.evaluation(PARTY_BRANCH, 2025, None, &record_on(d(2025, 12, 20), 8, g))
                .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            format!("{} is graded twice (entries 1 and 11)", mask_id_like(&m[0]))
        );
        assert!(app.evaluation_show(PARTY_BRANCH, 2025).await.is_err());
    }
);

#[test]
fn evl_grades_csv_names_a_member_graded_twice_with_both_lines() {
    let csv = "姓名,公民身份号码,等次\n张三,110105200406010011,优秀\n李四,110105200406010027,合格\n\n张三,110105200406010011,优秀\n";
    match parse_grades_csv(csv.as_bytes()) {
        Err(EngineError::Rows(rows)) => {
            let got: Vec<(usize, Option<String>, Option<&str>, String)> = rows
                .iter()
                .map(|r| {
                    (
                        r.line,
                        r.column.clone(),
                        r.code.map(|c| c.as_str()),
                        r.reason.clone(),
                    )
                })
                .collect();
            assert_eq!(
                got,
                vec![(
                    5,
                    Some("公民身份号码".to_owned()),
                    Some("EVL_GRADES"),
                    "110105********0011 is graded twice: lines 2 and 5".to_owned()
                )]
            );
        }
        other => panic!("expected bad rows, got {other:?}"),
    }
    // A lowercase check character is the same resident ID.
    let csv = "member,grade\n11010520040601001x,qualified\n11010520040601001X,qualified\n";
    match parse_grades_csv(csv.as_bytes()) {
        Err(EngineError::Rows(rows)) => {
            assert_eq!(
                (rows.len(), rows[0].line, rows[0].reason.as_str()),
                (1, 3, "110105********001X is graded twice: lines 2 and 3")
            );
        }
        other => panic!("expected bad rows, got {other:?}"),
    }
}

// ------------------------------------------------------------------ EVL_GRADES: attendance

/// `Engine::evaluation` on `engine` (e.g. one whose today is later) as `tester` in the transition's first role.
async fn evaluation_on(
    engine: &AnyEngine,
    year: i32,
    cmd: &E,
) -> EngineResult<tuanji_engine::evaluation::EvaluationOutcome> {
    let a = Actor {
        name: "tester".into(),
        ..Default::default()
    };
    with_engine!(engine, e => e.evaluation(&a, PARTY_BRANCH, year, cmd).await)
}

both_backends!(
    evl_grades_attendance_counts_only_members_in_good_standing_on_the_meeting_date,
    |app| async move {
        let app = app.with_school().await;
        let branch = app.with_party_branch(9, 1).await;
        let m = branch.good;
        let on_probation = branch.on_probation[0].clone();
        // 28 on 2026-12-10: aged out before the meeting of 2026-12-20.
        let aged_out = app.with_party_member(d(1998, 12, 10), d(2017, 5, 4)).await;
        // 28 on 2027-02-01: aged out after the meeting, so still a member on its date.
        let aged_out_later = app.with_party_member(d(1999, 2, 1), d(2017, 5, 4)).await;
        // Died on 2026-11-02.
        expect_ok(
            app.standing(
                &m[8],
                None,
                &S::RecordDeath {
                    date: d(2026, 11, 2),
                    recorded_by: SCHOOL.into(),
                },
            )
            .await,
            "the death",
        );
        // The round is recorded in June 2027, after a sweep that aged both out.
        let later = app.engine().clone().with_today(d(2027, 6, 1));
        let a = Actor {
            name: "sweep".into(),
            role: Some("system_admin".into()),
            ..Default::default()
        };
        let r = expect_ok(
            with_engine!(&later, e => e.standing_sweep(&a, d(2027, 6, 1), &|_, _, _| {}).await),
            "the sweep",
        );
        assert_eq!(r.aged_out, 2);
        assert_eq!(app.standing_state(&aged_out).await, "aged_out");
        assert_eq!(app.standing_state(&aged_out_later).await, "aged_out");
        assert_eq!(app.standing_state(&m[8]).await, "deceased");
        // On 2026-12-20 the branch has 8 members in good standing, the member on probation and the one who
        // ages out in 2027: 10. Seven present are more than 2/3 of 10; counting all 12 on the roll would need 9.
        let mut roll: Vec<String> = m[..8].to_vec();
        roll.push(on_probation.clone());
        roll.push(aged_out_later.clone());
        let v = expect_rule(
            evaluation_on(
                &later,
                2026,
                &record_on(d(2026, 12, 20), 6, grades(&roll, 3)),
            )
            .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            "6 of 10 members present; more than 2/3 are required"
        );
        // Grading the member who aged out before the meeting is refused; so is leaving out the one who
        // was still a member.
        let mut g = grades(&roll, 3);
        g.push((aged_out.clone(), Grade::Qualified));
        let v = expect_rule(
            evaluation_on(&later, 2026, &record_on(d(2026, 12, 20), 7, g)).await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            format!(
                "{} is not a member of the branch on 2026-12-20",
                mask_id_like(&aged_out)
            )
        );
        let v = expect_rule(
            evaluation_on(
                &later,
                2026,
                &record_on(d(2026, 12, 20), 7, grades(&roll[..9], 2)),
            )
            .await,
            "EVL_GRADES",
        );
        assert_eq!(
            v.message,
            format!(
                "1 of the 10 members of the branch in good standing on 2026-12-20 (members by 2026-12-31) is not graded: {}",
                mask_id_like(&aged_out_later)
            )
        );
        let out = expect_ok(
            evaluation_on(
                &later,
                2026,
                &record_on(d(2026, 12, 20), 7, grades(&roll, 3)),
            )
            .await,
            "7 of 10 present",
        );
        assert_eq!(
            (out.round.members, out.round.present, out.round.grades.len()),
            (10, 7, 10)
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
