//! Property test of issue 4: random sequences of Party recommendation and standing commands (probation,
//! withdrawal, death) and sweeps over a branch
//! ([`PARTY_BRANCH`]: 10 members in good standing and 2 on probation, graded in the approved 2023 round), on a
//! clock that only moves forward from 2024-02-01, never leave a recommendation that reached a terminal state
//! in another state, never give a member two open recommendations, never let a member on probation be
//! nominated or count as entitled to vote (STD_PROBATION), never let the branch hold more than 20 %
//! (PTY_SHARE: 2 of 12), never move a member out of a terminal standing state (aged out, withdrawn, removed,
//! deceased: one terminal state, for good), let a member leave `expelled` only by `reinstate` after an upheld
//! appeal (STD_EXPEL), never leave a recommendation open for a member who is on probation or has left the
//! League, and replaying the log rebuilds every projection (`audit verify` finds no fault, member rows
//! included).
//! Both backends; PROPTEST_CASES sets the number of cases (default 8 each).

use proptest::prelude::*;
use std::collections::HashMap;
use tuanji_domain::Date;
use tuanji_engine::evaluation::EvaluationCommand as E;
use tuanji_engine::party::{PartyCommand as P, PARTY_ENDED};
use tuanji_engine::standing::StandingCommand as S;
use tuanji_tests::*;
use tuanji_workflow::evaluation::Grade;
use tuanji_workflow::standing::{BranchMeeting, Decision};

#[derive(Debug, Clone, Copy)]
enum Op {
    /// A command for member `i` (0..12; 10 and 11 are on probation): 0 nominate, 1 vote (passing), 2 vote
    /// (failing: no quorum), 3 publicise, 4 recommend, 5 accept, 6 decline, 7 cancel.
    Cmd(usize, u8),
    /// A standing command for member `i`: 0 put on probation (6 months), 1 end probation, 2 withdraw, 3 death,
    /// 4 expel, 5 appeal, 6 appeal upheld.
    Standing(usize, u8),
    /// Move the clock forward by this many days.
    Wait(u16),
    /// The sweep as of the clock.
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..12usize, 0..8u8).prop_map(|(i, k)| Op::Cmd(i, k)),
        3 => (0..12usize, 0..7u8).prop_map(|(i, k)| Op::Standing(i, k)),
        3 => (1..200u16).prop_map(Op::Wait),
        1 => Just(Op::Sweep),
    ]
}

fn command(k: u8, on: Date) -> P {
    match k {
        0 => P::Nominate { date: on },
        1 => P::Vote {
            date: on,
            entitled: None,
            present: 9,
            yes: 7,
            no: 1,
            abstain: 1,
        },
        2 => P::Vote {
            date: on,
            entitled: None,
            present: 4,
            yes: 4,
            no: 0,
            abstain: 0,
        },
        3 => P::Publicise { date: on },
        4 => P::Recommend {
            date: on,
            org: SCHOOL.into(),
        },
        5 => P::Accept {
            date: on,
            party_org: "中共某校委员会".into(),
        },
        6 => P::Decline {
            date: on,
            party_org: "中共某校委员会".into(),
            reason: "名额已满".into(),
        },
        _ => P::Cancel {
            date: on,
            reason: "本人放弃".into(),
        },
    }
}

/// The standing command `k` on `on`, decided by a branch meeting of the branch's `entitled` members (all present,
/// a bare majority for) and approved by the school committee (the county committee for an expulsion) the same
/// day.
fn standing_command(k: u8, on: Date, entitled: u32) -> S {
    let yes = entitled / 2 + 1;
    let decision = Decision {
        meeting: BranchMeeting {
            date: on,
            entitled,
            present: entitled,
            yes: yes.min(entitled),
            no: entitled.saturating_sub(yes),
            abstain: 0,
        },
        approved_by: SCHOOL.into(),
        approved_on: on,
    };
    match k {
        0 => S::PutOnProbation {
            date: on,
            months: 6,
            decision,
            reason: "违反团章".into(),
        },
        1 => S::EndProbation { date: on },
        2 => S::Withdraw {
            date: on,
            request_date: on,
            decision,
        },
        3 => S::RecordDeath {
            date: on,
            recorded_by: SCHOOL.into(),
        },
        4 => S::Expel {
            date: on,
            decision: Decision {
                approved_by: COUNTY.into(),
                ..decision
            },
            reason: "严重违纪".into(),
        },
        5 => S::RecordAppeal {
            date: on,
            to_org: COUNTY.into(),
            summary: "对开除团籍不服".into(),
        },
        _ => S::DecideAppeal {
            date: on,
            org: COUNTY.into(),
            upheld: true,
        },
    }
}

/// Standing states a member never leaves. `expelled` is left only by `reinstate` (an upheld appeal).
const TERMINAL: &[&str] = &["aged_out", "withdrawn", "removed", "deceased"];

/// Standing states entitled to vote (not on probation, still in the League).
const ENTITLED: &[&str] = &["member", "recommended_for_party", "party_member"];

