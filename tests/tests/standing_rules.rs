//! Standing (团籍) and dues (团费) rules on both backends: every STD_* and DUE_* rule accepted and refused (and
//! EVL_UNQUALIFIED's removal), the age-out on a 29 February birthday and across a sweep run months late, sweep
//! idempotence, and `audit verify` clean after the standing commands.
//!
//! The harness's today is 2026-11-30; a later "today" is an engine on the same database with another date.

use tuanji_domain::dues::YearMonth;
use tuanji_engine::standing::{StandingCommand as S, StandingSweepReport};
use tuanji_engine::{with_engine, Actor, AnyEngine, EngineResult};
use tuanji_tests::*;
use tuanji_workflow::standing::{BranchMeeting, Decision, DuesCategory, PostKind, RemovalReason};

/// A member of [`NON_GRADUATING`] born on `birth`, admitted 2016-05-04 (before development numbers),
/// registered today (2026-11-30): dues are tracked from 2026-11.
async fn member_born(app: &TestApp, birth: tuanji_domain::Date) -> String {
    let rid = app.new_rid(birth);
    let csv = format!("姓名,公民身份号码,入团日期,团员编号,留团察看至\n团员,{rid},2016-05-04,,\n");
    expect_ok(
        app.import_roster(NON_GRADUATING, csv.as_bytes(), false)
            .await,
        "a legacy member",
    );
    rid
}

/// A branch meeting on `date` that passed: 5 entitled (the members of [`NON_GRADUATING`] not on probation), 5
/// present, 4 yes, 1 no.
fn meeting(date: tuanji_domain::Date) -> BranchMeeting {
    BranchMeeting {
        date,
        entitled: 5,
        present: 5,
        yes: 4,
        no: 1,
        abstain: 0,
    }
}

/// The branch meeting on `date`, approved by `org` the same day.
fn decision(date: tuanji_domain::Date, org: &str) -> Decision {
    Decision {
        meeting: meeting(date),
        approved_by: org.to_owned(),
        approved_on: date,
    }
}

/// The engine of `app` with today = `today`.
fn at(app: &TestApp, today: tuanji_domain::Date) -> AnyEngine {
    app.engine().clone().with_today(today)
}

fn sweeper() -> Actor {
    Actor {
        name: "sweep".into(),
        role: Some("system_admin".into()),
        ..Default::default()
    }
}

async fn sweep_at(engine: &AnyEngine, as_of: tuanji_domain::Date) -> StandingSweepReport {
    expect_ok(
        with_engine!(engine, e => e.standing_sweep(&sweeper(), as_of, &|_, _, _| {}).await),
        "standing sweep",
    )
}

async fn standing_at(
    engine: &AnyEngine,
    who: &str,
    cmd: &S,
) -> EngineResult<tuanji_engine::standing::StandingOutcome> {
    let a = Actor {
        name: "tester".into(),
        role: Some("committee_admin".into()),
        ..Default::default()
    };
    with_engine!(engine, e => e.standing(&a, who, cmd).await)
}

fn probation(date: tuanji_domain::Date, months: u32, org: &str) -> S {
    S::PutOnProbation {
        date,
        months,
        decision: decision(date, org),
        reason: "违反团的纪律".into(),
    }
}

// ------------------------------------------------------------------ STD_PROBATION

both_backends!(
    std_probation_accepts_6_months_approved_by_the_school,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[0].clone();
        let out = expect_ok(
            app.standing(&who, None, &probation(d(2026, 11, 2), 6, SCHOOL))
                .await,
            "probation",
        );
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("member", "on_probation")
        );
        assert!(out.rule_codes.contains(&"STD_PROBATION".to_owned()));
        let v = expect_ok(app.standing_show(&who).await, "show");
        assert_eq!(v.probation_until, Some(d(2027, 5, 2)));
        assert_eq!(app.standing_state(&who).await, "on_probation");
        // No vote: the branch has one entitled member fewer (5 good − 1 + 0; the imported probation one is not).
        assert_eq!(app.branch_counts(NON_GRADUATING).await.entitled, 4);
    }
);

both_backends!(std_probation_refuses_9_months, |app| async move {
    let app = app.with_school().await;
    let who = app.members(NON_GRADUATING).good[0].clone();
    let v = expect_rule(
        app.standing(&who, None, &probation(d(2026, 11, 2), 9, SCHOOL))
            .await,
        "STD_PROBATION",
    );
    assert!(v.message.contains("6 or 12 months, not 9"), "{v}");
    assert_eq!(app.standing_state(&who).await, "member");
});

both_backends!(
    std_probation_refuses_approval_by_the_branch_itself,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[0].clone();
        let v = expect_rule(
            app.standing(&who, None, &probation(d(2026, 11, 2), 6, NON_GRADUATING))
                .await,
            "STD_PROBATION",
        );
        assert!(v.message.contains("not a committee above"), "{v}");
    }
);

