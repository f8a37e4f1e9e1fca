//! The persistent side of access (ARCHITECTURE.md "Access", issue 6): principals (调用者), their role bindings on
//! the organisation tree, API bearer tokens and the HTTP API's idempotency keys.
//!
//! - A **principal** is a person or system with a unique name (1–50 characters, no control characters); the name
//!   is recorded as the actor of the commands it issues.
//! - A **role binding** gives a principal a [`Role`] over an organisation's subtree, or (`member`) over one
//!   member's own record. A member binding names the person, not the branch: it follows the member's transfers.
//! - A **token** is `tj_<token id as 32 hex digits>_<43 base64url characters: 32 random bytes from the operating
//!   system>`. It is shown once, when created; the database keeps only an argon2id PHC string of the secret
//!   (crate `argon2`, default parameters: m = 19 MiB, t = 2, p = 1). [`Engine::authenticate`] pays argon2 only for
//!   the first request of a token in this process (a verified secret's SHA-256 is kept in memory), but reads the
//!   token row on every request, so a revoked token or a disabled principal stops working at once.
//! - An **idempotency key** (`Idempotency-Key` of a POST) is claimed once per principal with the SHA-256 of the
//!   request; a repeat returns the first response, a different request under the same key is a mismatch.
//!
//! Errors: [`EngineError::Input`] for a bad name, label, role target or key; [`EngineError::NotFound`] for an
//! unknown principal, organisation, member or token; [`EngineError::Unauthenticated`] from
//! [`Engine::authenticate`].

use crate::access::{Grant, Role};
use crate::{Actor, Engine, EngineError, EngineResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tuanji_domain::ResidentId;
use tuanji_store::{BindingRow, PersonRow, PrincipalRow, Store, StoreError, StoreTx, TokenRow};
use uuid::Uuid;

/// Longest principal name, in characters.
pub const NAME_MAX: usize = 50;
/// Longest token label, in characters.
pub const LABEL_MAX: usize = 100;
/// Longest idempotency key, in characters (printable ASCII).
pub const KEY_MAX: usize = 200;
/// Prefix of every bearer token.
pub const TOKEN_PREFIX: &str = "tj_";
/// Length of a bearer token: `tj_`, 32 hex digits, `_`, 43 base64url characters.
pub const TOKEN_LEN: usize = 3 + 32 + 1 + 43;

/// The one message of every refused token that is well formed (unknown, wrong secret, revoked, disabled
/// principal): it does not tell which.
pub const TOKEN_REFUSED: &str =
    "the token is not valid: unknown, revoked, or its principal is disabled";

/// Secrets already verified with argon2 in this process: token id → SHA-256 of the secret.
pub(crate) type VerifiedTokens = Arc<Mutex<HashMap<Uuid, [u8; 32]>>>;

/// A principal as listed and shown: never a token or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalView {
    /// UUID v7.
    pub id: Uuid,
    /// The unique name.
    pub name: String,
    /// Server time of creation (UTC).
    pub created_at: DateTime<Utc>,
    /// Server time it was disabled (UTC), if it was.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Its role bindings, oldest first.
    pub bindings: Vec<BindingView>,
    /// Its tokens not revoked.
    pub tokens: usize,
}

/// One role binding as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingView {
    /// The role held.
    pub role: Role,
    /// The organisation the binding is on; for `member`, the member's current branch.
    pub org_code: String,
    /// For `member`: the member's resident ID, masked (`110105********1234`).
    pub member: Option<String>,
}

/// An API token as shown: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenView {
    /// Token id (the 32 hex digits after `tj_`).
    pub id: Uuid,
    /// The principal's name.
    pub principal: String,
    /// Free text, at most 100 characters.
    pub label: String,
    /// Server time of creation (UTC).
    pub created_at: DateTime<Utc>,
    /// Server time of revocation (UTC), if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The last day (China Standard Time) a request authenticated with it.
    pub last_used_on: Option<NaiveDate>,
}