async fn run(backend: Backend, ops: Vec<Op>) {
    let Some(app) = TestApp::try_new(backend).await else {
        return;
    };
    let app = app.with_school().await;
    let m = app.with_party_branch(10, 2).await;
    let everyone: Vec<String> = m.good.iter().chain(&m.on_probation).cloned().collect();
    expect_ok(
        app.evaluation(
            PARTY_BRANCH,
            2023,
            None,
            &E::Record {
                date: d(2023, 12, 20),
                present: 10,
                grades: everyone
                    .iter()
                    .map(|r| (r.clone(), Grade::Qualified))
                    .collect(),
            },
        )
        .await,
        "the 2023 round",
    );
    expect_ok(
        app.evaluation(
            PARTY_BRANCH,
            2023,
            None,
            &E::Approve {
                date: d(2024, 1, 10),
                org: SCHOOL.into(),
            },
        )
        .await,
        "its approval",
    );
    let mut clock = d(2024, 2, 1);
    let mut ended: HashMap<uuid::Uuid, String> = HashMap::new();
    let mut gone: HashMap<usize, String> = HashMap::new();
    let mut voted: std::collections::HashSet<uuid::Uuid> = std::collections::HashSet::new();
    let mut last: Vec<String> = (0..12)
        .map(|i| if i < 10 { "member" } else { "on_probation" }.to_owned())
        .collect();
    for op in ops {
        match op {
            Op::Wait(days) => {
                clock = (clock + chrono::Days::new(u64::from(days))).min(today());
            }
            Op::Sweep => {
                expect_ok(app.sweep(clock).await, "the sweep");
            }
            Op::Cmd(i, k) => {
                let r = app.party(&everyone[i], None, &command(k, clock)).await;
                if i >= 10 && k == 0 && !gone.contains_key(&i) {
                    expect_rule(r, "STD_PROBATION");
                }
            }
            Op::Standing(i, k) => {
                // Refusals (a second probation, an early end, …) are part of the test: nothing may change.
                let entitled = last
                    .iter()
                    .filter(|s| ENTITLED.contains(&s.as_str()))
                    .count() as u32;
                let _ = app
                    .standing(&everyone[i], None, &standing_command(k, clock, entitled))
                    .await;
            }
        }
        // A terminal standing state is for good.
        let mut states = Vec::new();
        for (i, who) in everyone.iter().enumerate() {
            let state = app.standing_state(who).await;
            states.push(state.clone());
            if let Some(before) = gone.get(&i) {
                assert_eq!(
                    &state, before,
                    "member {i} left its terminal standing state"
                );
            } else if TERMINAL.contains(&state.as_str()) {
                gone.insert(i, state.clone());
            }
            // Out of `expelled` only by `reinstate`, to good standing.
            if last[i] == "expelled" && state != "expelled" {
                let log = app.log(Some(who)).await;
                let entry = log
                    .iter()
                    .rev()
                    .find(|e| e.workflow == "standing")
                    .expect("a standing entry");
                assert_eq!(
                    (entry.command.as_str(), entry.from_state.as_str()),
                    ("reinstate", "expelled"),
                    "member {i} left `expelled` otherwise"
                );
                assert!(ENTITLED.contains(&state.as_str()), "reinstated as {state}");
            }
        }
        last.clone_from(&states);
        let list = app.party_list(PARTY_BRANCH, None).await.expect("list");
        // Terminal states stay; a member has at most one open recommendation.
        let mut open: HashMap<&str, usize> = HashMap::new();
        for v in &list {
            if let Some(before) = ended.get(&v.id) {
                assert_eq!(&v.state, before, "{} left its terminal state", v.id);
            }
            if PARTY_ENDED.contains(&v.state.as_str()) {
                ended.insert(v.id, v.state.clone());
            } else {
                *open.entry(v.member.as_str()).or_default() += 1;
                // An open recommendation belongs to a member in good standing (PTY_SHARE counts only those).
                let i = everyone
                    .iter()
                    .position(|r| tuanji_domain::mask_id_like(r) == v.member)
                    .expect("a member of the branch");
                assert!(
                    matches!(states[i].as_str(), "member" | "recommended_for_party"),
                    "recommendation {} `{}` is open for a member `{}`",
                    v.id,
                    v.state,
                    states[i]
                );
            }
            // Members on probation are never nominated and never counted as entitled to vote.
            let probation: Vec<String> = m
                .on_probation
                .iter()
                .map(|r| tuanji_domain::mask_id_like(r))
                .collect();
            assert!(
                !probation.contains(&v.member),
                "{} on probation was nominated",
                v.member
            );
            // A vote is seen in the step that held it: its entitled members are those in good standing then
            // (neither on probation nor gone).
            if let Some(meeting) = v.meeting {
                if voted.insert(v.id) {
                    let entitled = states
                        .iter()
                        .filter(|s| {
                            matches!(
                                s.as_str(),
                                "member" | "recommended_for_party" | "party_member"
                            )
                        })
                        .count();
                    assert_eq!(
                        meeting.entitled as usize, entitled,
                        "entitled counts a member on probation or gone"
                    );
                }
                assert!(meeting.present <= meeting.entitled);
            }
        }
        assert!(
            open.values().all(|n| *n <= 1),
            "two open recommendations: {open:?}"
        );
        // PTY_SHARE: at most floor(12 × 20 %) = 2 hold or are going through a recommendation on the clock.
        let holding = list
            .iter()
            .filter(|v| match v.state.as_str() {
                "branch_voted" | "publicised" => true,
                "recommended" => v.valid_until.is_some_and(|u| clock < u),
                _ => false,
            })
            .count();
        assert!(
            holding <= 2,
            "{holding} recommendations in a branch of 12 on {clock}"
        );
    }
    expect_ok(app.sweep(clock).await, "a last sweep");
    assert_eq!(app.verify_fault().await, None, "replaying the log");
    app.finish().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(8), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_party_commands_and_sweeps_keep_the_invariants_sqlite(ops in prop::collection::vec(op(), 30..80)) {
        tokio::runtime::Runtime::new().expect("runtime").block_on(run(Backend::Sqlite, ops));
    }

    #[test]
    fn random_party_commands_and_sweeps_keep_the_invariants_postgres(ops in prop::collection::vec(op(), 30..80)) {
        tokio::runtime::Runtime::new().expect("runtime").block_on(run(Backend::Postgres, ops));
    }
}
