//! The admission machine's data (团员发展): the steps a branch records, the instance data they build, and the
//! member projection it yields. Pure: [`AdmissionData::apply`] is used both when a command runs and when the
//! log is replayed, so replaying a member's log rebuilds the projection exactly.

use serde::{Deserialize, Serialize};
use tuanji_domain::Date;
use uuid::Uuid;

/// A mentor (培养联系人, ADM_MENTORS): a member in the register, or a Party member outside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mentor {
    /// A League member in the register (by person id).
    Member {
        /// The member's person id.
        person_id: Uuid,
    },
    /// A Party member (党员), named; the Party register is not ours to check.
    PartyMember {
        /// Name as given.
        name: String,
    },
}

/// A League class attended (团课), ADM_CLASS_HOURS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRecord {
    /// Date of the class.
    pub date: Date,
    /// Length in minutes; a class hour (学时) is at least 45 minutes.
    pub minutes: u32,
    /// Topic.
    pub topic: String,
}

/// An objection raised during publicity (公示), ADM_PUBLICITY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    /// Date raised.
    pub date: Date,
    /// What was objected.
    pub text: String,
    /// Date resolved, if resolved.
    pub resolved_on: Option<Date>,
    /// How it was resolved.
    pub resolution: Option<String>,
}

/// The branch general meeting (支部大会), ADM_MEETING_QUORUM / ADM_MEETING_MAJORITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Date of the meeting: membership starts on it (ADM_MEMBERSHIP_DATE).
    pub date: Date,
    /// Voting-entitled members of the branch on that date (members on probation excluded).
    pub entitled: u32,
    /// Entitled members present.
    pub present: u32,
    /// Yes votes (secret ballot).
    pub yes: u32,
}

/// The application form (入团志愿书) filed in the member's archive, ADM_ARCHIVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveRecord {
    /// Date filed.
    pub date: Date,
    /// Size of the PDF in bytes.
    pub bytes: u64,
    /// SHA-256 of the PDF, lowercase hex.
    pub sha256: String,
}

/// One recorded step of the admission procedure: the payload of a transition-log entry. Fields marked
/// "computed" are filled by the engine's actions (not given by the user) and recorded so replay needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum AdmissionStep {
    /// Written application (入团申请书) received.
    Apply {
        /// Application date.
        date: Date,
        /// Class (班级) as on the roster.
        class: Option<String>,
    },
    /// Talk with the applicant (派人谈话), due within 1 month.
    RecordTalk {
        /// Date of the talk.
        date: Date,
        /// Who talked with the applicant.
        by: String,
    },
    /// Activist (入团积极分子) chosen by the branch committee and approved by the basic-level committee.
    ApproveActivist {
        /// Approval date.
        date: Date,
        /// Code of the approving committee.
        committee: String,
    },
    /// Mentors (培养联系人) assigned.
    AssignMentors {
        /// Date assigned.
        date: Date,
        /// 1–2 mentors.
        mentors: Vec<Mentor>,
    },
    /// A League class attended.
    RecordClass(ClassRecord),
    /// Determined as development target (发展对象).
    DetermineTarget {
        /// Date of determination.
        date: Date,
    },
    /// Pre-reviewed (预审) by the committee with approval authority.
    Prereview {
        /// Date of pre-review.
        date: Date,
        /// Code of the committee.
        committee: String,
    },
    /// Publicity (公示) started.
    Publicise {
        /// First day of publicity.
        date: Date,
        /// Computed: the last working day of publicity.
        end: Date,
    },
    /// An objection raised during publicity.
    RecordObjection {
        /// Date raised.
        date: Date,
        /// Text.
        text: String,
    },
    /// The oldest open objection resolved.
    ResolveObjection {
        /// Date resolved.
        date: Date,
        /// Resolution.
        resolution: String,
    },
    /// Application form (入团志愿书) filled, with the two sponsors' (入团介绍人) opinions.
    SubmitForm {
        /// Date the applicant filled in the form.
        date: Date,
        /// The two sponsors (person ids).
        sponsors: Vec<Uuid>,
        /// Date of the sponsors' opinions.
        opinion_date: Date,
    },
    /// Branch general meeting held and passed.
    HoldMeeting(Meeting),
    /// Approved by the committee with approval authority; a development number is consumed.
    Approve {
        /// Approval date.
        date: Date,
        /// Code of the approving committee.
        committee: String,
        /// Computed: the development number taken from the committee's allocation for the admission year.
        number: String,
    },
    /// Oath (入团宣誓) taken.
    RecordOath {
        /// Date of the oath.
        date: Date,
    },
    /// Application form filed in the archive.
    FileArchive(ArchiveRecord),
    /// Admission annulled: the member's number is voided for good.
    Annul {
        /// Date.
        date: Date,
        /// Reason.
        reason: String,
    },
    /// Application rejected.
    Reject {
        /// Date.
        date: Date,
        /// Reason.
        reason: String,
    },
    /// Application withdrawn by the applicant.
    Withdraw {
        /// Date.
        date: Date,
        /// Reason.
        reason: String,
    },
}

