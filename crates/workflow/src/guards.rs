//! Guard and flag implementations of the admission machine, referenced by name from
//! `workflows/admission.v1.toml`. Pure functions of [`AdmissionFacts`]: the engine gathers the facts inside the
//! command's transaction, then [`check_guard`] refuses with a [`RuleViolation`] or [`check_flag`] reports an
//! overdue step without refusing.
//!
//! Sources: DOMAIN.md §1 and DOMAIN-SOURCES.md §1 (团章; 《中国共产主义青年团发展团员工作细则》 2023;
//! 《中学共青团改革实施方案》 2016; 中青发〔2016〕6号).

use crate::admission::{AdmissionData, AdmissionStep, Mentor};
use crate::{AdmissionPolicy, MajorityBasis};
use tuanji_domain::{
    add_months, age_on, check_class_cap, Date, RuleCode, RuleViolation, SchoolLevel,
    WorkingCalendar,
};

/// An organisation as a guard sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitteeFact {
    /// Organisation code.
    pub code: String,
    /// Has approval authority (`approves_admissions`).
    pub approves_admissions: bool,
    /// Is an ancestor of the applicant's branch (a committee's rights cover its subtree).
    pub covers_branch: bool,
}

/// A member referred to by a step (mentor or sponsor) as a guard sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFact {
    /// The person.
    pub person_id: uuid::Uuid,
    /// How to name them in an error (masked ID or name).
    pub label: String,
    /// Their standing in the register (`member`, `on_probation`, `annulled`), `None` if not a member.
    pub standing: Option<String>,
    /// The applicant themself.
    pub is_applicant: bool,
}

/// The applicant's branch as a guard sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BranchFact {
    /// School level, for ADM_CLASS_CAP.
    pub school_level: Option<SchoolLevel>,
    /// A graduating class.
    pub graduating: bool,
    /// Students in the class.
    pub class_size: Option<u32>,
    /// Current members (good standing or on probation).
    pub members: u32,
    /// Voting-entitled members (good standing only).
    pub entitled: u32,
}

/// Everything the admission guards may look at. The engine fills what the transition's guards need; the rest
/// stays at its default.
#[derive(Debug, Clone)]
pub struct AdmissionFacts<'a> {
    /// The machine's policy.
    pub policy: &'a AdmissionPolicy,
    /// China's working-day calendar.
    pub calendar: &'a WorkingCalendar,
    /// The applicant's birth date (from the resident ID).
    pub birth_date: Date,
    /// The instance data before the step.
    pub data: &'a AdmissionData,
    /// The step.
    pub step: &'a AdmissionStep,
    /// For `person_unique`: where the person is already held, if anywhere (an organisation's name and code).
    pub held_elsewhere: Option<String>,
    /// For the authority guards: the committee named by the step.
    pub committee: Option<CommitteeFact>,
    /// For `mentors_valid` (assign_mentors): the mentors who are members.
    pub mentors: Vec<MemberFact>,
    /// For `sponsors_valid`: the sponsors.
    pub sponsors: Vec<MemberFact>,
    /// The applicant's branch.
    pub branch: BranchFact,
    /// For `archive_file_valid`: whether the file starts with `%PDF-`.
    pub archive_is_pdf: bool,
}

fn refuse(code: RuleCode, message: impl Into<String>) -> Result<(), RuleViolation> {
    Err(RuleViolation::new(code, message))
}

