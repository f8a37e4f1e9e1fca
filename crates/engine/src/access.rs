//! Authorisation over the organisation tree (ARCHITECTURE.md "Access"): a principal holds role bindings on an
//! organisation, and a binding covers that organisation's subtree (团市委 → 团县委 → 团委 → 团总支 → 团支部).
//! A `member` binding covers one person: their own record, transfer request and report-in.
//!
//! The engine checks every command of an [`Actor`] that carries grants (the HTTP API) against the organisation
//! the command acts on; the trusted CLI carries none.

use crate::admission::role_claimed;
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::{Deserialize, Serialize};
use tuanji_store::{Store, StoreTx};
use tuanji_workflow::{Definition, TransitionDef};
use uuid::Uuid;

/// A role a principal can hold. The names are the roles of the workflow tables (`workflows/*.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: manages principals and tokens, imports the organisation tree, runs sweeps.
    SystemAdmin,
    /// 团委管理员: a committee's administrator over its subtree (activists, approvals, quotas, transfers).
    CommitteeAdmin,
    /// 团支部书记: a branch secretary over their branch.
    BranchSecretary,
    /// 审计员: reads the subtree and its log; never changes anything but checkpoints.
    Auditor,
    /// 团员本人: a member over their own record.
    Member,
}

impl Role {
    /// Every role, in the order above.
    pub const ALL: [Role; 5] = [
        Role::SystemAdmin,
        Role::CommitteeAdmin,
        Role::BranchSecretary,
        Role::Auditor,
        Role::Member,
    ];

    /// The role's name in the workflow tables and the API (`committee_admin`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::CommitteeAdmin => "committee_admin",
            Role::BranchSecretary => "branch_secretary",
            Role::Auditor => "auditor",
            Role::Member => "member",
        }
    }

    /// Parses a role name. Errors: [`EngineError::Input`] naming the roles there are.
    pub fn parse(s: &str) -> EngineResult<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                EngineError::Input(format!(
                    "unknown role `{s}`; roles: system_admin, committee_admin, branch_secretary, auditor, member"
                ))
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One role binding of a principal, resolved for checking: the role, and the organisation whose subtree it covers
/// (its code and its path `/CYLC/110000/…/`), or for [`Role::Member`] the person it covers (and that person's branch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The role held.
    pub role: Role,
    /// Code of the organisation the binding is on (for `member`: the member's branch when bound).
    pub org_code: String,
    /// Path of that organisation from the root, ending in `/`; the binding covers every path it prefixes.
    pub org_path: String,
    /// For `member`: the person covered; `None` for the other roles.
    pub person_id: Option<Uuid>,
}

/// What a command or query acts on: the organisation (by path) and, when it concerns one member, that person.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Path of the organisation acted on (`/CYLC/…/`).
    pub org_path: &'a str,
    /// The person acted on, if any.
    pub person: Option<Uuid>,
}

impl Grant {
    /// Whether this binding covers `scope`: a `member` binding only its own person; every other binding the
    /// subtree of its organisation.
    pub fn covers(&self, scope: Scope<'_>) -> bool {
        match self.role {
            Role::Member => self.person_id.is_some() && self.person_id == scope.person,
            _ => scope.org_path.starts_with(&self.org_path),
        }
    }
}

/// The roles among `allowed` that `grants` hold over `scope`, in `allowed`'s order.
pub fn roles_over<'r>(grants: &[Grant], allowed: &'r [String], scope: Scope<'_>) -> Vec<&'r str> {
    allowed
        .iter()
        .filter(|r| {
            grants
                .iter()
                .any(|g| g.role.as_str() == r.as_str() && g.covers(scope))
        })
        .map(String::as_str)
        .collect()
}

/// Whether the actor may read what lies in `scope` (any binding covering it; reads are not tied to a transition).
/// The trusted CLI (no grants) may read everything.
pub fn may_read(actor: &Actor, scope: Scope<'_>) -> bool {
    match &actor.grants {
        None => true,
        Some(grants) => grants.iter().any(|g| g.covers(scope)),
    }
}

/// The role `actor` acts in for a transition that `allowed` roles may issue, on `scope`.
///
/// Without grants (CLI): the claimed role if allowed, else the first allowed role. With grants (HTTP): the claimed
/// role, or else the first allowed role, that one of the grants holds over `scope`.
///
/// Errors: [`EngineError::Forbidden`] when no grant allows it (the message names the command's roles, never what
/// the organisation holds).
pub(crate) fn authorise(
    actor: &Actor,
    command: &str,
    allowed: &[String],
    scope: Scope<'_>,
) -> EngineResult<Option<String>> {
    let Some(grants) = &actor.grants else {
        return Ok(None);
    };
    let held = roles_over(grants, allowed, scope);
    let pick = match &actor.role {
        Some(r) => held.iter().find(|h| **h == r.as_str()).copied(),
        None => held.first().copied(),
    };
    pick.map(|r| Some(r.to_owned())).ok_or_else(|| {
        EngineError::Forbidden(format!(
            "`{command}` needs one of the roles {} over this organisation; the caller holds none of them here",
            allowed.join(", ")
        ))
    })
}

