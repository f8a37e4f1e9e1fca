//! End-to-end tests of `tuanji principal` and `tuanji token` on SQLite and PostgreSQL: bootstrap a system_admin,
//! bind roles, create a token (standard output is exactly the token, and it authenticates), list and revoke it
//! (then it no longer authenticates); never a full ID number or a token hash in the output.

mod common;

use common::{id, ok, on_postgres, on_sqlite, refused, tuanji, write};
use std::path::Path;
use tuanji_engine::{with_engine, AnyEngine, EngineError};

const ORGS: &str = "code,name,kind,parent,approves_admissions,school_level,graduating,class_size
CYLC,共青团中央,central,,,,,
110105,共青团北京市朝阳区委员会,county,CYLC,,,,
S001,共青团北京市第八十中学委员会,basic_committee,110105,true,senior_high,,
S001-G3,高三(1)班团支部,branch,S001,,senior_high,,
";

/// Authenticates `token` against the database `db` in-process: the principal's name, or the refusal.
fn authenticate(db: &str, token: &str) -> Result<String, String> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let engine = AnyEngine::connect(db).await.expect("the database");
        let r = with_engine!(&engine, e => e.authenticate(token).await);
        with_engine!(&engine, e => e.store().close().await);
        match r {
            Ok(a) => Ok(a.name),
            Err(EngineError::Unauthenticated(m)) => Err(m),
            Err(other) => panic!("unexpected {other:?}"),
        }
    })
}

fn access_story(db: &str, dir: &Path) {
    ok(db, &["org", "import", &write(dir, "orgs.csv", ORGS)]);
    let rid = id("110105", "20080301", "001");
    let masked = format!("110105********{}", &rid[14..]);
    let roster =
        format!("姓名,公民身份号码,入团日期,团员编号\n张三,{rid},2025-05-04,202500000001\n");
    ok(
        db,
        &[
            "roster",
            "import",
            &write(dir, "roster.csv", &roster),
            "--branch",
            "S001-G3",
        ],
    );

    // Bootstrap: a system_admin over the root.
    let out = ok(
        db,
        &[
            "principal",
            "add",
            "admin",
            "--role",
            "system_admin",
            "--org",
            "CYLC",
        ],
    );
    assert!(out.starts_with("principal `admin` ("), "{out}");
    assert!(
        out.ends_with("): 0 active token(s)\n  system_admin over CYLC\n"),
        "{out}"
    );

    // A member's own binding, by resident ID: shown masked.
    ok(db, &["principal", "add", "zhangsan"]);
    let out = ok(
        db,
        &[
            "principal",
            "grant",
            "zhangsan",
            "--role",
            "member",
            "--member",
            &rid,
        ],
    );
    assert_eq!(
        out,
        format!("granted to `zhangsan`: member {masked} (branch S001-G3)\n")
    );
    let out = ok(
        db,
        &[
            "principal",
            "grant",
            "zhangsan",
            "--role",
            "auditor",
            "--org",
            "S001",
        ],
    );
    assert_eq!(out, "granted to `zhangsan`: auditor over S001\n");
    let out = ok(
        db,
        &[
            "principal",
            "ungrant",
            "zhangsan",
            "--role",
            "auditor",
            "--org",
            "S001",
        ],
    );
    assert_eq!(out, "taken from `zhangsan`: auditor over S001\n");

    // Token: standard output is exactly the token; the note goes to standard error.
    let created = tuanji(db, &["token", "create", "admin", "--label", "laptop"]);
    assert_eq!(created.status.code(), Some(0));
    let stdout = String::from_utf8(created.stdout).expect("UTF-8");
    let token = stdout.trim_end_matches('\n');
    assert_eq!(stdout.len(), 80, "{stdout}");
    assert!(
        token.starts_with("tj_") && !token.contains('\n'),
        "{stdout}"
    );
    let token_id = &token[3..35];
    let stderr = String::from_utf8(created.stderr).expect("UTF-8");
    assert_eq!(
        stderr,
        format!("token {token_id} for `admin`: shown this once, keep it secret (only its hash is stored)\n")
    );
    assert_eq!(authenticate(db, token), Ok("admin".to_owned()));

    let list = ok(db, &["token", "list", "admin"]);
    assert!(list.contains(token_id) && list.contains("laptop"), "{list}");
    assert!(list.ends_with("1 token(s)\n"), "{list}");
    let json = ok(db, &["token", "list", "admin", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v[0]["label"], "laptop");
    assert_eq!(v[0]["principal"], "admin");
    assert_eq!(v[0]["revoked_at"], serde_json::Value::Null);
    let json = ok(db, &["principal", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v[0]["name"], "admin");
    assert_eq!(v[0]["tokens"], 1);
    assert_eq!(
        v[1]["bindings"],
        serde_json::json!([{"role": "member", "org_code": "S001-G3", "member": masked}])
    );
    let text = ok(db, &["principal", "list"]);
    for out in [&list, &json, &text] {
        assert!(!out.contains(&rid), "{out}");
        assert!(
            !out.contains("argon2") && !out.contains(&token[36..]),
            "{out}"
        );
    }

    // Revocation: the token stops working.
    let out = ok(db, &["token", "revoke", token_id]);
    assert!(
        out.starts_with(&format!("token {token_id} of `admin` revoked at ")),
        "{out}"
    );
    assert_eq!(
        authenticate(db, token),
        Err("the token is not valid: unknown, revoked, or its principal is disabled".to_owned())
    );
    let json = ok(db, &["principal", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v[0]["tokens"], 0);

    // Refusals.
    let err = refused(db, &["token", "create", "nobody"]);
    assert_eq!(err, "error: no principal is named `nobody`\n");
    let err = refused(db, &["principal", "add", "admin"]);
    assert_eq!(err, "error: a principal named `admin` already exists\n");
    let err = refused(
        db,
        &[
            "principal",
            "grant",
            "zhangsan",
            "--role",
            "member",
            "--org",
            "S001",
        ],
    );
    assert_eq!(
        err,
        "error: the member role needs --member REF (resident ID or development number)\n"
    );
    let err = refused(db, &["principal", "grant", "zhangsan", "--role", "auditor"]);
    assert_eq!(err, "error: the auditor role needs --org CODE\n");
    let err = refused(db, &["token", "revoke", "tj_nothex"]);
    assert_eq!(
        err,
        "error: `tj_nothex` is not a token id: give the 32 hex digits after tj_ (as `tuanji token list` shows)\n"
    );
    let err = refused(db, &["token", "revoke", &"0".repeat(32)]);
    assert_eq!(
        err,
        "error: no token has id 00000000-0000-0000-0000-000000000000\n"
    );
    // An unknown role is a usage error (exit 2).
    let out = tuanji(
        db,
        &[
            "principal",
            "grant",
            "admin",
            "--role",
            "king",
            "--org",
            "CYLC",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn access_story_on_sqlite() {
    on_sqlite(access_story);
}

#[test]
fn access_story_on_postgres() {
    on_postgres("tuanji_cli_access", access_story);
}
