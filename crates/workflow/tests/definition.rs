//! Loading and validating workflow files: the shipped admission v1 and relation v1, each validation
//! error on a small inline file (file, line and rule), the relation floor TRF_NO_DELETE on modified
//! copies of relation v1, Mermaid export (with `history` returns), transition look-up and hashing.

use tuanji_domain::RuleCode;
use tuanji_workflow::relation::{MemberInitiatedApprovals, RelationPolicy};
use tuanji_workflow::{
    builtin, AdmissionPolicy, Definition, LoadError, MajorityBasis, Registry, StateKind,
    LOCKED_STATES,
};

const SHIPPED: &str = include_str!("../../../workflows/admission.v1.toml");

/// The shipped relation workflow (组织关系转接), 362 lines; `[policy]` on line 20.
const RELATION_SHIPPED: &str = include_str!("../../../workflows/relation.v1.toml");

/// A tiny non-admission workflow (no guards known, no floor rules).
const DEMO: &str = r#"[workflow]
name = "demo"
version = 1
title = "Demo"

[[state]]
name = "open"
kind = "initial"

[[state]]
name = "closed"
kind = "terminal"

[[transition]]
from = "new"
command = "create"
to = "open"
roles = ["member"]

[[transition]]
from = "open"
command = "close"
to = "closed"
roles = ["member", "system_admin"]
"#;

/// A tiny admission workflow that satisfies every floor rule; [policy] at the end (line 28).
const TINY_ADMISSION: &str = r#"[workflow]
name = "admission"
version = 1
title = "Tiny admission"

[[state]]
name = "applicant"
kind = "initial"

[[state]]
name = "admitted"
kind = "waiting"

[[transition]]
from = "new"
command = "apply"
to = "applicant"
roles = ["branch_secretary"]
guards = ["age_at_least"]

[[transition]]
from = "applicant"
command = "approve"
to = "admitted"
roles = ["committee_admin"]
actions = ["assign_development_number"]

[policy]
min_age = 14
max_age = 28
talk_deadline_months = 1
observation_months = 3
class_hours = 8
class_hour_minutes = 45
publicity_working_days = 5
meeting_majority = "entitled"
approval_deadline_days = 30
mentors_min = 1
mentors_max = 2
sponsors = 2
junior_high_cap_percent = 30
senior_high_cap_percent = 60
archive_deadline_days = 30
archive_max_bytes = 20971520
"#;

fn demo_with(from: &str, to: &str) -> String {
    assert!(DEMO.contains(from), "DEMO lacks {from:?}");
    DEMO.replacen(from, to, 1)
}

fn admission_with(from: &str, to: &str) -> String {
    assert!(
        TINY_ADMISSION.contains(from),
        "TINY_ADMISSION lacks {from:?}"
    );
    TINY_ADMISSION.replacen(from, to, 1)
}

fn error(file: &str, text: &str) -> LoadError {
    Definition::parse(file, text).expect_err("the file should be refused")
}

fn assert_error(err: &LoadError, file: &str, line: usize, rule: Option<RuleCode>, message: &str) {
    assert_eq!(
        (err.file.as_str(), err.line, err.rule, err.message.as_str()),
        (file, line, rule, message),
        "{err}"
    );
}

// ------------------------------------------------------------------ the shipped file

#[test]
fn shipped_admission_v1_loads_with_9_states_and_26_transitions() {
    let def =
        Definition::parse("workflows/admission.v1.toml", SHIPPED).expect("shipped file loads");
    assert_eq!(def.name, "admission");
    assert_eq!(def.version, 1);
    assert_eq!(def.title, "团员发展 League member admission");
    assert_eq!(def.states.len(), 9);
    assert_eq!(def.transitions.len(), 26);
    let states: Vec<(&str, StateKind)> = def
        .states
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert_eq!(
        states,
        vec![
            ("applicant", StateKind::Initial),
            ("activist", StateKind::Waiting),
            ("development_target", StateKind::Waiting),
            ("publicised", StateKind::Waiting),
            ("branch_approved", StateKind::Waiting),
            ("admitted", StateKind::Waiting),
            ("annulled", StateKind::Terminal),
            ("rejected", StateKind::Terminal),
            ("withdrawn", StateKind::Terminal),
        ]
    );
}

#[test]
fn shipped_admission_v1_transitions_are_exactly_the_designed_table() {
    let def = &builtin().latest("admission").expect("builtin admission");
    let got: Vec<String> = def
        .transitions
        .iter()
        .map(|t| {
            format!(
                "{} {} {} [{}] [{}] [{}] [{}]",
                t.from,
                t.command,
                t.to,
                t.roles.join(","),
                t.guards.join(","),
                t.flags.join(","),
                t.actions.join(",")
            )
        })
        .collect();
    let mut expected = vec![
        "new apply applicant [branch_secretary] [resident_id_valid,person_unique,age_at_least,age_below] [] []",
        "applicant record_talk applicant [branch_secretary] [date_order] [talk_deadline] []",
        "applicant approve_activist activist [committee_admin] [talk_recorded,date_order,activist_approval] [] []",
        "activist assign_mentors activist [branch_secretary] [date_order,mentors_valid] [] []",
        "activist record_class activist [branch_secretary] [date_order,class_hour_length] [] []",
        "activist determine_target development_target [branch_secretary] [date_order,mentors_valid,observation_elapsed,class_hours_at_least,age_below] [] []",
        "development_target prereview development_target [committee_admin] [date_order,prereview_authority] [] []",
        "development_target publicise publicised [branch_secretary] [date_order,prereviewed] [] [compute_publicity_end]",
        "publicised record_objection publicised [branch_secretary] [date_order,publicity_open] [] []",
        "publicised resolve_objection publicised [branch_secretary] [date_order,objection_open] [] []",
        "publicised submit_form publicised [branch_secretary] [date_order,sponsors_valid] [] []",
        "publicised hold_meeting branch_approved [branch_secretary] [date_order,publicity_elapsed,form_submitted,sponsors_valid,age_below,meeting_quorum,meeting_majority] [] [start_membership]",
        "branch_approved approve admitted [committee_admin] [date_order,approval_authority,class_cap] [approval_deadline] [assign_development_number]",
        "admitted record_oath admitted [branch_secretary] [date_order,oath_not_recorded] [] [record_oath]",
        "admitted file_archive admitted [branch_secretary] [date_order,archive_file_valid] [archive_deadline] []",
        "admitted annul annulled [committee_admin] [date_order] [] [void_development_number]",
    ];
    let exits = [
        "applicant",
        "activist",
        "development_target",
        "publicised",
        "branch_approved",
    ];
    let exit_lines: Vec<String> = ["reject rejected", "withdraw withdrawn"]
        .iter()
        .flat_map(|cmd| {
            exits.iter().map(move |from| {
                format!("{from} {cmd} [branch_secretary,committee_admin] [date_order] [] []")
            })
        })
        .collect();
    expected.extend(exit_lines.iter().map(String::as_str));
    assert_eq!(got, expected);
}