both_backends!(
    std_probation_end_refused_before_the_end_date,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).on_probation[0].clone();
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::EndProbation {
                    date: d(2026, 11, 30),
                },
            )
            .await,
            "STD_PROBATION",
        );
        assert!(v.message.contains("2027-05-03"), "{v}");
        assert_eq!(app.standing_state(&who).await, "on_probation");
    }
);

both_backends!(
    std_probation_ends_on_its_end_date_at_a_late_sweep,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).on_probation[0].clone();
        let later = at(&app, d(2027, 8, 1));
        let r = sweep_at(&later, d(2027, 8, 1)).await;
        assert_eq!(r.probation_ended, 1);
        assert_eq!(app.standing_state(&who).await, "member");
        let log = app.log(Some(&who)).await;
        let end = log
            .iter()
            .find(|e| e.command == "end_probation")
            .expect("an end_probation entry");
        assert_eq!(end.effective_date, d(2027, 5, 3));
        assert_eq!(
            (end.from_state.as_str(), end.to_state.as_str()),
            ("on_probation", "member")
        );
    }
);

// ------------------------------------------------------------------ STD_EXPEL

both_backends!(std_expel_accepts_county_approval, |app| async move {
    let app = app.with_school().await;
    let who = app.members(NON_GRADUATING).good[1].clone();
    let out = expect_ok(
        app.standing(
            &who,
            None,
            &S::Expel {
                date: d(2026, 11, 20),
                decision: decision(d(2026, 11, 20), COUNTY),
                reason: "严重违纪".into(),
            },
        )
        .await,
        "expel",
    );
    assert_eq!(out.to, "expelled");
    assert_eq!(app.standing_state(&who).await, "expelled");
    // Terminal: nothing more.
    expect_rule(
        app.standing(
            &who,
            None,
            &S::RecordLife {
                date: d(2026, 11, 25),
                note: "团课".into(),
            },
        )
        .await,
        "WF_NOT_ALLOWED",
    );
});

both_backends!(
    std_expel_refuses_approval_by_a_basic_level_committee,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[1].clone();
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Expel {
                    date: d(2026, 11, 20),
                    decision: decision(d(2026, 11, 20), SCHOOL),
                    reason: "严重违纪".into(),
                },
            )
            .await,
            "STD_EXPEL",
        );
        assert!(v.message.contains("county-level"), "{v}");
    }
);

both_backends!(
    std_expel_refuses_while_an_appeal_is_undecided,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[1].clone();
        expect_ok(
            app.standing(
                &who,
                Some("member"),
                &S::RecordAppeal {
                    date: d(2026, 11, 10),
                    to_org: COUNTY.into(),
                    summary: "对处分不服".into(),
                },
            )
            .await,
            "appeal",
        );
        let expel = S::Expel {
            date: d(2026, 11, 20),
            decision: decision(d(2026, 11, 20), COUNTY),
            reason: "严重违纪".into(),
        };
        let v = expect_rule(app.standing(&who, None, &expel).await, "STD_EXPEL");
        assert!(v.message.contains("not decided"), "{v}");
        expect_ok(
            app.standing(
                &who,
                None,
                &S::DecideAppeal {
                    date: d(2026, 11, 15),
                    org: COUNTY.into(),
                    upheld: false,
                },
            )
            .await,
            "decide",
        );
        expect_ok(
            app.standing(&who, None, &expel).await,
            "expel after the decision",
        );
    }
);

// ------------------------------------------------------------------ STD_WITHDRAW

both_backends!(
    std_withdraw_accepts_request_then_meeting,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[2].clone();
        let out = expect_ok(
            app.standing(
                &who,
                None,
                &S::Withdraw {
                    date: d(2026, 11, 20),
                    request_date: d(2026, 11, 1),
                    decision: decision(d(2026, 11, 20), SCHOOL),
                },
            )
            .await,
            "withdraw",
        );
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("member", "withdrawn")
        );
        assert_eq!(app.standing_state(&who).await, "withdrawn");
    }
);

both_backends!(
    std_withdraw_refuses_a_request_after_the_meeting,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[2].clone();
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Withdraw {
                    date: d(2026, 11, 20),
                    request_date: d(2026, 11, 21),
                    decision: decision(d(2026, 11, 20), SCHOOL),
                },
            )
            .await,
            "STD_WITHDRAW",
        );
        assert!(v.message.contains("request comes first"), "{v}");
    }
);

// ------------------------------------------------------------------ STD_LAPSE and EVL_UNQUALIFIED

both_backends!(
    std_lapse_refuses_removal_without_six_months,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[3].clone();
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Remove {
                    date: d(2026, 11, 20),
                    reason: RemovalReason::Lapse,
                    decision: decision(d(2026, 11, 20), SCHOOL),
                },
            )
            .await,
            "STD_LAPSE",
        );
        assert!(v.message.contains("6 consecutive months"), "{v}");
    }
);