impl AdmissionStep {
    /// The command name, as in `workflows/admission.v1.toml`.
    pub fn command(&self) -> &'static str {
        match self {
            AdmissionStep::Apply { .. } => "apply",
            AdmissionStep::RecordTalk { .. } => "record_talk",
            AdmissionStep::ApproveActivist { .. } => "approve_activist",
            AdmissionStep::AssignMentors { .. } => "assign_mentors",
            AdmissionStep::RecordClass(_) => "record_class",
            AdmissionStep::DetermineTarget { .. } => "determine_target",
            AdmissionStep::Prereview { .. } => "prereview",
            AdmissionStep::Publicise { .. } => "publicise",
            AdmissionStep::RecordObjection { .. } => "record_objection",
            AdmissionStep::ResolveObjection { .. } => "resolve_objection",
            AdmissionStep::SubmitForm { .. } => "submit_form",
            AdmissionStep::HoldMeeting(_) => "hold_meeting",
            AdmissionStep::Approve { .. } => "approve",
            AdmissionStep::RecordOath { .. } => "record_oath",
            AdmissionStep::FileArchive(_) => "file_archive",
            AdmissionStep::Annul { .. } => "annul",
            AdmissionStep::Reject { .. } => "reject",
            AdmissionStep::Withdraw { .. } => "withdraw",
        }
    }

    /// The effective date of the step.
    pub fn date(&self) -> Date {
        match self {
            AdmissionStep::Apply { date, .. }
            | AdmissionStep::RecordTalk { date, .. }
            | AdmissionStep::ApproveActivist { date, .. }
            | AdmissionStep::AssignMentors { date, .. }
            | AdmissionStep::DetermineTarget { date }
            | AdmissionStep::Prereview { date, .. }
            | AdmissionStep::Publicise { date, .. }
            | AdmissionStep::RecordObjection { date, .. }
            | AdmissionStep::ResolveObjection { date, .. }
            | AdmissionStep::SubmitForm { date, .. }
            | AdmissionStep::Approve { date, .. }
            | AdmissionStep::RecordOath { date }
            | AdmissionStep::Annul { date, .. }
            | AdmissionStep::Reject { date, .. }
            | AdmissionStep::Withdraw { date, .. } => *date,
            AdmissionStep::RecordClass(c) => c.date,
            AdmissionStep::HoldMeeting(m) => m.date,
            AdmissionStep::FileArchive(a) => a.date,
        }
    }

    /// The latest date the step records (the sponsors' opinion date for a form, else the effective date);
    /// the next step may not be dated before it (ADM_DATE_ORDER).
    pub fn last_date(&self) -> Date {
        match self {
            AdmissionStep::SubmitForm { opinion_date, .. } => *opinion_date,
            other => other.date(),
        }
    }
}

/// The data of one admission instance, built by folding its steps with [`AdmissionData::apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionData {
    /// Application date.
    pub application_date: Option<Date>,
    /// Class as on the roster.
    pub class: Option<String>,
    /// Date of the talk and who held it.
    pub talk: Option<(Date, String)>,
    /// Activist approval date and committee code.
    pub activist: Option<(Date, String)>,
    /// Mentors and the date they were assigned.
    pub mentors: Vec<Mentor>,
    /// League classes attended.
    pub classes: Vec<ClassRecord>,
    /// Development-target determination date.
    pub target_date: Option<Date>,
    /// Pre-review date and committee code.
    pub prereview: Option<(Date, String)>,
    /// Publicity first and last working day.
    pub publicity: Option<(Date, Date)>,
    /// Objections raised during publicity.
    pub objections: Vec<Objection>,
    /// Application form date.
    pub form_date: Option<Date>,
    /// Sponsors' person ids.
    pub sponsors: Vec<Uuid>,
    /// Sponsors' opinion date.
    pub opinion_date: Option<Date>,
    /// The branch general meeting.
    pub meeting: Option<Meeting>,
    /// Approval date and committee code.
    pub approval: Option<(Date, String)>,
    /// The development number consumed.
    pub number: Option<String>,
    /// Oath date.
    pub oath_date: Option<Date>,
    /// The archived application form.
    pub archive: Option<ArchiveRecord>,
    /// Closing date and reason (annulled, rejected, withdrawn).
    pub closed: Option<(Date, String)>,
    /// The latest date recorded so far (ADM_DATE_ORDER).
    pub last_date: Option<Date>,
}

