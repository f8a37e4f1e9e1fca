//! [`Definition`]: one workflow file, parsed and validated into an immutable transition table.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;
use tuanji_domain::{RuleCode, RuleViolation};

use crate::error::LoadError;
use crate::names;
use crate::policy::AdmissionPolicy;

/// The pseudo-state before an instance exists: `from = "new"` marks the creating command.
pub const NEW: &str = "new";

/// The pseudo-state a transition may lead to in order to return to the state the instance was in
/// before it entered the transition's `from` state (UML shallow history). The engine records the
/// resolved state in the log.
pub const HISTORY: &str = "history";

/// The machine of organisation relations (组织关系转接), whose floor rule TRF_NO_DELETE the loader enforces.
pub const RELATION: &str = "relation";

/// The relation states in which a member is graduated pending transfer or has an open transfer:
/// no `delete` may leave them (TRF_NO_DELETE, a floor).
pub const LOCKED_STATES: &[&str] = &[
    "graduated_pending_transfer",
    "retained",
    "transfer_requested",
    "reported_in",
    "lost_contact",
    "suspended",
];

/// The standing machine (团籍), whose `[policy]` the loader validates (floor STD_AGE_OUT).
pub const STANDING: &str = "standing";

/// The Party recommendation machine (推优入党), whose `[policy]` the loader validates (floors PTY_*).
pub const PARTY_RECOMMENDATION: &str = "party_recommendation";

/// The annual evaluation machine (团员教育评议), whose `[policy]` the loader validates (floor
/// EVL_GRADES).
pub const EVALUATION: &str = "evaluation";

/// The machine whose floor rules the loader enforces (团员发展).
pub const ADMISSION: &str = "admission";

/// The state of the admission machine that every floor rule of admission protects.
pub const ADMITTED: &str = "admitted";

/// What kind of state a [`StateDef`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateKind {
    /// The state the creating command (`from = "new"`) leads to; exactly one per workflow.
    Initial,
    /// A state that still expects commands.
    Waiting,
    /// A final state: no transition leaves it.
    Terminal,
}

impl StateKind {
    /// The name used in workflow files: `initial`, `waiting` or `terminal`.
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Initial => "initial",
            StateKind::Waiting => "waiting",
            StateKind::Terminal => "terminal",
        }
    }
}

/// One `[[state]]` of a workflow file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateDef {
    /// Machine name of the state, e.g. `development_target`.
    pub name: String,
    /// Initial, waiting or terminal.
    pub kind: StateKind,
    /// 1-based line of its `[[state]]` header.
    pub line: usize,
}

/// One `[[transition]]`: `(from, command) → to`, who may issue it and what it checks and does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionDef {
    /// The state the command applies to, or [`NEW`] for the creating command.
    pub from: String,
    /// The command name, e.g. `approve`.
    pub command: String,
    /// The state after the command (may equal `from`).
    pub to: String,
    /// Roles that may issue the command (never empty).
    pub roles: Vec<String>,
    /// Guards (blocking checks), by name from [`crate::names::GUARDS`], in file order.
    pub guards: Vec<String>,
    /// Flags (non-blocking checks, e.g. overdue), by name from [`crate::names::FLAGS`].
    pub flags: Vec<String>,
    /// Actions (effects beyond the state change), by name from [`crate::names::ACTIONS`].
    pub actions: Vec<String>,
    /// 1-based line of its `[[transition]]` header.
    pub line: usize,
}