both_backends!(
    std_lapse_flags_then_accepts_removal_after_six_months,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[3].clone();
        // Dues tracked from 2026-11 (the import month); nothing paid: 2026-11..2027-04 is six months by 2027-05-01.
        let later = at(&app, d(2027, 6, 15));
        let r = sweep_at(&later, d(2027, 4, 30)).await;
        assert_eq!((r.lapse_dues, r.entries), (0, 0));
        let r = sweep_at(&later, d(2027, 5, 1)).await;
        // Every member of the school (5 + 3 + 6) but the one on probation until 2027-05-03 is flagged on dues.
        assert_eq!(r.examined, 14);
        assert_eq!(r.lapse_dues, 14);
        let v = expect_ok(app.standing_show(&who).await, "show");
        let (flagged_on, _, since) = v.lapse_flag.expect("a lapse flag");
        assert_eq!(
            (flagged_on, since),
            (d(2027, 5, 1), YearMonth::new(2026, 11).expect("month"))
        );
        let out = expect_ok(
            standing_at(
                &later,
                &who,
                &S::Remove {
                    date: d(2027, 6, 10),
                    reason: RemovalReason::Lapse,
                    decision: decision(d(2027, 6, 10), SCHOOL),
                },
            )
            .await,
            "removal",
        );
        assert_eq!(out.to, "removed");
        assert_eq!(app.standing_state(&who).await, "removed");
    }
);

both_backends!(
    evl_unqualified_refuses_removal_without_advice,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[3].clone();
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Remove {
                    date: d(2026, 11, 20),
                    reason: RemovalReason::Unqualified,
                    decision: decision(d(2026, 11, 20), SCHOOL),
                },
            )
            .await,
            "EVL_UNQUALIFIED",
        );
        assert!(v.message.contains("advised to withdraw"), "{v}");
    }
);

// ------------------------------------------------------------------ DUE_STUDENT

both_backends!(
    due_student_accepts_0_20_a_month_and_shows_arrears,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[4].clone();
        // 2026-11 is owed from the import month but payable during it: no arrears today.
        let v = expect_ok(app.standing_show(&who).await, "show").dues;
        assert_eq!((v.arrears_fen, v.arrears_months.len()), (0, 0));
        expect_ok(
            app.standing(
                &who,
                Some("branch_secretary"),
                &S::RecordDues {
                    date: d(2026, 11, 30),
                    first: YearMonth::new(2026, 11).expect("month"),
                    months: 2,
                    amount_fen: 40,
                    category: DuesCategory::Reduced,
                },
            )
            .await,
            "dues",
        );
        let v = expect_ok(app.standing_show(&who).await, "show").dues;
        assert_eq!(v.paid_fen, 40);
        assert_eq!(v.paid_yuan, "0.40");
        assert_eq!(v.monthly_fen, 20);
        assert_eq!(
            v.months_paid,
            vec![
                YearMonth::new(2026, 11).expect("month"),
                YearMonth::new(2026, 12).expect("month")
            ]
        );
        // Eight months later, unpaid 2027-01..2027-06 are 6 months, 1.20 yuan.
        let later = at(&app, d(2027, 7, 15));
        let v = expect_ok(
            with_engine!(&later, e => e.dues_show(&who).await),
            "dues show",
        );
        assert_eq!(v.arrears_months.len(), 6);
        assert_eq!((v.arrears_fen, v.arrears_yuan.as_str()), (120, "1.20"));
    }
);

both_backends!(
    due_student_refuses_less_than_0_20_a_month,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[4].clone();
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::RecordDues {
                    date: d(2026, 11, 30),
                    first: YearMonth::new(2026, 11).expect("month"),
                    months: 3,
                    amount_fen: 50,
                    category: DuesCategory::Reduced,
                },
            )
            .await,
            "DUE_STUDENT",
        );
        assert!(v.message.contains("0.60 yuan; 0.50 yuan paid"), "{v}");
    }
);

both_backends!(
    due_student_refuses_a_month_paid_twice_and_before_the_start,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[4].clone();
        let pay = |y, m| S::RecordDues {
            date: d(2026, 11, 30),
            first: YearMonth::new(y, m).expect("month"),
            months: 1,
            amount_fen: 20,
            category: DuesCategory::Reduced,
        };
        expect_ok(app.standing(&who, None, &pay(2026, 11)).await, "first");
        let v = expect_rule(
            app.standing(&who, None, &pay(2026, 11)).await,
            "DUE_STUDENT",
        );
        assert!(v.message.contains("already paid"), "{v}");
        let v = expect_rule(
            app.standing(&who, None, &pay(2026, 10)).await,
            "DUE_STUDENT",
        );
        assert!(v.message.contains("owed from 2026-11"), "{v}");
    }
);

// ------------------------------------------------------------------ STD_AGE_OUT

