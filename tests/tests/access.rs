//! Access on both backends (issue 6): principals, role bindings on an organisation's subtree or on a member,
//! bearer tokens (argon2id, revocation effective at once) and idempotency keys, with exact values.

use std::sync::Arc;
use tuanji_engine::access::{Grant, Role};
use tuanji_engine::principals::{
    format_token, parse_token, Authenticated, BindingView, Claim, TOKEN_REFUSED,
};
use tuanji_engine::{with_engine, EngineError, EngineResult};
use tuanji_store::{Store, StoreTx};
use tuanji_tests::*;
use uuid::Uuid;

/// Runs `$body` with `$e` bound to the concrete engine of `$app`.
macro_rules! on {
    ($app:expr, $e:ident => $body:expr) => {
        with_engine!($app.engine(), $e => $body)
    };
}

fn sha(byte: u8) -> [u8; 32] {
    [byte; 32]
}

#[track_caller]
fn expect_input<T: std::fmt::Debug>(r: EngineResult<T>, msg: &str) {
    match r {
        Err(EngineError::Input(m)) => assert_eq!(m, msg),
        other => panic!("expected the input error {msg:?}, got {other:?}"),
    }
}

#[track_caller]
fn expect_not_found<T: std::fmt::Debug>(r: EngineResult<T>, msg: &str) {
    match r {
        Err(EngineError::NotFound(m)) => assert_eq!(m, msg),
        other => panic!("expected not found {msg:?}, got {other:?}"),
    }
}

#[track_caller]
fn expect_refused(r: EngineResult<Authenticated>, msg: &str) {
    match r {
        Err(EngineError::Unauthenticated(m)) => assert_eq!(m, msg),
        other => panic!("expected unauthenticated {msg:?}, got {other:?}"),
    }
}

async fn person_id(app: &TestApp, rid: &str) -> Uuid {
    on!(app, e => {
        let mut tx = e.store().begin_read().await.expect("a read transaction");
        let p = tx.person_by_resident_id(rid).await.expect("a read").expect("the person");
        tx.commit().await.expect("commit");
        p.id
    })
}

fn masked(rid: &str) -> String {
    format!("{}********{}", &rid[..6], &rid[14..])
}

