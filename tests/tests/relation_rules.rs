//! Organisation relation rules (DOMAIN.md "Organisation relation and transfer (§3, §4)", `TRF_*`): for each rule an
//! accepted and a refused case, on both backends; the deletion lock (TRF_NO_DELETE) against every role and every
//! path; concurrent approval and cancellation of one transfer; sweep idempotency; ID_UNIQUE for a member held
//! elsewhere. A refusal names its rule code and leaves every table count, the relation state, the member's transfers
//! and the member's branch unchanged ([`refuse`]).

use std::sync::Arc;

use tuanji_audit::{verify_chain, Hash, LogEntry, Personal};
use tuanji_domain::Date;
use tuanji_engine::admission::AdmissionCommand;
use tuanji_engine::relation::{RelationCommand as R, RelationOutcome, SweepReport, TransferView};
use tuanji_engine::{with_engine, Actor, EngineError, EngineResult};
use tuanji_store::LogRow;
use tuanji_tests::*;
use tuanji_workflow::relation::{Destination, Initiator, RetentionReason};

/// Every role of the relation machine.
const ROLES: [&str; 4] = [
    "system_admin",
    "committee_admin",
    "branch_secretary",
    "member",
];

/// Every branch of the test tree (school and relation organisations).
const BRANCHES: [&str; 7] = [
    JUNIOR,
    SENIOR,
    NON_GRADUATING,
    MOBILE,
    UNIVERSITY_BRANCH,
    STREET_BRANCH,
    EMPLOYER_BRANCH,
];

// ------------------------------------------------------------------ commands

fn request(
    date: Date,
    to: &str,
    destination: Destination,
    initiator: Initiator,
    org: Option<&str>,
) -> R {
    R::RequestTransfer {
        date,
        to: to.into(),
        destination,
        initiator,
        org: org.map(str::to_owned),
    }
}

/// An outgoing request by the school committee [`SCHOOL`].
fn outgoing(date: Date, to: &str, destination: Destination) -> R {
    request(date, to, destination, Initiator::Outgoing, Some(SCHOOL))
}

fn approve(date: Date, org: &str) -> R {
    R::Approve {
        date,
        org: org.into(),
    }
}

fn assign(date: Date, org: &str, branch: &str) -> R {
    R::AssignBranch {
        date,
        org: org.into(),
        branch: branch.into(),
    }
}

fn cancel(date: Date, org: Option<&str>) -> R {
    R::Cancel {
        date,
        org: org.map(str::to_owned),
        reason: "去向有变".into(),
    }
}

fn contact(date: Date, reached: bool) -> R {
    R::RecordContact {
        date,
        reached,
        note: if reached {
            "电话联系上"
        } else {
            "电话未接通"
        }
        .into(),
    }
}

fn delete(date: Date) -> R {
    R::Delete {
        date,
        reason: "重复登记".into(),
    }
}

fn retain_no_job(date: Date, branch: Option<&str>) -> R {
    R::Retain {
        date,
        reason: RetentionReason::NoJob,
        branch: branch.map(str::to_owned),
    }
}

fn committee() -> Option<&'static str> {
    Some("committee_admin")
}

fn secretary() -> Option<&'static str> {
    Some("branch_secretary")
}

fn member() -> Option<&'static str> {
    Some("member")
}

// ------------------------------------------------------------------ reads

/// The member's relation state.
async fn state(app: &TestApp, who: &str) -> String {
    expect_ok(app.transfer_show(who).await, "transfer show").0
}

/// The member's transfers, oldest first.
async fn transfers(app: &TestApp, who: &str) -> Vec<TransferView> {
    expect_ok(app.transfer_show(who).await, "transfer show").1
}

/// The code of the branch that holds the member's row.
async fn branch_of(app: &TestApp, who: &str) -> String {
    let v = expect_ok(app.member_view(who).await, "member view");
    v.branch
        .split(' ')
        .next()
        .expect("a branch code")
        .to_owned()
}

/// The relation log entries of a person: (command, from, to).
async fn relation_log(app: &TestApp, who: &str) -> Vec<(String, String, String)> {
    app.log(Some(who))
        .await
        .into_iter()
        .filter(|r| r.workflow == "relation")
        .map(|r| (r.command, r.from_state, r.to_state))
        .collect()
}

fn commands(out: &RelationOutcome) -> Vec<&str> {
    out.logged.iter().map(|(c, _)| c.as_str()).collect()
}

/// Members per branch, over every branch of the tree.
async fn members_by_branch(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for b in BRANCHES {
        out.push(app.branch_counts(b).await.members);
    }
    out
}

/// Everything a refused relation command must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Before {
    counts: Counts,
    state: String,
    transfers: Vec<TransferView>,
    branch: String,
}

async fn before(app: &TestApp, who: &str) -> Before {
    Before {
        counts: app.counts().await,
        state: state(app, who).await,
        transfers: transfers(app, who).await,
        branch: branch_of(app, who).await,
    }
}

/// Runs `cmd` for `who` in `role`, expects the refusal `code`, checks that nothing changed, returns the message.
#[track_caller]
fn refuse<'a>(
    app: &'a TestApp,
    who: &'a str,
    role: Option<&'a str>,
    cmd: R,
    code: &'a str,
) -> impl std::future::Future<Output = String> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let was = before(app, who).await;
        let v = match app.relation(who, role, &cmd).await {
            Err(EngineError::Rule(v)) if v.code.as_str() == code => v,
            other => panic!(
                "{caller}: expected {code} for {} as {role:?}, got {other:?}",
                cmd.command()
            ),
        };
        assert_eq!(
            before(app, who).await,
            was,
            "{caller}: a refused {} changed something",
            cmd.command()
        );
        assert!(
            !v.message.contains(who),
            "{caller}: the full resident ID leaked: {}",
            v.message
        );
        v.message
    }
}

/// Runs `cmd` for `who` in `role` and expects it accepted.
#[track_caller]
fn accept<'a>(
    app: &'a TestApp,
    who: &'a str,
    role: Option<&'a str>,
    cmd: R,
) -> impl std::future::Future<Output = RelationOutcome> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        match app.relation(who, role, &cmd).await {
            Ok(o) => o,
            Err(e) => panic!(
                "{caller}: {} as {role:?} was refused: {e} ({e:?})",
                cmd.command()
            ),
        }
    }
}

/// [`TestApp::with_school`] and [`TestApp::with_relation_orgs`], with [`SENIOR`] graduated on 2025-07-01 (a year
/// before [`GRADUATION`], so that 6 and 12 months have passed by today): its 3 members are graduated pending
/// transfer.
async fn graduated_in_2025(app: TestApp) -> TestApp {
    let app = app.with_school().await.with_relation_orgs().await;
    let on = d(2025, 7, 1);
    expect_ok(app.mark_graduating(SENIOR, on).await, "mark graduating");
    let r = expect_ok(app.graduate(SENIOR, on).await, "graduate");
    assert_eq!(r.graduated, 3);
    app
}

fn sweep_report(as_of: Date, f: impl FnOnce(&mut SweepReport)) -> SweepReport {
    let mut r = SweepReport {
        as_of: Some(as_of),
        ..SweepReport::default()
    };
    f(&mut r);
    r
}

// ------------------------------------------------------------------ log verification (as tests/tests/replay.rs)

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

/// The whole log is dense from seq 1 and its leaf and chain hashes verify.
async fn assert_log_verifies(app: &TestApp) {
    let log = app.log(None).await;
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
}

// ------------------------------------------------------------------ TRF_BRANCH_ONLY

