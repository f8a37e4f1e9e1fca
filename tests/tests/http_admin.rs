//! The administrative resources of the HTTP API (issue 6) on both backends, driven by a real client against a
//! server on a loopback port: principals, bindings and tokens; organisation import, quotas, graduation and the
//! sweep; roster import; the masked log, exports, verification and checkpoints. Each endpoint: an accepted case
//! with exact values and its refusals (401, 403, 404, 400/413/415/422).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tuanji_engine::access::Role;
use tuanji_engine::principals::TOKEN_LEN;
use tuanji_engine::with_engine;
use tuanji_tests::http::{Reply, Server};
use tuanji_tests::*;

/// `110105********1234`.
fn masked(rid: &str) -> String {
    format!("{}********{}", &rid[..6], &rid[14..])
}

/// `POST path` with a CSV body.
async fn post_csv(srv: &Server, path: &str, token: &str, csv: &str) -> Reply {
    srv.send(
        Method::POST,
        path,
        Some(token),
        Some("text/csv"),
        csv.as_bytes().to_vec(),
        &[],
    )
    .await
}

/// `DELETE path` with `token` and an optional JSON body.
async fn delete(srv: &Server, path: &str, token: &str, body: Option<&Value>) -> Reply {
    srv.call(Method::DELETE, path, Some(token), &[], body).await
}

/// Asserts the status and the problem's `detail`.
#[track_caller]
fn problem(r: &Reply, status: u16, detail: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.text
    );
    assert_eq!(r.body["detail"], detail, "{}", r.text);
}

/// Asserts the status only (and that the answer is a problem).
#[track_caller]
fn refused(r: &Reply, status: u16) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.body["status"], status, "{}", r.text);
}

const NO_TOKEN: &str = "this needs an API token: Authorization: Bearer tj_… (tuanji token create)";

// ---------------------------------------------------------------------------------------------- principals

both_backends!(
    principals_are_created_and_listed_by_root_system_admin_only,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let admin = app.token(Role::SystemAdmin, ROOT).await;
        let county_admin = app.token(Role::SystemAdmin, COUNTY).await;
        let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;

        let r = srv
            .call(
                Method::POST,
                "/api/v1/principals",
                None,
                &[],
                Some(&json!({"name": "alice"})),
            )
            .await;
        problem(&r, 401, NO_TOKEN);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));

        let r = srv
            .post("/api/v1/principals", &committee, &json!({"name": "alice"}))
            .await;
        problem(
            &r,
            403,
            "this needs one of the roles system_admin over 共青团中央 (CYLC)",
        );
        // A system_admin below the root does not manage principals either.
        let r = srv
            .post(
                "/api/v1/principals",
                &county_admin,
                &json!({"name": "alice"}),
            )
            .await;
        problem(
            &r,
            403,
            "this needs one of the roles system_admin over 共青团中央 (CYLC)",
        );

        let r = srv
            .post("/api/v1/principals", &admin, &json!({"name": "  alice "}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["name"], "alice");
        assert_eq!(r.body["bindings"], json!([]));
        assert_eq!(r.body["tokens"], 0);
        assert_eq!(r.body["disabled_at"], Value::Null);

        let r = srv
            .post("/api/v1/principals", &admin, &json!({"name": "alice"}))
            .await;
        refused(&r, 422);
        let r = srv
            .post(
                "/api/v1/principals",
                &admin,
                &json!({"name": "bob", "role": "x"}),
            )
            .await;
        refused(&r, 422);
        assert!(
            r.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("unknown field `role`")),
            "{}",
            r.text
        );
        let r = srv
            .send(
                Method::POST,
                "/api/v1/principals",
                Some(&admin),
                Some("text/plain"),
                b"bob".to_vec(),
                &[],
            )
            .await;
        problem(
            &r,
            415,
            "the body must be JSON: Content-Type: application/json",
        );

        let r = srv.get("/api/v1/principals", &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let list = r.body.as_array().expect("a list");
        assert_eq!(
            list.len(),
            4,
            "three from the harness and alice: {}",
            r.text
        );
        let alice = list
            .iter()
            .find(|p| p["name"] == "alice")
            .expect("alice is listed");
        assert_eq!(alice["tokens"], 0);
        assert!(!r.text.contains("tj_"), "no token is ever listed");

        let r = srv.get("/api/v1/principals", &committee).await;
        refused(&r, 403);

        // The OpenAPI document describes every resource of this file.
        let doc = srv.get("/api/openapi.json", &admin).await;
        let paths = doc.body["paths"].as_object().expect("paths");
        for (path, method) in [
            ("/api/v1/principals", "post"),
            ("/api/v1/principals", "get"),
            ("/api/v1/principals/{name}/bindings", "post"),
            ("/api/v1/principals/{name}/bindings", "delete"),
            ("/api/v1/principals/{name}/tokens", "post"),
            ("/api/v1/principals/{name}/tokens", "get"),
            ("/api/v1/tokens/{id}", "delete"),
            ("/api/v1/orgs/import", "post"),
            ("/api/v1/orgs/{org}/quotas", "post"),
            ("/api/v1/orgs/{org}/graduating", "post"),
            ("/api/v1/orgs/{org}/graduation", "post"),
            ("/api/v1/orgs/{org}/roster", "post"),
            ("/api/v1/sweep", "post"),
            ("/api/v1/log", "get"),
            ("/api/v1/audit/export", "get"),
            ("/api/v1/audit/verify", "get"),
            ("/api/v1/audit/checkpoints", "get"),
            ("/api/v1/audit/checkpoints", "post"),
            ("/api/v1/audit/proofs/{seq}", "get"),
            ("/api/v1/applications/{applicant}/replay", "get"),
        ] {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path} is not documented"
            );
        }
    }
);