/// Checks the named guard. Unknown names are refused with WF_NOT_ALLOWED (the loader rejects them first).
pub fn check_guard(name: &str, f: &AdmissionFacts<'_>) -> Result<(), RuleViolation> {
    let p = f.policy;
    let date = f.step.date();
    let d = f.data;
    match name {
        // The resident ID was parsed (ID_FORMAT, ID_CHECKSUM, ID_BIRTH_DATE) before the facts existed.
        "resident_id_valid" => Ok(()),
        "person_unique" => match &f.held_elsewhere {
            Some(held) => refuse(RuleCode::IdUnique, format!("this person is already registered at {held}; start a transfer instead of a new record")),
            None => Ok(()),
        },
        "age_at_least" => {
            if date < f.birth_date {
                return refuse(RuleCode::AdmAgeMin, format!("{date} is before the applicant's birth date ({})", f.birth_date));
            }
            let age = age_on(f.birth_date, date);
            if age < p.min_age {
                return refuse(
                    RuleCode::AdmAgeMin,
                    format!("the applicant is {age} on {date}; applicants must be at least {} full years old (团章 Art. 1)", p.min_age),
                );
            }
            Ok(())
        }
        "age_below" => {
            let age = age_on(f.birth_date, date);
            if age >= p.max_age {
                return refuse(
                    RuleCode::AdmAgeMax,
                    format!("the applicant is {age} on {date}; admission requires an age under {} (团章 Art. 1)", p.max_age),
                );
            }
            Ok(())
        }
        "date_order" => date_order(f),
        "talk_recorded" => match d.talk {
            Some(_) => Ok(()),
            None => refuse(RuleCode::AdmTalkDeadline, "no talk with the applicant is recorded; record the talk first"),
        },
        "activist_approval" => authority(f, RuleCode::AdmActivistApproval, "approve activists"),
        "prereview_authority" => authority(f, RuleCode::AdmPrereview, "pre-review development targets"),
        "approval_authority" => authority(f, RuleCode::AdmApproval, "approve admissions"),
        "mentors_valid" => mentors_valid(f),
        "class_hour_length" => match f.step {
            AdmissionStep::RecordClass(c) if c.minutes < p.class_hour_minutes => refuse(
                RuleCode::AdmClassHours,
                format!("a class hour (学时) is an in-person class of at least {} minutes; this one lasted {}", p.class_hour_minutes, c.minutes),
            ),
            _ => Ok(()),
        },
        "class_hours_at_least" => {
            let hours = d.class_hours(p.class_hour_minutes);
            if hours < p.class_hours {
                return refuse(RuleCode::AdmClassHours, format!("{hours} class hours recorded; at least {} are required", p.class_hours));
            }
            Ok(())
        }
        "observation_elapsed" => {
            let Some((since, _)) = &d.activist else {
                return refuse(RuleCode::AdmObservation, "the applicant was never approved as an activist");
            };
            let earliest = add_months(*since, p.observation_months);
            if date < earliest {
                return refuse(
                    RuleCode::AdmObservation,
                    format!("observation began on {since}; {} months end on {earliest}, after {date}", p.observation_months),
                );
            }
            Ok(())
        }
        "prereviewed" => match d.prereview {
            Some(_) => Ok(()),
            None => refuse(RuleCode::AdmPrereview, "the development target has not been pre-reviewed by a committee with approval authority"),
        },
        "publicity_open" => match d.publicity {
            Some((start, end)) if date >= start && date <= end => Ok(()),
            Some((start, end)) => refuse(
                RuleCode::AdmPublicity,
                format!("objections are raised during publicity ({start} to {end}); {date} is outside it"),
            ),
            None => refuse(RuleCode::AdmPublicity, "the development target was never publicised"),
        },
        "objection_open" => match d.open_objections() {
            0 => refuse(RuleCode::AdmPublicity, "there is no open objection to resolve"),
            _ => Ok(()),
        },
        "publicity_elapsed" => {
            let Some((start, end)) = d.publicity else {
                return refuse(RuleCode::AdmPublicity, "the development target was never publicised");
            };
            if date <= end {
                return refuse(
                    RuleCode::AdmPublicity,
                    format!("publicity from {start} runs {} working days, to {end} inclusive; the meeting must be after it", p.publicity_working_days),
                );
            }
            let open = d.open_objections();
            if open > 0 {
                return refuse(RuleCode::AdmPublicity, format!("{open} objection(s) raised during publicity are unresolved"));
            }
            Ok(())
        }
        "form_submitted" => match (d.form_date, d.sponsors.len()) {
            (Some(_), n) if n as u32 == p.sponsors => Ok(()),
            _ => refuse(RuleCode::AdmDateOrder, "the application form (入团志愿书) with the sponsors' opinions has not been submitted"),
        },
        "sponsors_valid" => sponsors_valid(f),
        "meeting_quorum" => {
            let AdmissionStep::HoldMeeting(m) = f.step else { return Ok(()) };
            let entitled = f.branch.entitled;
            if m.present > entitled {
                return refuse(RuleCode::AdmMeetingQuorum, format!("{} present, but the branch has only {entitled} voting-entitled members", m.present));
            }
            if m.present * 2 <= entitled {
                return refuse(
                    RuleCode::AdmMeetingQuorum,
                    format!("{} of {entitled} voting-entitled members present; more than half are required (members on probation are not entitled)", m.present),
                );
            }
            Ok(())
        }
        "meeting_majority" => {
            let AdmissionStep::HoldMeeting(m) = f.step else { return Ok(()) };
            if m.yes > m.present {
                return refuse(RuleCode::AdmMeetingMajority, format!("{} yes votes but only {} members present", m.yes, m.present));
            }
            let (basis, label) = match p.meeting_majority {
                MajorityBasis::Entitled => (f.branch.entitled, "voting-entitled members"),
                MajorityBasis::Present => (m.present, "members present"),
            };
            if m.yes * 2 <= basis {
                return refuse(RuleCode::AdmMeetingMajority, format!("{} yes votes of {basis} {label}; more than half are required", m.yes));
            }
            Ok(())
        }
        "class_cap" => {
            let b = &f.branch;
            let cap = match (b.graduating, b.school_level) {
                (true, Some(SchoolLevel::JuniorHigh)) => p.junior_high_cap_percent,
                (true, Some(SchoolLevel::SeniorHigh)) => p.senior_high_cap_percent,
                _ => return Ok(()),
            };
            let Some(size) = b.class_size else {
                return refuse(RuleCode::AdmClassCap, "the graduating class's size is not recorded; set class_size on the branch");
            };
            let level = b.school_level.unwrap_or(SchoolLevel::SeniorHigh);
            check_class_cap(level, size, b.members + 1, cap)
        }
        "oath_not_recorded" => match d.oath_date {
            Some(on) => refuse(RuleCode::AdmOath, format!("the oath was already recorded on {on}")),
            None => Ok(()),
        },
        "archive_file_valid" => {
            let AdmissionStep::FileArchive(a) = f.step else { return Ok(()) };
            if !f.archive_is_pdf {
                return refuse(RuleCode::AdmArchive, "the application form must be filed as a PDF");
            }
            if a.bytes > p.archive_max_bytes {
                return refuse(RuleCode::AdmArchive, format!("the PDF has {} bytes; at most {} are allowed", a.bytes, p.archive_max_bytes));
            }
            Ok(())
        }
        other => refuse(RuleCode::WfNotAllowed, format!("unknown guard `{other}`")),
    }
}

