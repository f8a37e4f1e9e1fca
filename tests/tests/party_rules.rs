//! Party recommendation (推优入党) rules on both backends: every PTY_* rule accepted and refused, the minimum
//! last grade (EVL_GRADES) and probation (STD_PROBATION), with exact messages. The branch is
//! [`PARTY_BRANCH`]: members born 2004-06-01, members since 2022-05-04, graded in an approved round.

use tuanji_domain::Date;
use tuanji_engine::evaluation::EvaluationCommand as E;
use tuanji_engine::party::PartyCommand as P;
use tuanji_tests::*;
use tuanji_workflow::evaluation::Grade;

/// Records and approves the round of `year` (meeting {year}-12-20, approval {year+1}-01-10): everyone
/// qualified except `basic` (basically qualified).
async fn evaluate(app: &TestApp, branch: &str, year: i32, members: &[String], basic: &[usize]) {
    let grades = members
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let g = if basic.contains(&i) {
                Grade::BasicallyQualified
            } else {
                Grade::Qualified
            };
            (r.clone(), g)
        })
        .collect();
    let n = members.len() as u32;
    expect_ok(
        app.evaluation(
            branch,
            year,
            None,
            &E::Record {
                date: d(year, 12, 20),
                present: n,
                grades,
            },
        )
        .await,
        "the round",
    );
    expect_ok(
        app.evaluation(
            branch,
            year,
            None,
            &E::Approve {
                date: d(year + 1, 1, 10),
                org: SCHOOL.into(),
            },
        )
        .await,
        "the approval",
    );
}

/// Everyone on the roll of the branch (good standing and on probation).
fn all(m: &BranchMembers) -> Vec<String> {
    m.good.iter().chain(&m.on_probation).cloned().collect()
}

fn vote(date: Date, present: u32, yes: u32, no: u32) -> P {
    P::Vote {
        date,
        entitled: None,
        present,
        yes,
        no,
        abstain: present - yes - no,
    }
}

/// Nominate 2026-03-02, vote 2026-03-10 (9 of 10 present, 8 yes), publicise 2026-03-11 (to 2026-03-17).
async fn to_publicised(app: &TestApp, who: &str) {
    for cmd in [
        P::Nominate {
            date: d(2026, 3, 2),
        },
        vote(d(2026, 3, 10), 9, 8, 1),
        P::Publicise {
            date: d(2026, 3, 11),
        },
    ] {
        expect_ok(app.party(who, None, &cmd).await, cmd.command());
    }
}

/// The same in 2024, recommended on 2024-03-20 (valid until 2026-03-20), graded in the 2023 round.
async fn recommended_2024(app: &TestApp, who: &str) {
    for cmd in [
        P::Nominate {
            date: d(2024, 3, 1),
        },
        vote(d(2024, 3, 8), 9, 8, 1),
        P::Publicise {
            date: d(2024, 3, 11),
        },
        P::Recommend {
            date: d(2024, 3, 20),
            org: SCHOOL.into(),
        },
    ] {
        expect_ok(app.party(who, None, &cmd).await, cmd.command());
    }
}

both_backends!(pty_meeting_full_procedure_is_accepted, |app| async move {
    let app = app.with_school().await;
    let m = app.with_party_branch(10, 0).await;
    evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
    let who = &m.good[0];
    to_publicised(&app, who).await;
    let shown = app.party_show(who).await.expect("show");
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].publicity, Some((d(2026, 3, 11), d(2026, 3, 17))));
    let meeting = shown[0].meeting.expect("meeting");
    assert_eq!(
        (
            meeting.entitled,
            meeting.present,
            meeting.yes,
            meeting.no,
            meeting.abstain
        ),
        (10, 9, 8, 1, 0)
    );
    let v = expect_rule(
        app.party(
            who,
            None,
            &P::Recommend {
                date: d(2026, 3, 17),
                org: SCHOOL.into(),
            },
        )
        .await,
        "PTY_MEETING",
    );
    assert_eq!(
        v.message,
        "publicity from 2026-03-11 runs 5 working days, to 2026-03-17 inclusive; the recommendation comes after it"
    );
    let v = expect_rule(
        app.party(
            who,
            None,
            &P::Recommend {
                date: d(2026, 3, 18),
                org: PARTY_BRANCH.into(),
            },
        )
        .await,
        "PTY_MEETING",
    );
    assert_eq!(
        v.message,
        "青年教师团支部 (S001-T1) is not a committee above the branch S001-T1"
    );
    let out = expect_ok(
        app.party(
            who,
            None,
            &P::Recommend {
                date: d(2026, 3, 18),
                org: SCHOOL.into(),
            },
        )
        .await,
        "the recommendation",
    );
    assert_eq!(
        (out.from.as_str(), out.to.as_str()),
        ("publicised", "recommended")
    );
    assert_eq!(out.standing.as_deref(), Some("recommended_for_party"));
    assert_eq!(out.recommendation.valid_until, Some(d(2028, 3, 18)));
    let listed = app
        .party_list(PARTY_BRANCH, Some("recommended"))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    // A state the workflow does not declare is a mistake, not an empty list.
    match app.party_list(PARTY_BRANCH, Some("bogus")).await {
        Err(tuanji_engine::EngineError::Input(m)) => assert_eq!(
            m,
            "no recommendation state `bogus`; the states are: nominated, branch_voted, publicised, recommended, \
             accepted_by_party, declined, expired, cancelled"
        ),
        other => panic!("expected an input error, got {other:?}"),
    }
    assert_eq!(app.verify_fault().await, None);
});