both_backends!(
    bindings_are_given_and_taken_back_by_root_system_admin,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let admin = app.token(Role::SystemAdmin, ROOT).await;
        let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
        let r = srv
            .post("/api/v1/principals", &admin, &json!({"name": "alice"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

        // A committee administrator may not hand out roles, not even inside its subtree.
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &committee,
                &json!({"role": "branch_secretary", "org": NON_GRADUATING}),
            )
            .await;
        refused(&r, 403);

        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "committee_admin", "org": SCHOOL}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"role": "committee_admin", "org_code": "S001", "member": null})
        );
        let rid = app.members(NON_GRADUATING).good[0].clone();
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "member", "member": rid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"role": "member", "org_code": NON_GRADUATING, "member": masked(&rid)})
        );
        assert!(!r.text.contains(&rid), "the resident ID is masked");

        // Refusals: the target does not fit the role, the binding exists, unknown names.
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "member", "org": SCHOOL}),
            )
            .await;
        problem(&r, 422, "a member binding covers a member's own record: give `member` (resident ID or development number), not `org`");
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "auditor"}),
            )
            .await;
        problem(
            &r,
            422,
            "a auditor binding needs `org` (an organisation code)",
        );
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "branch_secretary", "org": SCHOOL}),
            )
            .await;
        problem(&r, 422, "a branch_secretary binding is on a branch (团支部); 共青团北京市第八十中学委员会 (S001) is a basic_committee");
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "committee_admin", "org": SCHOOL}),
            )
            .await;
        problem(&r, 422, "`alice` already holds committee_admin over S001");
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "pope", "org": SCHOOL}),
            )
            .await;
        refused(&r, 422);
        let r = srv
            .post(
                "/api/v1/principals/alice/bindings",
                &admin,
                &json!({"role": "auditor", "org": "NOPE"}),
            )
            .await;
        refused(&r, 404);
        let r = srv
            .post(
                "/api/v1/principals/nobody/bindings",
                &admin,
                &json!({"role": "auditor", "org": SCHOOL}),
            )
            .await;
        refused(&r, 404);

        // Taken back: by query string, then by JSON body.
        let r = delete(
            &srv,
            "/api/v1/principals/alice/bindings?role=committee_admin&org=S001",
            &admin,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"role": "committee_admin", "org_code": "S001", "member": null})
        );
        let r = delete(
            &srv,
            "/api/v1/principals/alice/bindings?role=committee_admin&org=S001",
            &admin,
            None,
        )
        .await;
        problem(
            &r,
            404,
            "`alice` holds no committee_admin binding over S001",
        );
        let r = delete(
            &srv,
            "/api/v1/principals/alice/bindings",
            &admin,
            Some(&json!({"role": "member", "member": rid})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["member"], masked(&rid));
        let r = delete(
            &srv,
            "/api/v1/principals/alice/bindings?role=pope&org=S001",
            &admin,
            None,
        )
        .await;
        refused(&r, 400);
        let r = delete(
            &srv,
            "/api/v1/principals/alice/bindings?role=auditor&org=S001",
            &committee,
            None,
        )
        .await;
        refused(&r, 403);

        let r = srv.get("/api/v1/principals", &admin).await;
        let alice = r
            .body
            .as_array()
            .expect("a list")
            .iter()
            .find(|p| p["name"] == "alice")
            .cloned();
        assert_eq!(alice.expect("alice")["bindings"], json!([]));
    }
);