both_backends!(
    grant_on_organisations_and_a_member_gives_subtree_grants_to_a_token,
    |app| async move {
        let app = app.with_school().await;
        let rid = app.members(JUNIOR).good[0].clone();
        let number = expect_ok(app.member_view(&rid).await, "member view")
            .member
            .expect("a member")
            .development_number
            .expect("a development number");
        let person = person_id(&app, &rid).await;

        let admin = expect_ok(on!(app, e => e.principal_add(" 王老师 ").await), "add");
        assert_eq!(admin.name, "王老师");
        assert_eq!((admin.bindings.len(), admin.tokens), (0, 0));
        let views = [
            expect_ok(
                on!(app, e => e.grant("王老师", Role::CommitteeAdmin, SCHOOL).await),
                "grant",
            ),
            expect_ok(
                on!(app, e => e.grant("王老师", Role::BranchSecretary, NON_GRADUATING).await),
                "grant",
            ),
            expect_ok(
                on!(app, e => e.grant("王老师", Role::Auditor, COUNTY).await),
                "grant",
            ),
        ];
        assert_eq!(
            views[1],
            BindingView {
                role: Role::BranchSecretary,
                org_code: NON_GRADUATING.into(),
                member: None
            }
        );
        expect_ok(on!(app, e => e.principal_add("小张").await), "add");
        // A member binding by development number.
        let mine = expect_ok(
            on!(app, e => e.grant("小张", Role::Member, &number).await),
            "grant",
        );
        assert_eq!(
            mine,
            BindingView {
                role: Role::Member,
                org_code: JUNIOR.into(),
                member: Some(masked(&rid))
            }
        );

        let (view, token) = expect_ok(
            on!(app, e => e.token_create("王老师", "laptop").await),
            "token",
        );
        assert_eq!(
            (view.principal.as_str(), view.label.as_str()),
            ("王老师", "laptop")
        );
        assert_eq!(view.revoked_at, None);
        let auth = expect_ok(on!(app, e => e.authenticate(&token).await), "authenticate");
        assert_eq!(auth.principal_id, admin.id);
        assert_eq!(auth.name, "王老师");
        let grant = |role, code: &str, path: &str| Grant {
            role,
            org_code: code.into(),
            org_path: path.into(),
            person_id: None,
        };
        assert_eq!(
            *auth.grants,
            vec![
                grant(Role::CommitteeAdmin, SCHOOL, "/CYLC/110105/S001/"),
                grant(
                    Role::BranchSecretary,
                    NON_GRADUATING,
                    "/CYLC/110105/S001/S001-G1/"
                ),
                grant(Role::Auditor, COUNTY, "/CYLC/110105/"),
            ]
        );
        let actor = auth.actor();
        assert_eq!(actor.name, "王老师");
        assert_eq!(actor.role, None);
        assert_eq!(actor.grants, Some(auth.grants.clone()));

        let (_, member_token) = expect_ok(on!(app, e => e.token_create("小张", "").await), "token");
        let me = expect_ok(
            on!(app, e => e.authenticate(&member_token).await),
            "authenticate",
        );
        assert_eq!(
            me.grants,
            Arc::new(vec![Grant {
                role: Role::Member,
                org_code: JUNIOR.into(),
                org_path: "/CYLC/110105/S001/S001-J9/".into(),
                person_id: Some(person),
            }])
        );

        let list = expect_ok(on!(app, e => e.principal_list().await), "list");
        let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["小张", "王老师"]);
        assert_eq!(list[0].bindings, vec![mine]);
        assert_eq!(list[0].tokens, 1);
        assert_eq!(list[1].bindings, views.to_vec());
        assert_eq!(list[1].tokens, 1);
        // The list never carries a full resident ID.
        let json = serde_json::to_string(&list).expect("JSON");
        assert!(!json.contains(&rid), "{json}");
        assert!(json.contains(&masked(&rid)), "{json}");
        app.finish().await;
    }
);

both_backends!(
    ungrant_takes_a_binding_back_from_the_next_request,
    |app| async move {
        let app = app.with_school().await;
        let rid = app.members(SENIOR).good[1].clone();
        expect_ok(on!(app, e => e.principal_add("auditor-1").await), "add");
        expect_ok(
            on!(app, e => e.grant("auditor-1", Role::Auditor, SCHOOL).await),
            "grant",
        );
        expect_ok(
            on!(app, e => e.grant("auditor-1", Role::Member, &rid).await),
            "grant",
        );
        let (_, token) = expect_ok(
            on!(app, e => e.token_create("auditor-1", "").await),
            "token",
        );
        let before = expect_ok(on!(app, e => e.authenticate(&token).await), "authenticate");
        assert_eq!(before.grants.len(), 2);

        let gone = expect_ok(
            on!(app, e => e.ungrant("auditor-1", Role::Auditor, SCHOOL).await),
            "ungrant",
        );
        assert_eq!(
            gone,
            BindingView {
                role: Role::Auditor,
                org_code: SCHOOL.into(),
                member: None
            }
        );
        let after = expect_ok(on!(app, e => e.authenticate(&token).await), "authenticate");
        assert_eq!(after.grants.len(), 1);
        assert_eq!(after.grants[0].role, Role::Member);
        assert_eq!(after.grants[0].org_code, SENIOR);
        expect_not_found(
            on!(app, e => e.ungrant("auditor-1", Role::Auditor, SCHOOL).await),
            "`auditor-1` holds no auditor binding over S001",
        );
        expect_ok(
            on!(app, e => e.ungrant("auditor-1", Role::Member, &rid).await),
            "ungrant",
        );
        let none = expect_ok(on!(app, e => e.authenticate(&token).await), "authenticate");
        assert!(none.grants.is_empty());
        app.finish().await;
    }
);