both_backends!(std_age_out_on_a_29_february_birthday, |app| async move {
    let app = app.with_school().await;
    let who = member_born(&app, d(2000, 2, 29)).await;
    let v = expect_ok(app.standing_show(&who).await, "show");
    assert_eq!(
        v.age_out_month,
        Some(YearMonth::new(2028, 2).expect("a month"))
    );
    let later = at(&app, d(2028, 3, 31));
    // Refused before the birthday.
    let v = expect_rule(
        standing_at(
            &later,
            &who,
            &S::AgeOut {
                date: d(2028, 2, 28),
            },
        )
        .await,
        "STD_AGE_OUT",
    );
    assert!(v.message.contains("2028-02-29"), "{v}");
    let r = sweep_at(&later, d(2028, 2, 28)).await;
    assert_eq!(r.aged_out, 0);
    let r = sweep_at(&later, d(2028, 2, 29)).await;
    assert_eq!(r.aged_out, 1);
    assert_eq!(app.standing_state(&who).await, "aged_out");
    let e = app
        .log(Some(&who))
        .await
        .into_iter()
        .find(|e| e.command == "age_out")
        .expect("an age_out entry");
    assert_eq!(e.effective_date, d(2028, 2, 29));
});

both_backends!(
    std_age_out_effective_on_the_birthday_when_the_sweep_runs_months_late,
    |app| async move {
        let app = app.with_school().await;
        let who = member_born(&app, d(1999, 1, 15)).await;
        let later = at(&app, d(2027, 9, 1));
        let r = sweep_at(&later, d(2027, 9, 1)).await;
        assert_eq!(r.aged_out, 1);
        let e = app
            .log(Some(&who))
            .await
            .into_iter()
            .find(|e| e.command == "age_out")
            .expect("an age_out entry");
        assert_eq!(e.effective_date, d(2027, 1, 15));
        let m = expect_ok(app.member_view(&who).await, "member")
            .member
            .expect("member row");
        assert_eq!(m.standing, "aged_out");
    }
);

// An organisation has one secretary at a time: a second is refused, naming the holder masked, and nothing is
// written; once the first post ends the second may take it. Committee members may be many.
both_backends!(
    std_age_out_posts_one_secretary_per_organisation,
    |app| async move {
        let app = app.with_school().await;
        let [first, second] = [
            app.members(NON_GRADUATING).good[0].clone(),
            app.members(NON_GRADUATING).good[1].clone(),
        ];
        let assign = |post, date| S::AssignPost {
            date,
            post,
            org: NON_GRADUATING.into(),
        };
        expect_ok(
            app.standing(&first, None, &assign(PostKind::Secretary, d(2026, 11, 20)))
                .await,
            "first secretary",
        );
        let before = log_len(&app, &second).await;
        match app
            .standing(&second, None, &assign(PostKind::Secretary, d(2026, 11, 21)))
            .await
        {
            Err(tuanji_engine::EngineError::Input(m)) => assert_eq!(
                m,
                format!(
                    "高一(2)班团支部 (S001-G1) already has a secretary ({}); end that post first",
                    tuanji_domain::mask_id_like(&first)
                )
            ),
            other => panic!("expected the input refusal, got {other:?}"),
        }
        assert_eq!(log_len(&app, &second).await, before);
        expect_ok(
            app.standing(
                &second,
                None,
                &assign(PostKind::CommitteeMember, d(2026, 11, 21)),
            )
            .await,
            "a committee member besides",
        );
        expect_ok(
            app.standing(
                &first,
                None,
                &S::EndPost {
                    date: d(2026, 11, 25),
                    post: PostKind::Secretary,
                    org: NON_GRADUATING.into(),
                },
            )
            .await,
            "handed over",
        );
        expect_ok(
            app.standing(&second, None, &assign(PostKind::Secretary, d(2026, 11, 25)))
                .await,
            "the second secretary",
        );
    }
);

both_backends!(
    std_age_out_keeps_a_post_holder_until_the_post_ends,
    |app| async move {
        let app = app.with_school().await;
        let who = member_born(&app, d(1999, 1, 15)).await;
        expect_ok(
            app.standing(
                &who,
                Some("branch_secretary"),
                &S::AssignPost {
                    date: d(2026, 11, 20),
                    post: PostKind::Secretary,
                    org: NON_GRADUATING.into(),
                },
            )
            .await,
            "post",
        );
        let later = at(&app, d(2027, 9, 1));
        let r = sweep_at(&later, d(2027, 6, 1)).await;
        assert_eq!(r.aged_out, 0);
        assert_eq!(app.standing_state(&who).await, "member");
        // Ending the post past 28 raises the over-age flag; the sweep then ages the member out on that day.
        let out = expect_ok(
            standing_at(
                &later,
                &who,
                &S::EndPost {
                    date: d(2027, 6, 10),
                    post: PostKind::Secretary,
                    org: NON_GRADUATING.into(),
                },
            )
            .await,
            "end post",
        );
        assert_eq!(out.flags.len(), 1);
        assert_eq!(out.flags[0].0, "STD_AGE_OUT");
        let r = sweep_at(&later, d(2027, 9, 1)).await;
        assert_eq!(r.aged_out, 1);
        let e = app
            .log(Some(&who))
            .await
            .into_iter()
            .find(|e| e.command == "age_out")
            .expect("an age_out entry");
        assert_eq!(e.effective_date, d(2027, 6, 10));
    }
);