/// A validated workflow definition: one file of `workflows/`, e.g. `admission.v1.toml`.
///
/// A deployed version is immutable; each instance records `(name, version, sha256)` and keeps
/// running on the definition it started with (ARCHITECTURE.md "Workflows").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    /// Machine name, e.g. `admission`.
    pub name: String,
    /// Version, from 1.
    pub version: u32,
    /// Human title, e.g. `团员发展 League member admission`.
    pub title: String,
    /// The file name (or path) as given to the loader.
    pub file: String,
    /// SHA-256 of the file's bytes, lowercase hex (64 characters).
    pub sha256: String,
    /// States in file order.
    pub states: Vec<StateDef>,
    /// Transitions in file order.
    pub transitions: Vec<TransitionDef>,
    /// The `[policy]` table: numbers the guards read (empty when the file has none).
    pub policy: toml::Table,
    /// 1-based line of the `[policy]` header (of the `[workflow]` header when there is none).
    #[serde(skip)]
    pub policy_line: usize,
    /// 1-based line of each key of `[policy]`.
    #[serde(skip)]
    pub policy_key_lines: BTreeMap<String, usize>,
}

// ------------------------------------------------------------------ raw file shape

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    workflow: Spanned<RawWorkflow>,
    #[serde(default)]
    policy: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
    #[serde(default)]
    state: Vec<Spanned<RawState>>,
    #[serde(default)]
    transition: Vec<Spanned<RawTransition>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    name: Spanned<String>,
    version: Spanned<u32>,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    name: Spanned<String>,
    kind: StateKind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransition {
    from: Spanned<String>,
    command: Spanned<String>,
    to: Spanned<String>,
    roles: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    guards: Vec<Spanned<String>>,
    #[serde(default)]
    flags: Vec<Spanned<String>>,
    #[serde(default)]
    actions: Vec<Spanned<String>>,
}

/// Byte offset → 1-based line.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
    }

    fn of<T>(&self, spanned: &Spanned<T>) -> usize {
        self.line(spanned.span().start)
    }
}

/// Collects the errors of one file.
struct Errors<'a> {
    file: &'a str,
    list: Vec<LoadError>,
}

impl Errors<'_> {
    fn push(&mut self, line: usize, message: String) {
        self.list.push(LoadError::new(self.file, line, message));
    }

    fn floor(&mut self, line: usize, rule: RuleCode, message: &str) {
        self.list
            .push(LoadError::floor(self.file, line, rule, message));
    }
}

/// A machine name: lowercase ASCII letters, digits and `_`, starting with a letter.
fn is_machine_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn strings(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.get_ref().clone()).collect()
}

impl Definition {
    /// Parses and validates the text of workflow file `file` (a file name or path; its last
    /// component must be `<name>.v<version>.toml`).
    ///
    /// # Errors
    /// The first [`LoadError`] (by line) that [`Definition::check`] finds.
    pub fn parse(file: &str, text: &str) -> Result<Definition, LoadError> {
        Definition::check(file, text).map_err(|errors| {
            errors
                .into_iter()
                .next()
                .unwrap_or_else(|| LoadError::new(file, 1, "invalid workflow file"))
        })
    }

    /// Reads and validates the workflow file at `path`; [`Definition::file`] is the path as
    /// given.
    ///
    /// # Errors
    /// A [`LoadError`] on line 0 if the file cannot be read or is not UTF-8, else as
    /// [`Definition::parse`].
    pub fn load(path: &Path) -> Result<Definition, LoadError> {
        Definition::load_checked(path).map_err(|errors| {
            let file = path.display().to_string();
            errors
                .into_iter()
                .next()
                .unwrap_or_else(|| LoadError::new(file, 1, "invalid workflow file"))
        })
    }