impl From<&TokenRow> for TokenView {
    fn from(t: &TokenRow) -> Self {
        TokenView {
            id: t.id,
            principal: t.principal_name.clone(),
            label: t.label.clone(),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
            last_used_on: t.last_used_on,
        }
    }
}

/// A caller whose bearer token was verified, with its role bindings resolved for checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The principal's id.
    pub principal_id: Uuid,
    /// The principal's name.
    pub name: String,
    /// Its role bindings: organisation code and path (for `member`: the member's current branch) and person.
    pub grants: Arc<Vec<Grant>>,
}

impl Authenticated {
    /// The [`Actor`] of this caller's commands: named after the principal, with its grants (so the engine
    /// authorises every command), no claimed role, no `If-Match` and no idempotency key yet.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.name.clone(),
            grants: Some(self.grants.clone()),
            ..Actor::default()
        }
    }
}

/// What [`Engine::idempotency_claim`] found under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: this request runs, then calls [`Engine::idempotency_complete`] (or
    /// [`Engine::idempotency_release`] if it failed before any effect).
    Owned,
    /// The same request already completed: answer with its response, change nothing.
    Replay {
        /// HTTP status of the first response.
        status: u16,
        /// Body of the first response.
        body: String,
    },
    /// The key was used with a different request (HTTP 422).
    Mismatch,
    /// The same request is still running (HTTP 409: retry later).
    Pending,
}

/// Validates a principal name: trimmed, 1–50 characters, no control characters.
///
/// Errors: [`EngineError::Input`] naming what is wrong.
pub fn principal_name(name: &str) -> EngineResult<&str> {
    let n = name.trim();
    let chars = n.chars().count();
    if chars == 0 {
        return Err(EngineError::Input("a principal name is required".into()));
    }
    if chars > NAME_MAX {
        return Err(EngineError::Input(format!(
            "a principal name has at most {NAME_MAX} characters, not {chars}"
        )));
    }
    if n.chars().any(char::is_control) {
        return Err(EngineError::Input(
            "a principal name may not contain control characters".into(),
        ));
    }
    Ok(n)
}

/// Validates a token label: trimmed, at most 100 characters, no control characters (empty is allowed).
///
/// Errors: [`EngineError::Input`].
pub fn token_label(label: &str) -> EngineResult<&str> {
    let l = label.trim();
    let chars = l.chars().count();
    if chars > LABEL_MAX {
        return Err(EngineError::Input(format!(
            "a token label has at most {LABEL_MAX} characters, not {chars}"
        )));
    }
    if l.chars().any(char::is_control) {
        return Err(EngineError::Input(
            "a token label may not contain control characters".into(),
        ));
    }
    Ok(l)
}

/// Validates an idempotency key: 1–200 printable ASCII characters (space to `~`).
///
/// Errors: [`EngineError::Input`].
pub fn idempotency_key(key: &str) -> EngineResult<&str> {
    if key.is_empty() || key.len() > KEY_MAX {
        return Err(EngineError::Input(format!(
            "an idempotency key has 1 to {KEY_MAX} characters, not {}",
            key.chars().count()
        )));
    }
    if !key.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(EngineError::Input(
            "an idempotency key is printable ASCII (space to `~`) only".into(),
        ));
    }
    Ok(key)
}

/// Splits a bearer token into its token id and its 32-byte secret.
///
/// Errors: [`EngineError::Unauthenticated`] "malformed token …" when it is not `tj_<32 hex>_<43 base64url>`.
pub fn parse_token(bearer: &str) -> EngineResult<(Uuid, [u8; 32])> {
    let malformed = || {
        EngineError::Unauthenticated(
            "malformed token: expected tj_<32 hex digits>_<43 base64url characters>".into(),
        )
    };
    let t = bearer.trim();
    if t.len() != TOKEN_LEN || !t.is_ascii() {
        return Err(malformed());
    }
    let rest = t.strip_prefix(TOKEN_PREFIX).ok_or_else(malformed)?;
    let (id_hex, secret) = rest.split_at(32);
    let secret = secret.strip_prefix('_').ok_or_else(malformed)?;
    if !id_hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(malformed());
    }
    let id = Uuid::parse_str(id_hex).map_err(|_| malformed())?;
    let bytes = URL_SAFE_NO_PAD.decode(secret).map_err(|_| malformed())?;
    let secret: [u8; 32] = bytes.try_into().map_err(|_| malformed())?;
    // Only the canonical encoding: the last character carries 4 unused bits that must be zero.
    if URL_SAFE_NO_PAD.encode(secret) != t[TOKEN_LEN - 43..] {
        return Err(malformed());
    }
    Ok((id, secret))
}