both_backends!(
    grant_refuses_unknown_targets_and_wrong_bindings,
    |app| async move {
        let app = app.with_school().await;
        expect_ok(on!(app, e => e.principal_add("sec").await), "add");
        expect_not_found(
            on!(app, e => e.grant("nobody", Role::Auditor, SCHOOL).await),
            "no principal is named `nobody`",
        );
        expect_not_found(
            on!(app, e => e.grant("sec", Role::Auditor, "S999").await),
            "no organisation has code `S999`",
        );
        expect_input(
        on!(app, e => e.grant("sec", Role::BranchSecretary, SCHOOL).await),
        "a branch_secretary binding is on a branch (团支部); 共青团北京市第八十中学委员会 (S001) is a basic_committee",
    );
        let stranger = app.new_rid(d(2008, 5, 5));
        expect_not_found(
            on!(app, e => e.grant("sec", Role::Member, &stranger).await),
            &format!("no member matches {}", masked(&stranger)),
        );
        expect_not_found(
            on!(app, e => e.grant("sec", Role::Member, "202599999999").await),
            "no member matches 202599******",
        );
        expect_input(
            on!(app, e => e.grant("sec", Role::Member, "S001").await),
            "`S001` is neither an 18-character resident ID nor a 12-digit development number",
        );
        // An applicant is not a member.
        let applicant = app.applicant_at(JUNIOR, Stage::Applied).await;
        expect_input(
            on!(app, e => e.grant("sec", Role::Member, &applicant.rid).await),
            &format!(
                "{} is not a member: a member binding covers a member's own record",
                masked(&applicant.rid)
            ),
        );
        expect_ok(
            on!(app, e => e.grant("sec", Role::BranchSecretary, JUNIOR).await),
            "grant",
        );
        expect_input(
            on!(app, e => e.grant("sec", Role::BranchSecretary, JUNIOR).await),
            "`sec` already holds branch_secretary over S001-J9",
        );
        let rid = app.members(JUNIOR).good[2].clone();
        expect_ok(
            on!(app, e => e.grant("sec", Role::Member, &rid).await),
            "grant",
        );
        expect_input(
            on!(app, e => e.grant("sec", Role::Member, &rid).await),
            &format!("`sec` already holds member over {}", masked(&rid)),
        );
        let view = expect_ok(on!(app, e => e.principal("sec").await), "show");
        assert_eq!(view.bindings.len(), 2);
        app.finish().await;
    }
);