/// For work over the whole register (the sweep): the actor as the trusted CLI would be, acting as `role`, once an
/// API caller is found to hold `role` over the root of the tree (a binding whose organisation has no parent).
///
/// Errors: [`EngineError::Forbidden`] when it does not.
pub(crate) fn whole_register(actor: &Actor, role: Role) -> EngineResult<Actor> {
    let Some(grants) = &actor.grants else {
        return Ok(actor.clone());
    };
    let at_root = grants
        .iter()
        .any(|g| g.role == role && g.org_path.matches('/').count() == 2);
    if !at_root {
        return Err(EngineError::Forbidden(format!(
            "this works on the whole register: it needs {role} over the root organisation"
        )));
    }
    Ok(Actor {
        name: actor.name.clone(),
        role: Some(role.as_str().to_owned()),
        grants: None,
        if_version: None,
        idempotency_key: actor.idempotency_key.clone(),
    })
}

/// Checks the caller's `If-Match` version against the instance's current version.
///
/// Errors: [`EngineError::Precondition`] naming both versions.
pub(crate) fn check_version(actor: &Actor, current: i64) -> EngineResult<()> {
    match actor.if_version {
        Some(v) if v != current => Err(EngineError::Precondition(format!(
            "the instance is at version {current}, not {v} (If-Match): read it again and resubmit"
        ))),
        _ => Ok(()),
    }
}

impl<S: Store> Engine<S> {
    /// The role `actor` issues transition `t` in, acting on organisation `org` (and on `person`, when the command
    /// concerns one member): [`role_claimed`] for the trusted CLI; for an API caller, a role the transition allows
    /// that one of its grants holds over the organisation's subtree (or, for `member`, over that person).
    ///
    /// Errors: WF_NOT_ALLOWED for a claimed role the transition does not allow, [`EngineError::Forbidden`] when
    /// no grant allows the command there.
    pub(crate) async fn role_on(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        t: &TransitionDef,
        def: &Definition,
        org: Uuid,
        person: Option<Uuid>,
    ) -> EngineResult<String> {
        let claimed = role_claimed(actor, t, def)?;
        if actor.grants.is_none() {
            return Ok(claimed);
        }
        let path = self.org_path(tx, org).await?;
        let scope = Scope {
            org_path: &path,
            person,
        };
        Ok(authorise(actor, &t.command, &t.roles, scope)?.unwrap_or(claimed))
    }

    /// For an API caller: [`EngineError::NotFound`] (worded exactly as for a person who does not exist) unless one of its
    /// grants covers one of `orgs` or `person`, so that a caller outside learns nothing about the member, not even
    /// that they exist. Nothing for the trusted CLI.
    pub(crate) async fn gate(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        orgs: &[Uuid],
        person: Option<Uuid>,
        reference: &str,
    ) -> EngineResult<()> {
        if actor.grants.is_none() {
            return Ok(());
        }
        for org in orgs {
            let path = self.org_path(tx, *org).await?;
            if may_read(
                actor,
                Scope {
                    org_path: &path,
                    person,
                },
            ) {
                return Ok(());
            }
        }
        Err(EngineError::NotFound(format!(
            "no person on record for {}",
            tuanji_domain::mask_id_like(reference.trim())
        )))
    }

    /// For operations that are not workflow transitions (organisation import, quotas, graduation marking,
    /// principals, reads): the organisation named by `code`, after checking that an API caller holds one of `roles`
    /// over it. Nothing is checked for the trusted CLI.
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown code, [`EngineError::Forbidden`] when no grant in one of
    /// `roles` covers the organisation.
    pub async fn authorise_org(
        &self,
        actor: &Actor,
        code: &str,
        roles: &[Role],
    ) -> EngineResult<tuanji_store::OrgRow> {
        let mut tx = self.store().begin_read().await?;
        let org = tx.org_by_code(code.trim()).await?.ok_or_else(|| {
            EngineError::NotFound(format!("no organisation has code `{}`", code.trim()))
        })?;
        tx.commit().await?;
        if let Some(grants) = &actor.grants {
            let scope = Scope {
                org_path: &org.path,
                person: None,
            };
            if !grants
                .iter()
                .any(|g| roles.contains(&g.role) && g.covers(scope))
            {
                return Err(EngineError::Forbidden(format!(
                    "this needs one of the roles {} over {} ({})",
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    org.name,
                    org.code
                )));
            }
        }
        Ok(org)
    }

