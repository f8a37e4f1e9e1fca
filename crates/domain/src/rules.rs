//! Rule codes and rule violations.
//!
//! Every rule the engine enforces has a stable code (DOMAIN.md), documented with its rule, default,
//! confidence tag and source in `docs/rules.md`. A check that fails returns a [`RuleViolation`]
//! naming its code. Codes are serialised as their code string, e.g. `"ADM_AGE_MIN"`.

use std::fmt;
use std::str::FromStr;

use crate::UnknownName;

/// How well a rule's source is established (the tags of DOMAIN-SOURCES.md §0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// `[P]`: primary or official-media text seen.
    Primary,
    /// `[S]`: secondary, a local notice that applies the rule and names the source document.
    Secondary,
    /// `[W]`: weak, a single unofficial page; a hint only.
    Weak,
    /// `[U]`: not verified; the number is a policy parameter in `workflows/` with a default.
    Unverified,
    /// `[design]`: an invariant of the engine itself, not a rule from an external document.
    Design,
}

impl Confidence {
    /// The tag as written in DOMAIN-SOURCES.md and `docs/rules.md`: `[P]`, `[S]`, `[W]`, `[U]`,
    /// or `[design]`.
    pub fn tag(self) -> &'static str {
        match self {
            Confidence::Primary => "[P]",
            Confidence::Secondary => "[S]",
            Confidence::Weak => "[W]",
            Confidence::Unverified => "[U]",
            Confidence::Design => "[design]",
        }
    }
}

/// Declares [`RuleCode`] and its tables from one list, so a code, its summary and its source
/// cannot drift apart.
macro_rules! rule_codes {
    ($( $variant:ident = $code:literal, $conf:ident, $summary:literal, $source:literal; )*) => {
        /// A stable rule code (DOMAIN.md). Serialised as its code string (`"ADM_AGE_MIN"`);
        /// [`RuleCode::as_str`], `Display` and `FromStr` use the same string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleCode {
            $( #[doc = $summary] $variant, )*
        }

        impl RuleCode {
            /// Every rule code, in DOMAIN.md order, followed by `WF_NOT_ALLOWED`.
            pub const ALL: &'static [RuleCode] = &[ $( RuleCode::$variant, )* ];

            /// The code string, e.g. `"ADM_AGE_MIN"`.
            pub fn as_str(self) -> &'static str {
                match self { $( RuleCode::$variant => $code, )* }
            }

            /// The rule in one line of English.
            pub fn summary(self) -> &'static str {
                match self { $( RuleCode::$variant => $summary, )* }
            }

            /// Where the rule comes from: document and article or section, as recorded in
            /// DOMAIN-SOURCES.md.
            pub fn source(self) -> &'static str {
                match self { $( RuleCode::$variant => $source, )* }
            }

            /// How well the source is established (the DOMAIN-SOURCES.md tag).
            pub fn confidence(self) -> Confidence {
                match self { $( RuleCode::$variant => Confidence::$conf, )* }
            }
        }
    };
}

