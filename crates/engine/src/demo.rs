//! `tuanji demo`: the national tree, two schools under a real county (海淀区, 110108), quotas, a generated
//! roster of applicants, and the whole admission procedure with realistic 2026 dates, including the refusals a
//! real year brings (under-age applicants, bad check digits, missing class hours, early meetings, objections,
//! a failed vote, class caps, an exhausted quota) and one annulled admission.
//!
//! Deterministic for a seed: the same seed gives the same summary (except timings).

use crate::admission::AdmissionCommand;
use crate::orgs::Progress;
use crate::quota::QuotaReport;
use crate::{Actor, Engine, EngineError, EngineResult};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use tuanji_domain::{check_character, Date, SchoolLevel};
use tuanji_import::generator::{generate, to_roster_csv, GeneratorConfig};
use tuanji_store::{Store, StoreTx};

/// The county the demo schools belong to: 北京市海淀区.
pub const DEMO_COUNTY: &str = "110108";
/// The demo's junior-high school committee.
pub const JUNIOR_COMMITTEE: &str = "110108-JH";
/// The demo's senior-high school committee.
pub const SENIOR_COMMITTEE: &str = "110108-SH";
/// Students per demo class.
pub const CLASS_SIZE: u32 = 50;
/// Most applicants the demo accepts (the classes hold 50 students each; more only exercises the refusals).
pub const MAX_DEMO_APPLICANTS: usize = 100_000;
/// Numbers allocated to the junior-high committee for 2026.
pub const JUNIOR_QUOTA: i64 = 120;
/// Numbers allocated to the senior-high committee for 2026.
pub const SENIOR_QUOTA: i64 = 300;

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Roster seed.
    pub seed: u64,
    /// Applicants on the generated roster (before the roster's bad rows are taken out).
    pub applicants: usize,
    /// The GB/T 2260 tables (`data/china-division`).
    pub data_dir: PathBuf,
}

/// Members and cap of one class branch at the end of the demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassStatus {
    /// Branch code.
    pub branch: String,
    /// `junior_high` / `senior_high`.
    pub school_level: String,
    /// A graduating class.
    pub graduating: bool,
    /// Students.
    pub class_size: u32,
    /// Members (in good standing or on probation).
    pub members: i64,
    /// Members allowed by ADM_CLASS_CAP, for graduating classes.
    pub cap: Option<u32>,
}

/// What the demo did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoSummary {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Roster seed.
    pub seed: u64,
    /// Applicants on the generated roster.
    pub roster_rows: usize,
    /// Organisations in the tree after the demo.
    pub organisations: i64,
    /// Seconds to import the national tree.
    pub org_import_seconds: f64,
    /// Applicants who became members (annulled ones excluded).
    pub admitted: i64,
    /// Refusals by rule code: roster rows refused and commands refused during the procedure.
    pub refused: BTreeMap<String, usize>,
    /// Overdue flags raised, by rule code.
    pub flagged: BTreeMap<String, usize>,
    /// Admission instances by final state.
    pub states: BTreeMap<String, i64>,
    /// Quotas of the two school committees.
    pub quotas: Vec<QuotaReport>,
    /// Class-cap status per class.
    pub classes: Vec<ClassStatus>,
    /// Commands that changed state during the procedure (log entries).
    pub transitions: i64,
    /// Seconds for the admission procedure (applications to archive).
    pub procedure_seconds: f64,
    /// Admissions (approvals) per second of procedure time.
    pub admissions_per_second: f64,
    /// Transitions per second of procedure time.
    pub transitions_per_second: f64,
    /// Seconds for the whole demo.
    pub wall_seconds: f64,
}

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).unwrap_or(Date::MIN)
}

struct Branch {
    code: String,
    level: SchoolLevel,
    graduating: bool,
    committee: &'static str,
    /// Resident IDs of its legacy members: 0..4 in good standing, 4 on probation.
    members: Vec<String>,
}