#[test]
fn builtin_registry_holds_admission_v1_with_the_hash_of_the_shipped_bytes() {
    let registry = builtin();
    assert_eq!(
        registry.len(),
        6,
        "admission v1, standing v1, relation v1, audit v1, party_recommendation v1 and evaluation v1"
    );
    assert_eq!(
        registry.get("audit", 1).map(|d| d
            .transitions
            .iter()
            .map(|t| (
                t.from.as_str(),
                t.command.as_str(),
                t.to.as_str(),
                t.roles.clone()
            ))
            .collect::<Vec<_>>()),
        Some(vec![(
            "new",
            "export_unmasked",
            "exported",
            vec!["auditor".to_owned(), "system_admin".to_owned()]
        )])
    );
    assert_eq!(
        registry
            .get("standing", 1)
            .map(|d| (d.states.len(), d.transitions.len())),
        Some((9, 61))
    );
    let def = registry.get("admission", 1).expect("admission v1");
    assert_eq!(def.file, "workflows/admission.v1.toml");
    use sha2::Digest;
    assert_eq!(
        def.sha256,
        hex::encode(sha2::Sha256::digest(SHIPPED.as_bytes()))
    );
    assert_eq!(def.sha256.len(), 64);
    assert!(registry.get("admission", 2).is_none());
    assert_eq!(registry.latest("admission").map(|d| d.version), Some(1));
    assert_eq!(
        registry.latest("relation").map(|d| (
            d.version,
            d.file.as_str(),
            d.states.len(),
            d.transitions.len()
        )),
        Some((1, "workflows/relation.v1.toml", 9, 29))
    );
    assert_eq!(
        registry.get("relation", 1).map(|d| d.sha256.clone()),
        Some(hex::encode(sha2::Sha256::digest(
            RELATION_SHIPPED.as_bytes()
        )))
    );
    let names: Vec<(&str, u32)> = registry
        .iter()
        .map(|d| (d.name.as_str(), d.version))
        .collect();
    assert_eq!(
        names,
        vec![
            ("admission", 1),
            ("audit", 1),
            ("evaluation", 1),
            ("party_recommendation", 1),
            ("relation", 1),
            ("standing", 1)
        ]
    );
}

#[test]
fn admission_policy_from_shipped_file_gives_the_defaults() {
    let def = builtin().get("admission", 1).expect("admission v1");
    let policy = AdmissionPolicy::from_definition(def).expect("policy");
    assert_eq!(
        policy,
        AdmissionPolicy {
            min_age: 14,
            max_age: 28,
            talk_deadline_months: 1,
            observation_months: 3,
            class_hours: 8,
            class_hour_minutes: 45,
            publicity_working_days: 5,
            meeting_majority: MajorityBasis::Entitled,
            approval_deadline_days: 30,
            mentors_min: 1,
            mentors_max: 2,
            sponsors: 2,
            junior_high_cap_percent: 30,
            senior_high_cap_percent: 60,
            archive_deadline_days: 30,
            archive_max_bytes: 20_971_520,
        }
    );
}

#[test]
fn load_reads_the_shipped_file_from_disk_and_names_the_path() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows/admission.v1.toml");
    let def = Definition::load(&path).expect("loads from disk");
    assert_eq!(def.file, path.display().to_string());
    assert_eq!(
        def.sha256,
        builtin().get("admission", 1).expect("v1").sha256
    );
}

// ------------------------------------------------------------------ transition look-up

#[test]
fn transition_finds_the_declared_row() {
    let def = builtin().get("admission", 1).expect("v1");
    let t = def
        .transition("branch_approved", "approve")
        .expect("declared");
    assert_eq!(t.to, "admitted");
    assert_eq!(t.roles, vec!["committee_admin"]);
    let apply = def.transition("new", "apply").expect("creating command");
    assert_eq!(apply.to, "applicant");
    assert_eq!(apply.line, 85);
}

#[test]
fn wf_not_allowed_names_command_state_and_workflow() {
    let def = builtin().get("admission", 1).expect("v1");
    let err = def
        .transition("activist", "approve")
        .expect_err("not declared");
    assert_eq!(err.code, RuleCode::WfNotAllowed);
    assert_eq!(
        err.message,
        "command `approve` is not allowed in state `activist` of admission v1"
    );
    let err = def
        .transition("rejected", "withdraw")
        .expect_err("terminal");
    assert_eq!(
        err.message,
        "command `withdraw` is not allowed in state `rejected` of admission v1"
    );
}