both_backends!(
    tokens_authenticate_until_revoked_and_refuse_wrong_secrets_alike,
    |app| async move {
        let app = app.with_school().await;
        expect_ok(on!(app, e => e.principal_add("ops").await), "add");
        expect_ok(
            on!(app, e => e.grant("ops", Role::SystemAdmin, ROOT).await),
            "grant",
        );
        let (view, token) = expect_ok(on!(app, e => e.token_create("ops", "ci").await), "token");
        let (id, secret) = parse_token(&token).expect("a well-formed token");
        assert_eq!(id, view.id);
        assert_eq!(token.len(), 79);
        assert!(
            token.starts_with(&format!("tj_{}_", view.id.simple())),
            "{token}"
        );

        // The stored hash is argon2id; the secret is nowhere in the database.
        let stored = on!(app, e => {
            let mut tx = e.store().begin_read().await.expect("read");
            let t = tx.token(id).await.expect("a read").expect("the token");
            tx.commit().await.expect("commit");
            t
        });
        assert!(
            stored
                .secret_hash
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            stored.secret_hash
        );
        assert!(!stored.secret_hash.contains(&token[36..]));
        assert_eq!(stored.last_used_on, None);

        let auth = expect_ok(on!(app, e => e.authenticate(&token).await), "authenticate");
        assert_eq!(auth.name, "ops");
        assert_eq!(
            *auth.grants,
            vec![Grant {
                role: Role::SystemAdmin,
                org_code: ROOT.into(),
                org_path: "/CYLC/".into(),
                person_id: None
            }]
        );
        // Cached now: the second request is verified against the kept digest.
        expect_ok(
            on!(app, e => e.authenticate(&format!("  {token} ")).await),
            "authenticate",
        );
        let listed = expect_ok(on!(app, e => e.tokens("ops").await), "tokens");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].last_used_on, Some(today()));

        // A wrong secret (after a cached verification of the right one), an unknown id: the same refusal.
        let mut wrong = secret;
        wrong[0] ^= 1;
        expect_refused(
            on!(app, e => e.authenticate(&format_token(id, &wrong)).await),
            TOKEN_REFUSED,
        );
        expect_refused(
            on!(app, e => e.authenticate(&format_token(Uuid::now_v7(), &secret)).await),
            TOKEN_REFUSED,
        );
        for malformed in [
            "",
            "Bearer x",
            "tj_1234",
            &token[..78],
            &format!("{token}x"),
        ] {
            expect_refused(
                on!(app, e => e.authenticate(malformed).await),
                "malformed token: expected tj_<32 hex digits>_<43 base64url characters>",
            );
        }

        // Disabling the principal stops the cached token at once; enabling it lets it work again.
        let disabled = expect_ok(on!(app, e => e.principal_disable("ops").await), "disable");
        assert!(disabled.disabled_at.is_some());
        expect_refused(on!(app, e => e.authenticate(&token).await), TOKEN_REFUSED);
        expect_input(
            on!(app, e => e.token_create("ops", "").await),
            "`ops` is disabled: enable it before creating a token",
        );
        expect_ok(on!(app, e => e.principal_enable("ops").await), "enable");
        expect_ok(on!(app, e => e.authenticate(&token).await), "authenticate");

        // Revocation through another engine on the same database (as from another process: this engine's cache
        // still holds the verified secret): refused at once.
        let revoked = expect_ok(
            on!(app, e => {
                let other = tuanji_engine::Engine::new(e.store().clone()).expect("an engine");
                other.token_revoke(id).await
            }),
            "revoke",
        );
        assert!(revoked.revoked_at.is_some());
        expect_refused(on!(app, e => e.authenticate(&token).await), TOKEN_REFUSED);
        // Revoking again changes nothing.
        let again = expect_ok(on!(app, e => e.token_revoke(id).await), "revoke");
        assert_eq!(again.revoked_at, revoked.revoked_at);
        let p = expect_ok(on!(app, e => e.principal("ops").await), "show");
        assert_eq!(p.tokens, 0);
        expect_not_found(
            on!(app, e => e.token_revoke(Uuid::from_u128(7)).await),
            "no token has id 00000000-0000-0000-0000-000000000007",
        );
        app.finish().await;
    }
);