rule_codes! {
    IdFormat = "ID_FORMAT", Secondary,
        "A resident ID is 18 characters: 17 digits and a check character (a digit or X; lowercase x is accepted and stored as X).",
        "GB 11643-1999 《公民身份号码》, structure of the number (DOMAIN-SOURCES §13)";
    IdChecksum = "ID_CHECKSUM", Secondary,
        "The check character equals the ISO 7064 MOD 11-2 check of the first 17 digits.",
        "GB 11643-1999 《公民身份号码》, check character by ISO 7064:1983 MOD 11-2 (DOMAIN-SOURCES §13)";
    IdBirthDate = "ID_BIRTH_DATE", Secondary,
        "Characters 7–14 of a resident ID are a real calendar date that is not after today.",
        "GB 11643-1999 《公民身份号码》, birth-date code in GB/T 7408 form YYYYMMDD (DOMAIN-SOURCES §13)";
    IdUnique = "ID_UNIQUE", Secondary,
        "One record per person nationwide: importing an ID already held by another organisation is refused, and the person transfers instead.",
        "智慧团建 practice: the account is the ID number, records are checked against the public-security citizen database, deletions go through the provincial committee (DOMAIN-SOURCES §10, §3.3)";
    AdmAgeMin = "ADM_AGE_MIN", Primary,
        "An applicant is at least 14 full years old on the application date.",
        "《中国共产主义青年团章程》 (团章) Art. 1; Beijing 团市委 Q&A of 2023-07-04 (DOMAIN-SOURCES §1.4)";
    AdmAgeMax = "ADM_AGE_MAX", Secondary,
        "An applicant is under 28 on the application date and on the branch meeting date.",
        "团章 Art. 1 (DOMAIN-SOURCES §1.4)";
    AdmTalkDeadline = "ADM_TALK_DEADLINE", Secondary,
        "The League organisation talks with the applicant within 1 month of the application; overdue is flagged, not blocking.",
        "《中国共产主义青年团发展团员工作细则》 (2023), step 2 (Art. 8 of a school derivative) (DOMAIN-SOURCES §1.1)";
    AdmActivistApproval = "ADM_ACTIVIST_APPROVAL", Secondary,
        "An activist is chosen by the branch committee and approved by the basic-level committee.",
        "《发展团员工作细则》 (2023), step 3 (DOMAIN-SOURCES §1.1)";
    AdmMentors = "ADM_MENTORS", Secondary,
        "An activist has 1 or 2 mentors, each a member in good standing or a Party member.",
        "《发展团员工作细则》 (2023), step 4 (DOMAIN-SOURCES §1.1)";
    AdmObservation = "ADM_OBSERVATION", Primary,
        "At least 3 months pass from activist approval to development-target determination.",
        "《发展团员工作细则》 (2023), step 5; Beijing 团市委 Q&A of 2023-07-04 (DOMAIN-SOURCES §1.1, §1.4)";
    AdmClassHours = "ADM_CLASS_HOURS", Primary,
        "An activist attends at least 8 class hours (each at least 45 minutes) of League classes before determination.",
        "《发展团员工作细则》 (2023), step 5, per the Beijing 团市委 Q&A of 2023-07-04 (DOMAIN-SOURCES §1.1)";
    AdmPrereview = "ADM_PREREVIEW", Secondary,
        "A development target is pre-reviewed by the basic-level committee with approval authority.",
        "《发展团员工作细则》 (2023), step 7 (DOMAIN-SOURCES §1.1)";
    AdmPublicity = "ADM_PUBLICITY", Unverified,
        "A development target is publicised for N working days (public holidays and make-up working days respected) with no unresolved objection.",
        "《发展团员工作细则》 (2023), step 8 (三公示); the length of 5 working days comes from code bases only (DOMAIN-SOURCES §1.1, §15 item 2)";
    AdmSponsors = "ADM_SPONSORS", Secondary,
        "A development target has exactly 2 sponsors, members in good standing, not on probation or suspended.",
        "团章 Art. 4; 《发展团员工作细则》 (2023), step 9 (DOMAIN-SOURCES §1.1)";
    AdmDateOrder = "ADM_DATE_ORDER", Secondary,
        "Dates are in order: class record ≤ application form ≤ sponsor opinions ≤ branch meeting ≤ approval.",
        "《发展团员工作细则》 (2023), step 10, as applied by a Sichuan college notice (DOMAIN-SOURCES §1.1)";
    AdmMeetingQuorum = "ADM_MEETING_QUORUM", Secondary,
        "More than half of the voting-entitled members attend the branch general meeting; members on probation are not entitled.",
        "《发展团员工作细则》 (2023), step 11; Beijing 团市委 Q&A on probation (DOMAIN-SOURCES §1.1, §1.3)";
    AdmMeetingMajority = "ADM_MEETING_MAJORITY", Unverified,
        "Yes votes exceed half of the entitled members (variant B); variant A (more than half of those present) is selectable.",
        "Variant B: Party 《发展党员工作细则》 Arts. 20–21 and the League 推优 rule; variant A: older League practice (DOMAIN-SOURCES §1.3)";
    AdmApproval = "ADM_APPROVAL", Secondary,
        "An admission is approved by a committee with approval authority over the branch.",
        "《发展团员工作细则》 (2023), step 12 (DOMAIN-SOURCES §1.1)";
    AdmApprovalDeadline = "ADM_APPROVAL_DEADLINE", Unverified,
        "Approval follows within N days of the branch meeting, else it is flagged overdue.",
        "《发展团员工作细则》 (2023), step 12: no time limit found; 30 days from one code template (DOMAIN-SOURCES §1.1, §15 item 4)";
    AdmNumberRequired = "ADM_NUMBER_REQUIRED", Secondary,
        "Each admission consumes one 12-digit development number whose first 4 digits are the admission year; a number is never reused.",
        "《关于加强新形势下发展团员和团员管理工作的意见》 (中青发〔2016〕6号), numbered development; 智慧团建 FAQ 团员信息录入常见问题解答 (DOMAIN-SOURCES §1.5)";
    AdmQuotaExhausted = "ADM_QUOTA_EXHAUSTED", Primary,
        "No admission when the approving committee has no free development number left for the year.",
        "中青发〔2016〕6号, quotas allocated level by level (DOMAIN-SOURCES §1.5)";
    AdmClassCap = "ADM_CLASS_CAP", Primary,
        "Members are at most 30 % of a junior-high and 60 % of a senior-high graduating class.",
        "《中学共青团改革实施方案》 (团中央 and 教育部, November 2016) (DOMAIN-SOURCES §1.6)";
    AdmMembershipDate = "ADM_MEMBERSHIP_DATE", Secondary,
        "Membership starts on the branch meeting date; dues are payable from that month.",
        "团章 Art. 4; 安徽财经大学团委 notice of 2020 (DOMAIN-SOURCES §1.2)";
    AdmOath = "ADM_OATH", Secondary,
        "The oath is recorded for every new member.",
        "团章 Art. 5; 《发展团员工作细则》 (2023), step 14 (DOMAIN-SOURCES §1.1)";
    AdmArchive = "ADM_ARCHIVE", Secondary,
        "The application form (one PDF of at most 20 MB) is filed within 30 days of approval.",
        "《发展团员工作细则》 (2023), step 15; 智慧团建 guide of 2020 (长春工业大学团委) (DOMAIN-SOURCES §1.1)";
    ImpLegacyAge = "IMP_LEGACY_AGE", Secondary,
        "An imported historical member admitted on or after 2017-01-01 was at least 13 and has a development number; before 2017, at least 12 and no number.",
        "智慧团建 FAQ 团员信息录入常见问题解答 (DOMAIN-SOURCES §1.4, §1.5)";
    TrfBranchOnly = "TRF_BRANCH_ONLY", Weak,
        "A relation sits only in a branch; a transfer to a committee completes only when that committee assigns a branch.",
        "智慧团建 behaviour reported by a single page; branch assignment by the incoming committee per a 智慧团建 operation note (DOMAIN-SOURCES §3.1, §3.2)";
    TrfInitiator = "TRF_INITIATOR", Unverified,
        "The member, the outgoing or the incoming organisation may initiate a transfer; the counter-party approves.",
        "智慧团建 operation note (sdshxy.cn, 2023) for the initiators; who approves a member-initiated transfer is unverified (DOMAIN-SOURCES §3.2)";
    TrfOneOpen = "TRF_ONE_OPEN", Design,
        "A member has at most one open transfer.",
        "Engine invariant of the relation machine (ARCHITECTURE.md), consistent with 智慧团建 transfer handling (DOMAIN-SOURCES §3.2)";
    TrfNoDelete = "TRF_NO_DELETE", Unverified,
        "A member who is graduated pending transfer, or has an open transfer, cannot be deleted or archived by anyone.",
        "Deletions only through the provincial committee (DOMAIN-SOURCES §3.3); the graduate-specific rule was not found (§15 item 8) and is kept as an engine floor";
    TrfTimeout = "TRF_TIMEOUT", Unverified,
        "An open transfer not acted on in N days is overdue and escalates to the counter-party's superior; no silent auto-approval.",
        "No official time limit found; the 15-day auto-approval claim is weak (DOMAIN-SOURCES §3.2, §15 item 7)";
    TrfFurtherStudy = "TRF_FURTHER_STUDY", Secondary,
        "A graduate going on to further study transfers to a school organisation, never to a township or residence organisation.",
        "学社衔接 notices (hunanyuer.com, fxy.sicau.edu.cn) (DOMAIN-SOURCES §3.3)";
    TrfRetention = "TRF_RETENTION", Secondary,
        "An unemployed graduate may stay at the school's mobile-member branch for 6 months, at most 12.",
        "学社衔接 notices (hunanyuer.com; 110ask.com quoting the rule) (DOMAIN-SOURCES §3.3)";
    TrfLostContact = "TRF_LOST_CONTACT", Secondary,
        "6 months without contact make a member lost contact; 6 more months of monthly attempts lead to suspension for 2 years.",
        "团垫江县委 rule on lost-contact members, local practice (DOMAIN-SOURCES §4)";
    TrfReportIn = "TRF_REPORT_IN", Secondary,
        "A mobile or lost-contact member reports in to a branch, and the branch approves.",
        "团垫江县委 rule; Guangdong reporting-in requirement (DOMAIN-SOURCES §4)";
    StdAgeOut = "STD_AGE_OUT", Secondary,
        "At 28 a member without a League post leaves the League; Party members keep membership until 28.",
        "团章 Art. 1 (DOMAIN-SOURCES §2)";
    StdWithdraw = "STD_WITHDRAW", Secondary,
        "Voluntary withdrawal: a written request, a branch general meeting, a record with the superior committee.",
        "团章, withdrawal clause (Art. 8 or Art. 11 depending on the edition) (DOMAIN-SOURCES §2)";
    StdLapse = "STD_LAPSE", Secondary,
        "6 consecutive months without dues, organisational life or assigned work lead to removal by branch meeting with superior approval.",
        "团章, lapse clause (自行脱团) (DOMAIN-SOURCES §2)";
    StdProbation = "STD_PROBATION", Secondary,
        "Probation lasts 6 or 12 months without the right to vote, be elected or sponsor; at expiry the member is restored or expelled.",
        "团章, discipline clauses; Beijing 团市委 Q&A (DOMAIN-SOURCES §2)";
    StdExpel = "STD_EXPEL", Secondary,
        "Expulsion needs county-level approval; the member may appeal.",
        "团章, discipline clauses (DOMAIN-SOURCES §2)";
    PtyAge = "PTY_AGE", Secondary,
        "A member recommended to the Party is at least 18 and under 28.",
        "《共青团推优入党工作实施办法（试行）》 (中青发〔2019〕9号), as applied by ytcc.edu.cn (DOMAIN-SOURCES §5)";
    PtyTenure = "PTY_TENURE", Primary,
        "A member recommended to the Party has at least 1 year of membership.",
        "中青发〔2019〕9号 Art. 5, quoted by 共产党员网 (DOMAIN-SOURCES §5)";
    PtyShare = "PTY_SHARE", Primary,
        "At most 20 % of a branch's members hold a valid Party recommendation.",
        "中青发〔2019〕9号, quoted by 共产党员网 (DOMAIN-SOURCES §5)";
    PtyMeeting = "PTY_MEETING", Secondary,
        "A recommendation meeting has more than half of the entitled present, yes votes above half of the entitled, and a secret ballot.",
        "中青发〔2019〕9号, procedure as applied by bztcny.com (DOMAIN-SOURCES §5)";
    PtyValidity = "PTY_VALIDITY", Primary,
        "A Party recommendation is valid for 2 years.",
        "中青发〔2019〕9号, quoted by 共产党员网 (DOMAIN-SOURCES §5)";
    EvlGrades = "EVL_GRADES", Secondary,
        "Annual evaluation grades are excellent, qualified, basically qualified and unqualified; at most 30 % excellent; attendance above 2/3.",
        "《中国共产主义青年团基层组织“三会两制一课”实施细则（试行）》 (中青发〔2017〕5号) (DOMAIN-SOURCES §8)";
    EvlUnqualified = "EVL_UNQUALIFIED", Secondary,
        "An unqualified member is re-evaluated after 3 to 6 months, then advised to withdraw, then removed.",
        "中青发〔2017〕5号 Arts. 32–36 (DOMAIN-SOURCES §2, §8)";
    DueStudent = "DUE_STUDENT", Secondary,
        "Students, the unemployed and members on relief pay 0.2 yuan a month from the month of admission.",
        "《关于中国共产主义青年团团费收缴、使用和管理的规定》 (中青发〔2016〕13号) Art. 5 (DOMAIN-SOURCES §7)";
    WfNotAllowed = "WF_NOT_ALLOWED", Design,
        "The command is not a declared transition from the instance's current state.",
        "Engine design: the versioned transition tables in workflows/ (ARCHITECTURE.md, Workflows)";
}