/// Checks the named flag: `Some(message)` when the step is overdue. Flags never refuse.
pub fn check_flag(name: &str, f: &AdmissionFacts<'_>) -> Option<String> {
    let p = f.policy;
    let date = f.step.date();
    let d = f.data;
    match name {
        "talk_deadline" => {
            let due = add_months(d.application_date?, p.talk_deadline_months);
            (date > due).then(|| format!("talk on {date}, due by {due}"))
        }
        "approval_deadline" => {
            let due = d.meeting?.date + chrono::Days::new(p.approval_deadline_days.into());
            (date > due).then(|| format!("approval on {date}, due by {due}"))
        }
        "archive_deadline" => {
            let due = d.approval.as_ref()?.0 + chrono::Days::new(p.archive_deadline_days.into());
            (date > due).then(|| format!("filed on {date}, due by {due}"))
        }
        _ => None,
    }
}

fn date_order(f: &AdmissionFacts<'_>) -> Result<(), RuleViolation> {
    let d = f.data;
    let date = f.step.date();
    if let Some(last) = d.last_date {
        if date < last {
            return refuse(
                RuleCode::AdmDateOrder,
                format!(
                    "{} is dated {date}, before the previous step ({last})",
                    f.step.command()
                ),
            );
        }
    }
    // The form's own order: class record ≤ application form ≤ sponsors' opinions ≤ meeting ≤ approval.
    if let AdmissionStep::SubmitForm {
        date, opinion_date, ..
    } = f.step
    {
        if let Some(class) = d.last_class_date() {
            if *date < class {
                return refuse(RuleCode::AdmDateOrder, format!("the application form ({date}) is dated before the last League class ({class})"));
            }
        }
        if opinion_date < date {
            return refuse(RuleCode::AdmDateOrder, format!("the sponsors' opinions ({opinion_date}) are dated before the application form ({date})"));
        }
    }
    Ok(())
}

fn authority(f: &AdmissionFacts<'_>, code: RuleCode, what: &str) -> Result<(), RuleViolation> {
    let Some(c) = &f.committee else {
        return refuse(code, format!("no committee given to {what}"));
    };
    if !c.approves_admissions {
        return refuse(
            code,
            format!(
                "{} has no authority to {what} (not an approving committee)",
                c.code
            ),
        );
    }
    if !c.covers_branch {
        return refuse(
            code,
            format!("{} is not a superior of the applicant's branch", c.code),
        );
    }
    Ok(())
}