/// The bearer token of token `id` and `secret`: `tj_<id as 32 hex>_<secret as 43 base64url characters>`.
pub fn format_token(id: Uuid, secret: &[u8; 32]) -> String {
    format!(
        "{TOKEN_PREFIX}{}_{}",
        id.simple(),
        URL_SAFE_NO_PAD.encode(secret)
    )
}

/// Compares two digests without stopping at the first difference.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// argon2id of `secret` with a 16-byte salt from the operating system's random source, as a PHC string.
fn hash_secret(secret: &[u8; 32]) -> EngineResult<String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| EngineError::Unavailable(format!("cannot encode a token salt: {e}")))?;
    Ok(Argon2::default()
        .hash_password(secret, &salt)
        .map_err(|e| EngineError::Unavailable(format!("cannot hash a token secret: {e}")))?
        .to_string())
}

/// Whether `secret` matches the argon2 PHC string `phc` (a PHC string that does not parse never matches).
fn verify_secret(secret: &[u8; 32], phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default().verify_password(secret, &h).is_ok(),
        Err(_) => false,
    }
}

/// Runs CPU-bound hashing off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> EngineResult<T> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| EngineError::Unavailable(format!("token hashing failed: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Unavailable(format!("token hashing failed: {e}")))
}

/// At most this many argon2 computations run at once. Each holds argon2id's memory cost (19 MiB) while it runs:
/// sixteen clients presenting new (or bad) tokens at the same moment held 300 MiB; the rest now wait their turn.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A PHC string of a secret nobody holds, so that an unknown token costs one argon2 verification like a
/// known one (its timing does not tell whether the token id exists).
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

fn not_found_principal(name: &str) -> EngineError {
    EngineError::NotFound(format!("no principal is named `{name}`"))
}

fn binding_view(b: &BindingRow) -> EngineResult<BindingView> {
    Ok(BindingView {
        role: stored_role(&b.role)?,
        org_code: b.org_code.clone().unwrap_or_default(),
        member: b.resident_id.as_deref().map(tuanji_domain::mask_id_like),
    })
}

fn stored_role(role: &str) -> EngineResult<Role> {
    Role::parse(role).map_err(|_| {
        StoreError::Corrupt(format!("role_bindings.role `{role}` is not a role")).into()
    })
}