both_backends!(
    tokens_are_managed_by_their_principal_or_root_system_admin,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let admin = app.token(Role::SystemAdmin, ROOT).await;
        let secretary = app.token(Role::BranchSecretary, NON_GRADUATING).await;
        let other = app.token(Role::BranchSecretary, JUNIOR).await;
        let me = srv.get("/api/v1/me", &secretary).await;
        let my_name = me.body["name"].as_str().expect("a name").to_owned();
        let other_name = srv.get("/api/v1/me", &other).await.body["name"]
            .as_str()
            .expect("a name")
            .to_owned();

        let path = format!("/api/v1/principals/{my_name}/tokens");
        let key = [("idempotency-key", "phone-1")];
        let body = json!({"label": "phone"});
        let r = srv
            .call(Method::POST, &path, Some(&secretary), &key, Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let token = r.body["token"]
            .as_str()
            .expect("the token, shown once")
            .to_owned();
        assert!(token.starts_with("tj_"));
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(r.body["label"], "phone");
        assert_eq!(r.body["principal"], my_name.as_str());
        assert_eq!(r.body["revoked_at"], Value::Null);
        let id = r.body["id"].as_str().expect("an id").to_owned();
        assert_eq!(token[3..35], id.replace('-', ""));
        // The new token works.
        let r = srv.get("/api/v1/me", &token).await;
        assert_eq!(r.body["name"], my_name.as_str());
        // A replay of the request creates nothing and does not show the secret again.
        let r = srv
            .call(Method::POST, &path, Some(&secretary), &key, Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.header("idempotent-replayed"), Some("true"));
        assert_eq!(r.body["token"], Value::Null);
        assert_eq!(r.body["id"], id.as_str());
        let r = srv.get(&path, &secretary).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let labels: Vec<&str> = r
            .body
            .as_array()
            .expect("a list")
            .iter()
            .map(|t| t["label"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(labels, vec!["test", "phone"]);
        assert!(!r.text.contains(&token[36..]), "no secret is listed");

        // Another principal's tokens: refused to a non-admin, allowed to the root system_admin.
        let others = format!("/api/v1/principals/{other_name}/tokens");
        let r = srv.get(&others, &secretary).await;
        problem(&r, 403, "a principal manages its own tokens; another principal's need system_admin over the root organisation");
        let r = srv.post(&others, &secretary, &json!({})).await;
        refused(&r, 403);
        let r = srv.get(&others, &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body.as_array().map(Vec::len), Some(1));
        let others_id = r.body[0]["id"].as_str().expect("an id").to_owned();
        let r = srv
            .post(&others, &admin, &json!({"label": "x".repeat(101)}))
            .await;
        refused(&r, 422);
        let r = srv
            .post("/api/v1/principals/nobody/tokens", &admin, &json!({}))
            .await;
        refused(&r, 404);

        // Revocation: another's token is unknown to a non-admin; one's own works at once.
        let r = delete(
            &srv,
            &format!("/api/v1/tokens/{others_id}"),
            &secretary,
            None,
        )
        .await;
        problem(&r, 404, &format!("you hold no token with id {others_id}"));
        let r = delete(&srv, "/api/v1/tokens/not-a-token", &secretary, None).await;
        problem(
            &r,
            400,
            "`not-a-token` is not a token id (the 32 hex digits after `tj_`)",
        );
        let r = delete(&srv, &format!("/api/v1/tokens/{id}"), &secretary, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["id"], id.as_str());
        assert!(r.body["revoked_at"].is_string(), "{}", r.text);
        let r = srv.get("/api/v1/me", &token).await;
        refused(&r, 401);
        let r = delete(&srv, &format!("/api/v1/tokens/{others_id}"), &admin, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = srv.get("/api/v1/me", &other).await;
        refused(&r, 401);
        let r = srv
            .call(
                Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                None,
                &[],
                None,
            )
            .await;
        refused(&r, 401);
    }
);

// ------------------------------------------------------------------------------------- organisations

both_backends!(
    org_import_over_api_needs_root_system_admin_and_writes_all_or_nothing,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let admin = app.token(Role::SystemAdmin, ROOT).await;
        let committee = app.token(Role::CommitteeAdmin, COUNTY).await;
        let before = app.counts().await;

        let r = post_csv(
            &srv,
            "/api/v1/orgs/import?dry_run=true",
            &admin,
            RELATION_ORGS_CSV,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"inserted": 7, "by_kind": {"basic_committee": 2, "branch": 4, "township": 1}})
        );
        assert_eq!(app.counts().await, before, "a dry run writes nothing");

        let r = post_csv(&srv, "/api/v1/orgs/import", &committee, RELATION_ORGS_CSV).await;
        problem(
            &r,
            403,
            "this needs one of the roles system_admin over 共青团中央 (CYLC)",
        );
        let r = srv
            .send(
                Method::POST,
                "/api/v1/orgs/import",
                None,
                Some("text/csv"),
                RELATION_ORGS_CSV.as_bytes().to_vec(),
                &[],
            )
            .await;
        refused(&r, 401);
        let r = srv
            .send(
                Method::POST,
                "/api/v1/orgs/import",
                Some(&admin),
                Some("application/json"),
                b"{}".to_vec(),
                &[],
            )
            .await;
        problem(
            &r,
            415,
            "the body must be a CSV file: Content-Type: text/csv",
        );
        let r = post_csv(
            &srv,
            "/api/v1/orgs/import?dry_run=maybe",
            &admin,
            RELATION_ORGS_CSV,
        )
        .await;
        refused(&r, 400);
        let r = post_csv(
            &srv,
            "/api/v1/orgs/import?force=true",
            &admin,
            RELATION_ORGS_CSV,
        )
        .await;
        refused(&r, 400);

        let key = [("idempotency-key", "orgs-1")];
        let r = srv
            .send(
                Method::POST,
                "/api/v1/orgs/import",
                Some(&admin),
                Some("text/csv"),
                RELATION_ORGS_CSV.as_bytes().to_vec(),
                &key,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["inserted"], 7);
        let r = srv
            .send(
                Method::POST,
                "/api/v1/orgs/import",
                Some(&admin),
                Some("text/csv"),
                RELATION_ORGS_CSV.as_bytes().to_vec(),
                &key,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.header("idempotent-replayed"), Some("true"));
        // The same key with another query is another request.
        let r = srv
            .send(
                Method::POST,
                "/api/v1/orgs/import?dry_run=true",
                Some(&admin),
                Some("text/csv"),
                RELATION_ORGS_CSV.as_bytes().to_vec(),
                &key,
            )
            .await;
        problem(
            &r,
            422,
            "Idempotency-Key `orgs-1` was used before with a different request (method, path, query or body)",
        );

        // Importing the same rows again: every row refused, nothing written.
        let subtree = srv.get("/api/v1/orgs/CYLC/subtree", &admin).await;
        assert_eq!(subtree.body.as_array().map(Vec::len), Some(14));
        let r = post_csv(&srv, "/api/v1/orgs/import", &admin, RELATION_ORGS_CSV).await;
        assert_eq!(r.status.as_u16(), 422, "{}", r.text);
        assert_eq!(r.body["detail"], "7 bad row(s); nothing was imported");
        let errors = r.body["errors"].as_array().expect("row errors");
        assert_eq!(errors.len(), 7, "{}", r.text);
        assert_eq!(errors[0]["line"], 2);
        assert_eq!(errors[0]["column"], "code");
        let subtree = srv.get("/api/v1/orgs/CYLC/subtree", &admin).await;
        assert_eq!(subtree.body.as_array().map(Vec::len), Some(14));
    }
);

