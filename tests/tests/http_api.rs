//! The HTTP API end to end (issue 6), on SQLite and PostgreSQL: a real server on a loopback port, a real client.
//! The access matrix (every endpoint × every role × caller inside, above, beside and below the target), the
//! admission and transfer stories over HTTP, `Idempotency-Key` and `If-Match` (16 concurrent submissions → one
//! effect), and precise 400/401/404/412/413/415/422 problems for bad requests.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use tuanji_engine::access::Role;
use tuanji_engine::relation::RelationCommand;
use tuanji_tests::http::{Reply, Server};
use tuanji_tests::*;
use tuanji_workflow::relation::{Destination, Initiator};

/// The callers of the access matrix: a label, and the token's role binding (`None`: a principal with no binding).
async fn callers(
    app: &TestApp,
    me: &str,
    other_member: &str,
) -> Vec<(&'static str, Option<String>)> {
    vec![
        (
            "system_admin@root",
            Some(app.token(Role::SystemAdmin, ROOT).await),
        ),
        (
            "committee_admin@county (above)",
            Some(app.token(Role::CommitteeAdmin, COUNTY).await),
        ),
        (
            "committee_admin@school",
            Some(app.token(Role::CommitteeAdmin, SCHOOL).await),
        ),
        (
            "committee_admin@other school (beside)",
            Some(app.token(Role::CommitteeAdmin, OTHER_SCHOOL).await),
        ),
        (
            "committee_admin@branch (below the school)",
            Some(app.token(Role::CommitteeAdmin, SENIOR).await),
        ),
        (
            "branch_secretary@branch",
            Some(app.token(Role::BranchSecretary, SENIOR).await),
        ),
        (
            "branch_secretary@other branch (beside)",
            Some(app.token(Role::BranchSecretary, NON_GRADUATING).await),
        ),
        (
            "auditor@school",
            Some(app.token(Role::Auditor, SCHOOL).await),
        ),
        (
            "auditor@other school (beside)",
            Some(app.token(Role::Auditor, OTHER_SCHOOL).await),
        ),
        ("member (self)", Some(app.token(Role::Member, me).await)),
        (
            "member (another)",
            Some(app.token(Role::Member, other_member).await),
        ),
        ("no binding", Some(app.token_without_binding().await)),
        ("no token", None),
    ]
}

/// Sends a request as `token` (none: no Authorization header).
async fn send(
    srv: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    srv.call(method, path, token, headers, body).await
}

// Every endpoint × every caller → the exact status. A state-changing endpoint is probed with `If-Match: "999"`:
// a caller the engine authorises reaches the version check (412) and changes nothing; one it does not gets 403
// (it may see the member but not do this), or 404 when it may not even know the member exists. Applications
// are real (201), each of a new applicant. The target member and applicant sit in the senior branch S001-G3,
// under the school committee S001, under the county 110105; organisation endpoints target S001.
both_backends!(access_matrix_every_endpoint_every_role, |app| async move {
    let app = app.with_school().await;
    let srv = app.serve().await;
    let m = app.members(SENIOR).good[0].clone();
    let other = app.members(NON_GRADUATING).good[0].clone();
    let a = app.applicant_at(SENIOR, Stage::Applied).await;
    let callers = callers(&app, &m, &other).await;
    let log_before = app.log(None).await.len();

    let transfer = serde_json::to_value(RelationCommand::RequestTransfer {
        date: d(2026, 11, 2),
        to: OTHER_SCHOOL.into(),
        destination: Destination::Move,
        initiator: Initiator::Member,
        org: None,
    })
    .expect("json");
    let talk = json!({"command": "record_talk", "date": "2026-03-10", "by": "王老师"});
    let stale = [("If-Match", "\"999\"")];
    use StatusCode as S;
    const OK: S = S::OK;
    const NF: S = S::NOT_FOUND;
    const FB: S = S::FORBIDDEN;
    const PF: S = S::PRECONDITION_FAILED;
    const UA: S = S::UNAUTHORIZED;
    // Columns in the order of `callers`:
    // sys, ca county, ca school, ca other, ca branch, bs branch, bs other, au school, au other, self, member, none, anon
    let member_get = [OK, OK, OK, NF, OK, OK, NF, OK, NF, OK, NF, NF, UA];
    let relation_cmd = [FB, PF, PF, NF, PF, PF, NF, FB, NF, PF, NF, NF, UA];
    let admission_step = [FB, FB, FB, NF, FB, PF, NF, FB, NF, NF, NF, NF, UA];
    let apply = [FB, FB, FB, FB, FB, S::CREATED, FB, FB, FB, FB, FB, FB, UA];
    let org_read = [OK, OK, OK, FB, FB, FB, FB, OK, FB, FB, FB, FB, UA];
    let me = [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, UA];

    let mut seen = Vec::new();
    for (i, (who, token)) in callers.iter().enumerate() {
        let t = token.as_deref();
        let fresh = app.applicant(SENIOR);
        let application = json!({
            "branch": SENIOR, "resident_id": fresh.rid, "name": "李明",
            "ethnicity": "汉族", "class": "高三(1)班", "date": "2026-03-02"
        });
        let cases: Vec<(&str, Reply, S)> = vec![
            (
                "GET /members/{m}",
                send(
                    &srv,
                    Method::GET,
                    &format!("/api/v1/members/{m}"),
                    t,
                    &[],
                    None,
                )
                .await,
                member_get[i],
            ),
            (
                "POST /members/{m}/relation",
                send(
                    &srv,
                    Method::POST,
                    &format!("/api/v1/members/{m}/relation"),
                    t,
                    &stale,
                    Some(&transfer),
                )
                .await,
                relation_cmd[i],
            ),
            (
                "POST /applications/{a}/steps",
                send(
                    &srv,
                    Method::POST,
                    &format!("/api/v1/applications/{}/steps", a.rid),
                    t,
                    &stale,
                    Some(&talk),
                )
                .await,
                admission_step[i],
            ),
            (
                "POST /applications",
                send(
                    &srv,
                    Method::POST,
                    "/api/v1/applications",
                    t,
                    &[],
                    Some(&application),
                )
                .await,
                apply[i],
            ),
            (
                "GET /orgs/S001/subtree",
                send(&srv, Method::GET, "/api/v1/orgs/S001/subtree", t, &[], None).await,
                org_read[i],
            ),
            (
                "GET /orgs/S001/quotas/2026",
                send(
                    &srv,
                    Method::GET,
                    "/api/v1/orgs/S001/quotas/2026",
                    t,
                    &[],
                    None,
                )
                .await,
                org_read[i],
            ),
            (
                "GET /orgs/S001/transfers",
                send(
                    &srv,
                    Method::GET,
                    "/api/v1/orgs/S001/transfers",
                    t,
                    &[],
                    None,
                )
                .await,
                org_read[i],
            ),
            (
                "GET /me",
                send(&srv, Method::GET, "/api/v1/me", t, &[], None).await,
                me[i],
            ),
        ];
        for (endpoint, reply, want) in cases {
            seen.push((endpoint, *who, reply.status, want));
            // A refusal discloses nothing: a hidden member reads exactly like one that does not exist.
            if reply.status == NF && endpoint.contains("{m}") {
                assert_eq!(
                    reply.body["detail"],
                    json!(format!(
                        "no person on record for {}",
                        tuanji_domain::mask_id_like(&m)
                    )),
                    "{endpoint} as {who}"
                );
            }
            if reply.status == NF && endpoint.contains("{a}") {
                assert_eq!(
                    reply.body["detail"],
                    json!(format!(
                        "no person on record for {}",
                        tuanji_domain::mask_id_like(&a.rid)
                    )),
                    "{endpoint} as {who}"
                );
            }
            if !reply.status.is_success() {
                assert_eq!(
                    reply.header("content-type"),
                    Some("application/problem+json"),
                    "{endpoint} as {who}"
                );
                assert!(
                    reply.body.get("resident_id").is_none(),
                    "{endpoint} as {who}"
                );
            }
        }
    }
    let wrong: Vec<_> = seen
        .iter()
        .filter(|(_, _, got, want)| got != want)
        .collect();
    assert!(
        wrong.is_empty(),
        "unexpected statuses (endpoint, caller, got, want): {wrong:#?}"
    );
    assert_eq!(seen.len(), 13 * 8);
    // One application (the branch secretary's) is the only change: one log entry.
    assert_eq!(app.log(None).await.len(), log_before + 1);
});