both_backends!(
    idempotency_claims_replay_mismatch_pending_and_release,
    |app| async move {
        let app = app.with_school().await;
        let a = expect_ok(on!(app, e => e.principal_add("a").await), "add").id;
        let b = expect_ok(on!(app, e => e.principal_add("b").await), "add").id;
        let claim = |p: Uuid, key: &'static str, h: u8| {
            let app = app.clone();
            async move {
                expect_ok(
                    on!(app, e => e.idempotency_claim(p, key, sha(h)).await),
                    "claim",
                )
            }
        };
        assert_eq!(claim(a, "k-1", 1).await, Claim::Owned);
        assert_eq!(claim(a, "k-1", 1).await, Claim::Pending);
        assert_eq!(claim(a, "k-1", 2).await, Claim::Mismatch);
        // Keys are per principal.
        assert_eq!(claim(b, "k-1", 2).await, Claim::Owned);
        expect_ok(
            on!(app, e => e.idempotency_complete(a, "k-1", 201, "{\"id\":1}").await),
            "complete",
        );
        assert_eq!(
            claim(a, "k-1", 1).await,
            Claim::Replay {
                status: 201,
                body: "{\"id\":1}".into()
            }
        );
        assert_eq!(claim(a, "k-1", 3).await, Claim::Mismatch);
        expect_not_found(
            on!(app, e => e.idempotency_complete(a, "k-1", 200, "").await),
            "no pending request holds the idempotency key `k-1`",
        );
        // Releasing a completed key keeps it.
        expect_ok(
            on!(app, e => e.idempotency_release(a, "k-1").await),
            "release",
        );
        assert!(matches!(
            claim(a, "k-1", 1).await,
            Claim::Replay { status: 201, .. }
        ));
        // A released pending key may be claimed again, even with another request.
        expect_ok(
            on!(app, e => e.idempotency_release(b, "k-1").await),
            "release",
        );
        assert_eq!(claim(b, "k-1", 9).await, Claim::Owned);

        expect_input(
            on!(app, e => e.idempotency_claim(a, "", sha(1)).await),
            "an idempotency key has 1 to 200 characters, not 0",
        );
        expect_input(
            on!(app, e => e.idempotency_claim(a, &"k".repeat(201), sha(1)).await),
            "an idempotency key has 1 to 200 characters, not 201",
        );
        expect_input(
            on!(app, e => e.idempotency_claim(a, "clé", sha(1)).await),
            "an idempotency key is printable ASCII (space to `~`) only",
        );
        expect_input(
            on!(app, e => e.idempotency_complete(b, "k-1", 700, "").await),
            "700 is not an HTTP status (100–599)",
        );
        expect_not_found(
            on!(app, e => e.idempotency_claim(Uuid::from_u128(1), "k", sha(1)).await),
            "no principal has id 00000000-0000-0000-0000-000000000001",
        );
        app.finish().await;
    }
);

both_backends!(
    idempotency_sixteen_concurrent_claims_own_the_key_once,
    |app| async move {
        let app = app.with_school().await;
        let p = expect_ok(on!(app, e => e.principal_add("racer").await), "add").id;
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let engine = app.engine().clone();
            tasks.push(tokio::spawn(async move {
                with_engine!(&engine, e => e.idempotency_claim(p, "same", sha(5)).await)
            }));
        }
        let mut owned = 0;
        let mut pending = 0;
        for t in tasks {
            match t.await.expect("the task").expect("a claim") {
                Claim::Owned => owned += 1,
                Claim::Pending => pending += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((owned, pending), (1, 15));
        app.finish().await;
    }
);

both_backends!(principal_and_token_inputs_are_validated, |app| async move {
    let app = app.with_school().await;
    expect_input(
        on!(app, e => e.principal_add("  ").await),
        "a principal name is required",
    );
    expect_input(
        on!(app, e => e.principal_add(&"x".repeat(51)).await),
        "a principal name has at most 50 characters, not 51",
    );
    expect_input(
        on!(app, e => e.principal_add("a\nb").await),
        "a principal name may not contain control characters",
    );
    expect_ok(
        on!(app, e => e.principal_add(&"名".repeat(50)).await),
        "50 characters",
    );
    expect_ok(on!(app, e => e.principal_add("dup").await), "add");
    expect_input(
        on!(app, e => e.principal_add(" dup").await),
        "a principal named `dup` already exists",
    );
    expect_input(
        on!(app, e => e.token_create("dup", &"l".repeat(101)).await),
        "a token label has at most 100 characters, not 101",
    );
    expect_input(
        on!(app, e => e.token_create("dup", "a\u{1b}b").await),
        "a token label may not contain control characters",
    );
    expect_not_found(
        on!(app, e => e.token_create("ghost", "").await),
        "no principal is named `ghost`",
    );
    expect_not_found(
        on!(app, e => e.tokens("ghost").await),
        "no principal is named `ghost`",
    );
    expect_not_found(
        on!(app, e => e.principal("ghost").await),
        "no principal is named `ghost`",
    );
    expect_not_found(
        on!(app, e => e.principal_disable("ghost").await),
        "no principal is named `ghost`",
    );
    // Refused inputs wrote nothing.
    let list = expect_ok(on!(app, e => e.principal_list().await), "list");
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|p| p.tokens == 0 && p.bindings.is_empty()));
    app.finish().await;
});