both_backends!(
    quota_allocation_needs_committee_admin_over_the_allocating_committee,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let county = app.token(Role::CommitteeAdmin, COUNTY).await;
        let school = app.token(Role::CommitteeAdmin, SCHOOL).await;
        let other_school = app.token(Role::CommitteeAdmin, OTHER_SCHOOL).await;
        let secretary = app.token(Role::BranchSecretary, NON_GRADUATING).await;
        let body = json!({"year": 2026, "count": 50, "date": "2026-01-05"});

        // The school's own administrator cannot give itself numbers: its parent allocates.
        let r = srv.post("/api/v1/orgs/S001/quotas", &school, &body).await;
        problem(&r, 403, "this needs one of the roles system_admin, committee_admin over 共青团北京市朝阳区委员会 (110105)");
        let r = srv
            .post("/api/v1/orgs/S001/quotas", &other_school, &body)
            .await;
        refused(&r, 403);
        let r = srv
            .post("/api/v1/orgs/S001/quotas", &secretary, &body)
            .await;
        refused(&r, 403);
        let r = srv.post("/api/v1/orgs/NOPE/quotas", &county, &body).await;
        problem(&r, 404, "no organisation has code `NOPE`");

        let r = srv.post("/api/v1/orgs/S001/quotas", &county, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["org"], "S001");
        assert_eq!(r.body["year"], 2026);
        assert_eq!(r.body["allocated"], 50);
        assert_eq!(r.body["used"], 0);
        assert_eq!(r.body["left"], 50);
        assert_eq!(
            r.body["allocations"],
            json!([{"first": "202600000001", "last": "202600000050", "count": 50, "used": 0,
                    "allocated_by": "110105", "effective_date": "2026-01-05"}])
        );
        let q = srv.get("/api/v1/orgs/S001/quotas/2026", &school).await;
        assert_eq!(q.body["allocated"], 50);

        // Bad input: a date that does not exist (JSON: 422), a date after today, a branch, an allocator below.
        let r = srv
            .post(
                "/api/v1/orgs/S001/quotas",
                &county,
                &json!({"year": 2026, "count": 5, "date": "2026-02-30"}),
            )
            .await;
        refused(&r, 422);
        assert!(
            r.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("date")),
            "{}",
            r.text
        );
        let r = srv
            .post(
                "/api/v1/orgs/S001/quotas",
                &county,
                &json!({"year": 2026, "count": 5, "date": "2026-12-01"}),
            )
            .await;
        problem(
            &r,
            422,
            "the allocation is dated 2026-12-01, after today (2026-11-30)",
        );
        let r = srv
            .post(
                "/api/v1/orgs/S001/quotas",
                &county,
                &json!({"year": 2026, "count": 0, "date": "2026-01-05"}),
            )
            .await;
        problem(&r, 422, "count must be between 1 and 99999999; got 0");
        let r = srv
            .post(
                "/api/v1/orgs/S001-G1/quotas",
                &school,
                &json!({"year": 2026, "count": 5, "by": "S001", "date": "2026-01-05"}),
            )
            .await;
        problem(
            &r,
            422,
            "高一(2)班团支部 (S001-G1) is a branch; numbers are allocated to committees",
        );
        let r = srv
            .post(
                "/api/v1/orgs/S001/quotas",
                &school,
                &json!({"year": 2026, "count": 5, "by": "S001", "date": "2026-01-05"}),
            )
            .await;
        problem(&r, 422, "共青团北京市第八十中学委员会 (S001) is not a superior of 共青团北京市第八十中学委员会 (S001) and cannot allocate its numbers");
        let q = srv.get("/api/v1/orgs/S001/quotas/2026", &school).await;
        assert_eq!(q.body["allocated"], 50, "refusals wrote nothing");
    }
);