    /// As [`Definition::load`], returning every error of the file.
    ///
    /// # Errors
    /// Every [`LoadError`] of the file, sorted by line (never empty).
    pub fn load_checked(path: &Path) -> Result<Definition, Vec<LoadError>> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| vec![LoadError::new(file.clone(), 0, format!("cannot read: {e}"))])?;
        let text = String::from_utf8(bytes).map_err(|e| {
            vec![LoadError::new(
                file.clone(),
                0,
                format!("not UTF-8 text: {e}"),
            )]
        })?;
        Definition::check(&file, &text)
    }

    /// Parses and validates the text of workflow file `file`, returning every error found.
    ///
    /// Checks, each error naming the 1-based line it concerns:
    /// - TOML syntax, required keys and types, and no unknown keys anywhere;
    /// - the last component of `file` is `<name>.v<version>.toml`; names are lowercase
    ///   machine names;
    /// - state names are unique (and not `new`); exactly one state is `initial`;
    /// - transitions start at a declared state or `new`, lead to a declared state (creating
    ///   transitions to the initial state), are unique per `(from, command)`, and never leave a
    ///   terminal state;
    /// - roles are non-empty and among [`crate::names::ROLES`]; every guard, flag and action
    ///   name is known for the machine ([`crate::names::for_machine`]);
    /// - every state is reachable from `new`;
    /// - for `admission`, the floor rules (League Constitution Art. 1; 中青发〔2016〕6号, see
    ///   DOMAIN-SOURCES.md §1.4–1.5), which set [`LoadError::rule`]: every path from `new` to
    ///   `admitted` passes a transition with the guard `age_at_least` (ADM_AGE_MIN), every
    ///   transition into `admitted` from another state has the action
    ///   `assign_development_number` (ADM_NUMBER_REQUIRED), and `[policy]` is a valid
    ///   [`AdmissionPolicy`] with `min_age` ≥ 14 (ADM_AGE_MIN). The state `admitted` must exist;
    /// - for `relation`, `standing`, `party_recommendation` and `evaluation`, `[policy]` is valid
    ///   ([`crate::relation::RelationPolicy`], [`crate::standing::StandingPolicy`],
    ///   [`crate::party::PartyPolicy`], [`crate::evaluation::EvaluationPolicy`]), including their floors
    ///   (STD_AGE_OUT, PTY_AGE, PTY_TENURE, PTY_SHARE, PTY_VALIDITY, EVL_GRADES).
    ///
    /// # Errors
    /// Every [`LoadError`] found, sorted by line (never empty). After a TOML syntax or shape
    /// error nothing else is checked.
    pub fn check(file: &str, text: &str) -> Result<Definition, Vec<LoadError>> {
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let lines = Lines::new(text);
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| lines.line(span.start));
            vec![LoadError::new(file, line, e.message().to_string())]
        })?;
        let mut errors = Errors {
            file,
            list: Vec::new(),
        };

        // [workflow]
        let workflow_line = lines.of(&raw.workflow);
        let workflow = raw.workflow.into_inner();
        let name = workflow.name.get_ref().clone();
        let name_line = lines.of(&workflow.name);
        let version = *workflow.version.get_ref();
        if !is_machine_name(&name) {
            errors.push(
                name_line,
                format!("workflow name `{name}` must be lowercase letters, digits and `_`"),
            );
        }
        if version == 0 {
            errors.push(
                lines.of(&workflow.version),
                "version must be at least 1".into(),
            );
        }
        let expected = format!("{name}.v{version}.toml");
        let base = Path::new(file)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or(file);
        if base != expected {
            errors.push(
                name_line,
                format!("file name must be `{expected}` for workflow `{name}` version {version}, not `{base}`"),
            );
        }

        // [policy]
        let (policy_line, policy, policy_key_lines) = match raw.policy {
            Some(spanned) => {
                let line = lines.of(&spanned);
                let mut table = toml::Table::new();
                let mut key_lines = BTreeMap::new();
                for (key, value) in spanned.into_inner() {
                    key_lines.insert(key.get_ref().clone(), lines.of(&key));
                    table.insert(key.into_inner(), value.into_inner());
                }
                (line, table, key_lines)
            }
            None => (workflow_line, toml::Table::new(), BTreeMap::new()),
        };

        // [[state]]
        let mut states: Vec<StateDef> = Vec::new();
        let mut initial: Option<usize> = None;
        for spanned in &raw.state {
            let line = lines.of(spanned);
            let state = spanned.get_ref();
            let state_name = state.name.get_ref();
            let at = lines.of(&state.name);
            if state_name == NEW {
                errors.push(
                    at,
                    "`new` is reserved for the creating command and cannot be a state".into(),
                );
            } else if !is_machine_name(state_name) {
                errors.push(
                    at,
                    format!("state name `{state_name}` must be lowercase letters, digits and `_`"),
                );
            }
            if let Some(first) = states.iter().find(|s| &s.name == state_name) {
                errors.push(
                    at,
                    format!(
                        "state `{state_name}` is declared twice (first on line {})",
                        first.line
                    ),
                );
                continue;
            }
            if state.kind == StateKind::Initial {
                match initial {
                    Some(first) => errors.push(
                        line,
                        format!(
                            "state `{state_name}` is a second initial state (`{}` is initial); exactly one state must be initial",
                            states[first].name
                        ),
                    ),
                    None => initial = Some(states.len()),
                }
            }
            states.push(StateDef {
                name: state_name.clone(),
                kind: state.kind,
                line,
            });
        }
        let initial_name = initial.map(|i| states[i].name.clone());
        if initial.is_none() {
            errors.push(
                workflow_line,
                "no initial state: exactly one state must have kind = \"initial\"".into(),
            );
        }
        let kinds: HashMap<&str, StateKind> =
            states.iter().map(|s| (s.name.as_str(), s.kind)).collect();

        // [[transition]]
        let known = names::for_machine(&name);
        let mut transitions: Vec<TransitionDef> = Vec::new();
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        for spanned in &raw.transition {
            let line = lines.of(spanned);
            let t = spanned.get_ref();
            let (from, command, to) = (t.from.get_ref(), t.command.get_ref(), t.to.get_ref());
            if !is_machine_name(command) {
                errors.push(
                    lines.of(&t.command),
                    format!("command name `{command}` must be lowercase letters, digits and `_`"),
                );
            }
            if from != NEW {
                match kinds.get(from.as_str()) {
                    None => errors.push(lines.of(&t.from), format!("transition from undeclared state `{from}`")),
                    Some(StateKind::Terminal) => errors.push(
                        lines.of(&t.from),
                        format!("terminal state `{from}` cannot have an outgoing transition (`{command}`)"),
                    ),
                    Some(_) => {}
                }
            }
            if to == HISTORY {
                if from == NEW {
                    errors.push(
                        lines.of(&t.to),
                        "a creating command cannot return to `history`".into(),
                    );
                }
            } else if to == NEW {
                errors.push(
                    lines.of(&t.to),
                    "`new` is not a state; a transition cannot lead to it".into(),
                );
            } else if !kinds.contains_key(to.as_str()) {
                errors.push(
                    lines.of(&t.to),
                    format!("transition to undeclared state `{to}`"),
                );
            } else if from == NEW {
                if let Some(initial) = &initial_name {
                    if to != initial {
                        errors.push(
                            lines.of(&t.to),
                            format!("the creating command `{command}` must lead to the initial state `{initial}`, not `{to}`"),
                        );
                    }
                }
            }
            match seen.get(&(from.clone(), command.clone())) {
                Some(first) => errors.push(
                    line,
                    format!("command `{command}` from state `{from}` is declared twice (first on line {first})"),
                ),
                None => {
                    seen.insert((from.clone(), command.clone()), line);
                }
            }
            check_roles(&mut errors, &lines, &t.roles);
            check_names(&mut errors, &lines, &name, "guard", &t.guards, |n| {
                known.guard(n).is_some()
            });
            check_names(&mut errors, &lines, &name, "flag", &t.flags, |n| {
                known.flag(n).is_some()
            });
            check_names(&mut errors, &lines, &name, "action", &t.actions, |n| {
                known.action(n).is_some()
            });
            transitions.push(TransitionDef {
                from: from.clone(),
                command: command.clone(),
                to: to.clone(),
                roles: strings(t.roles.get_ref()),
                guards: strings(&t.guards),
                flags: strings(&t.flags),
                actions: strings(&t.actions),
                line,
            });
        }

        // Reachability from `new`.
        let reached = reachable(&transitions, |_| true);
        for state in &states {
            if !reached.contains_key(state.name.as_str()) {
                errors.push(
                    state.line,
                    format!("state `{}` cannot be reached from `new`", state.name),
                );
            }
        }

        let definition = Definition {
            name,
            version,
            title: workflow.title,
            file: file.to_string(),
            sha256,
            states,
            transitions,
            policy,
            policy_line,
            policy_key_lines,
        };
        if definition.name == RELATION {
            check_relation_floors(&mut errors, &definition);
            if let Err(e) = crate::relation::RelationPolicy::from_definition(&definition) {
                errors.list.push(e);
            }
        }
        if definition.name == STANDING {
            if let Err(policy_errors) = crate::standing::StandingPolicy::check(&definition) {
                errors.list.extend(policy_errors);
            }
        }
        if definition.name == PARTY_RECOMMENDATION {
            if let Err(policy_errors) = crate::party::PartyPolicy::check(&definition) {
                errors.list.extend(policy_errors);
            }
        }
        if definition.name == EVALUATION {
            if let Err(policy_errors) = crate::evaluation::EvaluationPolicy::check(&definition) {
                errors.list.extend(policy_errors);
            }
        }
        if definition.name == ADMISSION {
            check_admission_floors(&mut errors, &definition, workflow_line);
            if let Err(policy_errors) = AdmissionPolicy::check(&definition) {
                errors.list.extend(policy_errors);
            }
        }

        if errors.list.is_empty() {
            Ok(definition)
        } else {
            let mut list = errors.list;
            list.sort_by_key(|e| e.line);
            Err(list)
        }
    }

    /// The declared transition for command `command` in state `from` ([`NEW`] for the creating
    /// command).
    ///
    /// # Errors
    /// [`RuleCode::WfNotAllowed`] when the table has no such transition, e.g.
    /// "command `approve` is not allowed in state `activist` of admission v1".
    pub fn transition(&self, from: &str, command: &str) -> Result<&TransitionDef, RuleViolation> {
        self.transitions
            .iter()
            .find(|t| t.from == from && t.command == command)
            .ok_or_else(|| {
                RuleViolation::new(
                    RuleCode::WfNotAllowed,
                    format!(
                        "command `{command}` is not allowed in state `{from}` of {} v{}",
                        self.name, self.version
                    ),
                )
            })
    }

    /// The state called `name`, if declared.
    pub fn state(&self, name: &str) -> Option<&StateDef> {
        self.states.iter().find(|s| s.name == name)
    }

    /// The initial state (always present in a validated definition).
    pub fn initial_state(&self) -> Option<&StateDef> {
        self.states.iter().find(|s| s.kind == StateKind::Initial)
    }

    /// The transitions that leave `from` ([`NEW`] for creating commands), in file order.
    pub fn transitions_from<'a>(
        &'a self,
        from: &'a str,
    ) -> impl Iterator<Item = &'a TransitionDef> + 'a {
        self.transitions.iter().filter(move |t| t.from == from)
    }

    /// The state diagram in Mermaid syntax (`stateDiagram-v2`): `[*] --> initial` (labelled with
    /// the creating command), one line `a --> b: command` per other transition in file order,
    /// then `t --> [*]` for each terminal state in file order. Lines are indented four spaces
    /// and end with `\n`.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("stateDiagram-v2\n");
        let creating: Vec<&TransitionDef> = self.transitions_from(NEW).collect();
        if creating.is_empty() {
            if let Some(initial) = self.initial_state() {
                let _ = writeln!(out, "    [*] --> {}", initial.name);
            }
        }
        for t in &self.transitions {
            let from = if t.from == NEW {
                "[*]"
            } else {
                t.from.as_str()
            };
            if t.to == HISTORY {
                // Back to each state the instance can have come from.
                let mut back: Vec<&str> = Vec::new();
                for p in self
                    .transitions
                    .iter()
                    .filter(|p| p.to == t.from && p.from != t.from && p.from != NEW)
                {
                    if !back.contains(&p.from.as_str()) {
                        back.push(p.from.as_str());
                    }
                }
                for b in back {
                    let _ = writeln!(out, "    {from} --> {b}: {} (history)", t.command);
                }
            } else {
                let _ = writeln!(out, "    {from} --> {}: {}", t.to, t.command);
            }
        }
        for state in self.states.iter().filter(|s| s.kind == StateKind::Terminal) {
            let _ = writeln!(out, "    {} --> [*]", state.name);
        }
        out
    }

    /// The `[policy]` value `key` as a whole number from 0 to 4 294 967 295.
    ///
    /// # Errors
    /// A [`LoadError`] on the line of `[policy]` when the key is missing or not such a number.
    pub fn policy_u32(&self, key: &str) -> Result<u32, LoadError> {
        let value = self.policy_integer(key)?;
        u32::try_from(value)
            .map_err(|_| self.policy_error(key, "a whole number from 0 to 4294967295"))
    }

    /// The `[policy]` value `key` as a whole number from 0 to 2⁶³ − 1.
    ///
    /// # Errors
    /// A [`LoadError`] on the line of `[policy]` when the key is missing or not such a number.
    pub fn policy_u64(&self, key: &str) -> Result<u64, LoadError> {
        let value = self.policy_integer(key)?;
        u64::try_from(value).map_err(|_| self.policy_error(key, "a whole number of at least 0"))
    }

    /// The `[policy]` value `key` as a string.
    ///
    /// # Errors
    /// A [`LoadError`] on the line of `[policy]` when the key is missing or not a string.
    pub fn policy_str(&self, key: &str) -> Result<&str, LoadError> {
        match self.policy.get(key) {
            Some(toml::Value::String(s)) => Ok(s),
            _ => Err(self.policy_error(key, "a string")),
        }
    }

    fn policy_integer(&self, key: &str) -> Result<i64, LoadError> {
        match self.policy.get(key) {
            Some(toml::Value::Integer(i)) => Ok(*i),
            _ => Err(self.policy_error(key, "a whole number")),
        }
    }

    fn policy_error(&self, key: &str, expected: &str) -> LoadError {
        let message = match self.policy.get(key) {
            None => format!("[policy] lacks the key `{key}` ({expected})"),
            Some(value) => format!("[policy] `{key}` must be {expected}, found `{key} = {value}`"),
        };
        LoadError::new(self.file.clone(), self.policy_line, message)
    }
}