#[test]
fn state_looks_up_by_name() {
    let def = builtin().get("admission", 1).expect("v1");
    let state = def.state("admitted").expect("declared");
    assert_eq!((state.kind, state.line), (StateKind::Waiting, 67));
    assert!(def.state("new").is_none());
    assert_eq!(
        def.initial_state().map(|s| s.name.as_str()),
        Some("applicant")
    );
}

// ------------------------------------------------------------------ Mermaid and hashing

#[test]
fn mermaid_of_tiny_workflow_is_golden() {
    let def = Definition::parse("demo.v1.toml", DEMO).expect("demo loads");
    assert_eq!(
        def.mermaid(),
        "stateDiagram-v2\n    [*] --> open: create\n    open --> closed: close\n    closed --> [*]\n"
    );
}

#[test]
fn sha256_of_known_text() {
    let def = Definition::parse("demo.v1.toml", DEMO).expect("demo loads");
    assert_eq!(def.sha256, DEMO_SHA256);
    // The hash covers the bytes, so a comment changes it.
    let commented = format!("# comment\n{DEMO}");
    let other = Definition::parse("demo.v1.toml", &commented).expect("loads");
    assert_ne!(other.sha256, DEMO_SHA256);
}

const DEMO_SHA256: &str = "b8cc95352729bb8aa2b0ae24c76e28b30a99e4e0848e498cacef39bd732370ae";

#[test]
fn lines_point_at_headers() {
    let def = Definition::parse("demo.v1.toml", DEMO).expect("demo loads");
    let state_lines: Vec<usize> = def.states.iter().map(|s| s.line).collect();
    let transition_lines: Vec<usize> = def.transitions.iter().map(|t| t.line).collect();
    assert_eq!(state_lines, vec![6, 10]);
    assert_eq!(transition_lines, vec![14, 20]);
}

// ------------------------------------------------------------------ validation errors

#[test]
fn toml_syntax_error_names_its_line() {
    let text = demo_with("title = \"Demo\"", "title = \"Demo");
    let err = error("demo.v1.toml", &text);
    assert_eq!(
        (err.file.as_str(), err.line, err.rule),
        ("demo.v1.toml", 4, None)
    );
}

#[test]
fn unknown_key_in_workflow_is_refused() {
    let text = demo_with("title = \"Demo\"", "title = \"Demo\"\nowner = \"x\"");
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        5,
        None,
        "unknown field `owner`, expected one of `name`, `version`, `title`",
    );
}

#[test]
fn unknown_key_in_transition_is_refused() {
    let text = demo_with(
        "roles = [\"member\"]\n",
        "roles = [\"member\"]\nguard = [\"x\"]\n",
    );
    let err = error("demo.v1.toml", &text);
    assert_eq!((err.line, err.rule), (19, None));
    assert!(err.message.starts_with("unknown field `guard`"), "{err}");
}

#[test]
fn unknown_top_level_table_is_refused() {
    let text = format!("{DEMO}\n[extra]\nx = 1\n");
    let err = error("demo.v1.toml", &text);
    assert_eq!(err.line, 26);
    assert!(err.message.starts_with("unknown field `extra`"), "{err}");
}

#[test]
fn unknown_state_kind_is_refused() {
    let text = demo_with("kind = \"terminal\"", "kind = \"final\"");
    let err = error("demo.v1.toml", &text);
    assert_eq!(err.line, 12);
    assert!(err.message.contains("unknown variant `final`"), "{err}");
}

#[test]
fn duplicate_state_is_refused() {
    let text = demo_with("name = \"closed\"", "name = \"open\"");
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        11,
        None,
        "state `open` is declared twice (first on line 6)",
    );
}

#[test]
fn missing_initial_state_is_refused() {
    let text = demo_with("kind = \"initial\"", "kind = \"waiting\"");
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        1,
        None,
        "no initial state: exactly one state must have kind = \"initial\"",
    );
}

#[test]
fn second_initial_state_is_refused() {
    let text = demo_with("kind = \"terminal\"", "kind = \"initial\"");
    let errors = Definition::check("demo.v1.toml", &text).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_error(
        &errors[0],
        "demo.v1.toml",
        10,
        None,
        "state `closed` is a second initial state (`open` is initial); exactly one state must be initial",
    );
}

#[test]
fn transition_from_undeclared_state_is_refused() {
    let text = demo_with("from = \"open\"", "from = \"opened\"");
    let errors = Definition::check("demo.v1.toml", &text).expect_err("refused");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "demo.v1.toml:10: state `closed` cannot be reached from `new`",
            "demo.v1.toml:21: transition from undeclared state `opened`",
        ]
    );
}

#[test]
fn transition_to_undeclared_state_is_refused() {
    let text = demo_with("to = \"closed\"", "to = \"shut\"");
    let errors = Definition::check("demo.v1.toml", &text).expect_err("refused");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "demo.v1.toml:10: state `closed` cannot be reached from `new`",
            "demo.v1.toml:23: transition to undeclared state `shut`",
        ]
    );
}

#[test]
fn creating_transition_must_lead_to_the_initial_state() {
    let text = demo_with("to = \"open\"", "to = \"closed\"");
    let errors = Definition::check("demo.v1.toml", &text).expect_err("refused");
    assert_error(
        &errors[0],
        "demo.v1.toml",
        6,
        None,
        "state `open` cannot be reached from `new`",
    );
    assert_error(
        &errors[1],
        "demo.v1.toml",
        17,
        None,
        "the creating command `create` must lead to the initial state `open`, not `closed`",
    );
}

#[test]
fn duplicate_from_command_is_refused() {
    let text = format!("{DEMO}\n[[transition]]\nfrom = \"open\"\ncommand = \"close\"\nto = \"open\"\nroles = [\"member\"]\n");
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        26,
        None,
        "command `close` from state `open` is declared twice (first on line 20)",
    );
}

