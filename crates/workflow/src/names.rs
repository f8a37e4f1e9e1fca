//! The names a workflow file may use for guards, flags and actions, each with the rule code it
//! enforces.
//!
//! A workflow file refers to Rust code only through these names; the loader refuses any other
//! name, so nothing outside this table can run. The implementations live in [`crate::guards`].
//! The rule codes and their sources are those of DOMAIN.md and DOMAIN-SOURCES.md.

use tuanji_domain::RuleCode;

/// Guards of the admission machine: checks that block a command when they fail.
pub const GUARDS: &[(&str, RuleCode)] = &[
    ("resident_id_valid", RuleCode::IdChecksum),
    ("person_unique", RuleCode::IdUnique),
    ("age_at_least", RuleCode::AdmAgeMin),
    ("age_below", RuleCode::AdmAgeMax),
    ("date_order", RuleCode::AdmDateOrder),
    ("talk_recorded", RuleCode::AdmTalkDeadline),
    ("activist_approval", RuleCode::AdmActivistApproval),
    ("mentors_valid", RuleCode::AdmMentors),
    ("class_hour_length", RuleCode::AdmClassHours),
    ("class_hours_at_least", RuleCode::AdmClassHours),
    ("observation_elapsed", RuleCode::AdmObservation),
    ("prereview_authority", RuleCode::AdmPrereview),
    ("prereviewed", RuleCode::AdmPrereview),
    ("publicity_open", RuleCode::AdmPublicity),
    ("objection_open", RuleCode::AdmPublicity),
    ("publicity_elapsed", RuleCode::AdmPublicity),
    ("form_submitted", RuleCode::AdmDateOrder),
    ("sponsors_valid", RuleCode::AdmSponsors),
    ("meeting_quorum", RuleCode::AdmMeetingQuorum),
    ("meeting_majority", RuleCode::AdmMeetingMajority),
    ("approval_authority", RuleCode::AdmApproval),
    ("class_cap", RuleCode::AdmClassCap),
    ("oath_not_recorded", RuleCode::AdmOath),
    ("archive_file_valid", RuleCode::AdmArchive),
];

/// Flags of the admission machine: non-blocking checks that only mark a command (overdue).
pub const FLAGS: &[(&str, RuleCode)] = &[
    ("talk_deadline", RuleCode::AdmTalkDeadline),
    ("approval_deadline", RuleCode::AdmApprovalDeadline),
    ("archive_deadline", RuleCode::AdmArchive),
];

/// Actions of the admission machine: effects beyond the change of state.
pub const ACTIONS: &[(&str, RuleCode)] = &[
    ("compute_publicity_end", RuleCode::AdmPublicity),
    ("start_membership", RuleCode::AdmMembershipDate),
    ("assign_development_number", RuleCode::AdmNumberRequired),
    ("record_oath", RuleCode::AdmOath),
    ("void_development_number", RuleCode::AdmNumberRequired),
];

/// Guards of the standing machine (团籍), DOMAIN.md "Standing (§2)"; implementations in
/// [`crate::standing::check_guard`].
pub const STANDING_GUARDS: &[(&str, RuleCode)] = &[
    ("legacy_age", RuleCode::ImpLegacyAge),
    ("person_unique", RuleCode::IdUnique),
    ("probation_decided", RuleCode::StdProbation),
    ("probation_elapsed", RuleCode::StdProbation),
    ("expel_decided", RuleCode::StdExpel),
    ("no_pending_appeal", RuleCode::StdExpel),
    ("appeal_valid", RuleCode::StdExpel),
    ("age_out_due", RuleCode::StdAgeOut),
    ("withdraw_decided", RuleCode::StdWithdraw),
    ("removal_decided", RuleCode::StdLapse),
    ("lapse_grounds", RuleCode::StdLapse),
    ("unqualified_grounds", RuleCode::EvlUnqualified),
    ("lapse_elapsed", RuleCode::StdLapse),
    ("recommendation_held", RuleCode::PtyValidity),
    ("recommendation_over", RuleCode::PtyValidity),
    ("dues_valid", RuleCode::DueStudent),
    ("post_valid", RuleCode::StdAgeOut),
];