impl fmt::Display for RuleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleCode {
    type Err = UnknownName;

    /// Parses a code string such as `"ADM_AGE_MIN"` (exact, case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownName::new("rule code", s))
    }
}

impl serde::Serialize for RuleCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for RuleCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A broken rule: the code and a message that says what was wrong, with the numbers involved.
///
/// Messages never contain a full resident ID number or a name; IDs appear masked
/// (`110105********1234`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{code}: {message}")]
pub struct RuleViolation {
    /// The rule that was broken.
    pub code: RuleCode,
    /// What was wrong, in English.
    pub message: String,
}

impl RuleViolation {
    /// A violation of `code` with `message`.
    pub fn new(code: RuleCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn all_lists_every_code_once_and_names_are_unique() {
        assert_eq!(RuleCode::ALL.len(), 49);
        let codes: HashSet<_> = RuleCode::ALL.iter().collect();
        assert_eq!(codes.len(), RuleCode::ALL.len());
        let names: HashSet<_> = RuleCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), RuleCode::ALL.len());
        assert_eq!(RuleCode::ALL.first(), Some(&RuleCode::IdFormat));
        assert_eq!(RuleCode::ALL.last(), Some(&RuleCode::WfNotAllowed));
    }

    #[test]
    fn code_strings_are_screaming_snake_case_and_round_trip() {
        for &code in RuleCode::ALL {
            let s = code.as_str();
            assert!(
                s.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{s} is not SCREAMING_SNAKE_CASE"
            );
            assert_eq!(s.parse::<RuleCode>(), Ok(code));
            assert_eq!(code.to_string(), s);
        }
        assert_eq!(RuleCode::AdmAgeMin.as_str(), "ADM_AGE_MIN");
        assert_eq!(RuleCode::WfNotAllowed.as_str(), "WF_NOT_ALLOWED");
        assert_eq!(RuleCode::ImpLegacyAge.as_str(), "IMP_LEGACY_AGE");
    }

    #[test]
    fn unknown_code_is_an_error() {
        let err = "ADM_AGE_MINIMUM"
            .parse::<RuleCode>()
            .expect_err("not a code");
        assert_eq!(err.to_string(), r#"unknown rule code: "ADM_AGE_MINIMUM""#);
        assert!("adm_age_min".parse::<RuleCode>().is_err());
    }

    #[test]
    fn every_code_has_a_one_line_summary_and_a_source() {
        for &code in RuleCode::ALL {
            assert!(!code.summary().is_empty(), "{code} has no summary");
            assert!(
                !code.summary().contains('\n'),
                "{code} summary is not one line"
            );
            assert!(!code.source().is_empty(), "{code} has no source");
        }
        assert_eq!(
            RuleCode::AdmPublicity.confidence(),
            Confidence::Unverified,
            "the publicity length is a policy parameter"
        );
        assert_eq!(RuleCode::AdmClassCap.confidence().tag(), "[P]");
    }

    #[test]
    fn rule_code_serialises_as_code_string() {
        let json = toml_value_of(&RuleCode::AdmAgeMin);
        assert_eq!(json, "\"ADM_AGE_MIN\"");
        let v = RuleViolation::new(RuleCode::IdChecksum, "check character should be 4, found 2");
        assert_eq!(
            v.to_string(),
            "ID_CHECKSUM: check character should be 4, found 2"
        );
    }

    #[test]
    fn rule_code_deserialises_from_code_string_and_rejects_unknown() {
        #[derive(serde::Deserialize)]
        struct Row {
            code: RuleCode,
        }
        let row: Row = toml::from_str(r#"code = "TRF_NO_DELETE""#).expect("valid code");
        assert_eq!(row.code, RuleCode::TrfNoDelete);
        assert!(toml::from_str::<Row>(r#"code = "TRF_DELETE""#).is_err());
    }

    /// Serialises through the `toml` crate (a dependency already) to check the string form.
    fn toml_value_of(code: &RuleCode) -> String {
        #[derive(serde::Serialize)]
        struct Wrap<'a> {
            v: &'a RuleCode,
        }
        let text = toml::to_string(&Wrap { v: code }).expect("serialisable");
        text.trim().trim_start_matches("v = ").to_string()
    }

    /// Every rule code appears as a heading in docs/rules.md, with its confidence tag and source
    /// section in the text below the heading.
    #[test]
    fn every_rule_code_is_documented_in_docs_rules_md() {
        let doc = include_str!("../../../docs/rules.md");
        let headings: HashSet<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(|h| h.trim().trim_matches('`'))
            .collect();
        for &code in RuleCode::ALL {
            assert!(
                headings.contains(code.as_str()),
                "docs/rules.md has no heading `## {code}`"
            );
            let section = section_of(doc, code.as_str());
            assert!(
                section.contains(code.confidence().tag()),
                "docs/rules.md section {code} lacks the tag {}",
                code.confidence().tag()
            );
            assert!(
                section.contains("**Source:**"),
                "docs/rules.md section {code} lacks a source"
            );
        }
        // And nothing documented that the code does not know.
        for h in headings
            .iter()
            .filter(|h| h.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        {
            assert!(
                h.parse::<RuleCode>().is_ok(),
                "docs/rules.md documents unknown code {h}"
            );
        }
    }

    fn section_of<'a>(doc: &'a str, code: &str) -> &'a str {
        let heading = format!("## `{code}`");
        let start = doc.find(&heading).unwrap_or_else(|| {
            doc.find(&format!("## {code}"))
                .expect("heading exists (checked above)")
        });
        let rest = &doc[start + 3..];
        let end = rest.find("\n## ").map_or(rest.len(), |i| i);
        &rest[..end]
    }
}