fn check_roles(errors: &mut Errors<'_>, lines: &Lines, roles: &Spanned<Vec<Spanned<String>>>) {
    if roles.get_ref().is_empty() {
        errors.push(lines.of(roles), "roles must name at least one role".into());
    }
    let mut seen = HashSet::new();
    for role in roles.get_ref() {
        let r = role.get_ref();
        if !names::ROLES.contains(&r.as_str()) {
            errors.push(
                lines.of(role),
                format!("unknown role `{r}` (known: {})", names::ROLES.join(", ")),
            );
        } else if !seen.insert(r.as_str()) {
            errors.push(lines.of(role), format!("role `{r}` is listed twice"));
        }
    }
}

fn check_names(
    errors: &mut Errors<'_>,
    lines: &Lines,
    machine: &str,
    what: &str,
    list: &[Spanned<String>],
    is_known: impl Fn(&str) -> bool,
) {
    let mut seen = HashSet::new();
    for item in list {
        let n = item.get_ref();
        if !is_known(n) {
            errors.push(
                lines.of(item),
                format!("unknown {what} `{n}` for workflow `{machine}`"),
            );
        } else if !seen.insert(n.as_str()) {
            errors.push(lines.of(item), format!("{what} `{n}` is listed twice"));
        }
    }
}