both_backends!(
    pty_meeting_refuses_no_quorum_and_a_wrong_entitled_count,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 1).await;
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
        let who = &m.good[0];
        expect_ok(
            app.party(
                who,
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "nominate",
        );
        // 11 on the roll, 1 on probation: 10 entitled.
        let v = expect_rule(
            app.party(
                who,
                None,
                &P::Vote {
                    date: d(2026, 3, 10),
                    entitled: Some(11),
                    present: 9,
                    yes: 8,
                    no: 1,
                    abstain: 0,
                },
            )
            .await,
            "PTY_MEETING",
        );
        assert_eq!(
        v.message,
        "the meeting names 11 entitled members, but 青年教师团支部 (S001-T1) has 10 on 2026-03-10 (members on probation are not entitled to vote)"
    );
        expect_rule(
            app.party(who, None, &vote(d(2026, 3, 10), 5, 5, 0)).await,
            "PTY_MEETING",
        );
        // 6 present, 5 yes: 5 is not more than half of the 10 entitled.
        expect_rule(
            app.party(who, None, &vote(d(2026, 3, 10), 6, 5, 1)).await,
            "PTY_MEETING",
        );
        let out = expect_ok(
            app.party(who, None, &vote(d(2026, 3, 10), 6, 6, 0)).await,
            "6 of 10 yes",
        );
        assert_eq!(out.to, "branch_voted");
    }
);

both_backends!(
    pty_age_refuses_the_day_before_the_18th_birthday_and_accepts_on_it,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        // Born 2008-03-10: 17 on 2026-03-09, 18 on 2026-03-10 (a member since 2024-01-05).
        let young = app.with_party_member(d(2008, 3, 10), d(2024, 1, 5)).await;
        let mut everyone = all(&m);
        everyone.push(young.clone());
        evaluate(&app, PARTY_BRANCH, 2025, &everyone, &[]).await;
        expect_ok(
            app.party(
                &young,
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "nominate",
        );
        let v = expect_rule(
            app.party(&young, None, &vote(d(2026, 3, 9), 9, 8, 1)).await,
            "PTY_AGE",
        );
        assert_eq!(
            v.message,
            "the member is 17 on 2026-03-09; a recommendation needs at least 18 and under 28"
        );
        let out = expect_ok(
            app.party(&young, None, &vote(d(2026, 3, 10), 9, 8, 1))
                .await,
            "18 on the meeting date",
        );
        assert_eq!(out.to, "branch_voted");
        // 22 years old.
        expect_ok(
            app.party(
                &m.good[0],
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "nominate",
        );
        expect_ok(
            app.party(&m.good[0], None, &vote(d(2026, 3, 10), 9, 8, 1))
                .await,
            "22 years old",
        );
    }
);

both_backends!(
    pty_tenure_refuses_nine_months_and_accepts_a_year,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        let new = app.with_party_member(d(2004, 6, 1), d(2025, 6, 1)).await;
        let mut everyone = all(&m);
        everyone.push(new.clone());
        evaluate(&app, PARTY_BRANCH, 2025, &everyone, &[]).await;
        expect_ok(
            app.party(
                &new,
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "nominate",
        );
        let v = expect_rule(
            app.party(&new, None, &vote(d(2026, 3, 10), 9, 8, 1)).await,
            "PTY_TENURE",
        );
        assert_eq!(
        v.message,
        "a member since 2025-06-01 has 12 months of membership on 2026-03-10 only from 2026-06-01"
    );
        expect_ok(
            app.party(&new, None, &vote(d(2026, 6, 1), 9, 8, 1)).await,
            "a year of membership",
        );
    }
);

both_backends!(
    pty_share_refuses_a_third_recommendation_in_a_branch_of_ten,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
        for who in &m.good[..3] {
            expect_ok(
                app.party(
                    who,
                    None,
                    &P::Nominate {
                        date: d(2026, 3, 2),
                    },
                )
                .await,
                "nominate",
            );
        }
        for who in &m.good[..2] {
            expect_ok(
                app.party(who, None, &vote(d(2026, 3, 10), 9, 8, 1)).await,
                "within 20 %",
            );
        }
        let v = expect_rule(
            app.party(&m.good[2], None, &vote(d(2026, 3, 10), 9, 8, 1))
                .await,
            "PTY_SHARE",
        );
        assert_eq!(
        v.message,
        "2 of the branch's 10 members already hold or are going through a recommendation; with this one 3 would exceed 20 % (at most 2)"
    );
        // A cancelled one frees its place.
        expect_ok(
            app.party(
                &m.good[1],
                None,
                &P::Cancel {
                    date: d(2026, 3, 12),
                    reason: "objection upheld".into(),
                },
            )
            .await,
            "cancel",
        );
        expect_ok(
            app.party(&m.good[2], None, &vote(d(2026, 3, 12), 9, 8, 1))
                .await,
            "a place is free",
        );
    }
);