#[test]
fn terminal_state_with_outgoing_transition_is_refused() {
    let text = format!("{DEMO}\n[[transition]]\nfrom = \"closed\"\ncommand = \"reopen\"\nto = \"open\"\nroles = [\"member\"]\n");
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        27,
        None,
        "terminal state `closed` cannot have an outgoing transition (`reopen`)",
    );
}

#[test]
fn unreachable_state_is_refused() {
    let text = demo_with(
        "[[transition]]\nfrom = \"new\"",
        "[[state]]\nname = \"limbo\"\nkind = \"waiting\"\n\n[[transition]]\nfrom = \"new\"",
    );
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        14,
        None,
        "state `limbo` cannot be reached from `new`",
    );
}

#[test]
fn empty_roles_are_refused() {
    let text = demo_with("roles = [\"member\"]", "roles = []");
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        18,
        None,
        "roles must name at least one role",
    );
}

#[test]
fn unknown_role_is_refused() {
    let text = demo_with(
        "roles = [\"member\", \"system_admin\"]",
        "roles = [\"member\",\n  \"principal\"]",
    );
    let err = error("demo.v1.toml", &text);
    assert_error(
        &err,
        "demo.v1.toml",
        25,
        None,
        "unknown role `principal` (known: branch_secretary, committee_admin, auditor, member, system_admin)",
    );
}

#[test]
fn unknown_guard_flag_and_action_are_refused() {
    let text = demo_with(
        "roles = [\"member\"]\n",
        "roles = [\"member\"]\nguards = [\"age_at_least\"]\nflags = [\"whenever\"]\nactions = [\"launch\"]\n",
    );
    let errors = Definition::check("demo.v1.toml", &text).expect_err("refused");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            // age_at_least is an admission guard, unknown to the demo machine.
            "demo.v1.toml:19: unknown guard `age_at_least` for workflow `demo`",
            "demo.v1.toml:20: unknown flag `whenever` for workflow `demo`",
            "demo.v1.toml:21: unknown action `launch` for workflow `demo`",
        ]
    );
}

#[test]
fn unknown_admission_guard_is_refused() {
    let text = admission_with(
        "guards = [\"age_at_least\"]",
        "guards = [\"age_at_least\", \"age_above\"]",
    );
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        19,
        None,
        "unknown guard `age_above` for workflow `admission`",
    );
}

#[test]
fn file_name_must_match_name_and_version() {
    let err = error("demo.v2.toml", DEMO);
    assert_error(
        &err,
        "demo.v2.toml",
        2,
        None,
        "file name must be `demo.v1.toml` for workflow `demo` version 1, not `demo.v2.toml`",
    );
    // A path is fine: only its last component is checked.
    assert!(Definition::parse("some/dir/demo.v1.toml", DEMO).is_ok());
}

#[test]
fn check_returns_every_error_sorted_by_line() {
    let text =
        demo_with("roles = [\"member\"]", "roles = []").replace("to = \"closed\"", "to = \"shut\"");
    let errors = Definition::check("demo.v3.toml", &text).expect_err("refused");
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 10, 18, 23]);
}

// ------------------------------------------------------------------ admission floor rules

#[test]
fn tiny_admission_satisfies_the_floor_rules() {
    let def = Definition::parse("admission.v1.toml", TINY_ADMISSION).expect("loads");
    assert_eq!(def.policy_line, 28);
    assert_eq!(def.policy_u32("min_age"), Ok(14));
    assert_eq!(def.policy_str("meeting_majority"), Ok("entitled"));
}

#[test]
fn adm_age_min_floor_refuses_min_age_13() {
    let text = admission_with("min_age = 14", "min_age = 13");
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        29,
        Some(RuleCode::AdmAgeMin),
        "ADM_AGE_MIN is a floor rule: min_age = 13 is below 14",
    );
    assert_eq!(
        err.to_string(),
        "admission.v1.toml:29: ADM_AGE_MIN is a floor rule: min_age = 13 is below 14"
    );
}

#[test]
fn adm_age_min_floor_refuses_a_path_to_admitted_without_age_at_least() {
    let text = admission_with("guards = [\"age_at_least\"]", "guards = [\"age_below\"]");
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        14,
        Some(RuleCode::AdmAgeMin),
        "ADM_AGE_MIN is a floor rule: the path from `new` to `admitted` through the commands apply, approve never checks the guard `age_at_least`",
    );
}

#[test]
fn adm_age_min_floor_accepts_age_at_least_later_on_the_path() {
    let text = admission_with("guards = [\"age_at_least\"]", "guards = []").replace(
        "actions = [\"assign_development_number\"]",
        "guards = [\"age_at_least\"]\nactions = [\"assign_development_number\"]",
    );
    assert!(Definition::parse("admission.v1.toml", &text).is_ok());
}

#[test]
fn adm_age_min_floor_sees_a_bypass_around_the_checked_transition() {
    // The check sits on `approve`; a second command `fast_track` reaches `admitted` without it.
    let text = admission_with("guards = [\"age_at_least\"]", "guards = []")
        .replace(
            "actions = [\"assign_development_number\"]\n",
            "guards = [\"age_at_least\"]\nactions = [\"assign_development_number\"]\n\n[[transition]]\nfrom = \"applicant\"\ncommand = \"fast_track\"\nto = \"admitted\"\nroles = [\"committee_admin\"]\nactions = [\"assign_development_number\"]\n",
        );
    let errors = Definition::check("admission.v1.toml", &text).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_error(
        &errors[0],
        "admission.v1.toml",
        14,
        Some(RuleCode::AdmAgeMin),
        "ADM_AGE_MIN is a floor rule: the path from `new` to `admitted` through the commands apply, fast_track never checks the guard `age_at_least`",
    );
}