// ------------------------------------------------------------------ sweep and audit

both_backends!(standing_sweep_is_idempotent, |app| async move {
    let app = app.with_school().await;
    member_born(&app, d(1999, 1, 15)).await;
    let later = at(&app, d(2027, 9, 1));
    let first = sweep_at(&later, d(2027, 9, 1)).await;
    assert_eq!(first.aged_out, 1);
    assert_eq!(first.probation_ended, 1);
    assert!(first.entries >= 2);
    let size = app.log(None).await.len();
    let second = sweep_at(&later, d(2027, 9, 1)).await;
    assert_eq!(
        second,
        StandingSweepReport {
            as_of: Some(d(2027, 9, 1)),
            examined: first.examined - first.aged_out,
            ..StandingSweepReport::default()
        }
    );
    assert_eq!(
        app.log(None).await.len(),
        size,
        "a second run writes nothing"
    );
});

both_backends!(
    standing_audit_verify_is_clean_after_the_standing_commands,
    |app| async move {
        let app = app.with_school().await;
        let good = app.members(NON_GRADUATING).good.clone();
        expect_ok(
            app.standing(&good[0], None, &probation(d(2026, 11, 2), 6, SCHOOL))
                .await,
            "probation",
        );
        expect_ok(
            app.standing(
                &good[1],
                None,
                &S::JoinParty {
                    date: d(2026, 11, 3),
                    party_org: "某中学党支部".into(),
                },
            )
            .await,
            "party",
        );
        expect_ok(
            app.standing(
                &good[2],
                None,
                &S::RecordDues {
                    date: d(2026, 11, 4),
                    first: YearMonth::new(2026, 11).expect("month"),
                    months: 1,
                    amount_fen: 20,
                    category: DuesCategory::Reduced,
                },
            )
            .await,
            "dues",
        );
        expect_ok(
            app.standing(
                &good[3],
                None,
                &S::RecordLife {
                    date: d(2026, 11, 5),
                    note: "主题团日".into(),
                },
            )
            .await,
            "life",
        );
        let later = at(&app, d(2027, 9, 1));
        sweep_at(&later, d(2027, 9, 1)).await;
        let r = expect_ok(app.audit_verify(None).await, "audit verify");
        assert_eq!(r.fault, None);
    }
);

// ------------------------------------------------------------------ the break-it round's defects

/// The member's log length (every workflow).
async fn log_len(app: &TestApp, who: &str) -> usize {
    app.log(Some(who)).await.len()
}

// STD_PROBATION: the meeting's entitled members are the branch's members in good standing on its date (5 in
// NON_GRADUATING: the one on probation is not entitled), as the Party vote counts them; 0 takes that count.
both_backends!(
    std_probation_refuses_an_entitled_count_other_than_the_branch_s,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[0].clone();
        let before = log_len(&app, &who).await;
        let mut cmd = probation(d(2026, 11, 2), 6, SCHOOL);
        if let S::PutOnProbation { decision, .. } = &mut cmd {
            decision.meeting.entitled = 6;
        }
        let v = expect_rule(app.standing(&who, None, &cmd).await, "STD_PROBATION");
        assert_eq!(
            v.message,
            "the probation: the meeting names 6 entitled members, but 高一(2)班团支部 (S001-G1) has 5 on 2026-11-02 (members on probation are not entitled to vote)"
        );
        assert_eq!(
            log_len(&app, &who).await,
            before,
            "a refusal writes nothing"
        );
        assert_eq!(app.standing_state(&who).await, "member");
        // Not given (0): the branch's 5.
        if let S::PutOnProbation { decision, .. } = &mut cmd {
            decision.meeting.entitled = 0;
        }
        expect_ok(app.standing(&who, None, &cmd).await, "probation");
        let e = app.log(Some(&who)).await.pop().expect("the entry");
        let payload = e.payload_value().expect("payload");
        assert_eq!(payload["step"]["decision"]["meeting"]["entitled"], 5);
    }
);