both_backends!(graduating_mark_and_graduation_over_api, |app| async move {
    let app = app.with_school().await;
    let srv = app.serve().await;
    let secretary = app.token(Role::BranchSecretary, NON_GRADUATING).await;
    let other_secretary = app.token(Role::BranchSecretary, JUNIOR).await;
    let auditor = app.token(Role::Auditor, SCHOOL).await;
    let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
    let on = json!({"on": "2026-07-01"});

    let r = srv
        .post("/api/v1/orgs/S001-G1/graduating", &auditor, &on)
        .await;
    problem(&r, 403, "this needs one of the roles system_admin, committee_admin, branch_secretary over 高一(2)班团支部 (S001-G1)");
    let r = srv
        .post("/api/v1/orgs/S001-G1/graduating", &other_secretary, &on)
        .await;
    refused(&r, 403);
    let r = srv
        .post(
            "/api/v1/orgs/S001-G1/graduating",
            &secretary,
            &json!({"on": "2026-13-01"}),
        )
        .await;
    refused(&r, 422);
    let r = srv
        .post("/api/v1/orgs/S001/graduating", &committee, &on)
        .await;
    refused(&r, 422);
    // Graduating before the branch is marked.
    let r = srv
        .post("/api/v1/orgs/S001-G1/graduation", &secretary, &on)
        .await;
    problem(&r, 422, "高一(2)班团支部 (S001-G1) is not marked as graduating; mark it first: tuanji org mark-graduating --branch S001-G1 --on DATE");

    let r = srv
        .post("/api/v1/orgs/S001-G1/graduating", &secretary, &on)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["code"], "S001-G1");
    assert_eq!(r.body["graduating"], true);
    assert_eq!(r.body["graduation_date"], "2026-07-01");

    let r = srv
        .post("/api/v1/orgs/S001-G1/graduation", &auditor, &on)
        .await;
    refused(&r, 403);
    let r = srv
        .post("/api/v1/orgs/S001-G1/graduation", &other_secretary, &on)
        .await;
    refused(&r, 403);
    let r = srv
        .post(
            "/api/v1/orgs/S001-G1/graduation",
            &secretary,
            &json!({"on": "2026-12-01"}),
        )
        .await;
    problem(
        &r,
        422,
        "the graduation date 2026-12-01 is after today (2026-11-30)",
    );
    let r = srv
        .post(
            "/api/v1/orgs/S001-G1/graduation",
            &secretary,
            &json!({"on": "2026-06-30"}),
        )
        .await;
    problem(
        &r,
        422,
        "高一(2)班团支部 (S001-G1) graduates on 2026-07-01; 2026-06-30 is before that",
    );
    let r = srv
        .post("/api/v1/orgs/S001-G1/graduation", &secretary, &on)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["branch"], "S001-G1");
    assert_eq!(r.body["date"], "2026-07-01");
    assert_eq!(r.body["graduated"], 6);
    assert_eq!(r.body["skipped"], json!([]));
    // Entries are recorded under the caller's principal.
    let me = srv.get("/api/v1/me", &secretary).await;
    let log = app.log(Some(&app.members(NON_GRADUATING).good[0])).await;
    let last = log.last().expect("an entry");
    assert_eq!(last.command, "graduate");
    assert_eq!(Some(last.actor.as_str()), me.body["name"].as_str());
    assert_eq!(last.role, "branch_secretary");
});

both_backends!(sweep_over_api_needs_root_system_admin, |app| async move {
    let app = app.with_school().await;
    let srv = app.serve().await;
    let admin = app.token(Role::SystemAdmin, ROOT).await;
    let committee = app.token(Role::CommitteeAdmin, ROOT).await;
    let county_admin = app.token(Role::SystemAdmin, COUNTY).await;
    let as_of = json!({"as_of": "2026-11-30"});

    let r = srv.post("/api/v1/sweep", &committee, &as_of).await;
    problem(
        &r,
        403,
        "this needs one of the roles system_admin over 共青团中央 (CYLC)",
    );
    let r = srv.post("/api/v1/sweep", &county_admin, &as_of).await;
    refused(&r, 403);
    let r = srv
        .post("/api/v1/sweep", &admin, &json!({"as_of": "2026-12-01"}))
        .await;
    problem(&r, 422, "--as-of 2026-12-01 is after today (2026-11-30)");
    let r = srv
        .post("/api/v1/sweep", &admin, &json!({"as_of": "30/11/2026"}))
        .await;
    refused(&r, 422);
    let r = srv.post("/api/v1/sweep", &admin, &json!({})).await;
    refused(&r, 422);

    let r = srv.post("/api/v1/sweep", &admin, &as_of).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["as_of"], "2026-11-30");
    assert_eq!(r.body["overdue"], 0);
    assert_eq!(r.body["standing"]["examined"], 14);
    assert_eq!(r.body["standing"]["aged_out"], 0);
    assert_eq!(r.body["standing"]["entries"], 0);
});

// ------------------------------------------------------------------------------------------- rosters