/// Breadth-first search from [`NEW`] over the transitions that `usable` admits, in file order.
/// Maps every reached state to the index of the transition that first reached it (`None` for
/// `new` itself).
fn reachable(
    transitions: &[TransitionDef],
    usable: impl Fn(&TransitionDef) -> bool,
) -> HashMap<&str, Option<usize>> {
    let mut reached: HashMap<&str, Option<usize>> = HashMap::new();
    reached.insert(NEW, None);
    let mut queue = VecDeque::from([NEW]);
    while let Some(state) = queue.pop_front() {
        for (index, t) in transitions.iter().enumerate() {
            if t.from == state && usable(t) && !reached.contains_key(t.to.as_str()) {
                reached.insert(t.to.as_str(), Some(index));
                queue.push_back(t.to.as_str());
            }
        }
    }
    reached
}

/// TRF_NO_DELETE on the relation table: no `delete` from a locked state, and every `delete` checks
/// the guard `not_locked`.
fn check_relation_floors(errors: &mut Errors<'_>, def: &Definition) {
    for t in def
        .transitions
        .iter()
        .filter(|t| t.command == names::DELETE)
    {
        if LOCKED_STATES.contains(&t.from.as_str()) {
            errors.floor(
                t.line,
                RuleCode::TrfNoDelete,
                &format!(
                    "`{}` from `{}`: a member graduated pending transfer or with an open transfer cannot be deleted",
                    t.command, t.from
                ),
            );
        } else if !t.guards.iter().any(|g| g == "not_locked") {
            errors.floor(
                t.line,
                RuleCode::TrfNoDelete,
                &format!(
                    "`{}` from `{}` lacks the guard `not_locked`",
                    t.command, t.from
                ),
            );
        }
    }
}