#[test]
fn adm_number_required_floor_refuses_admission_without_assign_development_number() {
    let text = admission_with("actions = [\"assign_development_number\"]", "actions = []");
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        21,
        Some(RuleCode::AdmNumberRequired),
        "ADM_NUMBER_REQUIRED is a floor rule: command `approve` from `applicant` into `admitted` lacks the action `assign_development_number`",
    );
}

#[test]
fn admission_without_admitted_state_is_refused() {
    let text = admission_with("name = \"admitted\"", "name = \"accepted\"")
        .replace("to = \"admitted\"", "to = \"accepted\"");
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        1,
        None,
        "the admission workflow must declare the state `admitted`",
    );
}

#[test]
fn admission_policy_unknown_key_is_refused() {
    let text = admission_with("sponsors = 2\n", "sponsors = 2\nsponsers = 2\n");
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        41,
        None,
        "unknown [policy] key `sponsers` for workflow `admission`",
    );
}

#[test]
fn admission_policy_missing_key_names_the_policy_line() {
    let text = admission_with("sponsors = 2\n", "");
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        28,
        None,
        "[policy] lacks the key `sponsors` (a whole number)",
    );
}

#[test]
fn admission_policy_wrong_type_names_the_policy_line() {
    let text = admission_with("class_hours = 8", "class_hours = \"8\"");
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        28,
        None,
        "[policy] `class_hours` must be a whole number, found `class_hours = \"8\"`",
    );
}

#[test]
fn admission_policy_meeting_majority_present_is_variant_a() {
    let text = admission_with(
        "meeting_majority = \"entitled\"",
        "meeting_majority = \"present\"",
    );
    let def = Definition::parse("admission.v1.toml", &text).expect("loads");
    let policy = AdmissionPolicy::from_definition(&def).expect("policy");
    assert_eq!(policy.meeting_majority, MajorityBasis::Present);
    let text = admission_with(
        "meeting_majority = \"entitled\"",
        "meeting_majority = \"all\"",
    );
    let err = error("admission.v1.toml", &text);
    assert_error(
        &err,
        "admission.v1.toml",
        36,
        None,
        "[policy] meeting_majority must be \"entitled\" or \"present\", not \"all\"",
    );
}

#[test]
fn policy_u32_refuses_negative_numbers() {
    let def = Definition::parse("demo.v1.toml", &format!("{DEMO}\n[policy]\ndays = -1\n"))
        .expect("loads");
    assert_eq!(def.policy_line, 26);
    assert_eq!(
        def.policy_u32("days").expect_err("negative"),
        LoadError::new(
            "demo.v1.toml",
            26,
            "[policy] `days` must be a whole number from 0 to 4294967295, found `days = -1`"
        )
    );
    assert_eq!(
        def.policy_u32("weeks").expect_err("missing"),
        LoadError::new(
            "demo.v1.toml",
            26,
            "[policy] lacks the key `weeks` (a whole number)"
        )
    );
}

// ------------------------------------------------------------------ registry

#[test]
fn registry_from_files_returns_every_error_of_every_file() {
    let bad_demo = demo_with("roles = [\"member\"]", "roles = []");
    let bad_admission = admission_with("min_age = 14", "min_age = 12");
    let errors = Registry::from_files(&[
        ("demo.v1.toml", &bad_demo),
        ("admission.v1.toml", &bad_admission),
        ("other.v1.toml", DEMO),
    ])
    .expect_err("refused");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "demo.v1.toml:18: roles must name at least one role",
            "admission.v1.toml:29: ADM_AGE_MIN is a floor rule: min_age = 12 is below 14",
            "other.v1.toml:2: file name must be `demo.v1.toml` for workflow `demo` version 1, not `other.v1.toml`",
        ]
    );
}

#[test]
fn registry_refuses_the_same_name_and_version_twice() {
    let errors = Registry::from_files(&[("demo.v1.toml", DEMO), ("a/demo.v1.toml", DEMO)])
        .expect_err("refused");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec!["a/demo.v1.toml:1: workflow `demo` version 1 is already defined in `demo.v1.toml`"]
    );
}

#[test]
fn registry_latest_is_the_highest_version() {
    let v2 = demo_with("version = 1", "version = 2");
    let v10 = demo_with("version = 1", "version = 10");
    let registry = Registry::from_files(&[
        ("demo.v10.toml", &v10),
        ("demo.v1.toml", DEMO),
        ("demo.v2.toml", &v2),
    ])
    .expect("loads");
    assert_eq!(registry.latest("demo").map(|d| d.version), Some(10));
    assert_eq!(
        registry.get("demo", 2).map(|d| d.file.as_str()),
        Some("demo.v2.toml")
    );
    let order: Vec<u32> = registry.iter().map(|d| d.version).collect();
    assert_eq!(order, vec![1, 2, 10]);
    assert!(registry.latest("dem").is_none());
}

#[test]
fn registry_load_dir_reads_toml_files_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("demo.v1.toml"), DEMO).expect("write");
    std::fs::write(dir.path().join("admission.v1.toml"), TINY_ADMISSION).expect("write");
    std::fs::write(dir.path().join("README.md"), "not a workflow").expect("write");
    let registry = Registry::load_dir(dir.path()).expect("loads");
    let names: Vec<&str> = registry.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["admission", "demo"]);
}

#[test]
fn registry_load_dir_reports_every_bad_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("demo.v1.toml"),
        demo_with("roles = [\"member\"]", "roles = []"),
    )
    .expect("write");
    std::fs::write(dir.path().join("x.v1.toml"), "[workflow\n").expect("write");
    let errors = Registry::load_dir(dir.path()).expect_err("refused");
    let located: Vec<(String, usize)> = errors
        .iter()
        .map(|e| {
            (
                e.file.rsplit('/').next().unwrap_or_default().to_string(),
                e.line,
            )
        })
        .collect();
    assert_eq!(
        located,
        vec![
            ("demo.v1.toml".to_string(), 18),
            ("x.v1.toml".to_string(), 1)
        ]
    );
}