both_backends!(
    trf_branch_only_completes_a_transfer_to_a_committee_only_after_it_assigns_a_branch,
    |app| async move {
        let app = app.with_graduates().await;
        let g = app.members(SENIOR).good;
        // Approved first: the transfer waits for the branch assignment.
        accept(
            &app,
            &g[0],
            committee(),
            outgoing(d(2026, 8, 1), STREET, Destination::Employment),
        )
        .await;
        let out = accept(&app, &g[0], committee(), approve(d(2026, 8, 3), STREET)).await;
        assert_eq!(out.to, "transfer_requested");
        assert_eq!(commands(&out), ["approve"]);
        assert_eq!(out.branch, SENIOR);
        let tr = out.transfer.expect("the transfer");
        assert_eq!(tr.state, "open");
        assert_eq!(tr.to_branch, None);
        assert_eq!(tr.waiting_on.as_deref(), Some("branch assignment by T001"));
        assert_eq!(branch_of(&app, &g[0]).await, SENIOR);
        let out = accept(
            &app,
            &g[0],
            committee(),
            assign(d(2026, 8, 5), STREET, STREET_BRANCH),
        )
        .await;
        assert_eq!(commands(&out), ["assign_branch", "complete", "receive"]);
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("transfer_requested", "at_branch")
        );
        assert_eq!(out.branch, STREET_BRANCH);
        let tr = out.transfer.expect("the transfer");
        assert_eq!(tr.state, "completed");
        assert_eq!(tr.to_branch.as_deref(), Some(STREET_BRANCH));
        assert_eq!(tr.closed_on, Some(d(2026, 8, 5)));
        assert_eq!(branch_of(&app, &g[0]).await, STREET_BRANCH);
        assert_eq!(state(&app, &g[0]).await, "at_branch");

        // Assigned first: the transfer completes with the approval.
        accept(
            &app,
            &g[1],
            committee(),
            outgoing(d(2026, 8, 1), STREET, Destination::Employment),
        )
        .await;
        let out = accept(
            &app,
            &g[1],
            committee(),
            assign(d(2026, 8, 2), STREET, STREET_BRANCH),
        )
        .await;
        assert_eq!(commands(&out), ["assign_branch"]);
        assert_eq!(out.to, "transfer_requested");
        assert_eq!(
            out.transfer.expect("the transfer").waiting_on.as_deref(),
            Some("incoming T001")
        );
        let out = accept(&app, &g[1], committee(), approve(d(2026, 8, 3), STREET)).await;
        assert_eq!(commands(&out), ["approve", "complete", "receive"]);
        assert_eq!(out.branch, STREET_BRANCH);
        assert_eq!(branch_of(&app, &g[1]).await, STREET_BRANCH);
        assert_eq!(
            app.branch_counts(STREET_BRANCH).await.members,
            2,
            "both graduates sit in the street committee's branch"
        );
        assert_eq!(app.branch_counts(SENIOR).await.members, 1);
    }
);

both_backends!(
    trf_branch_only_refuses_assigning_a_branch_outside_the_committee,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 1), STREET, Destination::Employment),
        )
        .await;
        accept(&app, g, committee(), approve(d(2026, 8, 3), STREET)).await;
        let msg = refuse(
            &app,
            g,
            committee(),
            assign(d(2026, 8, 5), STREET, UNIVERSITY_BRANCH),
            "TRF_BRANCH_ONLY",
        )
        .await;
        assert!(
            msg.contains("(U001-B1) is not under the receiving committee T001"),
            "{msg}"
        );
        let msg = refuse(
            &app,
            g,
            committee(),
            assign(d(2026, 8, 5), STREET, STREET),
            "TRF_BRANCH_ONLY",
        )
        .await;
        assert!(msg.contains("(T001) is a township, not a branch"), "{msg}");
        // Only the receiving committee (or above it) assigns.
        let msg = refuse(
            &app,
            g,
            committee(),
            assign(d(2026, 8, 5), EMPLOYER, STREET_BRANCH),
            "TRF_BRANCH_ONLY",
        )
        .await;
        assert!(
            msg.contains("(E001) is not the receiving committee T001"),
            "{msg}"
        );
        assert_eq!(state(&app, g).await, "transfer_requested");
        assert_eq!(branch_of(&app, g).await, SENIOR);
    }
);

// ------------------------------------------------------------------ TRF_INITIATOR

both_backends!(
    trf_initiator_accepts_an_outgoing_request_approved_by_the_incoming_side,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        let out = accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("graduated_pending_transfer", "transfer_requested")
        );
        let tr = out.transfer.expect("the transfer");
        assert_eq!(
            (tr.initiator.as_str(), tr.state.as_str()),
            ("outgoing", "open")
        );
        assert_eq!(tr.waiting_on.as_deref(), Some("incoming U001-B1"));
        assert_eq!(tr.due_on, d(2026, 8, 31));
        // The incoming side's committee approves: the transfer completes.
        let out = accept(&app, g, committee(), approve(d(2026, 8, 10), UNIVERSITY)).await;
        assert_eq!(commands(&out), ["approve", "complete", "receive"]);
        assert_eq!(out.branch, UNIVERSITY_BRANCH);
        assert_eq!(out.transfer.expect("the transfer").state, "completed");
        assert_eq!(branch_of(&app, g).await, UNIVERSITY_BRANCH);
        assert_eq!(
            relation_log(&app, g).await,
            [
                ("open", "new", "at_branch"),
                ("graduate", "at_branch", "graduated_pending_transfer"),
                (
                    "request_transfer",
                    "graduated_pending_transfer",
                    "transfer_requested"
                ),
                ("approve", "transfer_requested", "transfer_requested"),
                ("complete", "transfer_requested", "transferred"),
                ("receive", "new", "at_branch"),
            ]
            .map(|(c, f, t)| (c.to_owned(), f.to_owned(), t.to_owned()))
        );
    }
);

both_backends!(
    trf_initiator_accepts_an_incoming_request_approved_by_the_outgoing_side,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        let out = accept(
            &app,
            g,
            committee(),
            request(
                d(2026, 8, 1),
                UNIVERSITY_BRANCH,
                Destination::FurtherStudy,
                Initiator::Incoming,
                Some(UNIVERSITY),
            ),
        )
        .await;
        assert_eq!(
            out.transfer.expect("the transfer").waiting_on.as_deref(),
            Some("outgoing S001-G3")
        );
        // The incoming side initiated: its own approval is not what the transfer waits for.
        let msg = refuse(
            &app,
            g,
            committee(),
            approve(d(2026, 8, 5), UNIVERSITY),
            "TRF_INITIATOR",
        )
        .await;
        assert!(
            msg.contains("(U001) is not a counter-party of this transfer; waiting on: outgoing (S001-G3 or above)"),
            "{msg}"
        );
        // The outgoing branch approves.
        let out = accept(&app, g, secretary(), approve(d(2026, 8, 6), SENIOR)).await;
        assert_eq!(commands(&out), ["approve", "complete", "receive"]);
        assert_eq!(branch_of(&app, g).await, UNIVERSITY_BRANCH);
        assert_eq!(state(&app, g).await, "at_branch");
    }
);