fn mentors_valid(f: &AdmissionFacts<'_>) -> Result<(), RuleViolation> {
    let p = f.policy;
    let mentors: &[Mentor] = match f.step {
        AdmissionStep::AssignMentors { mentors, .. } => mentors,
        _ => &f.data.mentors,
    };
    for (i, m) in mentors.iter().enumerate() {
        if mentors[..i].contains(m) {
            return refuse(RuleCode::AdmMentors, "the same mentor is named twice");
        }
    }
    let n = mentors.len() as u32;
    if n < p.mentors_min || n > p.mentors_max {
        return refuse(
            RuleCode::AdmMentors,
            format!(
                "{n} mentors assigned; {}–{} are required",
                p.mentors_min, p.mentors_max
            ),
        );
    }
    for m in &f.mentors {
        if m.is_applicant {
            return refuse(RuleCode::AdmMentors, "the applicant cannot mentor themself");
        }
        if m.standing.as_deref() != Some("member") {
            return refuse(
                RuleCode::AdmMentors,
                format!("mentor {} is not a member in good standing", m.label),
            );
        }
    }
    Ok(())
}

fn sponsors_valid(f: &AdmissionFacts<'_>) -> Result<(), RuleViolation> {
    let want = f.policy.sponsors as usize;
    if f.sponsors.len() != want {
        return refuse(
            RuleCode::AdmSponsors,
            format!(
                "{} sponsors given; exactly {want} are required",
                f.sponsors.len()
            ),
        );
    }
    for (i, s) in f.sponsors.iter().enumerate() {
        if s.is_applicant {
            return refuse(
                RuleCode::AdmSponsors,
                "the applicant cannot sponsor themself",
            );
        }
        if f.sponsors[..i].iter().any(|o| o.person_id == s.person_id) {
            return refuse(
                RuleCode::AdmSponsors,
                format!("sponsor {} is named twice", s.label),
            );
        }
        match s.standing.as_deref() {
            Some("member") => {}
            Some("on_probation") => {
                return refuse(
                    RuleCode::AdmSponsors,
                    format!(
                        "sponsor {} is on probation (留团察看) and cannot sponsor",
                        s.label
                    ),
                )
            }
            _ => {
                return refuse(
                    RuleCode::AdmSponsors,
                    format!("sponsor {} is not a member in good standing", s.label),
                )
            }
        }
    }
    Ok(())
}