/// A valid resident ID for a legacy member: region, birth date and a sequence number.
fn legacy_id(region: &str, birth: Date, seq: u32) -> String {
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// The generator settings of the demo roster: `cfg.applicants` applicants of seed `cfg.seed` from five real
/// counties, applying 2–20 March 2026, spread over `classes` round-robin; every 25th is 13 years old on the
/// application date and every 100th has a wrong check character.
pub fn roster_config(cfg: &DemoConfig, classes: &[String]) -> GeneratorConfig {
    GeneratorConfig {
        seed: cfg.seed,
        applicants: cfg.applicants,
        county_codes: ["110108", "110105", "130104", "320102", "440106"]
            .map(String::from)
            .to_vec(),
        application_window: (d(2026, 3, 2), d(2026, 3, 20)),
        classes: classes.to_vec(),
        under_age_every: 25,
        bad_checksum_every: 100,
    }
}

impl<S: Store> Engine<S> {
    /// Runs the demo on an empty database. Errors: [`EngineError::Input`] if the database already holds
    /// organisations; any store error.
    pub async fn demo(
        &self,
        cfg: &DemoConfig,
        progress: Progress<'_>,
    ) -> EngineResult<DemoSummary> {
        let wall = Instant::now();
        if !(1..=MAX_DEMO_APPLICANTS).contains(&cfg.applicants) {
            return Err(EngineError::Input(format!(
                "the demo takes 1 to {MAX_DEMO_APPLICANTS} applicants; got {}",
                cfg.applicants
            )));
        }
        {
            let mut tx = self.store().begin_read().await?;
            let n = tx.org_count().await?;
            if n > 0 {
                return Err(EngineError::Input(format!(
                    "the demo needs an empty database; this one has {n} organisations (use a new --database-url)"
                )));
            }
        }
        let t = Instant::now();
        self.import_national_tree(&cfg.data_dir, progress).await?;
        let org_import_seconds = t.elapsed().as_secs_f64();

        // Two schools under 海淀区, 12 classes each: 6 graduating (初三 / 高三) and 6 not.
        let mut csv = String::from(
            "code,name,kind,parent,approves_admissions,school_level,graduating,class_size\n",
        );
        csv.push_str(&format!("{JUNIOR_COMMITTEE},海淀区实验初级中学团委,basic_committee,{DEMO_COUNTY},true,junior_high,false,\n"));
        csv.push_str(&format!("{SENIOR_COMMITTEE},海淀区实验高级中学团委,basic_committee,{DEMO_COUNTY},true,senior_high,false,\n"));
        let mut branches = Vec::new();
        for (committee, level, grad_name, other_name) in [
            (JUNIOR_COMMITTEE, SchoolLevel::JuniorHigh, "初三", "初二"),
            (SENIOR_COMMITTEE, SchoolLevel::SeniorHigh, "高三", "高二"),
        ] {
            for (graduating, grade) in [(true, grad_name), (false, other_name)] {
                for class in 1..=6 {
                    let code = format!("{committee}-{}{class}", if graduating { "G" } else { "N" });
                    csv.push_str(&format!(
                        "{code},{grade}（{class}）班团支部,branch,{committee},false,{},{graduating},{CLASS_SIZE}\n",
                        level.as_str()
                    ));
                    branches.push(Branch {
                        code,
                        level,
                        graduating,
                        committee,
                        members: Vec::new(),
                    });
                }
            }
        }
        self.import_org_csv(csv.as_bytes(), false).await?;
        let secretary = Actor {
            name: "demo-branch-secretary".into(),
            role: Some("branch_secretary".into()),
        };
        let committee_admin = Actor {
            name: "demo-committee-admin".into(),
            role: Some("committee_admin".into()),
        };

        // Five members per class admitted in 2025 (one now on probation): sponsors, mentors and voters.
        let mut legacy_serial = 90_000_001u32;
        for (bi, b) in branches.iter_mut().enumerate() {
            let born_year = match (b.level, b.graduating) {
                (SchoolLevel::JuniorHigh, true) => 2010,
                (SchoolLevel::JuniorHigh, false) => 2011,
                (_, true) => 2007,
                (_, false) => 2008,
            };
            let mut roster = String::from("姓名,公民身份号码,入团日期,团员编号,留团察看至\n");
            for k in 0..5u32 {
                let birth = d(born_year, 1 + k, 3 + bi as u32);
                let rid = legacy_id(DEMO_COUNTY, birth, 500 + bi as u32 * 10 + k);
                // One member per class is on probation (留团察看) for a few more months.
                let probation = if k == 4 {
                    tuanji_domain::add_months(self.today(), 4).to_string()
                } else {
                    String::new()
                };
                roster.push_str(&format!(
                    "团员{bi}-{k},{rid},2025-05-04,2025{legacy_serial:08},{probation}\n"
                ));
                legacy_serial += 1;
                b.members.push(rid);
            }
            self.import_roster(&committee_admin, &b.code, roster.as_bytes(), false)
                .await?;
        }
        for (org, count) in [
            (JUNIOR_COMMITTEE, JUNIOR_QUOTA),
            (SENIOR_COMMITTEE, SENIOR_QUOTA),
        ] {
            self.allocate_quota(org, 2026, count, Some(DEMO_COUNTY), d(2026, 1, 15))
                .await?;
        }

        // The roster: generated applicants, one file per class as schools send them.
        let generated = generate(&roster_config(
            cfg,
            &branches.iter().map(|b| b.code.clone()).collect::<Vec<_>>(),
        ));
        let mut refused: BTreeMap<String, usize> = BTreeMap::new();
        let mut flagged: BTreeMap<String, usize> = BTreeMap::new();
        let procedure = Instant::now();
        let log_before = self.log_len().await?;
        let mut applicants: Vec<(usize, String, Date)> = Vec::new(); // (branch index, resident ID, application date)
        for (bi, b) in branches.iter().enumerate() {
            let mut rows: Vec<_> = generated
                .iter()
                .filter(|g| g.class == b.code)
                .cloned()
                .collect();
            while !rows.is_empty() {
                let bytes = to_roster_csv(&rows);
                match self.import_roster(&secretary, &b.code, &bytes, false).await {
                    Ok(_) => break,
                    Err(EngineError::Rows(errors)) => {
                        // The school takes the refused rows out and sends the roster again.
                        let bad: Vec<usize> = errors.iter().map(|e| e.line).collect();
                        if !bad.iter().any(|&line| line >= 2) {
                            return Err(EngineError::Rows(errors));
                        }
                        for e in &errors {
                            let code = e.code.map_or("INPUT".to_owned(), |c| c.as_str().to_owned());
                            *refused.entry(code).or_insert(0) += 1;
                        }
                        rows = rows
                            .into_iter()
                            .enumerate()
                            .filter(|(i, _)| !bad.contains(&(i + 2)))
                            .map(|(_, r)| r)
                            .collect();
                    }
                    Err(other) => return Err(other),
                }
            }
            applicants.extend(
                rows.iter()
                    .map(|r| (bi, r.resident_id.clone(), r.application_date)),
            );
        }

        // Runs a step; a refusal is counted by rule code and returned as `false`.
        let mut run = async |actor: &Actor,
                             who: &str,
                             cmd: AdmissionCommand|
               -> EngineResult<bool> {
            match self.step(actor, who, &cmd).await {
                Ok(out) => {
                    for (code, _) in out.flags {
                        *flagged.entry(code).or_insert(0) += 1;
                    }
                    Ok(true)
                }
                Err(EngineError::Rule(v)) => {
                    tracing::debug!(command = cmd.command(), code = v.code.as_str(), message = %v.message, "demo step refused");
                    *refused.entry(v.code.as_str().to_owned()).or_insert(0) += 1;
                    Ok(false)
                }
                Err(e) => Err(e),
            }
        };
        let cmd_date = |i: usize, base: Date| base + chrono::Days::new((i % 3) as u64);
        let mut alive: Vec<bool> = vec![true; applicants.len()];

        let total = 3 * applicants.len() as u64;
        // Phase 1: talk, activist, mentors, classes, determination, pre-review, publicity, form.
        for (i, (bi, rid, app_date)) in applicants.iter().enumerate() {
            progress("admission steps", i as u64, total);
            let b = &branches[*bi];
            let app_date = *app_date;
            let talk = if i % 31 == 3 {
                app_date + chrono::Days::new(40)
            } else {
                app_date + chrono::Days::new(7)
            };
            run(
                &secretary,
                rid,
                AdmissionCommand::RecordTalk {
                    date: talk,
                    by: "支部书记".into(),
                },
            )
            .await?;
            run(
                &committee_admin,
                rid,
                AdmissionCommand::ApproveActivist {
                    date: d(2026, 5, 6),
                    committee: b.committee.into(),
                },
            )
            .await?;
            run(
                &secretary,
                rid,
                AdmissionCommand::AssignMentors {
                    date: d(2026, 5, 6),
                    members: vec![b.members[i % 4].clone()],
                    party_members: vec![],
                },
            )
            .await?;
            let classes = if i % 37 == 5 { 7 } else { 8 };
            for w in 0..classes {
                let date = d(2026, 5, 11) + chrono::Days::new(7 * w);
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordClass {
                        date,
                        minutes: 90,
                        topic: format!("团课第{}讲", w + 1),
                    },
                )
                .await?;
            }
            if i % 41 == 7 {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::DetermineTarget {
                        date: d(2026, 7, 20),
                    },
                )
                .await?;
            }
            if !run(
                &secretary,
                rid,
                AdmissionCommand::DetermineTarget {
                    date: cmd_date(i, d(2026, 8, 31)),
                },
            )
            .await?
            {
                // Missing class hours: one more class in September, then the determination.
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordClass {
                        date: d(2026, 9, 3),
                        minutes: 90,
                        topic: "补课".into(),
                    },
                )
                .await?;
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::DetermineTarget {
                        date: d(2026, 9, 4),
                    },
                )
                .await?;
            }
            run(
                &committee_admin,
                rid,
                AdmissionCommand::Prereview {
                    date: d(2026, 9, 7),
                    committee: b.committee.into(),
                },
            )
            .await?;
            run(
                &secretary,
                rid,
                AdmissionCommand::Publicise {
                    date: d(2026, 9, 28),
                },
            )
            .await?;
            if i % 43 == 11 || i % 47 == 13 {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordObjection {
                        date: d(2026, 9, 30),
                        text: "群众来信反映".into(),
                    },
                )
                .await?;
                if i % 43 == 11 {
                    run(
                        &secretary,
                        rid,
                        AdmissionCommand::ResolveObjection {
                            date: d(2026, 10, 8),
                            resolution: "经核实，反映问题不属实".into(),
                        },
                    )
                    .await?;
                }
            }
            let good = vec![
                b.members[(i + 1) % 4].clone(),
                b.members[(i + 2) % 4].clone(),
            ];
            if i % 59 == 19 {
                let with_probation = vec![b.members[4].clone(), b.members[(i + 2) % 4].clone()];
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::SubmitForm {
                        date: d(2026, 10, 8),
                        sponsors: with_probation,
                        opinion_date: d(2026, 10, 8),
                    },
                )
                .await?;
            }
            // Most branches fill in the form after publicity; some during it (and then try to meet too early).
            let (form, opinions) = if i % 29 == 2 {
                (d(2026, 10, 8), d(2026, 10, 8))
            } else {
                (d(2026, 10, 12), d(2026, 10, 13))
            };
            run(
                &secretary,
                rid,
                AdmissionCommand::SubmitForm {
                    date: form,
                    sponsors: good,
                    opinion_date: opinions,
                },
            )
            .await?;
        }

        // Phase 2: branch general meetings (all before any approval: 4 entitled members per class).
        for (i, (_, rid, _)) in applicants.iter().enumerate() {
            progress("branch meetings", (applicants.len() + i) as u64, total);
            if i % 29 == 2 {
                // The last day of publicity (2026-10-09, after the National Day holiday) is still publicity.
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::HoldMeeting {
                        date: d(2026, 10, 9),
                        present: 4,
                        yes: 4,
                    },
                )
                .await?;
            }
            let yes = if i % 53 == 17 { 2 } else { 4 };
            if !run(
                &secretary,
                rid,
                AdmissionCommand::HoldMeeting {
                    date: d(2026, 10, 16),
                    present: 4,
                    yes,
                },
            )
            .await?
            {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::Reject {
                        date: d(2026, 10, 16),
                        reason: "支部大会未通过".into(),
                    },
                )
                .await?;
                alive[i] = false;
            }
        }

        // Phase 3: approval by the school committee (numbers, class caps), oath, archive.
        let pdf = b"%PDF-1.4\n% Tuanji demo application form\n%%EOF\n".to_vec();
        let mut admitted_ids = Vec::new();
        for (i, (bi, rid, _)) in applicants.iter().enumerate() {
            progress("approvals", (2 * applicants.len() + i) as u64, total);
            if !alive[i] {
                continue;
            }
            let b = &branches[*bi];
            if run(
                &committee_admin,
                rid,
                AdmissionCommand::Approve {
                    date: d(2026, 10, 23),
                    committee: b.committee.into(),
                },
            )
            .await?
            {
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::RecordOath {
                        date: d(2026, 11, 4),
                    },
                )
                .await?;
                let filed = if i % 67 == 23 {
                    d(2026, 11, 30)
                } else {
                    d(2026, 11, 10)
                };
                run(
                    &secretary,
                    rid,
                    AdmissionCommand::FileArchive {
                        date: filed,
                        pdf: pdf.clone(),
                    },
                )
                .await?;
                admitted_ids.push((*bi, rid.clone()));
            }
        }
        // One admission annulled: its number is voided for good.
        if let Some((_, rid)) = admitted_ids
            .iter()
            .find(|(bi, _)| branches[*bi].level == SchoolLevel::SeniorHigh)
        {
            run(
                &committee_admin,
                rid,
                AdmissionCommand::Annul {
                    date: d(2026, 11, 20),
                    reason: "发现入团材料弄虚作假".into(),
                },
            )
            .await?;
        }
        let procedure_seconds = procedure.elapsed().as_secs_f64();
        let transitions = self.log_len().await? - log_before;

        let mut tx = self.store().begin_read().await?;
        let states: BTreeMap<String, i64> = tx
            .instance_state_counts("admission")
            .await?
            .into_iter()
            .collect();
        let admitted = states.get("admitted").copied().unwrap_or(0);
        let mut classes = Vec::new();
        for b in &branches {
            let org = self.org_in(&mut tx, &b.code).await?;
            let counts = tx.branch_counts(org.id).await?;
            let cap_percent = match b.level {
                SchoolLevel::JuniorHigh => self.policy.junior_high_cap_percent,
                _ => self.policy.senior_high_cap_percent,
            };
            classes.push(ClassStatus {
                branch: b.code.clone(),
                school_level: b.level.as_str().to_owned(),
                graduating: b.graduating,
                class_size: CLASS_SIZE,
                members: counts.members,
                cap: b.graduating.then_some(CLASS_SIZE * cap_percent / 100),
            });
        }
        let organisations = tx.org_count().await?;
        drop(tx);
        let quotas = vec![
            self.quota(JUNIOR_COMMITTEE, 2026).await?,
            self.quota(SENIOR_COMMITTEE, 2026).await?,
        ];
        let approvals = quotas.iter().map(|q| q.used).sum::<i64>() as f64;
        Ok(DemoSummary {
            backend: self.store().backend().to_owned(),
            seed: cfg.seed,
            roster_rows: cfg.applicants,
            organisations,
            org_import_seconds,
            admitted,
            refused,
            flagged,
            states,
            quotas,
            classes,
            transitions,
            procedure_seconds,
            admissions_per_second: approvals / procedure_seconds.max(1e-9),
            transitions_per_second: transitions as f64 / procedure_seconds.max(1e-9),
            wall_seconds: wall.elapsed().as_secs_f64(),
        })
    }

    /// Entries in the transition log.
    async fn log_len(&self) -> EngineResult<i64> {
        let mut tx = self.store().begin_read().await?;
        Ok(tx.log_size().await?)
    }
}