both_backends!(
    trf_initiator_accepts_a_member_request_only_after_both_sides_approve,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        let out = accept(
            &app,
            g,
            member(),
            request(
                d(2026, 8, 1),
                UNIVERSITY_BRANCH,
                Destination::FurtherStudy,
                Initiator::Member,
                None,
            ),
        )
        .await;
        assert_eq!(
            out.transfer.expect("the transfer").waiting_on.as_deref(),
            Some("outgoing S001-G3, incoming U001-B1")
        );
        let out = accept(&app, g, secretary(), approve(d(2026, 8, 3), SENIOR)).await;
        assert_eq!(commands(&out), ["approve"]);
        assert_eq!(out.to, "transfer_requested");
        assert_eq!(
            out.transfer.expect("the transfer").waiting_on.as_deref(),
            Some("incoming U001-B1")
        );
        assert_eq!(branch_of(&app, g).await, SENIOR);
        // The outgoing side has approved: approving again is refused.
        let msg = refuse(
            &app,
            g,
            committee(),
            approve(d(2026, 8, 4), SCHOOL),
            "TRF_INITIATOR",
        )
        .await;
        assert!(
            msg.contains("waiting on: incoming (U001-B1 or above)"),
            "{msg}"
        );
        let out = accept(&app, g, committee(), approve(d(2026, 8, 5), UNIVERSITY)).await;
        assert_eq!(commands(&out), ["approve", "complete", "receive"]);
        assert_eq!(branch_of(&app, g).await, UNIVERSITY_BRANCH);
    }
);

both_backends!(
    trf_initiator_refuses_an_approval_by_an_organisation_that_is_not_the_counter_party,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        // Neither the initiating school nor an unrelated employer approves for the university.
        for org in [SCHOOL, SENIOR, EMPLOYER, OTHER_SCHOOL] {
            let msg = refuse(
                &app,
                g,
                committee(),
                approve(d(2026, 8, 5), org),
                "TRF_INITIATOR",
            )
            .await;
            assert!(
                msg.contains(&format!(
                    "({org}) is not a counter-party of this transfer; waiting on: incoming (U001-B1 or above)"
                )),
                "{msg}"
            );
        }
        // A member may not approve at all.
        refuse(
            &app,
            g,
            member(),
            approve(d(2026, 8, 5), UNIVERSITY),
            "WF_NOT_ALLOWED",
        )
        .await;
        assert_eq!(state(&app, g).await, "transfer_requested");
    }
);

both_backends!(
    trf_initiator_refuses_a_request_in_the_name_of_the_wrong_party,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        let to = UNIVERSITY_BRANCH;
        let study = Destination::FurtherStudy;
        let date = d(2026, 8, 1);
        let msg = refuse(
            &app,
            g,
            secretary(),
            request(date, to, study, Initiator::Member, None),
            "TRF_INITIATOR",
        )
        .await;
        assert!(
            msg.contains("in the role `member`, not `branch_secretary`"),
            "{msg}"
        );
        let msg = refuse(
            &app,
            g,
            committee(),
            request(date, to, study, Initiator::Outgoing, Some(EMPLOYER)),
            "TRF_INITIATOR",
        )
        .await;
        assert!(
            msg.contains(
                "(E001) is not the outgoing organisation (the branch S001-G3 or above it)"
            ),
            "{msg}"
        );
        let msg = refuse(
            &app,
            g,
            committee(),
            request(date, to, study, Initiator::Incoming, Some(SCHOOL)),
            "TRF_INITIATOR",
        )
        .await;
        assert!(
            msg.contains("(S001) is not the incoming organisation (U001-B1 or above it)"),
            "{msg}"
        );
        let msg = refuse(
            &app,
            g,
            member(),
            request(date, to, study, Initiator::Outgoing, Some(SENIOR)),
            "TRF_INITIATOR",
        )
        .await;
        assert!(
            msg.contains("a member initiates only in their own name"),
            "{msg}"
        );
        assert_eq!(transfers(&app, g).await, []);
    }
);

// ------------------------------------------------------------------ TRF_ONE_OPEN

both_backends!(
    trf_one_open_refuses_a_second_transfer_request,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        let msg = refuse(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 2), EMPLOYER_BRANCH, Destination::Employment),
            "TRF_ONE_OPEN",
        )
        .await;
        assert!(
            msg.contains("already has an open transfer to U001-B1 (requested 2026-08-01)"),
            "{msg}"
        );
        // Whoever asks.
        refuse(
            &app,
            g,
            member(),
            request(
                d(2026, 8, 2),
                EMPLOYER_BRANCH,
                Destination::Employment,
                Initiator::Member,
                None,
            ),
            "TRF_ONE_OPEN",
        )
        .await;
        refuse(
            &app,
            g,
            committee(),
            request(
                d(2026, 8, 2),
                EMPLOYER_BRANCH,
                Destination::Employment,
                Initiator::Incoming,
                Some(EMPLOYER),
            ),
            "TRF_ONE_OPEN",
        )
        .await;
        assert_eq!(transfers(&app, g).await.len(), 1);
        assert_eq!(
            app.transfer_list(ROOT, false, false, false, true)
                .await
                .expect("transfer list")
                .len(),
            1
        );
    }
);

both_backends!(
    trf_one_open_accepts_a_new_request_after_the_first_is_cancelled,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        accept(
            &app,
            g,
            member(),
            request(
                d(2026, 8, 1),
                UNIVERSITY_BRANCH,
                Destination::FurtherStudy,
                Initiator::Member,
                None,
            ),
        )
        .await;
        let out = accept(&app, g, member(), cancel(d(2026, 8, 2), None)).await;
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("transfer_requested", "graduated_pending_transfer")
        );
        assert_eq!(out.transfer.expect("the transfer").state, "cancelled");
        let out = accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 3), EMPLOYER_BRANCH, Destination::Employment),
        )
        .await;
        assert_eq!(out.to, "transfer_requested");
        let all = transfers(&app, g).await;
        let states: Vec<(&str, &str)> = all
            .iter()
            .map(|t| (t.to_org.as_str(), t.state.as_str()))
            .collect();
        assert_eq!(
            states,
            [(UNIVERSITY_BRANCH, "cancelled"), (EMPLOYER_BRANCH, "open")]
        );
    }
);

// ------------------------------------------------------------------ TRF_NO_DELETE

/// Every role, and no role, is refused a deletion of `who` with TRF_NO_DELETE, nothing changing; returns the
/// message.
async fn refuse_delete_by_everyone(app: &TestApp, who: &str) -> String {
    let mut msg = String::new();
    for role in ROLES.map(Some).into_iter().chain([None]) {
        msg = refuse(app, who, role, delete(d(2026, 11, 20)), "TRF_NO_DELETE").await;
    }
    msg
}

both_backends!(
    trf_no_delete_refuses_every_role_while_graduated_pending_transfer,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        let log = app.counts().await.log;
        let msg = refuse_delete_by_everyone(&app, g).await;
        assert!(
            msg.contains(
                "`graduated_pending_transfer` (graduated 2026-07-01, not yet transferred)"
            ),
            "{msg}"
        );
        assert!(
            msg.contains("cannot be deleted or archived by anyone"),
            "{msg}"
        );
        assert_eq!(app.counts().await.log, log);
        assert_eq!(state(&app, g).await, "graduated_pending_transfer");
    }
);

both_backends!(
    trf_no_delete_refuses_every_role_while_a_transfer_is_requested,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        let msg = refuse_delete_by_everyone(&app, g).await;
        assert!(msg.contains("`transfer_requested`"), "{msg}");
        assert!(
            msg.contains("open transfer to U001-B1 requested 2026-08-01"),
            "{msg}"
        );
        // A member who never graduated, with an open transfer, is locked as well.
        let n = &app.members(NON_GRADUATING).good[0];
        accept(
            &app,
            n,
            committee(),
            outgoing(d(2026, 9, 1), EMPLOYER_BRANCH, Destination::Move),
        )
        .await;
        let msg = refuse_delete_by_everyone(&app, n).await;
        assert!(
            msg.contains("open transfer to E001-B1 requested 2026-09-01"),
            "{msg}"
        );
        assert!(!msg.contains("(graduated"), "{msg}");
    }
);