/// The floor rules of the admission machine on the transition table.
fn check_admission_floors(errors: &mut Errors<'_>, def: &Definition, workflow_line: usize) {
    if def.state(ADMITTED).is_none() {
        errors.push(
            workflow_line,
            format!("the admission workflow must declare the state `{ADMITTED}`"),
        );
        return;
    }
    // ADM_AGE_MIN: no path new → admitted may skip `age_at_least`.
    let without_age = reachable(&def.transitions, |t| {
        !t.guards.iter().any(|g| g == names::AGE_AT_LEAST)
    });
    if let Some(&Some(last)) = without_age.get(ADMITTED) {
        let mut path = vec![last];
        let mut at = def.transitions[last].from.as_str();
        while let Some(&Some(index)) = without_age.get(at) {
            path.push(index);
            at = def.transitions[index].from.as_str();
        }
        path.reverse();
        let first = &def.transitions[path[0]];
        let commands: Vec<&str> = path
            .iter()
            .map(|&i| def.transitions[i].command.as_str())
            .collect();
        errors.floor(
            first.line,
            RuleCode::AdmAgeMin,
            &format!(
                "the path from `new` to `{ADMITTED}` through the commands {} never checks the guard `{}`",
                commands.join(", "),
                names::AGE_AT_LEAST
            ),
        );
    }
    // ADM_NUMBER_REQUIRED: entering `admitted` consumes a development number.
    for t in &def.transitions {
        if t.to == ADMITTED
            && t.from != ADMITTED
            && !t
                .actions
                .iter()
                .any(|a| a == names::ASSIGN_DEVELOPMENT_NUMBER)
        {
            errors.floor(
                t.line,
                RuleCode::AdmNumberRequired,
                &format!(
                    "command `{}` from `{}` into `{ADMITTED}` lacks the action `{}`",
                    t.command,
                    t.from,
                    names::ASSIGN_DEVELOPMENT_NUMBER
                ),
            );
        }
    }
}