/// One probe of the access matrix: a request and the exact status for each caller of [`callers`], in order.
struct Probe {
    label: &'static str,
    method: Method,
    path: String,
    if_match: bool,
    body: Option<(&'static str, Vec<u8>)>,
    want: [StatusCode; 13],
}

impl Probe {
    fn new(label: &'static str, method: Method, path: String, want: [StatusCode; 13]) -> Probe {
        Probe {
            label,
            method,
            path,
            if_match: false,
            body: None,
            want,
        }
    }

    /// With `If-Match: "999"`: an authorised caller reaches the version check (412) and changes nothing.
    fn stale(mut self) -> Probe {
        self.if_match = true;
        self
    }

    fn json(mut self, v: Value) -> Probe {
        self.body = Some(("application/json", serde_json::to_vec(&v).expect("json")));
        self
    }

    fn csv(mut self, text: &str) -> Probe {
        self.body = Some(("text/csv", text.as_bytes().to_vec()));
        self
    }
}

// The rest of the API × every caller → the exact status: standing, dues, Party recommendation and evaluation of
// the member and branch S001-G3, and the administration endpoints. Every probe is harmless for a caller that
// passes the access check: a stale `If-Match` (412), a body the engine refuses after the check (422: a zero
// quota, an organisation CSV with a bad row, a roster row with a bad ID, a graduation or sweep date after today,
// an empty principal name), an unknown principal or token (404; a token id is looked up among the caller's own
// tokens), marking the branch graduating on the date it already has, a checkpoint on a server without a signing
// key (409), or a read. Nothing is written. (Graduating a branch is the branch's and its committees' step, not
// system_admin's: `workflows/relation.v1.toml`.)
both_backends!(
    access_matrix_standing_party_evaluation_admin,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let m = app.members(SENIOR).good[0].clone();
        let other = app.members(NON_GRADUATING).good[0].clone();
        let a = app.applicant_at(SENIOR, Stage::Applied).await;
        let callers = callers(&app, &m, &other).await;
        let log_before = app.log(None).await.len();
        let counts_before = app.counts().await;
        use StatusCode as S;
        const OK: S = S::OK;
        const NF: S = S::NOT_FOUND;
        const FB: S = S::FORBIDDEN;
        const PF: S = S::PRECONDITION_FAILED;
        const UP: S = S::UNPROCESSABLE_ENTITY;
        const CF: S = S::CONFLICT;
        const UA: S = S::UNAUTHORIZED;
        // Columns in the order of `callers`:
        // sys, ca county, ca school, ca other, ca branch, bs branch, bs other, au school, au other, self, member, none, anon
        let member_read = [OK, OK, OK, NF, OK, OK, NF, OK, NF, OK, NF, NF, UA];
        let branch_read = [OK, OK, OK, FB, OK, OK, FB, OK, FB, FB, FB, FB, UA];
        let root_admin = [OK, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, UA];
        let root_reviewer = [OK, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, UA];
        let probes = vec![
            Probe::new(
                "GET standing",
                Method::GET,
                format!("/api/v1/members/{m}/standing"),
                member_read,
            ),
            Probe::new(
                "POST standing",
                Method::POST,
                format!("/api/v1/members/{m}/standing"),
                [FB, PF, PF, NF, PF, PF, NF, FB, NF, FB, NF, NF, UA],
            )
            .stale()
            .json(
                json!({"command": "record_dues", "date": "2026-11-02", "first": "2026-09",
                          "months": 1, "amount_fen": 20, "category": "reduced"}),
            ),
            Probe::new(
                "GET dues",
                Method::GET,
                format!("/api/v1/members/{m}/dues"),
                member_read,
            ),
            Probe::new(
                "GET party",
                Method::GET,
                format!("/api/v1/members/{m}/party"),
                member_read,
            ),
            Probe::new(
                "POST party",
                Method::POST,
                format!("/api/v1/members/{m}/party"),
                [FB, PF, PF, NF, PF, PF, NF, FB, NF, FB, NF, NF, UA],
            )
            .stale()
            .json(json!({"command": "nominate", "date": "2026-11-02"})),
            Probe::new(
                "GET orgs/branch/party",
                Method::GET,
                format!("/api/v1/orgs/{SENIOR}/party"),
                branch_read,
            ),
            Probe::new(
                "GET evaluation",
                Method::GET,
                format!("/api/v1/orgs/{SENIOR}/evaluations/2025"),
                [NF, NF, NF, FB, NF, NF, FB, NF, FB, FB, FB, FB, UA],
            ),
            Probe::new(
                "POST evaluation",
                Method::POST,
                format!("/api/v1/orgs/{SENIOR}/evaluations/2025"),
                [FB, PF, PF, FB, PF, PF, FB, FB, FB, FB, FB, FB, UA],
            )
            .stale()
            .json(json!({"command": "record", "date": "2026-11-02", "present": 9, "grades": []})),
            Probe::new(
                "GET log?org=S001",
                Method::GET,
                "/api/v1/log?org=S001&limit=1".into(),
                [OK, OK, OK, FB, FB, FB, FB, OK, FB, FB, FB, FB, UA],
            ),
            Probe::new(
                "GET log",
                Method::GET,
                "/api/v1/log?limit=1".into(),
                root_reviewer,
            ),
            Probe::new(
                "GET audit/export",
                Method::GET,
                "/api/v1/audit/export".into(),
                root_reviewer,
            ),
            Probe::new(
                "GET audit/verify",
                Method::GET,
                "/api/v1/audit/verify".into(),
                root_reviewer,
            ),
            Probe::new(
                "GET audit/checkpoints",
                Method::GET,
                "/api/v1/audit/checkpoints".into(),
                root_reviewer,
            ),
            Probe::new(
                "POST audit/checkpoints",
                Method::POST,
                "/api/v1/audit/checkpoints".into(),
                [CF, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, UA],
            ),
            Probe::new(
                "POST orgs/import",
                Method::POST,
                "/api/v1/orgs/import".into(),
                [UP, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, UA],
            )
            .csv("code,name,kind,parent\nX1,,branch,S001\n"),
            Probe::new(
                "POST orgs/S001/quotas",
                Method::POST,
                "/api/v1/orgs/S001/quotas".into(),
                [UP, UP, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, UA],
            )
            .json(json!({"year": 2026, "count": 0, "date": "2026-11-02"})),
            Probe::new(
                "POST orgs/branch/graduating",
                Method::POST,
                format!("/api/v1/orgs/{SENIOR}/graduating"),
                [OK, OK, OK, FB, OK, OK, FB, FB, FB, FB, FB, FB, UA],
            )
            .json(json!({"on": "2026-07-01"})),
            Probe::new(
                "POST orgs/branch/graduation",
                Method::POST,
                format!("/api/v1/orgs/{SENIOR}/graduation"),
                [FB, UP, UP, FB, UP, UP, FB, FB, FB, FB, FB, FB, UA],
            )
            .json(json!({"on": "2031-07-01"})),
            Probe::new(
                "POST orgs/branch/roster",
                Method::POST,
                format!("/api/v1/orgs/{SENIOR}/roster"),
                [UP, UP, UP, FB, UP, UP, FB, FB, FB, FB, FB, FB, UA],
            )
            .csv("姓名,公民身份号码,申请日期\n甲,110105200801011230,2026-03-02\n"),
            Probe::new(
                "POST sweep",
                Method::POST,
                "/api/v1/sweep".into(),
                root_admin.map(|s| if s == OK { UP } else { s }),
            )
            .json(json!({"as_of": "2031-01-01"})),
            Probe::new(
                "GET applications/{a}/replay",
                Method::GET,
                format!("/api/v1/applications/{}/replay", a.rid),
                [OK, OK, OK, NF, OK, OK, NF, OK, NF, NF, NF, NF, UA],
            ),
            Probe::new(
                "GET audit/proofs/1",
                Method::GET,
                "/api/v1/audit/proofs/1".into(),
                [UP, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB, UA],
            ),
            Probe::new(
                "GET principals",
                Method::GET,
                "/api/v1/principals".into(),
                root_admin,
            ),
            Probe::new(
                "POST principals",
                Method::POST,
                "/api/v1/principals".into(),
                root_admin.map(|s| if s == OK { UP } else { s }),
            )
            .json(json!({"name": ""})),
            Probe::new(
                "POST bindings",
                Method::POST,
                "/api/v1/principals/ghost/bindings".into(),
                root_admin.map(|s| if s == OK { NF } else { s }),
            )
            .json(json!({"role": "auditor", "org": "S001"})),
            Probe::new(
                "DELETE bindings",
                Method::DELETE,
                "/api/v1/principals/ghost/bindings?role=auditor&org=S001".into(),
                root_admin.map(|s| if s == OK { NF } else { s }),
            ),
            Probe::new(
                "GET tokens",
                Method::GET,
                "/api/v1/principals/ghost/tokens".into(),
                root_admin.map(|s| if s == OK { NF } else { s }),
            ),
            Probe::new(
                "POST tokens",
                Method::POST,
                "/api/v1/principals/ghost/tokens".into(),
                root_admin.map(|s| if s == OK { NF } else { s }),
            )
            .json(json!({"label": "x"})),
            Probe::new(
                "DELETE token",
                Method::DELETE,
                format!("/api/v1/tokens/{}", uuid::Uuid::nil()),
                [NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, UA],
            ),
        ];
        let mut wrong = Vec::new();
        for probe in &probes {
            for (i, (who, token)) in callers.iter().enumerate() {
                let headers: &[(&str, &str)] = if probe.if_match {
                    &[("If-Match", "\"999\"")]
                } else {
                    &[]
                };
                let (kind, bytes) = probe
                    .body
                    .clone()
                    .map_or((None, Vec::new()), |(k, b)| (Some(k), b));
                let r = srv
                    .send(
                        probe.method.clone(),
                        &probe.path,
                        token.as_deref(),
                        kind,
                        bytes,
                        headers,
                    )
                    .await;
                if r.status != probe.want[i] {
                    wrong.push((
                        probe.label,
                        *who,
                        r.status,
                        probe.want[i],
                        r.text.chars().take(160).collect::<String>(),
                    ));
                }
                if !r.status.is_success() {
                    assert_eq!(
                        r.header("content-type"),
                        Some("application/problem+json"),
                        "{} as {who}",
                        probe.label
                    );
                }
                // A refusal discloses nothing about the member: a hidden member reads like an unknown one.
                if r.status == NF && probe.path.contains(&m) {
                    assert_eq!(
                        r.body["detail"],
                        json!(format!(
                            "no person on record for {}",
                            tuanji_domain::mask_id_like(&m)
                        )),
                        "{} as {who}",
                        probe.label
                    );
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "unexpected statuses (endpoint, caller, got, want, body): {wrong:#?}"
        );
        assert_eq!(probes.len(), 29);
        assert_eq!(app.log(None).await.len(), log_before);
        assert_eq!(app.counts().await, counts_before);
    }
);

// The admission story of the demo over HTTP: a branch secretary receives the application and takes every
// step, the school committee approves the activist, pre-reviews and approves the admission; the member then has a
// development number, and reading the record as the branch secretary shows it, ETag = the admission version.
both_backends!(http_admission_story, |app| async move {
    let app = app.with_school().await.with_quota(SCHOOL, 2026, 5).await;
    let srv = app.serve().await;
    let secretary = app.token(Role::BranchSecretary, SENIOR).await;
    let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
    let mut a = app.applicant(SENIOR);
    let application = serde_json::to_value(TestApp::application(&a, d(2026, 3, 2))).expect("json");
    let r = srv
        .post("/api/v1/applications", &secretary, &application)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["to"], json!("applicant"));
    a.stage = Stage::Applied;
    let mut steps = 0;
    for stage in Stage::ALL {
        if stage <= Stage::Applied {
            continue;
        }
        for cmd in app.commands(&a, stage).await {
            let token = match cmd.command() {
                "approve_activist" | "prereview" | "approve" => &committee,
                _ => &secretary,
            };
            let body = serde_json::to_value(&cmd).expect("json");
            let r = srv
                .post(
                    &format!("/api/v1/applications/{}/steps", a.rid),
                    token,
                    &body,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}: {}", cmd.command(), r.text);
            steps += 1;
            assert_eq!(
                r.header("etag"),
                Some(format!("\"{}\"", steps + 1).as_str())
            );
        }
        a.stage = stage;
    }
    let r = srv
        .get(&format!("/api/v1/members/{}", a.rid), &secretary)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["admission"]["state"], json!("admitted"));
    assert_eq!(r.body["member"]["standing"], json!("member"));
    assert_eq!(
        r.body["resident_id"],
        json!(tuanji_domain::mask_id_like(&a.rid))
    );
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", steps + 1).as_str())
    );
    let number = r.body["member"]["development_number"]
        .as_str()
        .expect("a number");
    assert_eq!(number.len(), 12);
    // The log names the principals and their roles.
    let log = app.log(Some(&a.rid)).await;
    let approve = log
        .iter()
        .find(|e| e.command == "approve")
        .expect("approve logged");
    assert_eq!(approve.role, "committee_admin");
    assert!(
        approve.actor.starts_with("committee_admin-"),
        "{}",
        approve.actor
    );
    // The replay of the admission rebuilds the same projection (`tuanji admission replay`).
    let r = srv
        .get(
            &format!("/api/v1/applications/{}/replay", a.rid),
            &secretary,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (&r.body["entries"], &r.body["matches"]),
        (&json!(steps + 1), &json!(true))
    );
    let outsider = app.token(Role::BranchSecretary, NON_GRADUATING).await;
    let r = srv
        .get(&format!("/api/v1/applications/{}/replay", a.rid), &outsider)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
});