/// Flags of the standing machine.
pub const STANDING_FLAGS: &[(&str, RuleCode)] = &[("over_age_post_holder", RuleCode::StdAgeOut)];

/// Actions of the standing machine.
pub const STANDING_ACTIONS: &[(&str, RuleCode)] = &[
    ("record_legacy_number", RuleCode::AdmNumberRequired),
    ("start_probation", RuleCode::StdProbation),
    ("restore_rights", RuleCode::StdProbation),
    ("start_recommendation_validity", RuleCode::PtyValidity),
    ("record_dues", RuleCode::DueStudent),
];

/// Guards of the Party recommendation machine (推优入党), DOMAIN.md "Party recommendation (§5)";
/// implementations in [`crate::party::check_guard`].
pub const PARTY_GUARDS: &[(&str, RuleCode)] = &[
    ("not_dated_ahead", RuleCode::WfNotAllowed),
    ("age_range", RuleCode::PtyAge),
    ("tenure", RuleCode::PtyTenure),
    ("share", RuleCode::PtyShare),
    ("meeting_passed", RuleCode::PtyMeeting),
    ("grade_at_least", RuleCode::EvlGrades),
    ("not_on_probation", RuleCode::StdProbation),
    ("one_open", RuleCode::PtyValidity),
    ("publicity_end_valid", RuleCode::PtyMeeting),
    ("publicity_elapsed", RuleCode::PtyMeeting),
    ("recommend_authority", RuleCode::PtyMeeting),
    ("within_validity", RuleCode::PtyValidity),
    ("validity_elapsed", RuleCode::PtyValidity),
];

/// Actions of the Party recommendation machine.
pub const PARTY_ACTIONS: &[(&str, RuleCode)] = &[
    ("compute_publicity_end", RuleCode::PtyMeeting),
    ("start_validity", RuleCode::PtyValidity),
    ("enter_standing", RuleCode::PtyValidity),
];

/// Guards of the annual evaluation machine (团员教育评议), DOMAIN.md "Evaluation and dues (§7, §8)";
/// implementations in [`crate::evaluation::check_guard`].
pub const EVALUATION_GUARDS: &[(&str, RuleCode)] = &[
    ("attendance", RuleCode::EvlGrades),
    ("excellent_cap", RuleCode::EvlGrades),
    ("graded_members", RuleCode::EvlGrades),
    ("approval_authority", RuleCode::EvlGrades),
    ("reevaluation_due", RuleCode::EvlUnqualified),
    ("advice_due", RuleCode::EvlUnqualified),
    ("all_resolved", RuleCode::EvlUnqualified),
];

/// Flags of the annual evaluation machine.
pub const EVALUATION_FLAGS: &[(&str, RuleCode)] =
    &[("reevaluation_overdue", RuleCode::EvlUnqualified)];

/// Guards of the relation machine (组织关系转接), DOMAIN.md "Organisation relation and transfer (§3, §4)".
pub const RELATION_GUARDS: &[(&str, RuleCode)] = &[
    ("target_is_branch", RuleCode::TrfBranchOnly),
    ("assigned_branch_valid", RuleCode::TrfBranchOnly),
    ("one_open", RuleCode::TrfOneOpen),
    ("initiator_valid", RuleCode::TrfInitiator),
    ("approver_is_party", RuleCode::TrfInitiator),
    ("approvals_complete", RuleCode::TrfInitiator),
    ("canceller_is_initiator", RuleCode::TrfInitiator),
    ("destination_valid", RuleCode::TrfFurtherStudy),
    ("timeout_elapsed", RuleCode::TrfTimeout),
    ("retention_branch", RuleCode::TrfRetention),
    ("retention_elapsed", RuleCode::TrfRetention),
    ("contact_lapsed", RuleCode::TrfLostContact),
    ("verification_complete", RuleCode::TrfLostContact),
    ("suspension_approval", RuleCode::TrfLostContact),
    ("report_in_branch", RuleCode::TrfReportIn),
    ("report_in_approver", RuleCode::TrfReportIn),
    ("not_locked", RuleCode::TrfNoDelete),
];