both_backends!(
    trf_no_delete_refuses_every_role_while_retained,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        accept(&app, g, committee(), retain_no_job(d(2026, 7, 10), None)).await;
        let msg = refuse_delete_by_everyone(&app, g).await;
        assert!(
            msg.contains("`retained` (graduated 2026-07-01, not yet transferred)"),
            "{msg}"
        );
        assert_eq!(branch_of(&app, g).await, MOBILE);
    }
);

both_backends!(
    trf_no_delete_refuses_annulling_a_graduated_member,
    |app| async move {
        let app = app
            .with_school()
            .await
            .with_relation_orgs()
            .await
            .with_quota(SCHOOL, 2026, 5)
            .await;
        // Admitted through the engine into the graduating class (meeting 2026-10-16, approval 2026-10-23).
        let a = app.applicant_at(SENIOR, Stage::Archived).await;
        let on = d(2026, 11, 20);
        expect_ok(app.mark_graduating(SENIOR, on).await, "mark graduating");
        let r = expect_ok(app.graduate(SENIOR, on).await, "graduate");
        assert_eq!(r.graduated, 4, "3 legacy members and the new one");
        assert_eq!(state(&app, &a.rid).await, "graduated_pending_transfer");

        let annul = AdmissionCommand::Annul {
            date: d(2026, 11, 25),
            reason: "材料不实".into(),
        };
        let snap = app.snapshot(&a.rid).await;
        // Every role is refused by the lock, before the table and the role are consulted.
        for role in ROLES {
            let actor = Actor {
                name: "tester".into(),
                role: Some(role.into()),
                ..Default::default()
            };
            let r = with_engine!(app.engine(), e => e.step(&actor, &a.rid, &annul).await);
            let v = expect_rule(r, "TRF_NO_DELETE");
            assert!(
                v.message.contains(
                    "`graduated_pending_transfer` (graduated 2026-11-20, not yet transferred)"
                ),
                "{}",
                v.message
            );
            assert_eq!(app.snapshot(&a.rid).await, snap, "{role}");
        }
        let v = app.refuse(&a.rid, annul.clone(), "TRF_NO_DELETE").await;
        assert!(
            v.message.contains("cannot be deleted or archived"),
            "{}",
            v.message
        );
        assert_eq!(app.instance(&a.rid).await.0, "admitted");

        // Once the transfer has completed, the lock is gone and the annulment is accepted.
        accept(
            &app,
            &a.rid,
            committee(),
            outgoing(
                d(2026, 11, 21),
                UNIVERSITY_BRANCH,
                Destination::FurtherStudy,
            ),
        )
        .await;
        refuse(
            &app,
            &a.rid,
            committee(),
            delete(d(2026, 11, 22)),
            "TRF_NO_DELETE",
        )
        .await;
        accept(
            &app,
            &a.rid,
            committee(),
            approve(d(2026, 11, 22), UNIVERSITY),
        )
        .await;
        let out = app.accept(&a.rid, annul).await;
        assert_eq!(out.to, "annulled");
    }
);

both_backends!(trf_no_delete_refuses_a_raw_sql_delete, |app| async move {
    let app = app.with_graduates().await;
    let before = app.counts().await;
    for sql in ["DELETE FROM members", "DELETE FROM persons"] {
        let err = app
            .raw_execute(sql)
            .await
            .expect_err("the trigger refuses the deletion");
        assert!(err.contains("never deleted"), "{sql}: {err}");
        assert_eq!(app.counts().await, before, "{sql}");
    }
    // Also after an engine tombstone: the row stays and cannot be removed by hand.
    let n = &app.members(NON_GRADUATING).good[0];
    accept(&app, n, committee(), delete(d(2026, 11, 20))).await;
    let err = app
        .raw_execute("DELETE FROM members WHERE deleted_on IS NOT NULL")
        .await
        .expect_err("the trigger refuses the deletion");
    assert!(err.contains("never deleted"), "{err}");
    assert_eq!(app.counts().await.members, before.members);
});

both_backends!(
    trf_no_delete_accepts_a_deletion_after_the_transfer_completes,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 1), EMPLOYER_BRANCH, Destination::Employment),
        )
        .await;
        accept(&app, g, committee(), approve(d(2026, 8, 3), EMPLOYER)).await;
        assert_eq!(state(&app, g).await, "at_branch");
        // Deleting is a committee's or the system's decision.
        for role in ["branch_secretary", "member"] {
            refuse(
                &app,
                g,
                Some(role),
                delete(d(2026, 11, 20)),
                "WF_NOT_ALLOWED",
            )
            .await;
        }
        let before = app.counts().await;
        let out = accept(&app, g, committee(), delete(d(2026, 11, 20))).await;
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("at_branch", "deleted")
        );
        assert_eq!(commands(&out), ["delete"]);
        let after = app.counts().await;
        assert_eq!(after.log, before.log + 1);
        assert_eq!(
            (after.members, after.persons, after.instances),
            (before.members, before.persons, before.instances),
            "the rows stay"
        );
        let m = expect_ok(app.member_view(g).await, "member view")
            .member
            .expect("the member row");
        assert_eq!(m.deleted_on, Some(d(2026, 11, 20)));
        assert_eq!(m.deletion_reason.as_deref(), Some("重复登记"));
        let log = relation_log(&app, g).await;
        assert_eq!(
            log.last().expect("a log entry"),
            &(
                "delete".to_owned(),
                "at_branch".to_owned(),
                "deleted".to_owned()
            )
        );
        assert_eq!(log.iter().filter(|(c, _, _)| c == "delete").count(), 1);
        assert_eq!(state(&app, g).await, "deleted");
        assert_eq!(app.branch_counts(EMPLOYER_BRANCH).await.members, 0);
        // A tombstone takes no further commands.
        match app.relation(g, committee(), &delete(d(2026, 11, 21))).await {
            Err(EngineError::Input(m)) => assert!(m.contains("was deleted on 2026-11-20"), "{m}"),
            other => panic!("expected a tombstone refusal, got {other:?}"),
        }
        assert_eq!(app.counts().await, after);
    }
);

// ------------------------------------------------------------------ TRF_TIMEOUT