#[test]
fn registry_load_dir_of_the_shipped_directory_matches_builtin() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
    let registry = Registry::load_dir(&dir).expect("shipped files load");
    let shipped: Vec<(&str, u32, &str)> = registry
        .iter()
        .map(|d| (d.name.as_str(), d.version, d.sha256.as_str()))
        .collect();
    let embedded: Vec<(&str, u32, &str)> = builtin()
        .iter()
        .map(|d| (d.name.as_str(), d.version, d.sha256.as_str()))
        .collect();
    assert_eq!(shipped, embedded);
}

// ------------------------------------------------------------------ the shipped relation file

fn relation_with(from: &str, to: &str) -> String {
    assert!(
        RELATION_SHIPPED.contains(from),
        "relation.v1.toml lacks {from:?}"
    );
    RELATION_SHIPPED.replacen(from, to, 1)
}

#[test]
fn shipped_relation_v1_loads_with_9_states_and_29_transitions() {
    let def = Definition::parse("workflows/relation.v1.toml", RELATION_SHIPPED)
        .expect("shipped file loads");
    assert_eq!(
        (def.name.as_str(), def.version, def.title.as_str()),
        (
            "relation",
            1,
            "组织关系转接 Organisation relation and transfer"
        )
    );
    let states: Vec<(&str, StateKind)> = def
        .states
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert_eq!(
        states,
        vec![
            ("at_branch", StateKind::Initial),
            ("graduated_pending_transfer", StateKind::Waiting),
            ("retained", StateKind::Waiting),
            ("transfer_requested", StateKind::Waiting),
            ("lost_contact", StateKind::Waiting),
            ("suspended", StateKind::Waiting),
            ("reported_in", StateKind::Waiting),
            ("transferred", StateKind::Terminal),
            ("deleted", StateKind::Terminal),
        ]
    );
    assert_eq!(def.transitions.len(), 29);
    assert_eq!(def.policy_line, 20);
    let delete = def.transition("at_branch", "delete").expect("declared");
    assert_eq!(delete.line, 355);
}

#[test]
fn shipped_relation_v1_transitions_are_exactly_the_designed_table() {
    let def = builtin().latest("relation").expect("builtin relation");
    let got: Vec<String> = def
        .transitions
        .iter()
        .map(|t| {
            format!(
                "{} {} {} [{}] [{}] [{}] [{}]",
                t.from,
                t.command,
                t.to,
                t.roles.join(","),
                t.guards.join(","),
                t.flags.join(","),
                t.actions.join(",")
            )
        })
        .collect();
    let expected = vec![
        "new open at_branch [branch_secretary,committee_admin,member,system_admin] [] [] []",
        "new receive at_branch [branch_secretary,committee_admin,member,system_admin] [target_is_branch] [] [move_relation]",
        "at_branch graduate graduated_pending_transfer [branch_secretary,committee_admin] [] [] [lock_record]",
        "graduated_pending_transfer retain retained [branch_secretary,committee_admin] [retention_branch] [] [move_relation]",
        "retained flag_retention retained [system_admin] [retention_elapsed] [] []",
        "at_branch request_transfer transfer_requested [member,branch_secretary,committee_admin] [one_open,initiator_valid,destination_valid] [] [set_deadline]",
        "graduated_pending_transfer request_transfer transfer_requested [member,branch_secretary,committee_admin] [one_open,initiator_valid,destination_valid] [] [set_deadline]",
        "retained request_transfer transfer_requested [member,branch_secretary,committee_admin] [one_open,initiator_valid,destination_valid] [] [set_deadline]",
        "transfer_requested approve transfer_requested [branch_secretary,committee_admin,system_admin] [approver_is_party] [transfer_overdue] []",
        "transfer_requested assign_branch transfer_requested [committee_admin] [assigned_branch_valid] [] []",
        "transfer_requested complete transferred [branch_secretary,committee_admin,system_admin] [approvals_complete,target_is_branch] [] [move_relation]",
        "transfer_requested reject history [branch_secretary,committee_admin] [approver_is_party] [] []",
        "transfer_requested cancel history [member,branch_secretary,committee_admin] [canceller_is_initiator] [] []",
        "transfer_requested mark_overdue transfer_requested [system_admin] [timeout_elapsed] [] [escalate]",
        "graduated_pending_transfer record_contact graduated_pending_transfer [branch_secretary,committee_admin] [] [] []",
        "retained record_contact retained [branch_secretary,committee_admin] [] [] []",
        "transfer_requested record_contact transfer_requested [branch_secretary,committee_admin] [] [] []",
        "lost_contact record_contact lost_contact [branch_secretary,committee_admin] [] [] []",
        "suspended record_contact suspended [branch_secretary,committee_admin] [] [] []",
        "graduated_pending_transfer mark_lost_contact lost_contact [system_admin] [contact_lapsed] [] []",
        "retained mark_lost_contact lost_contact [system_admin] [contact_lapsed] [] []",
        "lost_contact suspend suspended [committee_admin] [verification_complete,suspension_approval] [] [start_suspension]",
        "graduated_pending_transfer report_in reported_in [member,branch_secretary,committee_admin] [report_in_branch] [] []",
        "retained report_in reported_in [member,branch_secretary,committee_admin] [report_in_branch] [] []",
        "lost_contact report_in reported_in [member,branch_secretary,committee_admin] [report_in_branch] [] []",
        "suspended report_in reported_in [member,branch_secretary,committee_admin] [report_in_branch] [] []",
        "reported_in accept_report_in transferred [branch_secretary,committee_admin] [report_in_approver] [] [move_relation]",
        "reported_in decline_report_in history [branch_secretary,committee_admin] [report_in_approver] [] []",
        "at_branch delete deleted [committee_admin,system_admin] [not_locked] [] [tombstone]",
    ];
    assert_eq!(got, expected);
}