// The transfer story over HTTP: a graduate (member binding) requests the transfer to a university branch, the
// school committee and the university committee approve; the record moves, and with it who may read it: the
// university committee now sees the member, the school committee gets 404.
both_backends!(http_transfer_story, |app| async move {
    let app = app.with_graduates().await;
    let srv = app.serve().await;
    let who = app.members(SENIOR).good[0].clone();
    let me = app.token(Role::Member, &who).await;
    let school = app.token(Role::CommitteeAdmin, SCHOOL).await;
    let university = app.token(Role::CommitteeAdmin, UNIVERSITY).await;
    let path = format!("/api/v1/members/{who}/relation");
    let request = serde_json::to_value(RelationCommand::RequestTransfer {
        date: d(2026, 8, 1),
        to: UNIVERSITY_BRANCH.into(),
        destination: Destination::FurtherStudy,
        initiator: Initiator::Member,
        org: None,
    })
    .expect("json");
    let r = srv.post(&path, &me, &request).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["to"], json!("transfer_requested"));
    // Before the school approves, the university cannot approve for the school's side, but may see the member.
    let seen = srv
        .get(&format!("/api/v1/members/{who}"), &university)
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    let approve = |date: &str, org: &str| json!({"command": "approve", "date": date, "org": org});
    let r = srv
        .post(&path, &school, &approve("2026-08-03", SCHOOL))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A committee may not approve in another's name.
    let r = srv
        .post(&path, &school, &approve("2026-08-04", UNIVERSITY))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = srv
        .post(&path, &university, &approve("2026-08-04", UNIVERSITY))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["branch"], json!(UNIVERSITY_BRANCH));
    assert_eq!(r.body["to"], json!("at_branch"));
    let r = srv
        .get(&format!("/api/v1/members/{who}"), &university)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["branch"], json!("U001-B1 本科2026级1班团支部"));
    let r = srv.get(&format!("/api/v1/members/{who}"), &school).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = srv.get("/api/v1/orgs/U001/transfers", &university).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    assert_eq!(r.body[0]["state"], json!("completed"));
});

