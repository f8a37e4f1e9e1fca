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

/// A branch meeting on `date` that passed: 6 entitled, 6 present, 5 yes, 1 no.
fn meeting(date: tuanji_domain::Date) -> BranchMeeting {
    BranchMeeting {
        date,
        entitled: 6,
        present: 6,
        yes: 5,
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
    assert_eq!(v.age_out_on, Some(d(2028, 2, 29)));
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