both_backends!(
    pty_validity_sweep_expires_after_two_years_and_standing_returns,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        evaluate(&app, PARTY_BRANCH, 2023, &all(&m), &[]).await;
        let who = &m.good[0];
        recommended_2024(&app, who).await;
        let r = expect_ok(app.sweep(d(2026, 3, 19)).await, "sweep");
        assert_eq!(r.recommendations_expired, 0);
        let r = expect_ok(app.sweep(today()).await, "sweep");
        assert_eq!(r.recommendations_expired, 1);
        let shown = app.party_show(who).await.expect("show");
        assert_eq!(shown[0].state, "expired");
        assert_eq!(shown[0].ended, Some(("expire".to_owned(), d(2026, 3, 20))));
        let member = app.member_view(who).await.expect("member");
        assert_eq!(member.member.expect("member").standing, "member");
        let again = expect_ok(app.sweep(today()).await, "sweep again");
        assert_eq!(again.recommendations_expired, 0);
        // An expired recommendation is over: a new nomination may start.
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
        expect_ok(
            app.party(
                who,
                None,
                &P::Nominate {
                    date: d(2026, 4, 1),
                },
            )
            .await,
            "a new nomination",
        );
        assert_eq!(app.verify_fault().await, None);
    }
);

both_backends!(
    pty_validity_refuses_an_outcome_after_two_years,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        evaluate(&app, PARTY_BRANCH, 2023, &all(&m), &[]).await;
        let who = &m.good[0];
        recommended_2024(&app, who).await;
        let v = expect_rule(
            app.party(
                who,
                None,
                &P::Accept {
                    date: d(2026, 3, 20),
                    party_org: "中共某校委员会".into(),
                },
            )
            .await,
            "PTY_VALIDITY",
        );
        assert_eq!(
            v.message,
            "the recommendation was valid until 2026-03-20 (exclusive); 2026-03-20 is after it"
        );
        let out = expect_ok(
            app.party(
                who,
                None,
                &P::Accept {
                    date: d(2026, 3, 19),
                    party_org: "中共某校委员会".into(),
                },
            )
            .await,
            "accepted within validity",
        );
        assert_eq!(out.to, "accepted_by_party");
        assert_eq!(out.standing.as_deref(), Some("party_member"));
        assert_eq!(app.verify_fault().await, None);
    }
);

both_backends!(
    pty_validity_refuses_a_second_open_recommendation,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
        let who = &m.good[0];
        let first = expect_ok(
            app.party(
                who,
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "nominate",
        );
        let v = expect_rule(
            app.party(
                who,
                None,
                &P::Nominate {
                    date: d(2026, 3, 3),
                },
            )
            .await,
            "PTY_VALIDITY",
        );
        assert_eq!(
            v.message,
            format!(
                "the member already has an open or valid recommendation ({} `nominated`)",
                first.recommendation.id
            )
        );
    }
);