    /// For reads of one person's record by an API caller: the person named by `reference` (resident ID,
    /// development number or instance id), if one of the caller's grants covers them: the member binding of that
    /// person, or a binding over their branch (for an applicant, the admission's branch) or over the receiving
    /// organisation of their open transfer. Returns the person's id.
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown person and, in the same words, for one the caller does
    /// not cover (existence does not leak); [`EngineError::Input`] for a malformed reference.
    pub async fn gate_person(&self, actor: &Actor, reference: &str) -> EngineResult<Uuid> {
        let mut tx = self.store().begin_read().await?;
        let hidden = || {
            EngineError::NotFound(format!(
                "no person on record for {}",
                tuanji_domain::mask_id_like(reference.trim())
            ))
        };
        let person = match self.find_person(&mut tx, reference).await {
            Err(EngineError::NotFound(_)) => return Err(hidden()),
            other => other?,
        };
        if actor.grants.is_some() {
            let mut orgs = Vec::new();
            match tx.member(person.id).await? {
                Some(m) => orgs.push(m.branch_id),
                None => {
                    if let Some(i) = tx.latest_instance(person.id, "admission").await? {
                        orgs.push(i.branch_id);
                    }
                }
            }
            if let Some(t) = tx.open_transfer(person.id).await? {
                orgs.push(t.to_org_id);
            }
            if self
                .gate(&mut tx, actor, &orgs, Some(person.id), reference)
                .await
                .is_err()
            {
                return Err(hidden());
            }
        }
        tx.commit().await?;
        Ok(person.id)
    }

    /// The version of `person`'s latest instance of `workflow` (`admission`, `relation`, `standing`,
    /// `party_recommendation`), the value an `If-Match` names; `None` when there is none.
    pub async fn instance_version(
        &self,
        person: Uuid,
        workflow: &str,
    ) -> EngineResult<Option<i64>> {
        let mut tx = self.store().begin_read().await?;
        let v = tx
            .latest_instance(person, workflow)
            .await?
            .map(|i| i.version);
        tx.commit().await?;
        Ok(v)
    }

    /// The id of the organisation with this code (the acting organisation a command names).
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown code.
    pub(crate) async fn branch_or_org(&self, tx: &mut S::Tx, code: &str) -> EngineResult<Uuid> {
        Ok(tx
            .org_by_code(code.trim())
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!("no organisation has code `{}`", code.trim()))
            })?
            .id)
    }

    /// The path (`/CYLC/…/`) of an organisation by id.
    pub(crate) async fn org_path(&self, tx: &mut S::Tx, org: Uuid) -> EngineResult<String> {
        Ok(tx
            .org_by_id(org)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no organisation has id {org}")))?
            .path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, path: &str, person: Option<Uuid>) -> Grant {
        Grant {
            role,
            org_code: "X".into(),
            org_path: path.into(),
            person_id: person,
        }
    }

    #[test]
    fn a_binding_covers_its_subtree_only() {
        let g = grant(Role::CommitteeAdmin, "/CYLC/110000/", None);
        let inside = Scope {
            org_path: "/CYLC/110000/110105/",
            person: None,
        };
        let beside = Scope {
            org_path: "/CYLC/120000/",
            person: None,
        };
        let above = Scope {
            org_path: "/CYLC/",
            person: None,
        };
        assert!(g.covers(inside));
        assert!(!g.covers(beside));
        assert!(!g.covers(above));
    }

    #[test]
    fn a_member_binding_covers_its_person_only() {
        let me = Uuid::from_u128(1);
        let g = grant(Role::Member, "/CYLC/B/", Some(me));
        let mine = Scope {
            org_path: "/CYLC/B/",
            person: Some(me),
        };
        let other = Scope {
            org_path: "/CYLC/B/",
            person: Some(Uuid::from_u128(2)),
        };
        assert!(g.covers(mine));
        assert!(!g.covers(other));
    }

    #[test]
    fn authorise_picks_a_held_allowed_role_or_forbids() {
        let allowed = vec!["branch_secretary".to_owned(), "committee_admin".to_owned()];
        let scope = Scope {
            org_path: "/CYLC/A/B/",
            person: None,
        };
        let actor = Actor {
            name: "x".into(),
            grants: Some(std::sync::Arc::new(vec![grant(
                Role::CommitteeAdmin,
                "/CYLC/A/",
                None,
            )])),
            ..Actor::default()
        };
        assert_eq!(
            authorise(&actor, "approve", &allowed, scope).expect("allowed"),
            Some("committee_admin".to_owned())
        );
        let auditor = Actor {
            name: "x".into(),
            grants: Some(std::sync::Arc::new(vec![grant(
                Role::Auditor,
                "/CYLC/",
                None,
            )])),
            ..Actor::default()
        };
        assert!(matches!(
            authorise(&auditor, "approve", &allowed, scope),
            Err(EngineError::Forbidden(_))
        ));
        let cli = Actor::new("x");
        assert_eq!(
            authorise(&cli, "approve", &allowed, scope).expect("cli"),
            None
        );
    }

    #[test]
    fn if_match_other_than_current_version_is_a_failed_precondition() {
        let mut a = Actor::new("x");
        assert!(check_version(&a, 3).is_ok());
        a.if_version = Some(3);
        assert!(check_version(&a, 3).is_ok());
        a.if_version = Some(2);
        match check_version(&a, 3) {
            Err(EngineError::Precondition(m)) => assert_eq!(
                m,
                "the instance is at version 3, not 2 (If-Match): read it again and resubmit"
            ),
            other => panic!("expected a failed precondition, got {other:?}"),
        }
    }
}