impl<S: Store> Engine<S> {
    /// Creates a principal named `name` (trimmed), with no binding and no token.
    ///
    /// Errors: [`EngineError::Input`] for a bad name or a name already taken.
    pub async fn principal_add(&self, name: &str) -> EngineResult<PrincipalView> {
        let name = principal_name(name)?;
        let row = PrincipalRow {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            created_at: tuanji_store::__now_micros(),
            disabled_at: None,
        };
        let mut tx = self.store().begin().await?;
        if tx.principal_by_name(name).await?.is_some() {
            return Err(taken(name));
        }
        tx.insert_principal(&row).await.map_err(|e| match e {
            StoreError::Unique { .. } => taken(name),
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(PrincipalView {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            disabled_at: None,
            bindings: Vec::new(),
            tokens: 0,
        })
    }

    /// The principal named `name`, with its bindings and the number of its tokens not revoked.
    ///
    /// Errors: [`EngineError::NotFound`].
    pub async fn principal(&self, name: &str) -> EngineResult<PrincipalView> {
        let name = principal_name(name)?;
        let mut tx = self.store().begin_read().await?;
        let p = tx
            .principal_by_name(name)
            .await?
            .ok_or_else(|| not_found_principal(name))?;
        let view = principal_view(&mut tx, p).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Every principal, by name, with its bindings and the number of its tokens not revoked.
    pub async fn principal_list(&self) -> EngineResult<Vec<PrincipalView>> {
        let mut tx = self.store().begin_read().await?;
        let mut out = Vec::new();
        for p in tx.principals().await? {
            out.push(principal_view(&mut tx, p).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Disables a principal: its tokens stop working at once (they are kept, and work again if it is enabled with
    /// [`Engine::principal_enable`]). Disabling a disabled principal changes nothing.
    ///
    /// Errors: [`EngineError::NotFound`].
    pub async fn principal_disable(&self, name: &str) -> EngineResult<PrincipalView> {
        self.set_disabled(name, true).await
    }

    /// Enables a disabled principal again.
    ///
    /// Errors: [`EngineError::NotFound`].
    pub async fn principal_enable(&self, name: &str) -> EngineResult<PrincipalView> {
        self.set_disabled(name, false).await
    }

    async fn set_disabled(&self, name: &str, disabled: bool) -> EngineResult<PrincipalView> {
        let name = principal_name(name)?;
        let mut tx = self.store().begin().await?;
        let mut p = tx
            .principal_by_name(name)
            .await?
            .ok_or_else(|| not_found_principal(name))?;
        if p.disabled_at.is_some() != disabled {
            p.disabled_at = disabled.then(tuanji_store::__now_micros);
            tx.set_principal_disabled(p.id, p.disabled_at).await?;
        }
        let view = principal_view(&mut tx, p).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Gives principal `principal` the role `role` over `target`: an organisation code, or for [`Role::Member`] a
    /// member reference (18-character resident ID or 12-digit development number) of a current member (not
    /// tombstoned). A `branch_secretary` binding is on a branch (团支部).
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown principal, organisation or member;
    /// [`EngineError::Input`] for a person who is not a member, a `branch_secretary` binding on an organisation
    /// that is not a branch, or a binding the principal already holds; an ID_* rule for a malformed resident ID.
    pub async fn grant(
        &self,
        principal: &str,
        role: Role,
        target: &str,
    ) -> EngineResult<BindingView> {
        let name = principal_name(principal)?;
        let mut tx = self.store().begin().await?;
        let p = tx
            .principal_by_name(name)
            .await?
            .ok_or_else(|| not_found_principal(name))?;
        let (org_id, person_id, org_code, member) = match role {
            Role::Member => {
                let person = self.member_target(&mut tx, target).await?;
                let m = tx
                    .member(person.id)
                    .await?
                    .filter(|m| m.deleted_on.is_none());
                let Some(m) = m else {
                    return Err(EngineError::Input(format!(
                        "{} is not a member: a member binding covers a member's own record",
                        tuanji_domain::mask_id_like(&person.resident_id)
                    )));
                };
                let branch = tx.org_by_id(m.branch_id).await?.ok_or_else(|| {
                    StoreError::Corrupt(format!("member branch {} missing", m.branch_id))
                })?;
                (
                    None,
                    Some(person.id),
                    branch.code,
                    Some(tuanji_domain::mask_id_like(&person.resident_id)),
                )
            }
            _ => {
                let org = org_target(&mut tx, target).await?;
                if role == Role::BranchSecretary && org.kind != "branch" {
                    return Err(EngineError::Input(format!(
                        "a branch_secretary binding is on a branch (团支部); {} ({}) is a {}",
                        org.name, org.code, org.kind
                    )));
                }
                (Some(org.id), None, org.code, None)
            }
        };
        tx.insert_binding(
            p.id,
            role.as_str(),
            org_id,
            person_id,
            tuanji_store::__now_micros(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Unique { .. } => EngineError::Input(format!(
                "`{name}` already holds {role} over {}",
                member.as_deref().unwrap_or(&org_code)
            )),
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(BindingView {
            role,
            org_code,
            member,
        })
    }

    /// Takes back a binding given by [`Engine::grant`] with the same arguments (for [`Role::Member`] the person
    /// need no longer be a member). Tokens of the principal keep working with the bindings it has left, from
    /// their next request.
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown principal, organisation or person, or a binding the
    /// principal does not hold.
    pub async fn ungrant(
        &self,
        principal: &str,
        role: Role,
        target: &str,
    ) -> EngineResult<BindingView> {
        let name = principal_name(principal)?;
        let mut tx = self.store().begin().await?;
        let p = tx
            .principal_by_name(name)
            .await?
            .ok_or_else(|| not_found_principal(name))?;
        let (org_id, person_id, shown) = match role {
            Role::Member => {
                let person = self.member_target(&mut tx, target).await?;
                (
                    None,
                    Some(person.id),
                    tuanji_domain::mask_id_like(&person.resident_id),
                )
            }
            _ => {
                let org = org_target(&mut tx, target).await?;
                (Some(org.id), None, org.code)
            }
        };
        let view = tx
            .bindings_of(p.id)
            .await?
            .iter()
            .find(|b| b.role == role.as_str() && b.org_id == org_id && b.person_id == person_id)
            .map(binding_view)
            .transpose()?;
        let deleted = tx
            .delete_binding(p.id, role.as_str(), org_id, person_id)
            .await?;
        let Some(view) = view.filter(|_| deleted) else {
            return Err(EngineError::NotFound(format!(
                "`{name}` holds no {role} binding over {shown}"
            )));
        };
        tx.commit().await?;
        Ok(view)
    }

    /// Creates an API token for `principal`, labelled `label` (at most 100 characters, may be empty). Returns the
    /// token's view and the bearer token itself, `tj_<id>_<secret>`: shown this once, stored only as argon2id.
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown principal, [`EngineError::Input`] for a bad label or a
    /// disabled principal.
    pub async fn token_create(
        &self,
        principal: &str,
        label: &str,
    ) -> EngineResult<(TokenView, String)> {
        let name = principal_name(principal)?;
        let label = token_label(label)?.to_owned();
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let phc = blocking(move || hash_secret(&secret)).await??;
        let id = Uuid::now_v7();
        let created_at = tuanji_store::__now_micros();
        let mut tx = self.store().begin().await?;
        let p = tx
            .principal_by_name(name)
            .await?
            .ok_or_else(|| not_found_principal(name))?;
        if p.disabled_at.is_some() {
            return Err(EngineError::Input(format!(
                "`{name}` is disabled: enable it before creating a token"
            )));
        }
        tx.insert_token(id, p.id, &label, &phc, created_at).await?;
        tx.commit().await?;
        let view = TokenView {
            id,
            principal: p.name,
            label,
            created_at,
            revoked_at: None,
            last_used_on: None,
        };
        Ok((view, format_token(id, &secret)))
    }

    /// Revokes a token: from this moment every request with it is refused. Revoking a revoked token changes
    /// nothing and returns it as it is.
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown token id.
    pub async fn token_revoke(&self, token_id: Uuid) -> EngineResult<TokenView> {
        let mut tx = self.store().begin().await?;
        let mut t = tx
            .token(token_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no token has id {token_id}")))?;
        if t.revoked_at.is_none() {
            let at = tuanji_store::__now_micros();
            tx.revoke_token(token_id, at).await?;
            t.revoked_at = Some(at);
        }
        tx.commit().await?;
        self.forget_token(token_id);
        Ok(TokenView::from(&t))
    }

    /// A principal's tokens, revoked ones too, oldest first.
    ///
    /// Errors: [`EngineError::NotFound`] for an unknown principal.
    pub async fn tokens(&self, principal: &str) -> EngineResult<Vec<TokenView>> {
        let name = principal_name(principal)?;
        let mut tx = self.store().begin_read().await?;
        let p = tx
            .principal_by_name(name)
            .await?
            .ok_or_else(|| not_found_principal(name))?;
        let tokens = tx.tokens_of(p.id).await?;
        tx.commit().await?;
        Ok(tokens.iter().map(TokenView::from).collect())
    }

    /// Authenticates a bearer token (without the `Bearer ` prefix): its row is read on every call (revocation and
    /// disabling take effect at once); the secret is verified with argon2 the first time this process sees the
    /// token, then against the SHA-256 kept in memory. Records the day of use (`last_used_on`, once a day).
    ///
    /// Errors: [`EngineError::Unauthenticated`] "malformed token …" for a string that is not a token, else
    /// [`TOKEN_REFUSED`] for an unknown token, a wrong secret, a revoked token or a disabled principal alike.
    pub async fn authenticate(&self, bearer: &str) -> EngineResult<Authenticated> {
        let (id, secret) = parse_token(bearer)?;
        let refused = || EngineError::Unauthenticated(TOKEN_REFUSED.into());
        let mut tx = self.store().begin_read().await?;
        let token = tx.token(id).await?;
        let bindings = match &token {
            Some(t) => tx.bindings_of(t.principal_id).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        let Some(token) = token else {
            let dummy = DUMMY_HASH
                .get_or_try_init(|| async { blocking(|| hash_secret(&[0u8; 32])).await? })
                .await?
                .clone();
            let _ = blocking(move || verify_secret(&secret, &dummy)).await?;
            return Err(refused());
        };
        let digest: [u8; 32] = Sha256::digest(secret).into();
        let cached = self
            .verified_tokens
            .lock()
            .map(|m| m.get(&id).is_some_and(|d| same_digest(d, &digest)))
            .unwrap_or(false);
        if !cached {
            let phc = token.secret_hash.clone();
            if !blocking(move || verify_secret(&secret, &phc)).await? {
                return Err(refused());
            }
            if let Ok(mut m) = self.verified_tokens.lock() {
                m.insert(id, digest);
            }
        }
        if token.revoked_at.is_some() || token.principal_disabled {
            return Err(refused());
        }
        let today = self.today();
        if token.last_used_on != Some(today) {
            let mut tx = self.store().begin().await?;
            tx.touch_token(id, today).await?;
            tx.commit().await?;
        }
        let grants = bindings
            .iter()
            .map(|b| {
                let role = stored_role(&b.role)?;
                let (org_code, org_path) = match (role, &b.org_code, &b.org_path) {
                    (_, Some(c), Some(p)) => (c.clone(), p.clone()),
                    // A member binding covers its person wherever the member is.
                    (Role::Member, _, _) => (String::new(), String::new()),
                    // Never an empty path for a subtree binding: it would cover everything.
                    _ => {
                        return Err(EngineError::Store(StoreError::Corrupt(format!(
                            "a {role} binding of principal {} has no organisation",
                            token.principal_id
                        ))))
                    }
                };
                Ok(Grant {
                    role,
                    org_code,
                    org_path,
                    person_id: b.person_id,
                })
            })
            .collect::<EngineResult<Vec<_>>>()?;
        Ok(Authenticated {
            principal_id: token.principal_id,
            name: token.principal_name,
            grants: Arc::new(grants),
        })
    }

    /// Claims `key` for a request of `principal` whose method, path and body hash to `request_sha256`. Only one
    /// concurrent claim of a key is [`Claim::Owned`]; the others see [`Claim::Pending`] until it completes, then
    /// [`Claim::Replay`].
    ///
    /// Errors: [`EngineError::Input`] for a bad key, [`EngineError::NotFound`] for an unknown principal.
    pub async fn idempotency_claim(
        &self,
        principal: Uuid,
        key: &str,
        request_sha256: [u8; 32],
    ) -> EngineResult<Claim> {
        let key = idempotency_key(key)?;
        let mut tx = self.store().begin().await?;
        if tx.principal_by_id(principal).await?.is_none() {
            return Err(EngineError::NotFound(format!(
                "no principal has id {principal}"
            )));
        }
        let (inserted, row) = tx
            .claim_idempotency(
                principal,
                key,
                &request_sha256,
                tuanji_store::__now_micros(),
            )
            .await?;
        tx.commit().await?;
        Ok(if inserted {
            Claim::Owned
        } else if row.request_sha256 != request_sha256 {
            Claim::Mismatch
        } else {
            match row.status {
                None => Claim::Pending,
                Some(status) => Claim::Replay {
                    status: u16::try_from(status).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "idempotency status {status} is not an HTTP status"
                        ))
                    })?,
                    body: row.response.unwrap_or_default(),
                },
            }
        })
    }

    /// Stores the response of an owned key (status 100–599), which later claims of the same request replay.
    ///
    /// Errors: [`EngineError::Input`] for a bad key or status, [`EngineError::NotFound`] when no pending claim
    /// holds the key (never claimed, released, or already completed).
    pub async fn idempotency_complete(
        &self,
        principal: Uuid,
        key: &str,
        status: u16,
        body: &str,
    ) -> EngineResult<()> {
        let key = idempotency_key(key)?;
        if !(100..=599).contains(&status) {
            return Err(EngineError::Input(format!(
                "{status} is not an HTTP status (100–599)"
            )));
        }
        let mut tx = self.store().begin().await?;
        let done = tx
            .complete_idempotency(
                principal,
                key,
                i32::from(status),
                body,
                tuanji_store::__now_micros(),
            )
            .await?;
        if !done {
            return Err(EngineError::NotFound(format!(
                "no pending request holds the idempotency key `{key}`"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Releases an owned key whose request failed before any effect, so that the same key may be sent again. A
    /// completed key is kept; releasing a key nobody holds changes nothing.
    ///
    /// Errors: [`EngineError::Input`] for a bad key.
    pub async fn idempotency_release(&self, principal: Uuid, key: &str) -> EngineResult<()> {
        let key = idempotency_key(key)?;
        let mut tx = self.store().begin().await?;
        tx.release_idempotency(principal, key).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Drops a token's verified secret from the in-process cache.
    fn forget_token(&self, id: Uuid) {
        if let Ok(mut m) = self.verified_tokens.lock() {
            m.remove(&id);
        }
    }

    /// The person a member reference names: an 18-character resident ID or a 12-digit development number.
    async fn member_target(&self, tx: &mut S::Tx, target: &str) -> EngineResult<PersonRow> {
        let r = target.trim();
        let found = if r.chars().count() == 18 {
            let rid = ResidentId::parse(r, self.today())?;
            tx.person_by_resident_id(rid.as_str()).await?
        } else if r.len() == 12 && r.bytes().all(|b| b.is_ascii_digit()) {
            match tx.number(r).await? {
                Some(n) => tx.person(n.person_id).await?,
                None => None,
            }
        } else {
            return Err(EngineError::Input(format!(
                "`{}` is neither an 18-character resident ID nor a 12-digit development number",
                tuanji_domain::mask_id_like(r)
            )));
        };
        found.ok_or_else(|| {
            EngineError::NotFound(format!(
                "no member matches {}",
                tuanji_domain::mask_id_like(r)
            ))
        })
    }
}

fn taken(name: &str) -> EngineError {
    EngineError::Input(format!("a principal named `{name}` already exists"))
}

async fn org_target<T: StoreTx>(tx: &mut T, code: &str) -> EngineResult<tuanji_store::OrgRow> {
    let code = code.trim();
    if code.is_empty() {
        return Err(EngineError::Input(
            "an organisation code is required".into(),
        ));
    }
    tx.org_by_code(code)
        .await?
        .ok_or_else(|| EngineError::NotFound(format!("no organisation has code `{code}`")))
}

async fn principal_view<T: StoreTx>(tx: &mut T, p: PrincipalRow) -> EngineResult<PrincipalView> {
    let bindings = tx
        .bindings_of(p.id)
        .await?
        .iter()
        .map(binding_view)
        .collect::<EngineResult<Vec<_>>>()?;
    let tokens = tx
        .tokens_of(p.id)
        .await?
        .iter()
        .filter(|t| t.revoked_at.is_none())
        .count();
    Ok(PrincipalView {
        id: p.id,
        name: p.name,
        created_at: p.created_at,
        disabled_at: p.disabled_at,
        bindings,
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_through_its_text() {
        let id = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
        let secret = [7u8; 32];
        let t = format_token(id, &secret);
        assert_eq!(t.len(), TOKEN_LEN);
        assert_eq!(
            t,
            "tj_01920000000070008000000000000001_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
        );
        assert_eq!(parse_token(&t).expect("a token"), (id, secret));
    }

    #[test]
    fn malformed_tokens_are_unauthenticated() {
        let good = format_token(Uuid::from_u128(0xabcdef), &[0xffu8; 32]);
        assert_eq!(
            good,
            "tj_00000000000000000000000000abcdef___________________________________________8"
        );
        let mut wrong_prefix = good.clone();
        wrong_prefix.replace_range(0..3, "tk_");
        let upper = good.replacen("abcdef", "ABCDEF", 1);
        let mut no_sep = good.clone();
        no_sep.replace_range(35..36, "-");
        // The last character of a 32-byte secret carries 2 unused bits, which are zero: `8` (60), never `9` (61).
        let mut non_canonical = good.clone();
        non_canonical.replace_range(TOKEN_LEN - 1..TOKEN_LEN, "9");
        for bad in [
            "",
            "tj_",
            "Bearer x",
            &good[..TOKEN_LEN - 1],
            &format!("{good}A"),
            &wrong_prefix,
            &upper,
            &no_sep,
            &non_canonical,
        ] {
            match parse_token(bad) {
                Err(EngineError::Unauthenticated(m)) => assert_eq!(
                    m, "malformed token: expected tj_<32 hex digits>_<43 base64url characters>",
                    "{bad}"
                ),
                other => panic!("{bad}: expected a malformed token, got {other:?}"),
            }
        }
    }

    #[test]
    fn names_labels_and_keys_are_validated() {
        assert_eq!(principal_name("  王老师 ").expect("a name"), "王老师");
        assert!(principal_name(&"名".repeat(50)).is_ok());
        for (bad, msg) in [
            ("", "a principal name is required".to_owned()),
            ("   ", "a principal name is required".to_owned()),
            (
                &*"名".repeat(51),
                "a principal name has at most 50 characters, not 51".to_owned(),
            ),
            (
                "a\u{7}b",
                "a principal name may not contain control characters".to_owned(),
            ),
        ] {
            match principal_name(bad) {
                Err(EngineError::Input(m)) => assert_eq!(m, msg),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert_eq!(token_label("").expect("empty"), "");
        assert!(
            matches!(token_label(&"x".repeat(101)), Err(EngineError::Input(m)) if m == "a token label has at most 100 characters, not 101")
        );
        assert_eq!(idempotency_key("a b~!").expect("a key"), "a b~!");
        assert!(idempotency_key(&"k".repeat(200)).is_ok());
        assert!(
            matches!(idempotency_key(""), Err(EngineError::Input(m)) if m == "an idempotency key has 1 to 200 characters, not 0")
        );
        assert!(
            matches!(idempotency_key(&"k".repeat(201)), Err(EngineError::Input(m)) if m == "an idempotency key has 1 to 200 characters, not 201")
        );
        for bad in ["键", "a\tb", "a\u{7f}"] {
            assert!(
                matches!(idempotency_key(bad), Err(EngineError::Input(ref m)) if m == "an idempotency key is printable ASCII (space to `~`) only"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_secret_verifies_against_its_argon2id_hash_only() {
        let phc = hash_secret(&[1u8; 32]).expect("a hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_secret(&[1u8; 32], &phc));
        assert!(!verify_secret(&[2u8; 32], &phc));
        assert!(!verify_secret(&[1u8; 32], "not a PHC string"));
    }
}