// STD_EXPEL and STD_WITHDRAW: the same count, under the decision's own rule code.
both_backends!(
    std_expel_and_std_withdraw_refuse_an_entitled_count_other_than_the_branch_s,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[1].clone();
        let mut expel = decision(d(2026, 11, 20), COUNTY);
        expel.meeting.entitled = 4;
        expel.meeting.present = 4;
        expel.meeting.yes = 3;
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Expel {
                    date: d(2026, 11, 20),
                    decision: expel,
                    reason: "严重违纪".into(),
                },
            )
            .await,
            "STD_EXPEL",
        );
        assert!(
            v.message
                .starts_with("the expulsion: the meeting names 4 entitled members, but 高一(2)班团支部 (S001-G1) has 5 on 2026-11-20"),
            "{v}"
        );
        let mut withdraw = decision(d(2026, 11, 20), SCHOOL);
        withdraw.meeting.entitled = 6;
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Withdraw {
                    date: d(2026, 11, 20),
                    request_date: d(2026, 11, 1),
                    decision: withdraw,
                },
            )
            .await,
            "STD_WITHDRAW",
        );
        assert!(v.message.contains("names 6 entitled members"), "{v}");
        assert_eq!(app.standing_state(&who).await, "member");
    }
);

// STD_WITHDRAW: a written request dated before the membership began (2025-05-04) is not a member's.
both_backends!(
    std_withdraw_refuses_a_request_before_the_membership,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[2].clone();
        let before = log_len(&app, &who).await;
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Withdraw {
                    date: d(2026, 11, 20),
                    request_date: d(2025, 4, 1),
                    decision: decision(d(2026, 11, 20), SCHOOL),
                },
            )
            .await,
            "STD_WITHDRAW",
        );
        assert_eq!(
            v.message,
            "the written request (2025-04-01) is before the membership began (2025-05-04); only a member can ask to withdraw"
        );
        assert_eq!(log_len(&app, &who).await, before);
    }
);

// STD_EXPEL: a decision may not take effect before the member's current state began (Party member since
// 2026-11-10; an expulsion effective 2026-11-05 is refused, naming both dates).
both_backends!(
    std_expel_refuses_a_decision_before_the_current_state_began,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[3].clone();
        expect_ok(
            app.standing(
                &who,
                None,
                &S::JoinParty {
                    date: d(2026, 11, 10),
                    party_org: "某中学党支部".into(),
                },
            )
            .await,
            "join party",
        );
        let before = log_len(&app, &who).await;
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::Expel {
                    date: d(2026, 11, 5),
                    decision: decision(d(2026, 11, 5), COUNTY),
                    reason: "严重违纪".into(),
                },
            )
            .await,
            "STD_EXPEL",
        );
        assert_eq!(
            v.message,
            "the expulsion: effective on 2026-11-05, before the member's standing `party_member` began on 2026-11-10"
        );
        assert_eq!(log_len(&app, &who).await, before);
        assert_eq!(app.standing_state(&who).await, "party_member");
    }
);

// A death is recorded by the member's branch or an organisation above it; a League post is at the member's
// branch or above it (STD_AGE_OUT): another school's committee is neither.
both_backends!(
    std_age_out_post_and_death_refuse_an_organisation_outside_the_branch_s_tree,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[4].clone();
        let before = log_len(&app, &who).await;
        let v = expect_rule(
            app.standing(
                &who,
                Some("branch_secretary"),
                &S::AssignPost {
                    date: d(2026, 11, 20),
                    post: PostKind::CommitteeMember,
                    org: OTHER_SCHOOL.into(),
                },
            )
            .await,
            "STD_AGE_OUT",
        );
        assert_eq!(
            v.message,
            "the post's organisation: 共青团北京市第九十四中学委员会 (S002) is neither the member's branch 高一(2)班团支部 (S001-G1) nor an organisation above it"
        );
        match app
            .standing(
                &who,
                None,
                &S::RecordDeath {
                    date: d(2026, 11, 20),
                    recorded_by: OTHER_SCHOOL.into(),
                },
            )
            .await
        {
            Err(tuanji_engine::EngineError::Input(m)) => assert_eq!(
                m,
                "--recorded-by: 共青团北京市第九十四中学委员会 (S002) is neither the member's branch 高一(2)班团支部 (S001-G1) nor an organisation above it"
            ),
            other => panic!("expected an input error, got {other:?}"),
        }
        assert_eq!(log_len(&app, &who).await, before);
        // The county committee is above the branch.
        expect_ok(
            app.standing(
                &who,
                Some("branch_secretary"),
                &S::AssignPost {
                    date: d(2026, 11, 20),
                    post: PostKind::CommitteeMember,
                    org: COUNTY.into(),
                },
            )
            .await,
            "a post at the county committee",
        );
    }
);