#[test]
fn relation_rule_codes_of_the_shipped_transitions() {
    // Every name the file uses maps to its TRF_* rule code (DOMAIN.md §3, §4).
    let def = builtin().latest("relation").expect("builtin relation");
    let names = tuanji_workflow::names::for_machine("relation");
    let suspend = def.transition("lost_contact", "suspend").expect("declared");
    let codes: Vec<RuleCode> = suspend
        .guards
        .iter()
        .filter_map(|g| names.guard(g))
        .chain(suspend.actions.iter().filter_map(|a| names.action(a)))
        .collect();
    assert_eq!(codes, vec![RuleCode::TrfLostContact; 3]);
    assert_eq!(names.guard("not_locked"), Some(RuleCode::TrfNoDelete));
    assert_eq!(
        names.guard("destination_valid"),
        Some(RuleCode::TrfFurtherStudy)
    );
    assert_eq!(names.flag("transfer_overdue"), Some(RuleCode::TrfTimeout));
    assert_eq!(names.action("escalate"), Some(RuleCode::TrfTimeout));
}

#[test]
fn relation_policy_from_shipped_file_gives_the_defaults() {
    let def = builtin().get("relation", 1).expect("relation v1");
    let policy = RelationPolicy::from_definition(def).expect("policy");
    assert_eq!(
        policy,
        RelationPolicy {
            transfer_timeout_days: 30,
            timeout_auto_approve: false,
            member_initiated_approvals: MemberInitiatedApprovals::Both,
            retention_months: 6,
            retention_max_months: 12,
            lost_contact_months: 6,
            verification_months: 6,
            suspension_months: 24,
        }
    );
}

/// A bad relation `[policy]` is refused by the loader itself (the same error `RelationPolicy::from_definition`
/// gives), so a file with one never loads.
fn relation_policy_error(from: &str, to: &str) -> LoadError {
    Definition::parse("relation.v1.toml", &relation_with(from, to)).expect_err("policy refused")
}

#[test]
fn relation_policy_variants_and_refusals_name_the_policy_line() {
    let def = Definition::parse(
        "relation.v1.toml",
        &relation_with(
            "member_initiated_approvals = \"both\"",
            "member_initiated_approvals = \"incoming\"",
        )
        .replace(
            "timeout_auto_approve = false",
            "timeout_auto_approve = true",
        ),
    )
    .expect("loads");
    let policy = RelationPolicy::from_definition(&def).expect("policy");
    assert_eq!(
        (
            policy.member_initiated_approvals,
            policy.timeout_auto_approve
        ),
        (MemberInitiatedApprovals::Incoming, true)
    );
    let cases = [
        (
            "retention_max_months = 12",
            "retention_max_months = 5",
            "[policy] retention_max_months must be at least retention_months",
        ),
        (
            "transfer_timeout_days = 30",
            "transfer_timeout_days = 0",
            "[policy] transfer_timeout_days must be above 0",
        ),
        (
            "member_initiated_approvals = \"both\"",
            "member_initiated_approvals = \"outgoing\"",
            "[policy] member_initiated_approvals must be \"both\" or \"incoming\", not \"outgoing\"",
        ),
        (
            "timeout_auto_approve = false",
            "timeout_auto_approve = \"no\"",
            "[policy] timeout_auto_approve must be true or false",
        ),
        (
            "suspension_months = 24",
            "suspension_months = 24\nsuspension_years = 2",
            "unknown [policy] key `suspension_years` for workflow `relation`",
        ),
        (
            "lost_contact_months = 6 ",
            "",
            "[policy] lacks the key `lost_contact_months` (a whole number)",
        ),
    ];
    for (from, to, message) in cases {
        let err = relation_policy_error(from, to);
        assert_error(&err, "relation.v1.toml", 20, None, message);
    }
}

// ------------------------------------------------------------------ relation floor rule TRF_NO_DELETE

/// A `delete` transition from `from` appended to the shipped file: its header is on line 364.
fn with_delete_from(from: &str, guards: &str) -> String {
    format!(
        "{RELATION_SHIPPED}\n[[transition]]\nfrom = \"{from}\"\ncommand = \"delete\"\nto = \"deleted\"\nroles = [\"committee_admin\"]\nguards = [{guards}]\nactions = [\"tombstone\"]\n"
    )
}

#[test]
fn trf_no_delete_floor_refuses_delete_from_graduated_pending_transfer() {
    let err = error(
        "relation.v1.toml",
        &with_delete_from("graduated_pending_transfer", "\"not_locked\""),
    );
    assert_error(
        &err,
        "relation.v1.toml",
        364,
        Some(RuleCode::TrfNoDelete),
        "TRF_NO_DELETE is a floor rule: `delete` from `graduated_pending_transfer`: a member graduated pending transfer or with an open transfer cannot be deleted",
    );
    assert_eq!(
        err.to_string(),
        "relation.v1.toml:364: TRF_NO_DELETE is a floor rule: `delete` from `graduated_pending_transfer`: a member graduated pending transfer or with an open transfer cannot be deleted"
    );
}

#[test]
fn trf_no_delete_floor_refuses_delete_from_every_locked_state() {
    assert_eq!(
        LOCKED_STATES,
        &[
            "graduated_pending_transfer",
            "retained",
            "transfer_requested",
            "reported_in",
            "lost_contact",
            "suspended",
        ]
    );
    for state in LOCKED_STATES {
        let errors = Definition::check("relation.v1.toml", &with_delete_from(state, ""))
            .expect_err("refused");
        let got: Vec<(usize, Option<RuleCode>)> = errors.iter().map(|e| (e.line, e.rule)).collect();
        assert_eq!(
            got,
            vec![(364, Some(RuleCode::TrfNoDelete))],
            "delete from {state}: {errors:?}"
        );
    }
}