impl AdmissionData {
    /// Folds one step into the data. Pure and total: guards have already been checked.
    pub fn apply(&mut self, step: &AdmissionStep) {
        match step {
            AdmissionStep::Apply { date, class } => {
                self.application_date = Some(*date);
                self.class = class.clone();
            }
            AdmissionStep::RecordTalk { date, by } => self.talk = Some((*date, by.clone())),
            AdmissionStep::ApproveActivist { date, committee } => {
                self.activist = Some((*date, committee.clone()))
            }
            AdmissionStep::AssignMentors { mentors, .. } => self.mentors = mentors.clone(),
            AdmissionStep::RecordClass(c) => self.classes.push(c.clone()),
            AdmissionStep::DetermineTarget { date } => self.target_date = Some(*date),
            AdmissionStep::Prereview { date, committee } => {
                self.prereview = Some((*date, committee.clone()))
            }
            AdmissionStep::Publicise { date, end } => self.publicity = Some((*date, *end)),
            AdmissionStep::RecordObjection { date, text } => self.objections.push(Objection {
                date: *date,
                text: text.clone(),
                resolved_on: None,
                resolution: None,
            }),
            AdmissionStep::ResolveObjection { date, resolution } => {
                if let Some(o) = self.objections.iter_mut().find(|o| o.resolved_on.is_none()) {
                    o.resolved_on = Some(*date);
                    o.resolution = Some(resolution.clone());
                }
            }
            AdmissionStep::SubmitForm {
                date,
                sponsors,
                opinion_date,
            } => {
                self.form_date = Some(*date);
                self.sponsors = sponsors.clone();
                self.opinion_date = Some(*opinion_date);
            }
            AdmissionStep::HoldMeeting(m) => self.meeting = Some(*m),
            AdmissionStep::Approve {
                date,
                committee,
                number,
            } => {
                self.approval = Some((*date, committee.clone()));
                self.number = Some(number.clone());
            }
            AdmissionStep::RecordOath { date } => self.oath_date = Some(*date),
            AdmissionStep::FileArchive(a) => self.archive = Some(a.clone()),
            AdmissionStep::Annul { date, reason }
            | AdmissionStep::Reject { date, reason }
            | AdmissionStep::Withdraw { date, reason } => {
                self.closed = Some((*date, reason.clone()))
            }
        }
        let last = step.last_date();
        if self.last_date.is_none_or(|d| d < last) {
            self.last_date = Some(last);
        }
    }

    /// Class hours (学时) recorded: classes of at least `min_minutes` each count one hour.
    pub fn class_hours(&self, min_minutes: u32) -> u32 {
        self.classes
            .iter()
            .filter(|c| c.minutes >= min_minutes)
            .count() as u32
    }

    /// Objections not yet resolved.
    pub fn open_objections(&self) -> usize {
        self.objections
            .iter()
            .filter(|o| o.resolved_on.is_none())
            .count()
    }

    /// The latest League class date, if any.
    pub fn last_class_date(&self) -> Option<Date> {
        self.classes.iter().map(|c| c.date).max()
    }
}

/// The member row an admission instance projects to, in plain values (the store's row type lives elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdmittedMember {
    /// 团籍 starts on the branch meeting's date (ADM_MEMBERSHIP_DATE, 团章 Art. 4).
    pub membership_date: Date,
    /// Development number.
    pub number: String,
    /// `member` or `annulled`.
    pub standing: &'static str,
    /// Oath date.
    pub oath_date: Option<Date>,
}

/// The member projection of an admission instance: `None` until approved.
pub fn admitted_member(state: &str, data: &AdmissionData) -> Option<AdmittedMember> {
    let meeting = data.meeting?;
    let number = data.number.clone()?;
    let standing = match state {
        "admitted" => "member",
        "annulled" => "annulled",
        _ => return None,
    };
    Some(AdmittedMember {
        membership_date: meeting.date,
        number,
        standing,
        oath_date: data.oath_date,
    })
}
