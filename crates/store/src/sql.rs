//! The SQL shared by both backends, as a macro each backend crate instantiates for its driver.

/// Implements [`crate::StoreTx`] for `$tx`, a tuple struct holding a `sqlx::Transaction<'static, $db>`.
///
/// `lock_org = "…"` is the statement that serialises commands on one organisation (PostgreSQL:
/// `SELECT 1 FROM organisations WHERE id = $1 FOR UPDATE`), or `""` where writes are serial anyway (SQLite).
///
/// `standing_live = "…"` is the condition on `instances i` that selects live standing instances for the sweep's
/// pages in id order, written for the backend's planner: PostgreSQL uses the partial index
/// `instances_standing_live`; SQLite would pick the `(workflow, state)` index and sort every standing instance
/// for every page (quadratic: 2,500 members/s at 1,000,000), so its condition is written (`|| ''`) to keep it
/// walking instances by id.
#[macro_export]
macro_rules! sql_tx_impl {
    ($tx:ty, $db:ty, lock_org = $lock_org:expr, standing_live = $standing_live:expr) => {
        impl $crate::StoreTx for $tx {
            async fn commit(self) -> $crate::StoreResult<()> {
                self.0.commit().await?;
                Ok(())
            }

            async fn insert_orgs(&mut self, orgs: &[$crate::OrgRow]) -> $crate::StoreResult<()> {
                // 13 columns; 500 rows stay far below both backends' bind limits.
                for chunk in orgs.chunks(500) {
                    let mut q = $crate::sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO organisations (id, code, name, kind, parent_id, path, depth, \
                         approves_admissions, school_level, graduating, class_size, graduation_date, \
                         mobile_members) ",
                    );
                    q.push_values(chunk, |mut b, o| {
                        b.push_bind(o.id)
                            .push_bind(o.code.clone())
                            .push_bind(o.name.clone())
                            .push_bind(o.kind.clone())
                            .push_bind(o.parent_id)
                            .push_bind(o.path.clone())
                            .push_bind(o.depth)
                            .push_bind(o.approves_admissions)
                            .push_bind(o.school_level.clone())
                            .push_bind(o.graduating)
                            .push_bind(o.class_size)
                            .push_bind(o.graduation_date)
                            .push_bind(o.mobile_members);
                    });
                    q.build().execute(&mut *self.0).await?;
                }
                Ok(())
            }

            async fn org_by_code(&mut self, code: &str) -> $crate::StoreResult<Option<$crate::OrgRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM organisations WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn org_by_id(&mut self, id: $crate::__Uuid) -> $crate::StoreResult<Option<$crate::OrgRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM organisations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn orgs_under(&mut self, path_prefix: &str) -> $crate::StoreResult<Vec<$crate::OrgRow>> {
                // '/' is 0x2F and '0' is 0x30: [prefix, prefix with its last '/' raised to '0') is the subtree.
                let upper = format!("{}0", path_prefix.trim_end_matches('/'));
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM organisations WHERE path >= $1 AND path < $2 ORDER BY path",
                )
                .bind(path_prefix)
                .bind(upper)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn root_org(&mut self) -> $crate::StoreResult<Option<$crate::OrgRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM organisations WHERE parent_id IS NULL LIMIT 1")
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn org_count(&mut self) -> $crate::StoreResult<i64> {
                Ok($crate::sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
                    .fetch_one(&mut *self.0)
                    .await?)
            }

            async fn set_graduation(
                &mut self,
                org_id: $crate::__Uuid,
                on: $crate::__NaiveDate,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query("UPDATE organisations SET graduating = true, graduation_date = $2 WHERE id = $1")
                    .bind(org_id)
                    .bind(on)
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn lock_org(&mut self, id: $crate::__Uuid) -> $crate::StoreResult<()> {
                let sql: &str = $lock_org;
                if !sql.is_empty() {
                    $crate::sqlx::query(sql).bind(id).execute(&mut *self.0).await?;
                }
                Ok(())
            }

            async fn insert_allocation(
                &mut self,
                id: $crate::__Uuid,
                org_id: $crate::__Uuid,
                year: i32,
                count: i64,
                allocated_by: $crate::__Uuid,
                effective_date: $crate::__NaiveDate,
            ) -> $crate::StoreResult<$crate::AllocationRow> {
                let first: i64 = $crate::sqlx::query_scalar(
                    "INSERT INTO number_series (year, next_serial) VALUES ($1, 1 + $2) \
                     ON CONFLICT (year) DO UPDATE SET next_serial = number_series.next_serial + $2 \
                     RETURNING next_serial - $2",
                )
                .bind(year)
                .bind(count)
                .fetch_one(&mut *self.0)
                .await?;
                Ok($crate::sqlx::query_as(
                    "INSERT INTO quota_allocations (id, org_id, year, first_serial, count, used, allocated_by, \
                     effective_date) VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING *",
                )
                .bind(id)
                .bind(org_id)
                .bind(year)
                .bind(first)
                .bind(count)
                .bind(allocated_by)
                .bind(effective_date)
                .fetch_one(&mut *self.0)
                .await?)
            }

            async fn allocations(
                &mut self,
                org_id: $crate::__Uuid,
                year: i32,
            ) -> $crate::StoreResult<Vec<$crate::AllocationRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM quota_allocations WHERE org_id = $1 AND year = $2 ORDER BY first_serial",
                )
                .bind(org_id)
                .bind(year)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn allocation_covering(
                &mut self,
                year: i32,
                serial: i64,
            ) -> $crate::StoreResult<Option<$crate::AllocationRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM quota_allocations WHERE year = $1 AND first_serial <= $2 \
                     AND first_serial + count > $2 LIMIT 1",
                )
                .bind(year)
                .bind(serial)
                .fetch_optional(&mut *self.0)
                .await?)
            }

            async fn take_serial(
                &mut self,
                org_id: $crate::__Uuid,
                year: i32,
                on: $crate::__NaiveDate,
            ) -> $crate::StoreResult<Option<($crate::__Uuid, i64)>> {
                loop {
                    // Guarded increment: cannot pass `count` even when two transactions race for the same row
                    // (PostgreSQL re-checks `used < count` on the row version it waited for).
                    let taken: Option<($crate::__Uuid, i64)> = $crate::sqlx::query_as(
                        "UPDATE quota_allocations SET used = used + 1 \
                         WHERE id = (SELECT id FROM quota_allocations WHERE org_id = $1 AND year = $2 \
                                     AND effective_date <= $3 AND used < count ORDER BY first_serial LIMIT 1) \
                           AND used < count \
                         RETURNING id, first_serial + used - 1",
                    )
                    .bind(org_id)
                    .bind(year)
                    .bind(on)
                    .fetch_optional(&mut *self.0)
                    .await?;
                    if taken.is_some() {
                        return Ok(taken);
                    }
                    let room: Option<i64> = $crate::sqlx::query_scalar(
                        "SELECT 1 FROM quota_allocations WHERE org_id = $1 AND year = $2 AND effective_date <= $3 \
                         AND used < count LIMIT 1",
                    )
                    .bind(org_id)
                    .bind(year)
                    .bind(on)
                    .fetch_optional(&mut *self.0)
                    .await?;
                    if room.is_none() {
                        return Ok(None);
                    }
                }
            }

            async fn insert_number(&mut self, n: &$crate::NumberRow) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO development_numbers (number, year, allocation_id, person_id, instance_id, status, \
                     issued_on, voided_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&n.number)
                .bind(n.year)
                .bind(n.allocation_id)
                .bind(n.person_id)
                .bind(n.instance_id)
                .bind(&n.status)
                .bind(n.issued_on)
                .bind(n.voided_on)
                .execute(&mut *self.0)
                .await?;
                if n.allocation_id.is_none() {
                    let serial: i64 = n.number.get(4..).and_then(|s| s.parse().ok()).ok_or_else(|| {
                        $crate::StoreError::Corrupt(format!("development number {} is not 12 digits", n.number))
                    })?;
                    $crate::sqlx::query(
                        "INSERT INTO number_series (year, next_serial) VALUES ($1, $2) ON CONFLICT (year) DO UPDATE \
                         SET next_serial = CASE WHEN number_series.next_serial > excluded.next_serial \
                         THEN number_series.next_serial ELSE excluded.next_serial END",
                    )
                    .bind(n.year)
                    .bind(serial + 1)
                    .execute(&mut *self.0)
                    .await?;
                }
                Ok(())
            }

            async fn number(&mut self, number: &str) -> $crate::StoreResult<Option<$crate::NumberRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM development_numbers WHERE number = $1")
                    .bind(number)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn void_number(&mut self, number: &str, on: $crate::__NaiveDate) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "UPDATE development_numbers SET status = 'voided', voided_on = $2 WHERE number = $1",
                )
                .bind(number)
                .bind(on)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn number_counts(&mut self, org_id: $crate::__Uuid, year: i32) -> $crate::StoreResult<(i64, i64)> {
                Ok($crate::sqlx::query_as(
                    "SELECT COUNT(CASE WHEN n.status = 'issued' THEN 1 END), \
                            COUNT(CASE WHEN n.status = 'voided' THEN 1 END) \
                     FROM development_numbers n JOIN quota_allocations a ON a.id = n.allocation_id \
                     WHERE a.org_id = $1 AND a.year = $2",
                )
                .bind(org_id)
                .bind(year)
                .fetch_one(&mut *self.0)
                .await?)
            }

            async fn insert_person(&mut self, p: &$crate::PersonRow) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO persons (id, resident_id, name, sex, ethnicity, birth_date) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(p.id)
                .bind(&p.resident_id)
                .bind(&p.name)
                .bind(&p.sex)
                .bind(&p.ethnicity)
                .bind(p.birth_date)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn person_by_resident_id(&mut self, rid: &str) -> $crate::StoreResult<Option<$crate::PersonRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM persons WHERE resident_id = $1")
                    .bind(rid)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn person_with_latest_instance(
                &mut self,
                rid: &str,
                workflow: &str,
            ) -> $crate::StoreResult<Option<($crate::PersonRow, $crate::InstanceRow)>> {
                use $crate::sqlx::Row as _;
                let row = $crate::sqlx::query(
                    "SELECT p.id AS p_id, p.resident_id AS p_resident_id, p.name AS p_name, p.sex AS p_sex, \
                     p.ethnicity AS p_ethnicity, p.birth_date AS p_birth_date, i.* \
                     FROM persons p JOIN instances i ON i.person_id = p.id \
                     WHERE p.resident_id = $1 AND i.workflow = $2 ORDER BY i.id DESC LIMIT 1",
                )
                .bind(rid)
                .bind(workflow)
                .fetch_optional(&mut *self.0)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let person = $crate::PersonRow {
                    id: r.try_get("p_id")?,
                    resident_id: r.try_get("p_resident_id")?,
                    name: r.try_get("p_name")?,
                    sex: r.try_get("p_sex")?,
                    ethnicity: r.try_get("p_ethnicity")?,
                    birth_date: r.try_get("p_birth_date")?,
                };
                let instance = <$crate::InstanceRow as $crate::sqlx::FromRow<'_, _>>::from_row(&r)?;
                Ok(Some((person, instance)))
            }

            async fn person(&mut self, id: $crate::__Uuid) -> $crate::StoreResult<Option<$crate::PersonRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM persons WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn upsert_member(&mut self, m: &$crate::MemberRow) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO members (person_id, branch_id, membership_date, development_number, standing, \
                     probation_until, source, admission_instance_id, oath_date, deleted_on, deletion_reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (person_id) DO UPDATE SET branch_id = excluded.branch_id, \
                     membership_date = excluded.membership_date, development_number = excluded.development_number, \
                     standing = excluded.standing, probation_until = excluded.probation_until, \
                     source = excluded.source, admission_instance_id = excluded.admission_instance_id, \
                     oath_date = excluded.oath_date, \
                     deleted_on = COALESCE(members.deleted_on, excluded.deleted_on), \
                     deletion_reason = COALESCE(members.deletion_reason, excluded.deletion_reason)",
                )
                .bind(m.person_id)
                .bind(m.branch_id)
                .bind(m.membership_date)
                .bind(&m.development_number)
                .bind(&m.standing)
                .bind(m.probation_until)
                .bind(&m.source)
                .bind(m.admission_instance_id)
                .bind(m.oath_date)
                .bind(m.deleted_on)
                .bind(&m.deletion_reason)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn member(&mut self, person_id: $crate::__Uuid) -> $crate::StoreResult<Option<$crate::MemberRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM members WHERE person_id = $1")
                    .bind(person_id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn members_of_branch(
                &mut self,
                branch_id: $crate::__Uuid,
            ) -> $crate::StoreResult<Vec<$crate::MemberRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM members WHERE branch_id = $1 AND deleted_on IS NULL ORDER BY person_id",
                )
                .bind(branch_id)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn move_member(
                &mut self,
                person_id: $crate::__Uuid,
                branch_id: $crate::__Uuid,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query("UPDATE members SET branch_id = $2 WHERE person_id = $1")
                    .bind(person_id)
                    .bind(branch_id)
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn tombstone_member(
                &mut self,
                person_id: $crate::__Uuid,
                on: $crate::__NaiveDate,
                reason: &str,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "UPDATE members SET deleted_on = $2, deletion_reason = $3 WHERE person_id = $1 AND deleted_on IS NULL",
                )
                .bind(person_id)
                .bind(on)
                .bind(reason)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn branch_counts(&mut self, branch_id: $crate::__Uuid) -> $crate::StoreResult<$crate::BranchCounts> {
                let (entitled, members): (i64, i64) = $crate::sqlx::query_as(
                    "SELECT COUNT(CASE WHEN standing IN ('member', 'recommended_for_party', 'party_member') THEN 1 END), \
                            COUNT(CASE WHEN standing IN ('member', 'on_probation', 'recommended_for_party', 'party_member') THEN 1 END) \
                     FROM members WHERE branch_id = $1 AND deleted_on IS NULL",
                )
                .bind(branch_id)
                .fetch_one(&mut *self.0)
                .await?;
                Ok($crate::BranchCounts { entitled, members })
            }

            async fn insert_instance(&mut self, i: &$crate::InstanceRow) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO instances (id, workflow, workflow_version, definition_sha256, person_id, branch_id, \
                     state, version, data, opened_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(i.id)
                .bind(&i.workflow)
                .bind(i.workflow_version)
                .bind(&i.definition_sha256)
                .bind(i.person_id)
                .bind(i.branch_id)
                .bind(&i.state)
                .bind(i.version)
                .bind(&i.data)
                .bind(i.opened_on)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn insert_instances(&mut self, rows: &[$crate::InstanceRow]) -> $crate::StoreResult<()> {
                for chunk in rows.chunks(1000) {
                    let mut q = $crate::sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO instances (id, workflow, workflow_version, definition_sha256, person_id, \
                         branch_id, state, version, data, opened_on) ",
                    );
                    q.push_values(chunk, |mut b, i| {
                        b.push_bind(i.id)
                            .push_bind(i.workflow.clone())
                            .push_bind(i.workflow_version)
                            .push_bind(i.definition_sha256.clone())
                            .push_bind(i.person_id)
                            .push_bind(i.branch_id)
                            .push_bind(i.state.clone())
                            .push_bind(i.version)
                            .push_bind(i.data.clone())
                            .push_bind(i.opened_on);
                    });
                    q.build().execute(&mut *self.0).await?;
                }
                Ok(())
            }

            async fn live_instances_at(
                &mut self,
                workflow: &str,
                branch_id: $crate::__Uuid,
                ended: &[&str],
            ) -> $crate::StoreResult<Vec<$crate::InstanceRow>> {
                let mut q = $crate::sqlx::QueryBuilder::<$db>::new("SELECT * FROM instances WHERE workflow = ");
                q.push_bind(workflow.to_owned()).push(" AND branch_id = ").push_bind(branch_id);
                if !ended.is_empty() {
                    q.push(" AND state NOT IN (");
                    let mut sep = q.separated(", ");
                    for e in ended {
                        sep.push_bind(e.to_string());
                    }
                    q.push(")");
                }
                q.push(" ORDER BY id");
                Ok(q.build_query_as().fetch_all(&mut *self.0).await?)
            }

            async fn instances_in_state(
                &mut self,
                workflow: &str,
                state: &str,
            ) -> $crate::StoreResult<Vec<$crate::InstanceRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM instances WHERE workflow = $1 AND state = $2 ORDER BY id")
                    .bind(workflow)
                    .bind(state)
                    .fetch_all(&mut *self.0)
                    .await?)
            }

            async fn set_instance_branch(
                &mut self,
                id: $crate::__Uuid,
                branch_id: $crate::__Uuid,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query("UPDATE instances SET branch_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(branch_id)
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn instance(&mut self, id: $crate::__Uuid) -> $crate::StoreResult<Option<$crate::InstanceRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM instances WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn latest_instance(
                &mut self,
                person_id: $crate::__Uuid,
                workflow: &str,
            ) -> $crate::StoreResult<Option<$crate::InstanceRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM instances WHERE person_id = $1 AND workflow = $2 ORDER BY id DESC LIMIT 1",
                )
                .bind(person_id)
                .bind(workflow)
                .fetch_optional(&mut *self.0)
                .await?)
            }

            async fn update_instance(
                &mut self,
                id: $crate::__Uuid,
                expected_version: i64,
                state: &str,
                data: &str,
            ) -> $crate::StoreResult<()> {
                let done = $crate::sqlx::query(
                    "UPDATE instances SET state = $3, data = $4, version = version + 1 \
                     WHERE id = $1 AND version = $2",
                )
                .bind(id)
                .bind(expected_version)
                .bind(state)
                .bind(data)
                .execute(&mut *self.0)
                .await?;
                if done.rows_affected() != 1 {
                    return Err($crate::StoreError::Conflict { expected: expected_version });
                }
                Ok(())
            }

            async fn instance_state_counts(&mut self, workflow: &str) -> $crate::StoreResult<Vec<(String, i64)>> {
                Ok($crate::sqlx::query_as(
                    "SELECT state, COUNT(*) FROM instances WHERE workflow = $1 GROUP BY state ORDER BY state",
                )
                .bind(workflow)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn standing_live_page(
                &mut self,
                after: Option<$crate::__Uuid>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::StandingLiveRow>> {
                const LIVE: &str = concat!(
                    "SELECT i.id, i.person_id, m.branch_id AS branch_id, i.state, i.version, i.data, p.birth_date \
                     FROM instances i JOIN persons p ON p.id = i.person_id JOIN members m ON m.person_id = i.person_id \
                     WHERE ",
                    $standing_live,
                    " AND m.standing <> 'annulled' AND m.deleted_on IS NULL"
                );
                let rows = match after {
                    Some(a) => $crate::sqlx::query_as(&format!("{LIVE} AND i.id > $1 ORDER BY i.id LIMIT $2"))
                        .bind(a)
                        .bind(limit)
                        .fetch_all(&mut *self.0)
                        .await?,
                    None => $crate::sqlx::query_as(&format!("{LIVE} ORDER BY i.id LIMIT $1"))
                        .bind(limit)
                        .fetch_all(&mut *self.0)
                        .await?,
                };
                Ok(rows)
            }

            async fn set_member_standing(
                &mut self,
                person_id: $crate::__Uuid,
                standing: &str,
                probation_until: Option<$crate::__NaiveDate>,
                since: $crate::__NaiveDate,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "UPDATE members SET standing = $2, probation_until = $3, standing_since = $4 WHERE person_id = $1",
                )
                .bind(person_id)
                .bind(standing)
                .bind(probation_until)
                .bind(since)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn insert_post(
                &mut self,
                person_id: $crate::__Uuid,
                post: &str,
                org_id: $crate::__Uuid,
                from: $crate::__NaiveDate,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO member_posts (person_id, post, org_id, held_from) VALUES ($1, $2, $3, $4)",
                )
                .bind(person_id)
                .bind(post)
                .bind(org_id)
                .bind(from)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn post_holders(
                &mut self,
                post: &str,
                org_id: $crate::__Uuid,
            ) -> $crate::StoreResult<Vec<$crate::__Uuid>> {
                let rows: Vec<($crate::__Uuid,)> = $crate::sqlx::query_as(
                    "SELECT person_id FROM member_posts \
                     WHERE post = $1 AND org_id = $2 AND held_until IS NULL ORDER BY held_from",
                )
                .bind(post)
                .bind(org_id)
                .fetch_all(&mut *self.0)
                .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn end_post(
                &mut self,
                person_id: $crate::__Uuid,
                post: &str,
                org_id: $crate::__Uuid,
                until: $crate::__NaiveDate,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "UPDATE member_posts SET held_until = $4 \
                     WHERE person_id = $1 AND post = $2 AND org_id = $3 AND held_until IS NULL",
                )
                .bind(person_id)
                .bind(post)
                .bind(org_id)
                .bind(until)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn insert_dues(&mut self, rows: &[$crate::DuesRow]) -> $crate::StoreResult<()> {
                for chunk in rows.chunks(500) {
                    let mut q = $crate::sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO dues_payments (person_id, month, amount_fen, paid_on, category) ",
                    );
                    q.push_values(chunk, |mut b, r| {
                        b.push_bind(r.person_id)
                            .push_bind(r.month.clone())
                            .push_bind(r.amount_fen)
                            .push_bind(r.paid_on)
                            .push_bind(r.category.clone());
                    });
                    q.build().execute(&mut *self.0).await?;
                }
                Ok(())
            }

            async fn dues_of(&mut self, person_id: $crate::__Uuid) -> $crate::StoreResult<Vec<$crate::DuesRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM dues_payments WHERE person_id = $1 ORDER BY month")
                    .bind(person_id)
                    .fetch_all(&mut *self.0)
                    .await?)
            }

            async fn append_log(&mut self, e: &$crate::NewLogEntry) -> $crate::StoreResult<$crate::LogRow> {
                let (seq, prev): (i64, Vec<u8>) = $crate::sqlx::query_as(
                    "UPDATE log_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, chain_hash",
                )
                .fetch_one(&mut *self.0)
                .await?;
                let mut prev = $crate::__head_hash(prev)?;
                let row = $crate::__log_row(seq, &mut prev, e, $crate::__now_micros())?;
                let mut q = $crate::sqlx::QueryBuilder::<$db>::new($crate::__LOG_INSERT);
                q.push_values(std::iter::once(&row), $crate::__push_log_row!());
                q.build().execute(&mut *self.0).await?;
                // The trigger `transition_log_head` has moved log_head.chain_hash to this entry's chain hash.
                Ok(row)
            }

            async fn append_logs(&mut self, entries: &[$crate::NewLogEntry]) -> $crate::StoreResult<i64> {
                if entries.is_empty() {
                    return self.log_size().await;
                }
                let n = entries.len() as i64;
                let (last, prev): (i64, Vec<u8>) = $crate::sqlx::query_as(
                    "UPDATE log_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, chain_hash",
                )
                .bind(n)
                .fetch_one(&mut *self.0)
                .await?;
                let mut prev = $crate::__head_hash(prev)?;
                let now = $crate::__now_micros();
                let mut seq = last - n;
                // 20 columns: 1,000 rows stay below both backends' bind limits. Rows go in seq order, so the
                // per-row trigger leaves log_head at the last chain hash.
                for chunk in entries.chunks(1000) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for e in chunk {
                        seq += 1;
                        rows.push($crate::__log_row(seq, &mut prev, e, now)?);
                    }
                    let mut q = $crate::sqlx::QueryBuilder::<$db>::new($crate::__LOG_INSERT);
                    q.push_values(rows.iter(), $crate::__push_log_row!());
                    q.build().execute(&mut *self.0).await?;
                }
                Ok(last)
            }

            async fn log_size(&mut self) -> $crate::StoreResult<i64> {
                Ok($crate::sqlx::query_scalar("SELECT seq FROM log_head WHERE id = 1")
                    .fetch_one(&mut *self.0)
                    .await?)
            }

            async fn upsert_transfer(&mut self, t: &$crate::TransferRow) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO transfers (id, person_id, instance_id, initiator, destination, from_branch_id, to_org_id, \
                     to_branch_id, state, waiting_on, requested_on, last_action_on, due_on, overdue_on, escalated_to_id, \
                     closed_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     ON CONFLICT (id) DO UPDATE SET to_branch_id = excluded.to_branch_id, state = excluded.state, \
                     waiting_on = excluded.waiting_on, last_action_on = excluded.last_action_on, \
                     due_on = excluded.due_on, overdue_on = excluded.overdue_on, \
                     escalated_to_id = excluded.escalated_to_id, closed_on = excluded.closed_on",
                )
                .bind(t.id)
                .bind(t.person_id)
                .bind(t.instance_id)
                .bind(&t.initiator)
                .bind(&t.destination)
                .bind(t.from_branch_id)
                .bind(t.to_org_id)
                .bind(t.to_branch_id)
                .bind(&t.state)
                .bind(&t.waiting_on)
                .bind(t.requested_on)
                .bind(t.last_action_on)
                .bind(t.due_on)
                .bind(t.overdue_on)
                .bind(t.escalated_to_id)
                .bind(t.closed_on)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn transfer(
                &mut self,
                id: $crate::__Uuid,
            ) -> $crate::StoreResult<Option<$crate::TransferRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM transfers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn open_transfer(
                &mut self,
                person_id: $crate::__Uuid,
            ) -> $crate::StoreResult<Option<$crate::TransferRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM transfers WHERE person_id = $1 AND state = 'open'")
                    .bind(person_id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn transfers(&mut self, f: &$crate::TransferFilter) -> $crate::StoreResult<Vec<$crate::TransferRow>> {
                let upper = format!("{}0", f.path_prefix.trim_end_matches('/'));
                let from_in = "(fo.path >= $1 AND fo.path < $2)";
                let to_in = "(tor.path >= $1 AND tor.path < $2)";
                let side = match (f.outgoing, f.incoming) {
                    (true, false) => from_in.to_owned(),
                    (false, true) => to_in.to_owned(),
                    _ => format!("({from_in} OR {to_in})"),
                };
                let mut sql = format!(
                    "SELECT t.* FROM transfers t JOIN organisations fo ON fo.id = t.from_branch_id \
                     JOIN organisations tor ON tor.id = t.to_org_id WHERE {side}"
                );
                if f.open || f.overdue {
                    sql.push_str(" AND t.state = 'open'");
                }
                if f.overdue {
                    sql.push_str(" AND t.overdue_on IS NOT NULL");
                }
                sql.push_str(" AND ($3 IS NULL OR t.person_id = $3) ORDER BY t.requested_on, t.id");
                Ok($crate::sqlx::query_as(&sql)
                    .bind(&f.path_prefix)
                    .bind(upper)
                    .bind(f.person_id)
                    .fetch_all(&mut *self.0)
                    .await?)
            }

            async fn transfers_due(
                &mut self,
                as_of: $crate::__NaiveDate,
            ) -> $crate::StoreResult<Vec<$crate::TransferRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM transfers WHERE state = 'open' AND overdue_on IS NULL AND due_on <= $1 \
                     ORDER BY requested_on, id",
                )
                .bind(as_of)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn transfer_state_counts(&mut self) -> $crate::StoreResult<Vec<(String, i64)>> {
                Ok($crate::sqlx::query_as("SELECT state, COUNT(*) FROM transfers GROUP BY state ORDER BY state")
                    .fetch_all(&mut *self.0)
                    .await?)
            }

            async fn log(&mut self, f: &$crate::LogFilter) -> $crate::StoreResult<Vec<$crate::LogRow>> {
                let upper = f.org_path.as_ref().map(|p| format!("{}0", p.trim_end_matches('/')));
                let rule = f.rule_code.as_ref().map(|c| format!("%\"{c}\"%"));
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM transition_log WHERE ($1 IS NULL OR person_id = $1) AND seq > $2 \
                     AND ($4 IS NULL OR org_id IN (SELECT id FROM organisations WHERE path >= $4 AND path < $5)) \
                     AND ($6 IS NULL OR workflow = $6) AND ($7 IS NULL OR command = $7) \
                     AND ($8 IS NULL OR rule_codes LIKE $8) AND ($9 IS NULL OR actor = $9) \
                     AND ($10 IS NULL OR effective_date >= $10) AND ($11 IS NULL OR effective_date <= $11) \
                     ORDER BY seq LIMIT $3",
                )
                .bind(f.person_id)
                .bind(f.after_seq.unwrap_or(0))
                .bind(f.limit.unwrap_or(i64::MAX))
                .bind(&f.org_path)
                .bind(upper)
                .bind(&f.workflow)
                .bind(&f.command)
                .bind(rule)
                .bind(&f.actor)
                .bind(f.from)
                .bind(f.to)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn log_head(&mut self) -> $crate::StoreResult<(i64, Vec<u8>)> {
                Ok($crate::sqlx::query_as("SELECT seq, chain_hash FROM log_head WHERE id = 1")
                    .fetch_one(&mut *self.0)
                    .await?)
            }

            async fn log_leaves(&mut self, after_seq: i64, limit: i64) -> $crate::StoreResult<Vec<(i64, Vec<u8>)>> {
                Ok($crate::sqlx::query_as(
                    "SELECT seq, leaf_hash FROM transition_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after_seq)
                .bind(limit)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn members_page(
                &mut self,
                after: Option<$crate::__Uuid>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<($crate::MemberRow, bool)>> {
                let rows = $crate::sqlx::query(
                    "SELECT m.*, p.id IS NOT NULL AS person_exists FROM members m \
                     LEFT JOIN persons p ON p.id = m.person_id \
                     WHERE ($1 IS NULL OR m.person_id > $1) ORDER BY m.person_id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *self.0)
                .await?;
                rows.iter()
                    .map(|r| {
                        use $crate::sqlx::{FromRow as _, Row as _};
                        Ok(($crate::MemberRow::from_row(r)?, r.try_get::<bool, _>("person_exists")?))
                    })
                    .collect::<Result<Vec<_>, $crate::sqlx::Error>>()
                    .map_err(Into::into)
            }

            async fn instances_page(
                &mut self,
                after: Option<$crate::__Uuid>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::InstanceRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM instances WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn insert_evaluation(&mut self, r: &$crate::EvaluationRow) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO evaluation_rounds (id, branch_id, year, workflow_version, definition_sha256, state, \
                     version, data, opened_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(r.id)
                .bind(r.branch_id)
                .bind(r.year)
                .bind(r.workflow_version)
                .bind(&r.definition_sha256)
                .bind(&r.state)
                .bind(r.version)
                .bind(&r.data)
                .bind(r.opened_on)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn evaluation(
                &mut self,
                branch_id: $crate::__Uuid,
                year: i32,
            ) -> $crate::StoreResult<Option<$crate::EvaluationRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM evaluation_rounds WHERE branch_id = $1 AND year = $2")
                    .bind(branch_id)
                    .bind(year)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn evaluation_by_id(
                &mut self,
                id: $crate::__Uuid,
            ) -> $crate::StoreResult<Option<$crate::EvaluationRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM evaluation_rounds WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn update_evaluation(
                &mut self,
                id: $crate::__Uuid,
                expected_version: i64,
                state: &str,
                data: &str,
            ) -> $crate::StoreResult<()> {
                let done = $crate::sqlx::query(
                    "UPDATE evaluation_rounds SET state = $3, data = $4, version = version + 1 \
                     WHERE id = $1 AND version = $2",
                )
                .bind(id)
                .bind(expected_version)
                .bind(state)
                .bind(data)
                .execute(&mut *self.0)
                .await?;
                if done.rows_affected() != 1 {
                    return Err($crate::StoreError::Conflict { expected: expected_version });
                }
                Ok(())
            }

            async fn evaluations_page(
                &mut self,
                after: Option<$crate::__Uuid>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::EvaluationRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM evaluation_rounds WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn insert_graded(
                &mut self,
                round_id: $crate::__Uuid,
                year: i32,
                person_ids: &[$crate::__Uuid],
            ) -> $crate::StoreResult<()> {
                for chunk in person_ids.chunks(1000) {
                    let mut q = $crate::sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO evaluation_graded (person_id, round_id, year) ",
                    );
                    q.push_values(chunk, |mut b, p| {
                        b.push_bind(*p).push_bind(round_id).push_bind(year);
                    });
                    q.push(" ON CONFLICT (person_id, round_id) DO NOTHING");
                    q.build().execute(&mut *self.0).await?;
                }
                Ok(())
            }

            async fn graded_rounds(
                &mut self,
                person_id: $crate::__Uuid,
            ) -> $crate::StoreResult<Vec<$crate::__Uuid>> {
                Ok($crate::sqlx::query_scalar(
                    "SELECT round_id FROM evaluation_graded WHERE person_id = $1 ORDER BY year DESC, round_id DESC",
                )
                .bind(person_id)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn evaluation_state_counts(&mut self) -> $crate::StoreResult<Vec<(String, i64)>> {
                Ok($crate::sqlx::query_as(
                    "SELECT state, COUNT(*) FROM evaluation_rounds GROUP BY state ORDER BY state",
                )
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn instances_at(
                &mut self,
                workflow: &str,
                branch_id: $crate::__Uuid,
            ) -> $crate::StoreResult<Vec<$crate::InstanceRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM instances WHERE workflow = $1 AND branch_id = $2 ORDER BY id",
                )
                .bind(workflow)
                .bind(branch_id)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn instances_of(
                &mut self,
                person_id: $crate::__Uuid,
                workflow: &str,
            ) -> $crate::StoreResult<Vec<$crate::InstanceRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM instances WHERE person_id = $1 AND workflow = $2 ORDER BY id",
                )
                .bind(person_id)
                .bind(workflow)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn insert_audit_key(&mut self, name: &str, vkey: &str) -> $crate::StoreResult<()> {
                $crate::sqlx::query("INSERT INTO audit_keys (name, vkey, created_at) VALUES ($1, $2, $3)")
                    .bind(name)
                    .bind(vkey)
                    .bind($crate::__now_micros())
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn audit_key(&mut self, name: &str) -> $crate::StoreResult<Option<String>> {
                Ok($crate::sqlx::query_scalar("SELECT vkey FROM audit_keys WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn insert_checkpoint(&mut self, c: &$crate::CheckpointRow) -> $crate::StoreResult<()> {
                let next: i64 = $crate::sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM checkpoints")
                    .fetch_one(&mut *self.0)
                    .await?;
                if next != c.id {
                    return Err($crate::StoreError::Unique {
                        constraint: format!("checkpoints.id: next is {next}, not {}", c.id),
                    });
                }
                $crate::sqlx::query(
                    "INSERT INTO checkpoints (id, size, root, chain_head, key_name, note, reason, created_at, frontier) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(c.id)
                .bind(c.size)
                .bind(&c.root)
                .bind(&c.chain_head)
                .bind(&c.key_name)
                .bind(&c.note)
                .bind(&c.reason)
                .bind(c.created_at)
                .bind(&c.frontier)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn checkpoints(&mut self) -> $crate::StoreResult<Vec<$crate::CheckpointRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM checkpoints ORDER BY id")
                    .fetch_all(&mut *self.0)
                    .await?)
            }

            async fn last_checkpoint(&mut self) -> $crate::StoreResult<Option<$crate::CheckpointRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM checkpoints ORDER BY id DESC LIMIT 1")
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn insert_principal(&mut self, p: &$crate::PrincipalRow) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO principals (id, name, created_at, disabled_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(p.id)
                .bind(&p.name)
                .bind(p.created_at)
                .bind(p.disabled_at)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn principal_by_name(&mut self, name: &str) -> $crate::StoreResult<Option<$crate::PrincipalRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM principals WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn principal_by_id(
                &mut self,
                id: $crate::__Uuid,
            ) -> $crate::StoreResult<Option<$crate::PrincipalRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM principals WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn principals(&mut self) -> $crate::StoreResult<Vec<$crate::PrincipalRow>> {
                Ok($crate::sqlx::query_as("SELECT * FROM principals ORDER BY name")
                    .fetch_all(&mut *self.0)
                    .await?)
            }

            async fn set_principal_disabled(
                &mut self,
                id: $crate::__Uuid,
                at: Option<$crate::__DateTimeUtc>,
            ) -> $crate::StoreResult<bool> {
                let r = $crate::sqlx::query("UPDATE principals SET disabled_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&mut *self.0)
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn insert_binding(
                &mut self,
                principal_id: $crate::__Uuid,
                role: &str,
                org_id: Option<$crate::__Uuid>,
                person_id: Option<$crate::__Uuid>,
                created_at: $crate::__DateTimeUtc,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO role_bindings (principal_id, role, org_id, person_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(principal_id)
                .bind(role)
                .bind(org_id)
                .bind(person_id)
                .bind(created_at)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn delete_binding(
                &mut self,
                principal_id: $crate::__Uuid,
                role: &str,
                org_id: Option<$crate::__Uuid>,
                person_id: Option<$crate::__Uuid>,
            ) -> $crate::StoreResult<bool> {
                let r = $crate::sqlx::query(
                    "DELETE FROM role_bindings WHERE principal_id = $1 AND role = $2 \
                     AND (($3 IS NULL AND org_id IS NULL) OR org_id = $3) \
                     AND (($4 IS NULL AND person_id IS NULL) OR person_id = $4)",
                )
                .bind(principal_id)
                .bind(role)
                .bind(org_id)
                .bind(person_id)
                .execute(&mut *self.0)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn bindings_of(
                &mut self,
                principal_id: $crate::__Uuid,
            ) -> $crate::StoreResult<Vec<$crate::BindingRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT b.role, b.org_id, b.person_id, b.created_at, \
                     COALESCE(o.code, mo.code) AS org_code, COALESCE(o.path, mo.path) AS org_path, \
                     p.resident_id \
                     FROM role_bindings b \
                     LEFT JOIN organisations o ON o.id = b.org_id \
                     LEFT JOIN members m ON m.person_id = b.person_id \
                     LEFT JOIN organisations mo ON mo.id = m.branch_id \
                     LEFT JOIN persons p ON p.id = b.person_id \
                     WHERE b.principal_id = $1 \
                     ORDER BY b.created_at, b.role, COALESCE(o.path, mo.path)",
                )
                .bind(principal_id)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn insert_token(
                &mut self,
                id: $crate::__Uuid,
                principal_id: $crate::__Uuid,
                label: &str,
                secret_hash: &str,
                created_at: $crate::__DateTimeUtc,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO api_tokens (id, principal_id, label, secret_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(principal_id)
                .bind(label)
                .bind(secret_hash)
                .bind(created_at)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn token(&mut self, id: $crate::__Uuid) -> $crate::StoreResult<Option<$crate::TokenRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT t.id, t.principal_id, p.name AS principal_name, \
                     p.disabled_at IS NOT NULL AS principal_disabled, t.label, t.secret_hash, t.created_at, \
                     t.revoked_at, t.last_used_on \
                     FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE t.id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *self.0)
                .await?)
            }

            async fn revoke_token(
                &mut self,
                id: $crate::__Uuid,
                at: $crate::__DateTimeUtc,
            ) -> $crate::StoreResult<bool> {
                let r = $crate::sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(at)
                .execute(&mut *self.0)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn touch_token(
                &mut self,
                id: $crate::__Uuid,
                on: $crate::__NaiveDate,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
                    "UPDATE api_tokens SET last_used_on = $2 \
                     WHERE id = $1 AND (last_used_on IS NULL OR last_used_on <> $2)",
                )
                .bind(id)
                .bind(on)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn tokens_of(
                &mut self,
                principal_id: $crate::__Uuid,
            ) -> $crate::StoreResult<Vec<$crate::TokenRow>> {
                Ok($crate::sqlx::query_as(
                    "SELECT t.id, t.principal_id, p.name AS principal_name, \
                     p.disabled_at IS NOT NULL AS principal_disabled, t.label, t.secret_hash, t.created_at, \
                     t.revoked_at, t.last_used_on \
                     FROM api_tokens t JOIN principals p ON p.id = t.principal_id \
                     WHERE t.principal_id = $1 ORDER BY t.created_at, t.id",
                )
                .bind(principal_id)
                .fetch_all(&mut *self.0)
                .await?)
            }

            async fn claim_idempotency(
                &mut self,
                principal_id: $crate::__Uuid,
                key: &str,
                request_sha256: &[u8],
                at: $crate::__DateTimeUtc,
            ) -> $crate::StoreResult<(bool, $crate::IdempotencyRow)> {
                let inserted = $crate::sqlx::query(
                    "INSERT INTO idempotency_keys (principal_id, key, request_sha256, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (principal_id, key) DO NOTHING",
                )
                .bind(principal_id)
                .bind(key)
                .bind(request_sha256)
                .bind(at)
                .execute(&mut *self.0)
                .await?
                .rows_affected()
                    == 1;
                let row = $crate::sqlx::query_as(
                    "SELECT * FROM idempotency_keys WHERE principal_id = $1 AND key = $2",
                )
                .bind(principal_id)
                .bind(key)
                .fetch_one(&mut *self.0)
                .await?;
                Ok((inserted, row))
            }

            async fn complete_idempotency(
                &mut self,
                principal_id: $crate::__Uuid,
                key: &str,
                status: i32,
                response: &str,
                at: $crate::__DateTimeUtc,
            ) -> $crate::StoreResult<bool> {
                let r = $crate::sqlx::query(
                    "UPDATE idempotency_keys SET status = $3, response = $4, completed_at = $5 \
                     WHERE principal_id = $1 AND key = $2 AND status IS NULL",
                )
                .bind(principal_id)
                .bind(key)
                .bind(status)
                .bind(response)
                .bind(at)
                .execute(&mut *self.0)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn release_idempotency(
                &mut self,
                principal_id: $crate::__Uuid,
                key: &str,
            ) -> $crate::StoreResult<bool> {
                let r = $crate::sqlx::query(
                    "DELETE FROM idempotency_keys WHERE principal_id = $1 AND key = $2 AND status IS NULL",
                )
                .bind(principal_id)
                .bind(key)
                .execute(&mut *self.0)
                .await?;
                Ok(r.rows_affected() == 1)
            }
        }
    };
}