// Idempotency-Key: the same key and body again returns the first response (marked replayed) and writes nothing;
// the same key with another body is 422; a rule refusal is replayed too.
both_backends!(
    http_idempotency_key_replays_first_response,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let secretary = app.token(Role::BranchSecretary, SENIOR).await;
        let a = app.applicant(SENIOR);
        let body = serde_json::to_value(TestApp::application(&a, d(2026, 3, 2))).expect("json");
        let key = [("Idempotency-Key", "apply-1")];
        let first = send(
            &srv,
            Method::POST,
            "/api/v1/applications",
            Some(&secretary),
            &key,
            Some(&body),
        )
        .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        let entries = app.log(None).await.len();
        let again = send(
            &srv,
            Method::POST,
            "/api/v1/applications",
            Some(&secretary),
            &key,
            Some(&body),
        )
        .await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.text, first.text);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(app.log(None).await.len(), entries);
        let last = app.log(None).await.pop().expect("an entry");
        assert_eq!(last.idempotency_key.as_deref(), Some("apply-1"));
        let mut other = body.clone();
        other["date"] = json!("2026-03-03");
        let r = send(
            &srv,
            Method::POST,
            "/api/v1/applications",
            Some(&secretary),
            &key,
            Some(&other),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.body["detail"],
            json!("Idempotency-Key `apply-1` was used before with a different request (method, path, query or body)")
        );
        // A refusal is a response like any other: replayed, not re-run.
        let too_young = app.applicant_born(SENIOR, d(2013, 1, 1));
        let body =
            serde_json::to_value(TestApp::application(&too_young, d(2026, 3, 2))).expect("json");
        let key = [("Idempotency-Key", "apply-2")];
        let r1 = send(
            &srv,
            Method::POST,
            "/api/v1/applications",
            Some(&secretary),
            &key,
            Some(&body),
        )
        .await;
        assert_eq!(
            (r1.status, r1.rule()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("ADM_AGE_MIN"))
        );
        let r2 = send(
            &srv,
            Method::POST,
            "/api/v1/applications",
            Some(&secretary),
            &key,
            Some(&body),
        )
        .await;
        assert_eq!((r2.status, r2.text.as_str()), (r1.status, r1.text.as_str()));
        assert_eq!(r2.header("idempotent-replayed"), Some("true"));
        // Keys are per principal: another secretary's same key is its own.
        let bad = [("Idempotency-Key", "é")];
        let r = send(
            &srv,
            Method::POST,
            "/api/v1/applications",
            Some(&secretary),
            &bad,
            Some(&body),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
);

