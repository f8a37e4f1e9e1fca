//! What the benches share: dates, synthetic members, and seeding them into a branch with plain SQL.

#![allow(dead_code)]

use tuanji_domain::{check_character, Date};

/// Rows per multi-row INSERT.
pub const CHUNK: usize = 1_000;

/// A calendar date.
pub fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).expect("date")
}

/// Member `i`: resident ID (valid check character), birth date, sex. Born from 2008-01-01, 1,000 per day.
pub fn person(i: usize) -> (String, Date, &'static str) {
    let birth = d(2008, 1, 1) + chrono::Days::new((i / 1000) as u64);
    let seq = i % 1000;
    let first17 = format!("110108{}{seq:03}", birth.format("%Y%m%d"));
    let check = check_character(&first17).expect("17 digits");
    let sex = if seq % 2 == 1 { "male" } else { "female" };
    (format!("{first17}{check}"), birth, sex)
}

/// The median of some figures.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seeds `$n` legacy members ([`person`] 0..n, members since 2025-05-04) into branch `$branch` (its id) with
/// plain multi-row INSERTs in one transaction.
#[macro_export]
macro_rules! seed_members {
    ($pool:expr, $db:ty, $branch:expr, $n:expr) => {{
        let mut tx = $pool.begin().await.expect("begin");
        let ids: Vec<usize> = (0..$n).collect();
        for chunk in ids.chunks(common::CHUNK) {
            let rows: Vec<(uuid::Uuid, String, tuanji_domain::Date, &str)> = chunk
                .iter()
                .map(|&i| {
                    let (rid, birth, sex) = common::person(i);
                    (uuid::Uuid::now_v7(), rid, birth, sex)
                })
                .collect();
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO persons (id, resident_id, name, sex, birth_date) ",
            );
            q.push_values(rows.iter(), |mut b, r| {
                b.push_bind(r.0)
                    .push_bind(r.1.clone())
                    .push_bind("毕业生")
                    .push_bind(r.3)
                    .push_bind(r.2);
            });
            q.build().execute(&mut *tx).await.expect("persons");
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO members (person_id, branch_id, membership_date, standing, source) ",
            );
            q.push_values(rows.iter(), |mut b, r| {
                b.push_bind(r.0)
                    .push_bind($branch)
                    .push_bind(common::d(2025, 5, 4))
                    .push_bind("member")
                    .push_bind("legacy");
            });
            q.build().execute(&mut *tx).await.expect("members");
        }
        tx.commit().await.expect("commit seed");
    }};
}