both_backends!(
    std_probation_member_on_probation_is_not_nominated,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 1).await;
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
        let v = expect_rule(
            app.party(
                &m.on_probation[0],
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "STD_PROBATION",
        );
        assert_eq!(
            v.message,
            "the member is on probation (留团察看) and cannot be recommended"
        );
    }
);

both_backends!(
    evl_grades_minimum_grade_refuses_basically_qualified_and_no_round,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        let v = expect_rule(
            app.party(
                &m.good[0],
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "EVL_GRADES",
        );
        assert_eq!(
        v.message,
        "no approved annual evaluation of the member is on record; at least qualified is required"
    );
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[0]).await;
        let v = expect_rule(
            app.party(
                &m.good[0],
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "EVL_GRADES",
        );
        assert_eq!(
        v.message,
        "the member's last annual evaluation (2025) is basically_qualified (基本合格); at least qualified is required"
    );
        expect_ok(
            app.party(
                &m.good[1],
                None,
                &P::Nominate {
                    date: d(2026, 3, 2),
                },
            )
            .await,
            "qualified",
        );
    }
);

// ------------------------------------------------------------------ a recommendation ends with the standing

/// The reason the member's last Party recommendation entry records (a `cancel`).
async fn cancel_reason(app: &TestApp, who: &str) -> (String, String, String) {
    let e = app
        .log(Some(who))
        .await
        .into_iter()
        .rev()
        .find(|e| e.workflow == "party_recommendation")
        .expect("a recommendation entry");
    let payload = e.payload_value().expect("payload");
    (
        format!("{} → {}", e.from_state, e.to_state),
        e.command.clone(),
        payload["step"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// A decision of [`PARTY_BRANCH`]'s meeting on `date` (its entitled members counted by the engine: 10 present,
/// 9 yes) approved by `org`.
fn branch_decision(date: Date, org: &str) -> tuanji_workflow::standing::Decision {
    tuanji_workflow::standing::Decision {
        meeting: tuanji_workflow::standing::BranchMeeting {
            date,
            entitled: 0,
            present: 10,
            yes: 9,
            no: 1,
            abstain: 0,
        },
        approved_by: org.to_owned(),
        approved_on: date,
    }
}

// PTY_SHARE: expelling a member who holds a recommendation ends it in the same transaction (its own `cancel`
// entry, naming the expulsion), so the branch's share no longer counts it.
both_backends!(
    pty_share_expulsion_ends_the_held_recommendation,
    |app| async move {
        use tuanji_engine::standing::StandingCommand as S;
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
        let who = &m.good[0];
        to_publicised(&app, who).await;
        let rec = P::Recommend {
            date: d(2026, 3, 20),
            org: SCHOOL.into(),
        };
        expect_ok(app.party(who, None, &rec).await, "recommend");
        let out = expect_ok(
            app.standing(
                who,
                None,
                &S::Expel {
                    date: d(2026, 11, 20),
                    decision: branch_decision(d(2026, 11, 20), COUNTY),
                    reason: "严重违纪".into(),
                },
            )
            .await,
            "expel",
        );
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("recommended_for_party", "expelled")
        );
        let commands: Vec<&str> = out.logged.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(commands, ["expel", "party_recommendation cancel"]);
        let shown = app.party_show(who).await.expect("show");
        assert_eq!(shown[0].state, "cancelled");
        assert_eq!(shown[0].ended, Some(("cancel".to_owned(), d(2026, 11, 20))));
        assert_eq!(
            cancel_reason(&app, who).await,
            (
                "recommended → cancelled".to_owned(),
                "cancel".to_owned(),
                "the member was expelled on 2026-11-20 (STD_EXPEL); the recommendation ends with it"
                    .to_owned()
            )
        );
        let holding = app
            .party_list(PARTY_BRANCH, Some("recommended"))
            .await
            .expect("list");
        assert!(holding.is_empty());
        assert_eq!(app.verify_fault().await, None);
    }
);

// PTY_SHARE and STD_PROBATION: probation ends a held recommendation; the standing lets go of it in the same
// transaction, so the end of probation returns to `member`, not `recommended_for_party`.
both_backends!(
    pty_share_probation_ends_the_held_recommendation,
    |app| async move {
        use tuanji_engine::standing::StandingCommand as S;
        let app = app.with_school().await;
        let m = app.with_party_branch(10, 0).await;
        evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
        let who = &m.good[0];
        to_publicised(&app, who).await;
        let rec = P::Recommend {
            date: d(2026, 3, 20),
            org: SCHOOL.into(),
        };
        expect_ok(app.party(who, None, &rec).await, "recommend");
        let out = expect_ok(
            app.standing(
                who,
                None,
                &S::PutOnProbation {
                    date: d(2026, 5, 10),
                    months: 6,
                    decision: branch_decision(d(2026, 5, 10), SCHOOL),
                    reason: "违反团的纪律".into(),
                },
            )
            .await,
            "probation",
        );
        let commands: Vec<&str> = out.logged.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            commands,
            [
                "put_on_probation",
                "party_recommendation cancel",
                "end_recommendation"
            ]
        );
        assert_eq!(out.to, "on_probation");
        assert_eq!(
            cancel_reason(&app, who).await.2,
            "the member was put on probation on 2026-05-10 (STD_PROBATION); the recommendation ends with it"
        );
        let v = expect_ok(app.standing_show(who).await, "show");
        assert_eq!(v.recommendation, None);
        let r = expect_ok(app.standing_sweep(today()).await, "sweep");
        assert_eq!(r.probation_ended, 1);
        let v = expect_ok(app.standing_show(who).await, "show");
        assert_eq!(v.state, "member");
        assert_eq!(app.verify_fault().await, None);
    }
);

// STD_AGE_OUT: the sweep's age-out (born 1999-01-10: 28 on 2027-01-10) ends a recommendation held then (valid
// until 2028-03-20), effective on the birthday.
both_backends!(
    std_age_out_sweep_ends_the_held_recommendation,
    |app| async move {
        let app = app.with_school().await;
        let m = app.with_party_branch(9, 0).await;
        let who = app.with_party_member(d(1999, 1, 10), d(2020, 5, 4)).await;
        let everyone: Vec<String> = all(&m).into_iter().chain([who.clone()]).collect();
        evaluate(&app, PARTY_BRANCH, 2025, &everyone, &[]).await;
        to_publicised(&app, &who).await;
        let rec = P::Recommend {
            date: d(2026, 3, 20),
            org: SCHOOL.into(),
        };
        expect_ok(app.party(&who, None, &rec).await, "recommend");
        let later = app.engine().clone().with_today(d(2027, 2, 1));
        let sweeper = tuanji_engine::Actor {
            name: "sweep".into(),
            role: Some("system_admin".into()),
            ..Default::default()
        };
        let r = expect_ok(
            tuanji_engine::with_engine!(&later, e => e.sweep_all(&sweeper, d(2027, 2, 1), &|_, _, _| {}).await),
            "sweep",
        );
        assert_eq!(r.standing.aged_out, 1);
        let shown = app.party_show(&who).await.expect("show");
        assert_eq!(shown[0].state, "cancelled");
        assert_eq!(shown[0].ended, Some(("cancel".to_owned(), d(2027, 1, 10))));
        assert_eq!(
            cancel_reason(&app, &who).await.2,
            "the member aged out on 2027-01-10 (STD_AGE_OUT); the recommendation ends with it"
        );
        let log = app.log(Some(&who)).await;
        let tail: Vec<(&str, &str)> = log[log.len() - 2..]
            .iter()
            .map(|e| (e.workflow.as_str(), e.command.as_str()))
            .collect();
        assert_eq!(
            tail,
            [("standing", "age_out"), ("party_recommendation", "cancel")]
        );
        assert_eq!(app.verify_fault().await, None);
    }
);

// STD_WITHDRAW: a withdrawal ends an open nomination too (the member is no longer in the League).
both_backends!(std_withdraw_ends_an_open_nomination, |app| async move {
    use tuanji_engine::standing::StandingCommand as S;
    let app = app.with_school().await;
    let m = app.with_party_branch(10, 0).await;
    evaluate(&app, PARTY_BRANCH, 2025, &all(&m), &[]).await;
    let who = &m.good[1];
    expect_ok(
        app.party(
            who,
            None,
            &P::Nominate {
                date: d(2026, 3, 2),
            },
        )
        .await,
        "nominate",
    );
    expect_ok(
        app.standing(
            who,
            None,
            &S::Withdraw {
                date: d(2026, 11, 20),
                request_date: d(2026, 11, 1),
                decision: branch_decision(d(2026, 11, 20), SCHOOL),
            },
        )
        .await,
        "withdraw",
    );
    assert_eq!(
            cancel_reason(&app, who).await,
            (
                "nominated → cancelled".to_owned(),
                "cancel".to_owned(),
                "the member withdrew from the League on 2026-11-20 (STD_WITHDRAW); the recommendation ends with it"
                    .to_owned()
            )
        );
    assert_eq!(app.verify_fault().await, None);
});