/// Flags of the relation machine.
pub const RELATION_FLAGS: &[(&str, RuleCode)] = &[("transfer_overdue", RuleCode::TrfTimeout)];

/// Actions of the relation machine.
pub const RELATION_ACTIONS: &[(&str, RuleCode)] = &[
    ("move_relation", RuleCode::TrfBranchOnly),
    ("lock_record", RuleCode::TrfNoDelete),
    ("tombstone", RuleCode::TrfNoDelete),
    ("set_deadline", RuleCode::TrfTimeout),
    ("escalate", RuleCode::TrfTimeout),
    ("start_suspension", RuleCode::TrfLostContact),
];

/// The command a floor rule forbids from the relation states that hold a graduate pending transfer or
/// an open transfer (TRF_NO_DELETE).
pub const DELETE: &str = "delete";

/// The guard a floor rule requires on every path from `new` to `admitted` (ADM_AGE_MIN).
pub const AGE_AT_LEAST: &str = "age_at_least";

/// The action a floor rule requires on every transition into `admitted` (ADM_NUMBER_REQUIRED).
pub const ASSIGN_DEVELOPMENT_NUMBER: &str = "assign_development_number";

/// The roles a transition may name (see ARCHITECTURE.md "Access").
pub const ROLES: &[&str] = &[
    "branch_secretary",
    "committee_admin",
    "auditor",
    "member",
    "system_admin",
];

/// The guard, flag and action names one machine may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineNames {
    /// Guards: `(name, rule code)`.
    pub guards: &'static [(&'static str, RuleCode)],
    /// Flags: `(name, rule code)`.
    pub flags: &'static [(&'static str, RuleCode)],
    /// Actions: `(name, rule code)`.
    pub actions: &'static [(&'static str, RuleCode)],
}

impl MachineNames {
    /// No names at all: machines without implemented guards.
    pub const EMPTY: MachineNames = MachineNames {
        guards: &[],
        flags: &[],
        actions: &[],
    };

    /// The rule code of guard `name`, if this machine knows it.
    pub fn guard(&self, name: &str) -> Option<RuleCode> {
        lookup(self.guards, name)
    }

    /// The rule code of flag `name`, if this machine knows it.
    pub fn flag(&self, name: &str) -> Option<RuleCode> {
        lookup(self.flags, name)
    }

    /// The rule code of action `name`, if this machine knows it.
    pub fn action(&self, name: &str) -> Option<RuleCode> {
        lookup(self.actions, name)
    }
}

/// The names machine `machine` (the `[workflow] name` of a file) may use: the lists above for
/// `admission`, `standing`, `relation`, `party_recommendation` and `evaluation`, none for any other
/// machine.
pub fn for_machine(machine: &str) -> MachineNames {
    match machine {
        "admission" => MachineNames {
            guards: GUARDS,
            flags: FLAGS,
            actions: ACTIONS,
        },
        "standing" => MachineNames {
            guards: STANDING_GUARDS,
            flags: STANDING_FLAGS,
            actions: STANDING_ACTIONS,
        },
        "party_recommendation" => MachineNames {
            guards: PARTY_GUARDS,
            flags: &[],
            actions: PARTY_ACTIONS,
        },
        "evaluation" => MachineNames {
            guards: EVALUATION_GUARDS,
            flags: EVALUATION_FLAGS,
            actions: &[],
        },
        "relation" => MachineNames {
            guards: RELATION_GUARDS,
            flags: RELATION_FLAGS,
            actions: RELATION_ACTIONS,
        },
        _ => MachineNames::EMPTY,
    }
}

fn lookup(table: &[(&str, RuleCode)], name: &str) -> Option<RuleCode> {
    table
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, code)| *code)
}