/// The last working day of publicity starting on `start` (ADM_PUBLICITY): the `days`-th working day counting
/// `start` itself if it is one.
pub fn publicity_end(
    calendar: &WorkingCalendar,
    start: Date,
    days: u32,
) -> Result<Date, RuleViolation> {
    calendar
        .nth_working_day(start, days)
        .map_err(|e| RuleViolation::new(RuleCode::AdmPublicity, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Meeting;

    fn policy() -> AdmissionPolicy {
        let def = crate::builtin()
            .latest("admission")
            .expect("shipped admission workflow");
        AdmissionPolicy::from_definition(def).expect("shipped policy")
    }

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).expect("date")
    }

    fn meeting_facts<'a>(
        p: &'a AdmissionPolicy,
        data: &'a AdmissionData,
        step: &'a AdmissionStep,
        entitled: u32,
    ) -> AdmissionFacts<'a> {
        AdmissionFacts {
            policy: p,
            calendar: WorkingCalendar::china(),
            birth_date: d(2010, 1, 1),
            data,
            step,
            held_elsewhere: None,
            committee: None,
            mentors: Vec::new(),
            sponsors: Vec::new(),
            branch: BranchFact {
                entitled,
                members: entitled + 1,
                ..BranchFact::default()
            },
            archive_is_pdf: false,
        }
    }

    fn meeting(present: u32, yes: u32) -> AdmissionStep {
        AdmissionStep::HoldMeeting(Meeting {
            date: d(2026, 10, 16),
            entitled: 10,
            present,
            yes,
        })
    }

    #[test]
    fn adm_meeting_majority_variant_b_counts_yes_against_entitled_members() {
        let p = policy();
        assert_eq!(p.meeting_majority, MajorityBasis::Entitled);
        let data = AdmissionData::default();
        // 10 entitled, 6 present, 5 yes: > half of present, not > half of entitled.
        let step = meeting(6, 5);
        let err = check_guard("meeting_majority", &meeting_facts(&p, &data, &step, 10))
            .expect_err("refused");
        assert_eq!(err.code, RuleCode::AdmMeetingMajority);
        assert_eq!(
            err.message,
            "5 yes votes of 10 voting-entitled members; more than half are required"
        );
        let step = meeting(6, 6);
        assert_eq!(
            check_guard("meeting_majority", &meeting_facts(&p, &data, &step, 10)),
            Ok(())
        );
    }

    #[test]
    fn adm_meeting_majority_variant_a_counts_yes_against_members_present() {
        let mut p = policy();
        p.meeting_majority = MajorityBasis::Present;
        let data = AdmissionData::default();
        let step = meeting(6, 4);
        assert_eq!(
            check_guard("meeting_majority", &meeting_facts(&p, &data, &step, 10)),
            Ok(())
        );
        let step = meeting(6, 3);
        let err = check_guard("meeting_majority", &meeting_facts(&p, &data, &step, 10))
            .expect_err("refused");
        assert_eq!(
            err.message,
            "3 yes votes of 6 members present; more than half are required"
        );
    }

    #[test]
    fn adm_meeting_quorum_needs_more_than_half_of_entitled_members() {
        let p = policy();
        let data = AdmissionData::default();
        let step = meeting(5, 5);
        let err = check_guard("meeting_quorum", &meeting_facts(&p, &data, &step, 10))
            .expect_err("refused");
        assert_eq!(err.code, RuleCode::AdmMeetingQuorum);
        let step = meeting(6, 6);
        assert_eq!(
            check_guard("meeting_quorum", &meeting_facts(&p, &data, &step, 10)),
            Ok(())
        );
        let step = meeting(11, 6);
        let err = check_guard("meeting_quorum", &meeting_facts(&p, &data, &step, 10))
            .expect_err("refused");
        assert_eq!(
            err.message,
            "11 present, but the branch has only 10 voting-entitled members"
        );
    }

    #[test]
    fn adm_publicity_five_working_days_from_28_september_2026_end_on_9_october() {
        let end = publicity_end(
            WorkingCalendar::china(),
            d(2026, 9, 28),
            policy().publicity_working_days,
        )
        .expect("in range");
        assert_eq!(end, d(2026, 10, 9));
        let err = publicity_end(WorkingCalendar::china(), d(2027, 1, 4), 5)
            .expect_err("2027 not covered");
        assert_eq!(err.code, RuleCode::AdmPublicity);
    }

    #[test]
    fn adm_class_cap_applies_only_to_graduating_junior_and_senior_high_classes() {
        let p = policy();
        let data = AdmissionData::default();
        let step = AdmissionStep::Approve {
            date: d(2026, 10, 23),
            committee: "SCH".into(),
            number: String::new(),
        };
        let mut f = meeting_facts(&p, &data, &step, 0);
        f.branch = BranchFact {
            school_level: Some(SchoolLevel::JuniorHigh),
            graduating: true,
            class_size: Some(40),
            members: 11,
            entitled: 11,
        };
        assert_eq!(check_guard("class_cap", &f), Ok(()));
        f.branch.members = 12;
        let err = check_guard("class_cap", &f).expect_err("refused");
        assert_eq!(err.code, RuleCode::AdmClassCap);
        assert_eq!(
            err.message,
            "junior_high graduating class of 40 allows 12 members (30 %); admitting would make 13"
        );
        f.branch.graduating = false;
        assert_eq!(check_guard("class_cap", &f), Ok(()));
        f.branch = BranchFact {
            school_level: Some(SchoolLevel::SeniorHigh),
            graduating: true,
            class_size: None,
            members: 1,
            entitled: 1,
        };
        let err = check_guard("class_cap", &f).expect_err("no class size");
        assert_eq!(
            err.message,
            "the graduating class's size is not recorded; set class_size on the branch"
        );
    }

    #[test]
    fn adm_sponsors_tells_people_apart_by_person_not_by_masked_id() {
        let p = policy();
        let data = AdmissionData::default();
        let step = AdmissionStep::SubmitForm {
            date: d(2026, 10, 12),
            sponsors: vec![],
            opinion_date: d(2026, 10, 13),
        };
        let sponsor = |n: u128| MemberFact {
            person_id: uuid::Uuid::from_u128(n),
            label: "110105********1234".into(),
            standing: Some("member".into()),
            is_applicant: false,
        };
        let mut f = meeting_facts(&p, &data, &step, 4);
        f.sponsors = vec![sponsor(1), sponsor(2)];
        assert_eq!(
            check_guard("sponsors_valid", &f),
            Ok(()),
            "same masked ID, two people"
        );
        f.sponsors = vec![sponsor(1), sponsor(1)];
        let err = check_guard("sponsors_valid", &f).expect_err("the same person twice");
        assert_eq!(err.message, "sponsor 110105********1234 is named twice");
    }
}