// 16 concurrent identical submissions with one Idempotency-Key → one effect, 16 identical responses.
both_backends!(
    http_sixteen_identical_submissions_one_effect,
    |app| async move {
        let app = app.with_school().await;
        let srv = Arc::new(app.serve().await);
        let secretary = app.token(Role::BranchSecretary, SENIOR).await;
        let a = app.applicant_at(SENIOR, Stage::Applied).await;
        let entries = app.log(None).await.len();
        let talk = json!({"command": "record_talk", "date": "2026-03-10", "by": "王老师"});
        let path = format!("/api/v1/applications/{}/steps", a.rid);
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (srv, t, path, talk) = (srv.clone(), secretary.clone(), path.clone(), talk.clone());
            tasks.push(tokio::spawn(async move {
                let r = srv
                    .call(
                        Method::POST,
                        &path,
                        Some(&t),
                        &[("Idempotency-Key", "talk-1")],
                        Some(&talk),
                    )
                    .await;
                (r.status, r.text)
            }));
        }
        let mut replies = Vec::new();
        for t in tasks {
            replies.push(t.await.expect("task"));
        }
        assert!(replies.iter().all(|r| r.0 == StatusCode::OK), "{replies:?}");
        assert!(
            replies.iter().all(|r| r.1 == replies[0].1),
            "one response for all"
        );
        assert_eq!(app.log(None).await.len(), entries + 1);
        // The key is bound to the method and path too: the same key and body for another applicant is 422, not a
        // replay of the first applicant's response.
        let b = app.applicant_at(SENIOR, Stage::Applied).await;
        let entries = app.log(None).await.len();
        let r = srv
            .call(
                Method::POST,
                &format!("/api/v1/applications/{}/steps", b.rid),
                Some(&secretary),
                &[("Idempotency-Key", "talk-1")],
                Some(&talk),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(
            r.body["detail"],
            json!("Idempotency-Key `talk-1` was used before with a different request (method, path, query or body)")
        );
        assert_eq!(app.log(None).await.len(), entries);
    }
);

