//! The harness itself: the school fixture has the organisations and members the other tests rely on.
use tuanji_tests::*;

both_backends!(harness_school_has_members, |app| async move {
    let app = app.with_school().await;
    let c = app.counts().await;
    assert_eq!(c.orgs, 7);
    assert_eq!(c.persons, 5 + 3 + 6);
    assert_eq!(app.branch_counts(NON_GRADUATING).await.entitled, 5);
    assert_eq!(app.branch_counts(NON_GRADUATING).await.members, 6);
});