both_backends!(
    trf_timeout_marks_overdue_only_after_30_days_without_action,
    |app| async move {
        let app = app.with_graduates().await;
        let g = app.members(SENIOR).good;
        // Outgoing request on 09-01: the incoming side is silent.
        accept(
            &app,
            &g[0],
            committee(),
            outgoing(d(2026, 9, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        // Member request on 09-01, approved by the outgoing side on 09-20: the clock restarts.
        accept(
            &app,
            &g[1],
            member(),
            request(
                d(2026, 9, 1),
                UNIVERSITY_BRANCH,
                Destination::FurtherStudy,
                Initiator::Member,
                None,
            ),
        )
        .await;
        accept(&app, &g[1], secretary(), approve(d(2026, 9, 20), SENIOR)).await;

        let log = app.counts().await.log;
        let r = expect_ok(app.sweep(d(2026, 9, 30)).await, "sweep");
        assert_eq!(r, sweep_report(d(2026, 9, 30), |_| {}));
        assert_eq!(
            app.transfer_list(ROOT, false, false, true, false)
                .await
                .expect("list"),
            []
        );
        let r = expect_ok(app.sweep(d(2026, 10, 1)).await, "sweep");
        assert_eq!(
            r,
            sweep_report(d(2026, 10, 1), |r| {
                r.overdue = 1;
                r.entries = 1;
            })
        );
        let overdue = app
            .transfer_list(ROOT, false, false, true, false)
            .await
            .expect("list");
        assert_eq!(overdue.len(), 1);
        assert_eq!(overdue[0].requested_on, d(2026, 9, 1));
        assert_eq!(overdue[0].overdue_on, Some(d(2026, 10, 1)));
        assert_eq!(transfers(&app, &g[0]).await, overdue);
        // 30 days after the approval of 09-20, not before.
        let r = expect_ok(app.sweep(d(2026, 10, 19)).await, "sweep");
        assert_eq!(r, sweep_report(d(2026, 10, 19), |_| {}));
        let r = expect_ok(app.sweep(d(2026, 10, 20)).await, "sweep");
        assert_eq!(
            r,
            sweep_report(d(2026, 10, 20), |r| {
                r.overdue = 1;
                r.entries = 1;
            })
        );
        assert_eq!(
            app.transfer_list(ROOT, false, false, true, false)
                .await
                .expect("list")
                .len(),
            2
        );
        assert_eq!(app.counts().await.log, log + 2);
        assert_eq!(
            relation_log(&app, &g[1]).await.last().expect("an entry"),
            &(
                "mark_overdue".to_owned(),
                "transfer_requested".to_owned(),
                "transfer_requested".to_owned()
            )
        );
    }
);

both_backends!(
    trf_timeout_escalates_to_the_silent_sides_superior_and_never_auto_approves,
    |app| async move {
        let app = app.with_graduates().await;
        let g = app.members(SENIOR).good;
        // Outgoing request: the university branch is silent → its committee U001.
        accept(
            &app,
            &g[0],
            committee(),
            outgoing(d(2026, 9, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        // Incoming request: the senior-high branch is silent → the school committee S001.
        accept(
            &app,
            &g[1],
            committee(),
            request(
                d(2026, 9, 1),
                UNIVERSITY_BRANCH,
                Destination::FurtherStudy,
                Initiator::Incoming,
                Some(UNIVERSITY),
            ),
        )
        .await;
        let r = expect_ok(app.sweep(d(2026, 10, 5)).await, "sweep");
        assert_eq!(
            r,
            sweep_report(d(2026, 10, 5), |r| {
                r.overdue = 2;
                r.entries = 2;
            })
        );
        assert_eq!(r.auto_approved, 0);
        let t0 = &transfers(&app, &g[0]).await[0];
        assert_eq!(t0.state, "open");
        assert_eq!(t0.escalated_to.as_deref(), Some(UNIVERSITY));
        assert_eq!(
            t0.waiting_on.as_deref(),
            Some("incoming U001-B1 (escalated to U001)")
        );
        let t1 = &transfers(&app, &g[1]).await[0];
        assert_eq!(t1.state, "open");
        assert_eq!(t1.escalated_to.as_deref(), Some(SCHOOL));
        assert_eq!(
            t1.waiting_on.as_deref(),
            Some("outgoing S001-G3 (escalated to S001)")
        );
        // What waits on whom: the school sees both (outgoing), the university's incoming list too.
        let school = app
            .transfer_list(SCHOOL, true, false, true, false)
            .await
            .expect("list");
        assert_eq!(school.len(), 2);
        let uni = app
            .transfer_list(UNIVERSITY, false, true, true, false)
            .await
            .expect("list");
        assert_eq!(uni.len(), 2);
        assert_eq!(
            app.transfer_list(EMPLOYER, false, false, true, false)
                .await
                .expect("list"),
            []
        );
        // Nobody approved silently.
        assert_eq!(state(&app, &g[0]).await, "transfer_requested");
        assert_eq!(branch_of(&app, &g[0]).await, SENIOR);
        // A late approval is accepted and flagged.
        let out = accept(
            &app,
            &g[0],
            committee(),
            approve(d(2026, 10, 8), UNIVERSITY),
        )
        .await;
        assert_eq!(commands(&out), ["approve", "complete", "receive"]);
        assert_eq!(
            out.flags,
            [(
                "TRF_TIMEOUT".to_owned(),
                "approved after the transfer became overdue on 2026-10-05".to_owned()
            )]
        );
    }
);

// ------------------------------------------------------------------ TRF_FURTHER_STUDY

both_backends!(
    trf_further_study_refuses_a_street_committee,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        for to in [STREET, STREET_BRANCH, EMPLOYER_BRANCH] {
            let msg = refuse(
                &app,
                g,
                committee(),
                outgoing(d(2026, 8, 1), to, Destination::FurtherStudy),
                "TRF_FURTHER_STUDY",
            )
            .await;
            assert!(
                msg.contains(&format!("({to}) is a"))
                    && msg.contains("further study goes to a school organisation"),
                "{msg}"
            );
        }
        // The same street committee is a valid destination for employment.
        let out = accept(
            &app,
            g,
            committee(),
            outgoing(d(2026, 8, 1), STREET, Destination::Employment),
        )
        .await;
        assert_eq!(out.to, "transfer_requested");
    }
);

both_backends!(
    trf_further_study_accepts_a_university_branch,
    |app| async move {
        let app = app.with_graduates().await;
        let g = app.members(SENIOR).good;
        let out = accept(
            &app,
            &g[0],
            committee(),
            outgoing(d(2026, 8, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        let tr = out.transfer.expect("the transfer");
        assert_eq!(tr.destination, "further_study");
        assert_eq!(tr.to_branch.as_deref(), Some(UNIVERSITY_BRANCH));
        // The university committee is a school organisation too.
        let out = accept(
            &app,
            &g[1],
            committee(),
            outgoing(d(2026, 8, 1), UNIVERSITY, Destination::FurtherStudy),
        )
        .await;
        let tr = out.transfer.expect("the transfer");
        assert_eq!((tr.to_org.as_str(), tr.to_branch), (UNIVERSITY, None));
        let out = accept(&app, &g[0], committee(), approve(d(2026, 8, 2), UNIVERSITY)).await;
        assert_eq!(out.branch, UNIVERSITY_BRANCH);
    }
);

// ------------------------------------------------------------------ TRF_RETENTION

both_backends!(
    trf_retention_accepts_the_mobile_member_branch_and_flags_6_and_12_months,
    |app| async move {
        let app = graduated_in_2025(app).await;
        let g = app.members(SENIOR).good;
        let out = accept(
            &app,
            &g[0],
            committee(),
            retain_no_job(d(2025, 7, 10), None),
        )
        .await;
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("graduated_pending_transfer", "retained")
        );
        assert_eq!(out.branch, MOBILE);
        assert_eq!(branch_of(&app, &g[0]).await, MOBILE);
        assert_eq!(app.branch_counts(MOBILE).await.members, 1);
        assert_eq!(app.branch_counts(SENIOR).await.members, 2);
        // Everyone is reached in December, and again in June: nobody loses contact.
        for rid in &g {
            accept(&app, rid, secretary(), contact(d(2025, 12, 20), true)).await;
        }
        let r = expect_ok(app.sweep(d(2026, 1, 9)).await, "sweep");
        assert_eq!(r, sweep_report(d(2026, 1, 9), |_| {}));
        let r = expect_ok(app.sweep(d(2026, 1, 10)).await, "sweep");
        assert_eq!(
            r,
            sweep_report(d(2026, 1, 10), |r| {
                r.retention_flagged = 1;
                r.entries = 1;
            })
        );
        for rid in &g {
            accept(&app, rid, secretary(), contact(d(2026, 6, 1), true)).await;
        }
        let r = expect_ok(app.sweep(d(2026, 7, 9)).await, "sweep");
        assert_eq!(r, sweep_report(d(2026, 7, 9), |_| {}));
        let r = expect_ok(app.sweep(d(2026, 7, 10)).await, "sweep");
        assert_eq!(
            r,
            sweep_report(d(2026, 7, 10), |r| {
                r.retention_exceeded = 1;
                r.entries = 1;
            })
        );
        let flags: Vec<_> = relation_log(&app, &g[0])
            .await
            .into_iter()
            .filter(|(c, _, _)| c == "flag_retention")
            .collect();
        assert_eq!(flags.len(), 2);
        assert_eq!(state(&app, &g[0]).await, "retained");
        assert_eq!(branch_of(&app, &g[0]).await, MOBILE);
    }
);

both_backends!(
    trf_retention_refuses_a_branch_that_is_not_a_mobile_member_branch,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        let msg = refuse(
            &app,
            g,
            committee(),
            retain_no_job(d(2026, 7, 10), Some(NON_GRADUATING)),
            "TRF_RETENTION",
        )
        .await;
        assert!(
            msg.contains("(S001-G1) is not a mobile-member branch (流动团员团支部)"),
            "{msg}"
        );
        // Before graduation there is nothing to retain.
        let n = &app.members(NON_GRADUATING).good[0];
        refuse(
            &app,
            n,
            committee(),
            retain_no_job(d(2026, 7, 10), None),
            "WF_NOT_ALLOWED",
        )
        .await;

        // A school without a mobile-member branch cannot keep an unemployed graduate.
        let plain = TestApp::new(app.backend()).await.with_school().await;
        let on = d(2026, 7, 1);
        expect_ok(plain.mark_graduating(SENIOR, on).await, "mark graduating");
        expect_ok(plain.graduate(SENIOR, on).await, "graduate");
        let p = &plain.members(SENIOR).good[0];
        let msg = refuse(
            &plain,
            p,
            committee(),
            retain_no_job(d(2026, 7, 10), None),
            "TRF_RETENTION",
        )
        .await;
        assert!(
            msg.contains("the school has no mobile-member branch"),
            "{msg}"
        );
        plain.finish().await;
    }
);

// ------------------------------------------------------------------ TRF_LOST_CONTACT

both_backends!(
    trf_lost_contact_marks_after_6_months_without_contact_and_a_contact_resets_it,
    |app| async move {
        let app = graduated_in_2025(app).await;
        let g = app.members(SENIOR).good;
        // g[1] is reached on 2025-10-01; g[2] only gets an unanswered attempt, which does not count as contact.
        accept(&app, &g[1], secretary(), contact(d(2025, 10, 1), true)).await;
        accept(&app, &g[2], secretary(), contact(d(2025, 10, 1), false)).await;
        let r = expect_ok(app.sweep(d(2025, 12, 31)).await, "sweep");
        assert_eq!(r, sweep_report(d(2025, 12, 31), |_| {}));
        let r = expect_ok(app.sweep(d(2026, 1, 1)).await, "sweep");
        assert_eq!(
            r,
            sweep_report(d(2026, 1, 1), |r| {
                r.lost_contact = 2;
                r.entries = 2;
            })
        );
        assert_eq!(state(&app, &g[0]).await, "lost_contact");
        assert_eq!(state(&app, &g[1]).await, "graduated_pending_transfer");
        assert_eq!(state(&app, &g[2]).await, "lost_contact");
        let r = expect_ok(app.sweep(d(2026, 3, 31)).await, "sweep");
        assert_eq!(r, sweep_report(d(2026, 3, 31), |_| {}));
        let r = expect_ok(app.sweep(d(2026, 4, 1)).await, "sweep");
        assert_eq!(
            r,
            sweep_report(d(2026, 4, 1), |r| {
                r.lost_contact = 1;
                r.entries = 1;
            })
        );
        assert_eq!(state(&app, &g[1]).await, "lost_contact");
        // Lost contact keeps the record locked and in its branch.
        refuse(
            &app,
            &g[0],
            committee(),
            delete(d(2026, 4, 2)),
            "TRF_NO_DELETE",
        )
        .await;
        assert_eq!(branch_of(&app, &g[0]).await, SENIOR);
    }
);

both_backends!(
    trf_lost_contact_refuses_suspension_without_an_attempt_each_month_and_accepts_it_with_them,
    |app| async move {
        let app = graduated_in_2025(app).await;
        let g = &app.members(SENIOR).good[0];
        let r = expect_ok(app.sweep(d(2026, 1, 1)).await, "sweep");
        assert_eq!(r.lost_contact, 3);
        // Verification from 2026-01-01 to 2026-07-01: an attempt every month except April.
        for m in [1, 2, 3, 5, 6] {
            accept(&app, g, secretary(), contact(d(2026, m, 15), false)).await;
        }
        let suspend = |date: Date, meeting_date: Date, committee: &str| R::Suspend {
            date,
            meeting_date,
            committee: committee.into(),
        };
        let msg = refuse(
            &app,
            g,
            committee(),
            suspend(d(2026, 6, 20), d(2026, 6, 18), SCHOOL),
            "TRF_LOST_CONTACT",
        )
        .await;
        assert!(
            msg.contains("verification runs from 2026-01-01 for 6 months, until 2026-07-01"),
            "{msg}"
        );
        let msg = refuse(
            &app,
            g,
            committee(),
            suspend(d(2026, 7, 10), d(2026, 7, 5), SCHOOL),
            "TRF_LOST_CONTACT",
        )
        .await;
        assert!(
            msg.contains("no contact attempt is recorded from 2026-04-01 to 2026-05-01"),
            "{msg}"
        );
        accept(&app, g, secretary(), contact(d(2026, 4, 15), false)).await;
        // Approval by a basic-level committee above the member's branch, after the branch meeting.
        let msg = refuse(
            &app,
            g,
            committee(),
            suspend(d(2026, 7, 10), d(2026, 7, 5), OTHER_SCHOOL),
            "TRF_LOST_CONTACT",
        )
        .await;
        assert!(
            msg.contains("(S002) is not a basic-level committee above the member's branch"),
            "{msg}"
        );
        let msg = refuse(
            &app,
            g,
            committee(),
            suspend(d(2026, 7, 10), d(2026, 7, 12), SCHOOL),
            "TRF_LOST_CONTACT",
        )
        .await;
        assert!(
            msg.contains("the branch meeting (2026-07-12) is after the approval (2026-07-10); the meeting decides first"),
            "{msg}"
        );
        let out = accept(
            &app,
            g,
            committee(),
            suspend(d(2026, 7, 10), d(2026, 7, 5), SCHOOL),
        )
        .await;
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("lost_contact", "suspended")
        );
        assert_eq!(state(&app, g).await, "suspended");
        assert_eq!(branch_of(&app, g).await, SENIOR);
    }
);

// ------------------------------------------------------------------ TRF_REPORT_IN

both_backends!(trf_report_in_refuses_a_committee, |app| async move {
    let app = app.with_graduates().await;
    let g = &app.members(SENIOR).good[0];
    for to in [STREET, UNIVERSITY] {
        let msg = refuse(
            &app,
            g,
            member(),
            R::ReportIn {
                date: d(2026, 8, 1),
                branch: to.into(),
            },
            "TRF_REPORT_IN",
        )
        .await;
        assert!(
            msg.contains(&format!("({to}) is a"))
                && msg.contains("reports in to a branch (团支部)"),
            "{msg}"
        );
    }
    assert_eq!(state(&app, g).await, "graduated_pending_transfer");
});

both_backends!(
    trf_report_in_accepts_a_branch_and_moves_the_member,
    |app| async move {
        let app = app.with_graduates().await;
        let g = &app.members(SENIOR).good[0];
        let out = accept(
            &app,
            g,
            member(),
            R::ReportIn {
                date: d(2026, 8, 1),
                branch: STREET_BRANCH.into(),
            },
        )
        .await;
        assert_eq!(
            (out.from.as_str(), out.to.as_str()),
            ("graduated_pending_transfer", "reported_in")
        );
        assert_eq!(
            branch_of(&app, g).await,
            SENIOR,
            "nothing moves before approval"
        );
        // Only the branch reported to (or above it) approves.
        let msg = refuse(
            &app,
            g,
            secretary(),
            R::AcceptReportIn {
                date: d(2026, 8, 3),
                org: EMPLOYER_BRANCH.into(),
            },
            "TRF_REPORT_IN",
        )
        .await;
        assert!(
            msg.contains("(E001-B1) is not the branch reported to (T001-B1) or above it"),
            "{msg}"
        );
        let members = app.counts().await.members;
        let out = accept(
            &app,
            g,
            secretary(),
            R::AcceptReportIn {
                date: d(2026, 8, 3),
                org: STREET_BRANCH.into(),
            },
        )
        .await;
        assert_eq!(commands(&out), ["accept_report_in", "receive"]);
        assert_eq!(out.to, "at_branch");
        assert_eq!(out.branch, STREET_BRANCH);
        assert_eq!(branch_of(&app, g).await, STREET_BRANCH);
        assert_eq!(app.counts().await.members, members, "the member row moved");
        assert_eq!(app.branch_counts(STREET_BRANCH).await.members, 1);
        assert_eq!(app.branch_counts(SENIOR).await.members, 2);
        let log = relation_log(&app, g).await;
        let tail: Vec<(&str, &str, &str)> = log[log.len() - 2..]
            .iter()
            .map(|(c, f, t)| (c.as_str(), f.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            tail,
            [
                ("accept_report_in", "reported_in", "transferred"),
                ("receive", "new", "at_branch")
            ]
        );
    }
);

// ------------------------------------------------------------------ concurrency

/// What one of two concurrent commands returned.
type Outcome = EngineResult<RelationOutcome>;

both_backends!(
    concurrent_approve_and_cancel_of_one_transfer_have_exactly_one_outcome,
    |app| async move {
        let app = app.with_graduates().await;
        // Ten members: the 3 graduates (relation opened by graduation) and 7 others (opened by the request).
        let mut people: Vec<(String, &str, &str)> = Vec::new();
        for rid in app.members(SENIOR).good {
            people.push((rid, SENIOR, "graduated_pending_transfer"));
        }
        for rid in app.members(NON_GRADUATING).good {
            people.push((rid, NON_GRADUATING, "at_branch"));
        }
        for rid in app.members(JUNIOR).good.into_iter().take(2) {
            people.push((rid, JUNIOR, "at_branch"));
        }
        assert_eq!(people.len(), 10);
        let start = app.counts().await;
        let by_branch = members_by_branch(&app).await;
        let (mut completed, mut cancelled) = (0, 0);
        for (i, (rid, from, rest)) in people.iter().enumerate() {
            accept(
                &app,
                rid,
                committee(),
                outgoing(d(2026, 11, 2), UNIVERSITY_BRANCH, Destination::Move),
            )
            .await;
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let spawn = |cmd: R| {
                let engine = app.engine().clone();
                let barrier = barrier.clone();
                let rid = rid.clone();
                tokio::spawn(async move {
                    let actor = Actor {
                        name: "tester".into(),
                        role: Some("committee_admin".into()),
                        ..Default::default()
                    };
                    barrier.wait().await;
                    with_engine!(&engine, e => e.relation(&actor, &rid, &cmd).await)
                })
            };
            // Alternate which task starts first, so that SQLite's single writer sees both orders.
            let (approving, cancelling) = if i % 2 == 0 {
                let a = spawn(approve(d(2026, 11, 3), UNIVERSITY));
                (a, spawn(cancel(d(2026, 11, 3), Some(SCHOOL))))
            } else {
                let c = spawn(cancel(d(2026, 11, 3), Some(SCHOOL)));
                (spawn(approve(d(2026, 11, 3), UNIVERSITY)), c)
            };
            let a: Outcome = approving.await.expect("the approving task");
            let c: Outcome = cancelling.await.expect("the cancelling task");
            let shown = transfers(&app, rid).await;
            assert_eq!(shown.len(), 1, "one transfer");
            match (a, c) {
                (Ok(a), Err(c)) => {
                    completed += 1;
                    assert_eq!(commands(&a), ["approve", "complete", "receive"]);
                    expect_rule::<()>(Err(c), "WF_NOT_ALLOWED");
                    assert_eq!(shown[0].state, "completed");
                    assert_eq!(branch_of(&app, rid).await, UNIVERSITY_BRANCH);
                    assert_eq!(state(&app, rid).await, "at_branch");
                }
                (Err(a), Ok(c)) => {
                    cancelled += 1;
                    assert_eq!(commands(&c), ["cancel"]);
                    expect_rule::<()>(Err(a), "WF_NOT_ALLOWED");
                    assert_eq!(shown[0].state, "cancelled");
                    assert_eq!(branch_of(&app, rid).await, *from);
                    assert_eq!(state(&app, rid).await, *rest);
                }
                (a, c) => panic!("expected exactly one outcome, got {a:?} and {c:?}"),
            }
        }
        assert_eq!(completed + cancelled, 10);
        println!("{completed} completed, {cancelled} cancelled");
        let end = app.counts().await;
        assert_eq!(
            (end.persons, end.members),
            (start.persons, start.members),
            "no duplicate person or member row"
        );
        // Log: an `open` for the 7 non-graduates, a request each, then approve + complete + receive or cancel.
        assert_eq!(end.log, start.log + 7 + 10 + 3 * completed + cancelled);
        assert_eq!(end.instances, start.instances + 7 + completed);
        // Every member sits in exactly one branch: the branch totals are unchanged, shifted by the completions.
        let after = members_by_branch(&app).await;
        assert_eq!(after.iter().sum::<i64>(), by_branch.iter().sum::<i64>());
        assert_eq!(after[4], by_branch[4] + completed);
        assert_eq!(
            app.transfer_list(ROOT, false, false, false, true)
                .await
                .expect("list"),
            [],
            "nothing left open"
        );
        assert_log_verifies(&app).await;
    }
);

both_backends!(
    trf_one_open_refuses_one_of_two_concurrent_requests,
    |app| async move {
        let app = app.with_graduates().await;
        let mut opened = 0;
        for rid in app.members(SENIOR).good {
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let spawn = |cmd: R| {
                let engine = app.engine().clone();
                let barrier = barrier.clone();
                let rid = rid.clone();
                tokio::spawn(async move {
                    let actor = Actor {
                        name: "tester".into(),
                        role: Some("committee_admin".into()),
                        ..Default::default()
                    };
                    barrier.wait().await;
                    with_engine!(&engine, e => e.relation(&actor, &rid, &cmd).await)
                })
            };
            let school = spawn(outgoing(
                d(2026, 8, 1),
                EMPLOYER_BRANCH,
                Destination::Employment,
            ));
            let university = spawn(request(
                d(2026, 8, 1),
                UNIVERSITY_BRANCH,
                Destination::FurtherStudy,
                Initiator::Incoming,
                Some(UNIVERSITY),
            ));
            let s: Outcome = school.await.expect("the school's task");
            let u: Outcome = university.await.expect("the university's task");
            let winner = match (s, u) {
                (Ok(_), Err(e)) => {
                    expect_rule::<()>(Err(e), "TRF_ONE_OPEN");
                    EMPLOYER_BRANCH
                }
                (Err(e), Ok(_)) => {
                    expect_rule::<()>(Err(e), "TRF_ONE_OPEN");
                    UNIVERSITY_BRANCH
                }
                (s, u) => panic!("expected exactly one open transfer, got {s:?} and {u:?}"),
            };
            opened += 1;
            let shown = transfers(&app, &rid).await;
            assert_eq!(shown.len(), 1);
            assert_eq!(
                (shown[0].to_org.as_str(), shown[0].state.as_str()),
                (winner, "open")
            );
        }
        assert_eq!(
            app.transfer_list(ROOT, false, false, false, true)
                .await
                .expect("list")
                .len(),
            opened
        );
        assert_log_verifies(&app).await;
    }
);

// ------------------------------------------------------------------ sweep idempotency

both_backends!(
    sweep_twice_for_the_same_date_writes_nothing_the_second_time,
    |app| async move {
        let app = graduated_in_2025(app).await;
        let g = app.members(SENIOR).good;
        accept(
            &app,
            &g[0],
            committee(),
            retain_no_job(d(2025, 7, 10), None),
        )
        .await;
        accept(
            &app,
            &g[1],
            committee(),
            outgoing(d(2025, 8, 1), UNIVERSITY_BRANCH, Destination::FurtherStudy),
        )
        .await;
        let as_of = d(2026, 2, 1);
        let before = app.counts().await;
        let first = expect_ok(app.sweep(as_of).await, "first sweep");
        // g[1]'s transfer overdue; g[0]'s retention past 6 months and g[0], g[2] without contact for 6 months.
        assert_eq!(
            first,
            sweep_report(as_of, |r| {
                r.overdue = 1;
                r.retention_flagged = 1;
                r.lost_contact = 2;
                r.entries = 4;
            })
        );
        let middle = app.counts().await;
        assert_eq!(middle.log, before.log + 4);
        let second = expect_ok(app.sweep(as_of).await, "second sweep");
        assert_eq!(second, sweep_report(as_of, |_| {}));
        assert_eq!(second.entries, 0);
        assert_eq!(app.counts().await, middle);
        assert_log_verifies(&app).await;
    }
);

// ------------------------------------------------------------------ ID_UNIQUE

both_backends!(
    id_unique_refuses_importing_a_member_held_elsewhere,
    |app| async move {
        let app = app.with_graduates().await;
        let held = &app.members(SENIOR).good[0];
        let before = app.counts().await;
        let csv =
            format!("姓名,公民身份号码,入团日期,团员编号\n张三,{held},2025-05-04,202500000900\n");
        let rows = match app
            .import_roster(UNIVERSITY_BRANCH, csv.as_bytes(), false)
            .await
        {
            Err(EngineError::Rows(rows)) => rows,
            other => panic!("expected row errors, got {other:?}"),
        };
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].line, rows[0].code.map(|c| c.as_str())),
            (2, Some("ID_UNIQUE"))
        );
        let reason = &rows[0].reason;
        assert!(reason.contains("高三(1)班团支部 (S001-G3)"), "{reason}");
        assert!(reason.contains("start a transfer"), "{reason}");
        assert!(
            !reason.contains(held.as_str()),
            "the full ID leaked: {reason}"
        );
        // An applicant row with the same ID is refused too.
        let csv = format!("姓名,公民身份号码,申请日期\n张三,{held},2026-03-02\n");
        let rows = match app
            .import_roster(UNIVERSITY_BRANCH, csv.as_bytes(), false)
            .await
        {
            Err(EngineError::Rows(rows)) => rows,
            other => panic!("expected row errors, got {other:?}"),
        };
        assert_eq!(
            rows.iter()
                .map(|r| (r.line, r.code.map(|c| c.as_str())))
                .collect::<Vec<_>>(),
            [(2, Some("ID_UNIQUE"))]
        );
        assert!(rows[0].reason.contains("(S001-G3)"), "{}", rows[0].reason);
        assert!(rows[0].reason.contains("transfer"), "{}", rows[0].reason);
        assert_eq!(app.counts().await, before, "no second person or member row");
        // A new person imports.
        let fresh = app.new_rid(d(2008, 3, 1));
        let csv =
            format!("姓名,公民身份号码,入团日期,团员编号\n李四,{fresh},2025-05-04,202500000900\n");
        expect_ok(
            app.import_roster(UNIVERSITY_BRANCH, csv.as_bytes(), false)
                .await,
            "import of a new member",
        );
        assert_eq!(app.counts().await.persons, before.persons + 1);
    }
);

both_backends!(
    id_unique_refuses_applying_with_the_id_of_a_member_held_elsewhere,
    |app| async move {
        let app = app.with_graduates().await;
        let held = app.members(NON_GRADUATING).good[0].clone();
        let mut a = app.applicant(UNIVERSITY_BRANCH);
        a.rid = held.clone();
        let before = app.counts().await;
        let v = expect_rule(
            app.apply(&TestApp::application(&a, d(2026, 3, 2))).await,
            "ID_UNIQUE",
        );
        assert!(
            v.message.contains("高一(2)班团支部 (S001-G1)"),
            "{}",
            v.message
        );
        assert!(v.message.contains("start a transfer"), "{}", v.message);
        assert_eq!(app.counts().await, before, "no second person row");
        // After a transfer, the message names the organisation that holds the member now.
        accept(
            &app,
            &held,
            committee(),
            outgoing(d(2026, 8, 1), EMPLOYER_BRANCH, Destination::Move),
        )
        .await;
        accept(&app, &held, committee(), approve(d(2026, 8, 2), EMPLOYER)).await;
        let before = app.counts().await;
        let v = expect_rule(
            app.apply(&TestApp::application(&a, d(2026, 9, 1))).await,
            "ID_UNIQUE",
        );
        assert!(v.message.contains("(E001-B1)"), "{}", v.message);
        assert_eq!(app.counts().await, before);
        // Someone new applies at the university branch.
        let fresh = app.applicant(UNIVERSITY_BRANCH);
        let out = expect_ok(
            app.apply(&TestApp::application(&fresh, d(2026, 3, 2)))
                .await,
            "a new applicant",
        );
        assert_eq!(out.to, "applicant");
        assert_eq!(app.counts().await.persons, before.persons + 1);
    }
);

// Effective dates follow the relation's history: a command dated before the relation's last change (the
// graduation, the start of the stay) is refused and writes nothing; graduation skips members admitted after it.
both_backends!(
    relation_commands_dated_before_the_last_change_are_refused,
    |app| async move {
        let app = app.with_graduates().await;
        let grad = app.members(SENIOR).good[0].clone();
        let size = app.log(None).await.len();
        match app
            .relation(&grad, None, &retain_no_job(d(2026, 6, 30), None))
            .await
        {
            Err(EngineError::Input(m)) => assert_eq!(
                m,
                "`retain` is dated 2026-06-30, before the relation's last change on 2026-07-01"
            ),
            other => panic!("expected an input error, got {other:?}"),
        }
        let stay = app.members(NON_GRADUATING).good[0].clone();
        let early = request(
            d(2025, 5, 3),
            STREET_BRANCH,
            Destination::Move,
            Initiator::Member,
            None,
        );
        match app.relation(&stay, member(), &early).await {
        Err(EngineError::Input(m)) => assert_eq!(
            m,
            "`request_transfer` is dated 2025-05-03, before the relation's last change on 2025-05-04"
        ),
        other => panic!("expected an input error, got {other:?}"),
    }
        assert_eq!(app.log(None).await.len(), size);
        // The same day as the last change is accepted.
        expect_ok(
            app.relation(&grad, None, &retain_no_job(d(2026, 7, 1), None))
                .await,
            "retain",
        );
        // A class graduated on 2025-05-01: its members admitted 2025-05-04 are skipped, not graduated.
        expect_ok(app.mark_graduating(JUNIOR, d(2025, 5, 1)).await, "mark");
        let r = expect_ok(app.graduate(JUNIOR, d(2025, 5, 1)).await, "graduate");
        assert_eq!(r.graduated, 0);
        assert_eq!(r.skipped, vec![("joined_after_graduation".to_owned(), 5)]);
    }
);