#[test]
fn trf_no_delete_floor_refuses_a_delete_without_not_locked() {
    let text = relation_with(
        "guards = [\"not_locked\"]\nflags = []\nactions = [\"tombstone\"]",
        "guards = []\nflags = []\nactions = [\"tombstone\"]",
    );
    let err = error("relation.v1.toml", &text);
    assert_error(
        &err,
        "relation.v1.toml",
        355,
        Some(RuleCode::TrfNoDelete),
        "TRF_NO_DELETE is a floor rule: `delete` from `at_branch` lacks the guard `not_locked`",
    );
}

#[test]
fn trf_no_delete_floor_accepts_delete_from_an_unlocked_state_with_not_locked() {
    // A second unlocked deletion path is fine as long as it checks `not_locked`.
    let text = relation_with(
        "[[state]]\nname = \"transferred\"",
        "[[state]]\nname = \"archived\"\nkind = \"waiting\"\n\n[[state]]\nname = \"transferred\"",
    )
    .replace(
        "# ---------------------------------------------------------------- deletion",
        "[[transition]]\nfrom = \"at_branch\"\ncommand = \"archive\"\nto = \"archived\"\nroles = [\"committee_admin\"]\n",
    );
    let text = format!(
        "{text}\n[[transition]]\nfrom = \"archived\"\ncommand = \"delete\"\nto = \"deleted\"\nroles = [\"committee_admin\"]\nguards = [\"not_locked\"]\nactions = [\"tombstone\"]\n"
    );
    let def = Definition::parse("relation.v1.toml", &text).expect("loads");
    assert_eq!(
        def.transition("archived", "delete").map(|t| t.to.as_str()),
        Ok("deleted")
    );
}

#[test]
fn history_from_new_is_refused() {
    let text = relation_with(
        "command = \"open\"\nto = \"at_branch\"",
        "command = \"open\"\nto = \"history\"",
    );
    let errors = Definition::check("relation.v1.toml", &text).expect_err("refused");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec!["relation.v1.toml:83: a creating command cannot return to `history`"]
    );
}

#[test]
fn history_transition_looks_up_with_to_history() {
    let def = builtin().latest("relation").expect("relation");
    for (from, command) in [
        ("transfer_requested", "reject"),
        ("transfer_requested", "cancel"),
        ("reported_in", "decline_report_in"),
    ] {
        let t = def.transition(from, command).expect("declared");
        assert_eq!(t.to, tuanji_workflow::HISTORY);
    }
}

// ------------------------------------------------------------------ Mermaid with history

/// A tiny machine with a history return: `wait` is entered from `a` and from `b`.
const HISTORY_DEMO: &str = r#"[workflow]
name = "demo"
version = 1
title = "History demo"

[[state]]
name = "a"
kind = "initial"

[[state]]
name = "b"
kind = "waiting"

[[state]]
name = "wait"
kind = "waiting"

[[transition]]
from = "new"
command = "create"
to = "a"
roles = ["member"]

[[transition]]
from = "a"
command = "move"
to = "b"
roles = ["member"]

[[transition]]
from = "a"
command = "ask"
to = "wait"
roles = ["member"]

[[transition]]
from = "b"
command = "ask"
to = "wait"
roles = ["member"]

[[transition]]
from = "wait"
command = "ping"
to = "wait"
roles = ["member"]

[[transition]]
from = "wait"
command = "refuse"
to = "history"
roles = ["member"]
"#;

#[test]
fn mermaid_prints_a_history_return_once_per_state_leading_into_from() {
    let def = Definition::parse("demo.v1.toml", HISTORY_DEMO).expect("loads");
    // `wait --> wait: ping` does not count as a state to return to.
    assert_eq!(
        def.mermaid(),
        "stateDiagram-v2\n    [*] --> a: create\n    a --> b: move\n    a --> wait: ask\n    b --> wait: ask\n    wait --> wait: ping\n    wait --> a: refuse (history)\n    wait --> b: refuse (history)\n"
    );
}

#[test]
fn mermaid_of_shipped_relation_has_the_history_edges() {
    let def = builtin().latest("relation").expect("relation");
    let mermaid = def.mermaid();
    let history: Vec<&str> = mermaid
        .lines()
        .filter(|l| l.ends_with("(history)"))
        .collect();
    assert_eq!(
        history,
        vec![
            "    transfer_requested --> at_branch: reject (history)",
            "    transfer_requested --> graduated_pending_transfer: reject (history)",
            "    transfer_requested --> retained: reject (history)",
            "    transfer_requested --> at_branch: cancel (history)",
            "    transfer_requested --> graduated_pending_transfer: cancel (history)",
            "    transfer_requested --> retained: cancel (history)",
            "    reported_in --> graduated_pending_transfer: decline_report_in (history)",
            "    reported_in --> retained: decline_report_in (history)",
            "    reported_in --> lost_contact: decline_report_in (history)",
            "    reported_in --> suspended: decline_report_in (history)",
        ]
    );
    assert!(mermaid.starts_with(
        "stateDiagram-v2\n    [*] --> at_branch: open\n    [*] --> at_branch: receive\n"
    ));
    assert!(mermaid.ends_with("    transferred --> [*]\n    deleted --> [*]\n"));
    assert!(
        !mermaid.contains("history\n"),
        "no edge to a state named history"
    );
    assert_eq!(mermaid.lines().count(), 1 + 29 - 3 + 10 + 2);
}