/// A roster of applicants `(name, resident ID)`, applied on 2026-03-02.
fn roster(rows: &[(&str, &str)]) -> String {
    let mut csv = String::from("姓名,公民身份号码,申请日期\n");
    for (name, rid) in rows {
        csv.push_str(&format!("{name},{rid},2026-03-02\n"));
    }
    csv
}

both_backends!(
    roster_import_over_api_reports_bad_rows_with_rule_codes,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let secretary = app.token(Role::BranchSecretary, NON_GRADUATING).await;
        let other_secretary = app.token(Role::BranchSecretary, JUNIOR).await;
        let auditor = app.token(Role::Auditor, SCHOOL).await;
        let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
        let a = app.new_rid(d(2011, 9, 1));
        let b = app.new_rid(d(2011, 9, 1));
        let good = roster(&[("甲", &a), ("乙", &b)]);
        let path = "/api/v1/orgs/S001-G1/roster";
        let before = app.counts().await;

        let r = post_csv(&srv, &format!("{path}?dry_run=true"), &secretary, &good).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"branch": "S001-G1", "encoding": "utf8", "applicants": 2, "members": 0, "dry_run": true})
        );
        assert_eq!(app.counts().await, before, "a dry run writes nothing");

        let bad = roster(&[
            ("甲", &a),
            ("乙", &with_wrong_check(&b)),
            ("丙", &app.new_rid(d(2012, 6, 1))),
        ]);
        let r = post_csv(&srv, path, &secretary, &bad).await;
        assert_eq!(r.status.as_u16(), 422, "{}", r.text);
        assert_eq!(r.body["detail"], "2 bad row(s); nothing was imported");
        let errors: Vec<(u64, &str)> = r.body["errors"]
            .as_array()
            .expect("row errors")
            .iter()
            .map(|e| {
                (
                    e["line"].as_u64().unwrap_or(0),
                    e["rule"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(errors, vec![(3, "ID_CHECKSUM"), (4, "ADM_AGE_MIN")]);
        assert!(
            !r.text.contains(&b[..17]),
            "no resident ID in the answer: {}",
            r.text
        );
        assert_eq!(app.counts().await, before);

        let r = post_csv(&srv, path, &other_secretary, &good).await;
        refused(&r, 403);
        let r = post_csv(&srv, path, &auditor, &good).await;
        refused(&r, 403);
        // A committee administrator sees the branch, but `apply` is the branch secretary's.
        let r = post_csv(&srv, path, &committee, &good).await;
        problem(&r, 403, "`apply` needs one of the roles branch_secretary over this organisation; the caller holds none of them here");
        let r = post_csv(&srv, "/api/v1/orgs/NOPE/roster", &secretary, &good).await;
        refused(&r, 404);
        let r = srv
            .send(
                Method::POST,
                path,
                Some(&secretary),
                Some("application/json"),
                good.as_bytes().to_vec(),
                &[],
            )
            .await;
        refused(&r, 415);
        let huge = vec![b'a'; 8 * 1024 * 1024 + 1];
        let r = srv
            .send(
                Method::POST,
                path,
                Some(&secretary),
                Some("text/csv"),
                huge,
                &[],
            )
            .await;
        problem(&r, 413, "the body is larger than 8388608 bytes");
        assert_eq!(app.counts().await, before);

        let key = [("idempotency-key", "roster-1")];
        let r = srv
            .send(
                Method::POST,
                path,
                Some(&secretary),
                Some("text/csv"),
                good.as_bytes().to_vec(),
                &key,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["applicants"], 2);
        assert_eq!(r.body["dry_run"], false);
        let r = srv
            .send(
                Method::POST,
                path,
                Some(&secretary),
                Some("text/csv"),
                good.as_bytes().to_vec(),
                &key,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.header("idempotent-replayed"), Some("true"));
        let after = app
            .member_view(&a)
            .await
            .expect("the applicant is on record");
        assert_eq!(
            after.admission.map(|x| x.state),
            Some("applicant".to_owned())
        );
        let log = app.log(Some(&a)).await;
        assert_eq!(log.len(), 1, "one application, not two");
        assert_eq!(log[0].idempotency_key.as_deref(), Some("roster-1"));
    }
);

// --------------------------------------------------------------------------------------- log and audit

both_backends!(
    log_over_api_is_masked_and_scoped_to_the_subtree,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let root_auditor = app.token(Role::Auditor, ROOT).await;
        let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
        let other_auditor = app.token(Role::Auditor, OTHER_SCHOOL).await;
        let secretary = app.token(Role::BranchSecretary, NON_GRADUATING).await;
        let rid = app.members(NON_GRADUATING).good[0].clone();
        let all = app.log(None).await.len();
        assert_eq!(
            all, 15,
            "one registration per legacy member, and one probation"
        );

        let r = srv.get("/api/v1/log?org=S001-G1", &committee).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let rows = r.body.as_array().expect("entries");
        assert_eq!(rows.len(), 7, "6 members, one of them on probation");
        assert_eq!(rows[0]["org"], "S001-G1");
        assert_eq!(rows[0]["member"], masked(&rid));
        assert_eq!(rows[0]["workflow"], "standing v1");
        for m in app
            .members(NON_GRADUATING)
            .good
            .iter()
            .chain(&app.members(NON_GRADUATING).on_probation)
        {
            assert!(
                !r.text.contains(m.as_str()),
                "a full resident ID leaked: {}",
                r.text
            );
        }
        assert!(
            !r.text.contains("团员0"),
            "names stay out of the masked payload: {}",
            r.text
        );

        let r = srv
            .get(
                &format!("/api/v1/log?org=S001&member={rid}&limit=1"),
                &committee,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body.as_array().map(Vec::len), Some(1));
        assert_eq!(r.body[0]["member"], masked(&rid));

        let r = srv.get("/api/v1/log", &root_auditor).await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(all), "{}", r.text);
        let r = srv
            .get(
                "/api/v1/log?workflow=standing&command=import_probation",
                &root_auditor,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body.as_array().map(Vec::len), Some(1));
        assert_eq!(
            r.body[0]["member"],
            masked(&app.members(NON_GRADUATING).on_probation[0])
        );
        let r = srv
            .get(
                "/api/v1/log?command=import_member&from=2025-05-04&to=2025-05-04&limit=20",
                &root_auditor,
            )
            .await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(14), "{}", r.text);
        let r = srv
            .get("/api/v1/log?org=S001&from=2025-05-05", &committee)
            .await;
        assert_eq!(r.body, json!([]));

        // Outside the subtree: 403 for the organisation; a person outside is 404 like an unknown one.
        let r = srv.get("/api/v1/log?org=S001-G1", &other_auditor).await;
        refused(&r, 403);
        let r = srv
            .get(
                &format!("/api/v1/log?org=S002&member={rid}"),
                &other_auditor,
            )
            .await;
        problem(
            &r,
            404,
            &format!("no person on record for {}", masked(&rid)),
        );
        let unknown = app.new_rid(d(2009, 3, 1));
        let r = srv
            .get(
                &format!("/api/v1/log?org=S002&member={unknown}"),
                &other_auditor,
            )
            .await;
        problem(
            &r,
            404,
            &format!("no person on record for {}", masked(&unknown)),
        );
        let r = srv.get("/api/v1/log?org=S001-G1", &secretary).await;
        refused(&r, 403);
        let r = srv.get("/api/v1/log", &committee).await;
        problem(&r, 403, "this needs one of the roles system_admin, committee_admin, auditor over 共青团中央 (CYLC) Name the organisation whose log you read: ?org=CODE");
        let r = srv
            .call(Method::GET, "/api/v1/log?org=S001", None, &[], None)
            .await;
        refused(&r, 401);

        // Bad parameters: 400 naming the parameter.
        let r = srv
            .get("/api/v1/log?org=S001&from=2026-02-30", &committee)
            .await;
        problem(
            &r,
            400,
            "query parameter `from` must be a date YYYY-MM-DD; got `2026-02-30`",
        );
        let r = srv
            .get(
                "/api/v1/log?org=S001&from=2026-05-01&to=2026-04-01",
                &committee,
            )
            .await;
        problem(
            &r,
            400,
            "query parameter `from` (2026-05-01) is after `to` (2026-04-01)",
        );
        let r = srv.get("/api/v1/log?org=S001&limit=0", &committee).await;
        problem(
            &r,
            400,
            "query parameter `limit` must be between 1 and 100000; got 0",
        );
        let r = srv.get("/api/v1/log?org=S001&limit=many", &committee).await;
        refused(&r, 400);
        let r = srv
            .get("/api/v1/log?org=S001&unmasked=true", &committee)
            .await;
        refused(&r, 400);
        let r = srv
            .get("/api/v1/log?org=S001&workflow=nope", &committee)
            .await;
        refused(&r, 400);
        let r = srv.get("/api/v1/log?org=NOPE", &committee).await;
        refused(&r, 404);
    }
);