// If-Match: 16 concurrent submissions naming the same version → exactly one applies, 15 get 412; a stale
// version afterwards is 412 naming both versions; the ETag of the read is the version to name.
both_backends!(http_if_match_race_one_wins, |app| async move {
    let app = app.with_school().await;
    let srv = Arc::new(app.serve().await);
    let secretary = app.token(Role::BranchSecretary, SENIOR).await;
    let a = app.applicant_at(SENIOR, Stage::Applied).await;
    let read = srv
        .get(&format!("/api/v1/members/{}", a.rid), &secretary)
        .await;
    assert_eq!(read.header("etag"), Some("\"1\""));
    let entries = app.log(None).await.len();
    let path = format!("/api/v1/applications/{}/steps", a.rid);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (srv, t, path) = (srv.clone(), secretary.clone(), path.clone());
        let talk =
            json!({"command": "record_talk", "date": "2026-03-10", "by": format!("老师{i}")});
        tasks.push(tokio::spawn(async move {
            srv.call(
                Method::POST,
                &path,
                Some(&t),
                &[("If-Match", "\"1\"")],
                Some(&talk),
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    // The losers either saw version 2 (412) or, after the winner moved the applicant on, no `record_talk` from
    // `talked` (422 WF_NOT_ALLOWED); never a second effect.
    let stale = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((ok, stale), (1, 15), "{statuses:?}");
    assert_eq!(app.log(None).await.len(), entries + 1);
    let r = srv
        .call(
            Method::POST,
            &path,
            Some(&secretary),
            &[("If-Match", "W/\"1\"")],
            Some(
                &json!({"command": "approve_activist", "date": "2026-04-10", "committee": SCHOOL}),
            ),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a branch secretary may not approve activists: {}",
        r.text
    );
    let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
    let r = srv
        .call(
            Method::POST,
            &path,
            Some(&committee),
            &[("If-Match", "\"1\"")],
            Some(
                &json!({"command": "approve_activist", "date": "2026-04-10", "committee": SCHOOL}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        r.body["detail"],
        json!("the instance is at version 2, not 1 (If-Match): read it again and resubmit")
    );
    let r = srv
        .call(
            Method::POST,
            &path,
            Some(&committee),
            &[("If-Match", "two")],
            Some(
                &json!({"command": "approve_activist", "date": "2026-04-10", "committee": SCHOOL}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["detail"],
        json!("If-Match must be an instance version such as \"7\" (from the ETag of a read), not `two`")
    );
});

// Bad requests: each gets its precise status and problem, never a 500, and nothing is written.
both_backends!(http_bad_requests_get_precise_problems, |app| async move {
    let app = app.with_school().await;
    let srv = app.serve().await;
    let secretary = app.token(Role::BranchSecretary, SENIOR).await;
    let a = app.applicant_at(SENIOR, Stage::Applied).await;
    let entries = app.log(None).await.len();
    let path = format!("/api/v1/applications/{}/steps", a.rid);
    let url = format!("{}{path}", srv.base);
    let raw = |body: &'static str, kind: &'static str| {
        srv.client
            .post(&url)
            .bearer_auth(&secretary)
            .header("content-type", kind)
            .body(body)
            .send()
    };
    let problem = |r: reqwest::Response| async move {
        let status = r.status();
        let kind = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        let body: Value = r.json().await.expect("problem json");
        (
            status,
            kind,
            body["detail"].as_str().unwrap_or("").to_owned(),
        )
    };
    let pj = Some("application/problem+json".to_owned());
    let (s, k, detail) = problem(
        raw("{\"command\": ", "application/json")
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((s, k.clone()), (StatusCode::BAD_REQUEST, pj.clone()));
    assert!(detail.starts_with("malformed JSON: "), "{detail}");
    let (s, _, detail) = problem(
        raw(
            r#"{"command": "record_talk", "date": "2026-03-10", "by": "王老师", "extra": 1}"#,
            "application/json",
        )
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(detail.contains("unknown field `extra`"), "{detail}");
    let (s, _, detail) = problem(
        raw(
            r#"{"command": "record_talk", "date": "2026-02-30", "by": "王老师"}"#,
            "application/json",
        )
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(
        (s, detail.as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "`date`: 2026-02-30 is not a calendar date written YYYY-MM-DD (China Standard Time)"
        )
    );
    let (s, _, detail) = problem(
        raw(r#"{"command": "fly"}"#, "application/json")
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(detail.contains("unknown variant `fly`"), "{detail}");
    let (s, _, detail) = problem(
        raw("command=record_talk", "application/x-www-form-urlencoded")
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (s, detail.as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON: Content-Type: application/json"
        )
    );
    let big = format!(
        "{{\"command\": \"record_talk\", \"date\": \"2026-03-10\", \"by\": \"{}\"}}",
        "x".repeat(9 * 1024 * 1024)
    );
    // Its own client: the server closes a connection whose body it refused to read.
    let r = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&secretary)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A malformed ID in the path is the rule's refusal; an unknown route is a problem too.
    let r = srv
        .post(
            "/api/v1/applications/11010520110901001X/steps",
            &secretary,
            &json!({"command": "record_talk", "date": "2026-03-10", "by": "王老师"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.rule().is_some_and(|c| c.starts_with("ID_")), "{}", r.text);
    let r = srv.get("/api/v1/nothing-here", &secretary).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["detail"],
        json!("no resource at /api/v1/nothing-here")
    );
    let r = srv
        .call(
            Method::DELETE,
            "/api/v1/applications",
            Some(&secretary),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // A step the table does not allow in this state, and a rule refusal: the rule code and its source.
    let r = srv
        .post(
            &path,
            &secretary,
            &json!({"command": "approve", "date": "2026-03-10", "committee": SCHOOL}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.rule(), Some("WF_NOT_ALLOWED"));
    let young = app.applicant_born(SENIOR, d(2013, 1, 1));
    let body = serde_json::to_value(TestApp::application(&young, d(2026, 3, 2))).expect("json");
    let r = srv.post("/api/v1/applications", &secretary, &body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.rule(), Some("ADM_AGE_MIN"));
    assert_eq!(r.body["type"], json!("urn:tuanji:rule:ADM_AGE_MIN"));
    assert_eq!(
        r.body["source"],
        json!(tuanji_domain::RuleCode::AdmAgeMin.source())
    );
    // Tokens: malformed, unknown and missing are 401 with WWW-Authenticate.
    let r = srv.get("/api/v1/me", "tj_nonsense").await;
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (StatusCode::UNAUTHORIZED, Some("Bearer"))
    );
    assert_eq!(app.log(None).await.len(), entries);
});

// The recommendation story over HTTP: the branch secretary records the 2025 evaluation round and the school
// committee approves it; the branch nominates a member, votes by secret ballot and publicises; the school
// committee recommends and then records the Party's acceptance. The member reads their own standing
// (`party_member`); another member may not; a branch secretary may not recommend (committee_admin only).
both_backends!(http_party_recommendation_story, |app| async move {
    let app = app.with_school().await;
    let m = app.with_party_branch(10, 0).await;
    let srv = app.serve().await;
    let secretary = app.token(Role::BranchSecretary, PARTY_BRANCH).await;
    let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
    let who = m.good[0].clone();
    let me = app.token(Role::Member, &who).await;
    let neighbour = app.token(Role::Member, &m.good[1]).await;
    let grades: Vec<Value> = m.good.iter().map(|r| json!([r, "qualified"])).collect();
    let round = format!("/api/v1/orgs/{PARTY_BRANCH}/evaluations/2025");
    let r = srv
        .post(
            &round,
            &secretary,
            &json!({"command": "record", "date": "2025-12-20", "present": 10, "grades": grades}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = srv
        .post(
            &round,
            &secretary,
            &json!({"command": "approve", "date": "2026-01-10", "org": SCHOOL}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the superior approves: {}",
        r.text
    );
    let r = srv
        .post(
            &round,
            &committee,
            &json!({"command": "approve", "date": "2026-01-10", "org": SCHOOL}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = srv.get(&round, &secretary).await;
    assert_eq!(
        (r.status, &r.body["state"]),
        (StatusCode::OK, &json!("approved")),
        "{}",
        r.text
    );
    let party = format!("/api/v1/members/{who}/party");
    for (token, body) in [
        (
            &secretary,
            json!({"command": "nominate", "date": "2026-03-02"}),
        ),
        (
            &secretary,
            json!({"command": "vote", "date": "2026-03-10", "entitled": null, "present": 9, "yes": 8, "no": 1, "abstain": 0}),
        ),
        (
            &secretary,
            json!({"command": "publicise", "date": "2026-03-11"}),
        ),
    ] {
        let r = srv.post(&party, token, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.text);
    }
    let recommend = json!({"command": "recommend", "date": "2026-03-18", "org": SCHOOL});
    let r = srv.post(&party, &secretary, &recommend).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = srv.post(&party, &committee, &recommend).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (&r.body["from"], &r.body["to"]),
        (&json!("publicised"), &json!("recommended"))
    );
    assert_eq!(
        r.header("etag"),
        Some("\"4\""),
        "nominate, vote, publicise, recommend"
    );
    let r = srv
        .call(
            Method::POST,
            &party,
            Some(&committee),
            &[("If-Match", "\"4\"")],
            Some(&json!({"command": "accept", "date": "2026-06-01", "party_org": "中共北京市第八十中学委员会"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = srv
        .get(&format!("/api/v1/members/{who}/standing"), &me)
        .await;
    assert_eq!(
        (r.status, &r.body["state"]),
        (StatusCode::OK, &json!("party_member")),
        "{}",
        r.text
    );
    let r = srv
        .get(&format!("/api/v1/members/{who}/standing"), &neighbour)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = srv
        .get(&format!("/api/v1/orgs/{PARTY_BRANCH}/party"), &secretary)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    assert_eq!(r.body[0]["state"], json!("accepted_by_party"));
    assert_eq!(app.verify_fault().await, None);
});

// The break-it round over HTTP: (1) naming one's own organisation in a relation command does not open another
// branch's member (404 as for nobody, nothing written; before, an incoming-side request opened the record);
// (2) an evaluation command from outside the branch is 403 before the round's existence or state is disclosed;
// (3) standing entries record their Idempotency-Key; (4) a bad year in the path is a 400 problem naming it;
// (5) an unknown query parameter is a 400 problem; (6) the Bearer scheme is case-insensitive; reads of standing and
// evaluation rounds carry the instance's ETag; (7) ID_UNIQUE does not say where an outsider's applicant is registered.
both_backends!(http_break_it_findings_are_closed, |app| async move {
    let app = app.with_school().await;
    let m = app.with_party_branch(10, 0).await;
    let srv = app.serve().await;
    let outsider = app.token(Role::BranchSecretary, NON_GRADUATING).await;
    let secretary = app.token(Role::BranchSecretary, PARTY_BRANCH).await;
    let who = m.good[0].clone();
    let hidden = json!(format!(
        "no person on record for {}",
        tuanji_domain::mask_id_like(&who)
    ));
    let before = app.log(None).await.len();
    // (1)
    let requests = [
        json!({"command": "approve", "date": "2026-11-02", "org": NON_GRADUATING}),
        json!({"command": "request_transfer", "date": "2026-11-02", "to": NON_GRADUATING,
               "destination": "move", "initiator": "incoming", "org": NON_GRADUATING}),
    ];
    for body in &requests {
        let r = srv
            .post(&format!("/api/v1/members/{who}/relation"), &outsider, body)
            .await;
        assert_eq!(
            (r.status, &r.body["detail"]),
            (StatusCode::NOT_FOUND, &hidden),
            "{}",
            r.text
        );
    }
    let r = srv.get(&format!("/api/v1/members/{who}"), &outsider).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // (2) a round exists for 2025; the outsider learns nothing of it.
    let grades: Vec<Value> = m.good.iter().map(|r| json!([r, "qualified"])).collect();
    let round = format!("/api/v1/orgs/{PARTY_BRANCH}/evaluations/2025");
    let record =
        json!({"command": "record", "date": "2025-12-20", "present": 10, "grades": grades});
    let r = srv.post(&round, &secretary, &record).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after_round = app.log(None).await.len();
    assert_eq!(after_round, before + 1);
    // The round's command response carries its new version as ETag.
    assert_eq!(r.header("etag"), Some("\"1\""));
    // A committee of another school naming itself as the approver learns nothing either.
    let other_committee = app.token(Role::CommitteeAdmin, OTHER_SCHOOL).await;
    let approve = json!({"command": "approve", "date": "2026-01-10", "org": OTHER_SCHOOL});
    let r = srv.post(&round, &other_committee, &approve).await;
    assert_eq!(
        (r.status, &r.body["detail"]),
        (
            StatusCode::FORBIDDEN,
            &json!(format!("`approve` on the rounds of 青年教师团支部 ({PARTY_BRANCH}) needs a binding over that branch"))
        ),
        "{}",
        r.text
    );
    for body in [
        record.clone(),
        json!({"command": "close", "date": "2026-11-02"}),
    ] {
        let r = srv.post(&round, &outsider, &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert_eq!(
            r.body["detail"],
            json!(format!(
                "`{}` on the rounds of 青年教师团支部 ({PARTY_BRANCH}) needs a binding over that branch",
                body["command"].as_str().expect("command")
            )),
            "{}",
            r.text
        );
    }
    // (3)
    let life = json!({"command": "record_life", "date": "2026-11-21", "note": "主题团日"});
    let r = srv
        .call(
            Method::POST,
            &format!("/api/v1/members/{who}/standing"),
            Some(&secretary),
            &[("Idempotency-Key", "life-1")],
            Some(&life),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let last = app.log(None).await.pop().expect("an entry");
    assert_eq!(
        (last.workflow.as_str(), last.idempotency_key.as_deref()),
        ("standing", Some("life-1"))
    );
    // Reads carry the version `If-Match` names: the standing read's ETag is the command's ETag, and the round's
    // is its version (recorded: 1).
    let etag = r.header("etag").map(str::to_owned);
    assert!(etag.is_some());
    let read = srv
        .get(&format!("/api/v1/members/{who}/standing"), &secretary)
        .await;
    assert_eq!(read.header("etag"), etag.as_deref());
    assert_eq!(
        read.body["version"].as_i64().map(|v| format!("\"{v}\"")),
        etag
    );
    let read = srv.get(&round, &secretary).await;
    assert_eq!(
        (read.header("etag"), &read.body["version"]),
        (Some("\"1\""), &json!(1))
    );
    // (4)
    for path in [
        format!("/api/v1/orgs/{SCHOOL}/quotas/-1"),
        format!("/api/v1/orgs/{PARTY_BRANCH}/evaluations/100000"),
    ] {
        let r = srv.get(&path, &secretary).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            r.body["detail"].as_str().is_some_and(
                |d| d.starts_with("path parameter `year` must be a year from 1949 to 9999")
            ),
            "{}",
            r.text
        );
    }
    for path in [
        format!("/api/v1/orgs/{SCHOOL}/quotas/abc"),
        format!("/api/v1/orgs/{PARTY_BRANCH}/evaluations/xyz"),
    ] {
        let r = srv.get(&path, &secretary).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert!(
            r.body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("bad path parameter: cannot parse")),
            "{}",
            r.text
        );
    }
    // (5)
    let r = srv
        .get(
            &format!("/api/v1/orgs/{SCHOOL}/transfers?open=maybe"),
            &secretary,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    // (6)
    let r = srv
        .call(
            Method::GET,
            "/api/v1/me",
            None,
            &[("Authorization", &format!("bearer {secretary}"))],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // (7) ID_UNIQUE tells an outsider that the ID is taken, not where, in what state or since when.
    let application = json!({
        "branch": NON_GRADUATING, "resident_id": who, "name": "李明",
        "ethnicity": "汉族", "class": "高一(2)班", "date": "2026-03-02"
    });
    let r = srv
        .post("/api/v1/applications", &outsider, &application)
        .await;
    assert_eq!(
        (r.status, r.rule(), &r.body["detail"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("ID_UNIQUE"),
            &json!("ID_UNIQUE: this person is already registered at another organisation (outside the caller's organisations); start a transfer instead of a new record")
        ),
        "{}",
        r.text
    );
    assert_eq!(app.log(None).await.len(), after_round + 1);
});
