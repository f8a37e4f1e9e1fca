//! The OpenAPI document is snapshot-tested: every change of the API (a path, a parameter, a schema) shows in
//! review as a change of `snapshots/openapi__openapi_document.snap`. After an intended change:
//! `INSTA_UPDATE=always cargo test -p tuanji-server --test openapi` and review the diff.

#[test]
fn openapi_document() {
    let doc = tuanji_server::openapi::document();
    let json = serde_json::to_value(&doc).expect("the document serialises");
    assert_eq!(json["openapi"], "3.1.0");
    insta::assert_json_snapshot!(json);
}