both_backends!(
    audit_export_over_api_is_masked_jsonl_or_csv,
    |app| async move {
        let app = app.with_school().await;
        let srv = app.serve().await;
        let committee = app.token(Role::CommitteeAdmin, SCHOOL).await;
        let other = app.token(Role::CommitteeAdmin, OTHER_SCHOOL).await;
        let rid = app.members(JUNIOR).good[0].clone();

        let r = srv
            .get("/api/v1/audit/export?org=S001-J9&format=csv", &committee)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
        assert_eq!(
            r.header("content-disposition"),
            Some("attachment; filename=\"tuanji-log.csv\"")
        );
        assert_eq!(r.header("x-entries"), Some("5"));
        assert!(r.text.starts_with("\u{feff}seq,effective_date,recorded_at,workflow,command,from_state,to_state,actor,role,rule_codes,member,org,payload,leaf_hash,chain_hash\n"), "{}", r.text);
        assert_eq!(r.text.lines().count(), 6);
        assert!(r.text.contains(&masked(&rid)));
        assert!(!r.text.contains(&rid));

        let r = srv
            .get("/api/v1/audit/export?org=S001-J9", &committee)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        let lines: Vec<Value> = r
            .text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0]["member"], masked(&rid));

        let r = srv
            .get("/api/v1/audit/export?org=S001-J9&format=xml", &committee)
            .await;
        problem(
            &r,
            400,
            "query parameter `format` must be `jsonl` or `csv`; got `xml`",
        );
        let r = srv
            .get("/api/v1/audit/export?org=S001-J9&unmasked=true", &committee)
            .await;
        refused(&r, 400);
        let r = srv
            .get("/api/v1/audit/export?org=S001-J9&to=tomorrow", &committee)
            .await;
        problem(
            &r,
            400,
            "query parameter `to` must be a date YYYY-MM-DD; got `tomorrow`",
        );
        let r = srv.get("/api/v1/audit/export?org=S001-J9", &other).await;
        refused(&r, 403);
        let r = srv
            .call(
                Method::GET,
                "/api/v1/audit/export?org=S001-J9",
                None,
                &[],
                None,
            )
            .await;
        refused(&r, 401);
    }
);