// DUE_STUDENT: one month's dues are at most the policy's 100 yuan (a typo of 1,000,000,000 yuan is refused), and
// no month after the age-out month is paid (born 1999-01-15: 28 on 2027-01-15, dues through 2027-01).
both_backends!(
    due_student_refuses_an_implausible_amount_and_months_after_the_age_out,
    |app| async move {
        let app = app.with_school().await;
        let who = member_born(&app, d(1999, 1, 15)).await;
        let before = log_len(&app, &who).await;
        let dues = |first: YearMonth, months: u32, amount_fen: u64| S::RecordDues {
            date: d(2026, 11, 20),
            first,
            months,
            amount_fen,
            category: DuesCategory::Reduced,
        };
        let nov = YearMonth::new(2026, 11).expect("month");
        let v = expect_rule(
            app.standing(&who, None, &dues(nov, 1, 100_000_000_000))
                .await,
            "DUE_STUDENT",
        );
        assert_eq!(
            v.message,
            "1000000000.00 yuan for 1 month(s) is more than 100.00 yuan, the most accepted (100.00 yuan a month); check the amount"
        );
        let v = expect_rule(
            app.standing(&who, None, &dues(nov, 4, 80)).await,
            "DUE_STUDENT",
        );
        assert_eq!(
            v.message,
            "dues are owed through 2027-01 (the member ages out on 2027-01-15), not 2027-02"
        );
        assert_eq!(log_len(&app, &who).await, before);
        expect_ok(
            app.standing(&who, None, &dues(nov, 3, 60)).await,
            "2026-11 to 2027-01",
        );
        let v = expect_ok(
            with_engine!(app.engine(), e => e.dues_show(&who).await),
            "dues",
        );
        assert_eq!(v.paid_fen, 60);
    }
);

// STD_AGE_OUT: an age-out asked for a post holder before the 28th birthday names that birthday (born
// 1999-01-15: 27 on 2026-11-30, 28 on 2027-01-15) and that the post keeps them.
both_backends!(
    std_age_out_refuses_a_young_post_holder_naming_the_28th_birthday,
    |app| async move {
        let app = app.with_school().await;
        let who = member_born(&app, d(1999, 1, 15)).await;
        expect_ok(
            app.standing(
                &who,
                Some("branch_secretary"),
                &S::AssignPost {
                    date: d(2026, 11, 20),
                    post: PostKind::Secretary,
                    org: NON_GRADUATING.into(),
                },
            )
            .await,
            "post",
        );
        let v = expect_rule(
            app.standing(
                &who,
                None,
                &S::AgeOut {
                    date: d(2026, 11, 30),
                },
            )
            .await,
            "STD_AGE_OUT",
        );
        assert_eq!(
            v.message,
            "the member is 27 on 2026-11-30; not due to age out until their 28th birthday, 2027-01-15; a League post held then keeps them until the post ends"
        );
    }
);

// The views keep the masked resident ID and give the birth month, not the date (its hidden digits).
both_backends!(
    standing_and_member_views_show_the_birth_month_not_the_date,
    |app| async move {
        let app = app.with_school().await;
        let who = member_born(&app, d(1999, 1, 15)).await;
        let v = expect_ok(app.standing_show(&who).await, "standing show");
        assert_eq!(v.member, tuanji_domain::mask_id_like(&who));
        assert_eq!(v.birth_month.to_string(), "1999-01");
        assert_eq!(
            v.age_out_month.map(|m| m.to_string()),
            Some("2027-01".into())
        );
        let json = serde_json::to_value(&v).expect("json");
        assert!(json.get("birth_date").is_none() && json.get("age_out_on").is_none());
        let m = expect_ok(app.member_view(&who).await, "member show");
        assert_eq!(m.birth_month.to_string(), "1999-01");
        let json = serde_json::to_value(&m).expect("json");
        assert!(!json.to_string().contains("1999-01-15"), "{json}");
    }
);

/// `who` expelled on 2026-11-20 (county approval).
async fn expelled(app: &TestApp, who: &str) {
    expect_ok(
        app.standing(
            who,
            None,
            &S::Expel {
                date: d(2026, 11, 20),
                decision: decision(d(2026, 11, 20), COUNTY),
                reason: "严重违纪".into(),
            },
        )
        .await,
        "expel",
    );
}

// STD_EXPEL: after the expulsion the member's appeal is recorded and decided; upheld, it restores membership on the
// decision date (`decide_appeal`, then `reinstate` to `member`, in one transaction), and the verifier replays it.
both_backends!(
    std_expel_appeal_after_the_expulsion_upheld_restores_membership,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[1].clone();
        expelled(&app, &who).await;
        let out = expect_ok(
            app.standing(
                &who,
                Some("member"),
                &S::RecordAppeal {
                    date: d(2026, 11, 22),
                    to_org: COUNTY.into(),
                    summary: "对开除团籍不服".into(),
                },
            )
            .await,
            "appeal",
        );
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("expelled", "expelled")
        );
        let out = expect_ok(
            app.standing(
                &who,
                None,
                &S::DecideAppeal {
                    date: d(2026, 11, 28),
                    org: COUNTY.into(),
                    upheld: true,
                },
            )
            .await,
            "decide",
        );
        assert_eq!((out.from.as_str(), out.to.as_str()), ("expelled", "member"));
        let commands: Vec<&str> = out.logged.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(commands, ["decide_appeal", "reinstate"]);
        assert_eq!(app.standing_state(&who).await, "member");
        let v = expect_ok(app.standing_show(&who).await, "show");
        assert_eq!(v.ended, None);
        assert_eq!(
            v.appeals[0].decided,
            Some((d(2026, 11, 28), COUNTY.to_owned(), true))
        );
        // A member again: entitled to vote (5 of the branch again).
        assert_eq!(app.branch_counts(NON_GRADUATING).await.entitled, 5);
        assert_eq!(app.verify_fault().await, None);
    }
);