both_backends!(audit_verify_and_checkpoints_over_api, |app| async move {
    let app = app.with_school().await;
    let srv = app.serve().await;
    let auditor = app.token(Role::Auditor, ROOT).await;
    let admin = app.token(Role::SystemAdmin, ROOT).await;
    let committee = app.token(Role::CommitteeAdmin, ROOT).await;
    let school_auditor = app.token(Role::Auditor, SCHOOL).await;

    let r = srv.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["entries"], 15);
    assert_eq!(r.body["checkpoints"], 0);
    assert_eq!(r.body["fault"], Value::Null);
    let r = srv.get("/api/v1/audit/verify", &committee).await;
    problem(
        &r,
        403,
        "this needs one of the roles system_admin, auditor over 共青团中央 (CYLC)",
    );
    let r = srv.get("/api/v1/audit/verify", &school_auditor).await;
    refused(&r, 403);
    // No checkpoint yet: nothing to prove against.
    let r = srv.get("/api/v1/audit/proofs/3", &auditor).await;
    problem(
        &r,
        422,
        "no checkpoint covers entry 3; take one first: tuanji audit checkpoint --key FILE",
    );
    let r = srv.get("/api/v1/audit/proofs/3", &committee).await;
    refused(&r, 403);

    let r = srv.get("/api/v1/audit/checkpoints", &committee).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!([]));
    let r = srv.get("/api/v1/audit/checkpoints", &school_auditor).await;
    refused(&r, 403);

    // This server has no signing key.
    let r = srv
        .call(
            Method::POST,
            "/api/v1/audit/checkpoints",
            Some(&auditor),
            &[],
            None,
        )
        .await;
    problem(&r, 409, "this server has no signing key (TUANJI_AUDIT_KEY is not set): take the checkpoint with `tuanji audit checkpoint --key FILE`, or restart the server with the key");
    let r = srv
        .call(
            Method::POST,
            "/api/v1/audit/checkpoints",
            Some(&committee),
            &[],
            None,
        )
        .await;
    refused(&r, 403);
    let r = srv
        .call(Method::POST, "/api/v1/audit/checkpoints", None, &[], None)
        .await;
    refused(&r, 401);

    // A server started with a signing key takes it.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = dir.path().join("k.key");
    let vkey =
        with_engine!(app.engine(), e => e.audit_keygen("tuanji-test", &key).await).expect("a key");
    let signer = tuanji_engine::audit::Signer::from_file(&key, None, None).expect("the key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = app.engine().clone().with_signer(signer);
    tokio::spawn(tuanji_server::serve(engine, listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{base}/api/v1/audit/checkpoints"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status(), StatusCode::CREATED);
    let cp: Value = res.json().await.expect("JSON");
    assert_eq!(cp["id"], 1);
    assert_eq!(cp["size"], 15);
    assert_eq!(cp["key_name"], "tuanji-test");
    assert_eq!(cp["reason"], "on_demand");
    assert!(
        cp["note"].as_str().is_some_and(|n| n.contains("\n15\n")),
        "{cp}"
    );
    let _ = stop.send(());

    let r = srv.get("/api/v1/audit/checkpoints", &auditor).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    assert_eq!(r.body[0]["reason"], "on_demand");
    let r = srv.get("/api/v1/audit/verify", &admin).await;
    assert_eq!(r.body["checkpoints"], 1);
    assert_eq!(r.body["fault"], Value::Null);
    // An inclusion proof of entry 3 against that checkpoint, checked offline with the verification key.
    let r = srv.get("/api/v1/audit/proofs/3", &auditor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let proof: tuanji_engine::audit::InclusionProof =
        serde_json::from_value(r.body.clone()).expect("a proof");
    assert_eq!((proof.index, proof.size), (2, 15));
    let cp = tuanji_engine::audit::check_proof(&proof, &vkey).expect("the proof checks");
    assert_eq!(cp.size, 15);
    let r = srv.get("/api/v1/audit/proofs/16", &auditor).await;
    problem(&r, 422, "there is no entry 16: the log has 15 entries");
    let r = srv.get("/api/v1/audit/proofs/x", &auditor).await;
    refused(&r, 400);
});