// STD_EXPEL: an appeal goes to an organisation above the member's branch (not the branch, not another school),
// and only that organisation or one above it decides it; the refusals change nothing and the member stays
// expelled.
both_backends!(
    std_expel_appeal_goes_up_and_is_decided_by_the_organisation_appealed_to,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[3].clone();
        expelled(&app, &who).await;
        let appeal_to = |to: &str| S::RecordAppeal {
            date: d(2026, 11, 22),
            to_org: to.into(),
            summary: "对开除团籍不服".into(),
        };
        let before = log_len(&app, &who).await;
        let v = expect_rule(
            app.standing(&who, Some("member"), &appeal_to(NON_GRADUATING))
                .await,
            "STD_EXPEL",
        );
        assert_eq!(
            v.message,
            "an appeal goes to an organisation above the member's branch 高一(2)班团支部 (S001-G1), not to the branch itself"
        );
        let v = expect_rule(
            app.standing(&who, Some("member"), &appeal_to(OTHER_SCHOOL))
                .await,
            "STD_EXPEL",
        );
        assert_eq!(
            v.message,
            "the organisation appealed to: 共青团北京市第九十四中学委员会 (S002) is neither the member's branch 高一(2)班团支部 (S001-G1) nor an organisation above it"
        );
        assert_eq!(log_len(&app, &who).await, before);
        expect_ok(
            app.standing(&who, Some("member"), &appeal_to(SCHOOL)).await,
            "appeal to the school committee",
        );
        let decide = |org: &str| S::DecideAppeal {
            date: d(2026, 11, 28),
            org: org.into(),
            upheld: true,
        };
        let before = log_len(&app, &who).await;
        for org in [OTHER_SCHOOL, NON_GRADUATING] {
            let v = expect_rule(app.standing(&who, None, &decide(org)).await, "STD_EXPEL");
            assert!(
                v.message.starts_with(
                    "the appeal of 2026-11-22 went to 共青团北京市第八十中学委员会 (S001); "
                ),
                "{}",
                v.message
            );
        }
        assert_eq!(log_len(&app, &who).await, before);
        assert_eq!(app.standing_state(&who).await, "expelled");
        // The county committee, above the school committee appealed to, may decide it.
        let out = expect_ok(app.standing(&who, None, &decide(COUNTY)).await, "decide");
        assert_eq!((out.from.as_str(), out.to.as_str()), ("expelled", "member"));
    }
);

// STD_EXPEL: a dismissed appeal after the expulsion leaves the member expelled; an appeal dated before the
// expulsion is refused; `reinstate` is never available without an upheld appeal.
both_backends!(
    std_expel_appeal_after_the_expulsion_dismissed_stays_expelled,
    |app| async move {
        let app = app.with_school().await;
        let who = app.members(NON_GRADUATING).good[2].clone();
        expelled(&app, &who).await;
        let v = expect_rule(
            app.standing(
                &who,
                Some("member"),
                &S::RecordAppeal {
                    date: d(2026, 11, 19),
                    to_org: COUNTY.into(),
                    summary: "对开除团籍不服".into(),
                },
            )
            .await,
            "STD_EXPEL",
        );
        assert_eq!(
            v.message,
            "an appeal against the expulsion of 2026-11-20 is lodged after it, not on 2026-11-19"
        );
        expect_ok(
            app.standing(
                &who,
                Some("member"),
                &S::RecordAppeal {
                    date: d(2026, 11, 21),
                    to_org: COUNTY.into(),
                    summary: "对开除团籍不服".into(),
                },
            )
            .await,
            "appeal",
        );
        let out = expect_ok(
            app.standing(
                &who,
                None,
                &S::DecideAppeal {
                    date: d(2026, 11, 25),
                    org: COUNTY.into(),
                    upheld: false,
                },
            )
            .await,
            "decide",
        );
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("expelled", "expelled")
        );
        assert_eq!(out.logged.len(), 1);
        let v = expect_ok(app.standing_show(&who).await, "show");
        assert_eq!(v.ended, Some(("expel".to_owned(), d(2026, 11, 20))));
        // Still nothing else for an expelled member.
        expect_rule(
            app.standing(
                &who,
                None,
                &S::RecordLife {
                    date: d(2026, 11, 26),
                    note: "团课".into(),
                },
            )
            .await,
            "WF_NOT_ALLOWED",
        );
        assert_eq!(app.verify_fault().await, None);
    }
);
