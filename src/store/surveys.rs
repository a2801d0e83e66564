//! Surveys run from the server: the frame a manager uploaded, the drawn sample with its
//! replay record, link traces, worker selections, and which selected units or workers
//! already became assignments.
//!
//! Records live in the `surveys` tree under `survey id` and `survey id/…` keys. Values are
//! kept small: the frame itself is two CSV files in the data directory, named by their
//! SHA-256 (written and fsynced
//! before the record naming their SHA-256 is committed), and the selected units are stored
//! in chunks of [`UNITS_PER_CHUNK`]. Nothing here samples: callers pass in what
//! `crate::sampling` decided.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::assignments::{Assignment, NewAssignment};
use crate::store::tree::TreeId;
use crate::store::{Durable, Error, Store, Tx};

/// The directory of survey frame files inside a data directory.
pub(crate) const SURVEYS_DIR: &str = "surveys";

/// Selected units per stored chunk.
pub const UNITS_PER_CHUNK: usize = 500;

/// How tier 0 of a survey's frame is chosen (as `frame import --tier0-vsic/--tier0-ids`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Tier0Spec {
    /// VSIC code prefixes (e.g. `26`, `2732`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vsic: Vec<String>,
    /// Register ids of lead firms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
}

/// A survey round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Survey {
    pub id: String,
    pub name: String,
    pub tier0: Tier0Spec,
    /// Questionnaire id used for assignments of selected units.
    pub enterprise_questionnaire: String,
    /// Questionnaire id used for assignments of selected workers.
    pub worker_questionnaire: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<FrameRecord>,
    /// True once a sample was drawn (the frame is then fixed).
    #[serde(default)]
    pub sampled: bool,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// The frame of a survey: where its files are and what they hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameRecord {
    /// `upload` or `synthetic`.
    pub source: String,
    pub units_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links_sha256: Option<String>,
    /// `Frame::digest` of the imported frame.
    pub digest: String,
    pub units: usize,
    pub links: usize,
    /// Units per tier (index = tier).
    pub tier_counts: Vec<usize>,
    pub out_of_scope: usize,
    pub uploaded_by: String,
    pub uploaded_at_ms: i64,
}

/// The replay record of a drawn sample (its units are stored in chunks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleRecord {
    /// The design document as uploaded.
    pub design: String,
    pub design_name: String,
    pub seed: u64,
    pub method: String,
    pub allocation: String,
    pub n_total: u64,
    pub frame_digest: String,
    pub chainsurvey_version: String,
    /// Per-stratum record (key, N_h, n_h, selected, seed, random start).
    pub strata: serde_json::Value,
    pub units: usize,
    pub drawn_by: String,
    pub drawn_at_ms: i64,
}

/// One selected unit with every probability.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampledUnit {
    pub unit_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
    pub name: String,
    pub province: String,
    pub stratum: String,
    pub pi: f64,
    pub take_all: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prn: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u32>,
}

/// A link trace from the respondents of one tier to the next.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TraceRecord {
    pub from_tier: u32,
    pub seed: u64,
    pub method: String,
    /// Unit ids of the respondents whose rosters were read.
    pub respondents: Vec<String>,
    pub links: Vec<TraceLinkRow>,
    pub reached: Vec<ReachedRow>,
    pub unmatched: Vec<UnmatchedRow>,
    pub traced_by: String,
    pub traced_at_ms: i64,
}

/// One traced link: buyer → supplier with its retention probability.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TraceLinkRow {
    pub buyer_id: String,
    pub supplier_id: String,
    pub row: u32,
    #[serde(rename = "match")]
    pub match_kind: String,
    pub listed: u32,
    pub p: f64,
    pub retained: bool,
}

/// A reached next-tier unit with π_{i|s} and L_i.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReachedRow {
    pub unit_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
    pub name: String,
    pub province: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_tier: Option<u32>,
    pub n_reporting: u32,
    pub pi_given_s: f64,
    pub selected: bool,
    pub l: u32,
    pub l_linked: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l_self_reported: Option<u32>,
    pub link_count_method: String,
}

/// A roster row that gave no link, with the reason.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnmatchedRow {
    pub respondent_id: String,
    pub row: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sup_tax_code: Option<String>,
    pub sup_name: String,
    pub reason: String,
}

/// Workers selected within interviewed units.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkerSelection {
    pub seed: u64,
    /// m, workers per sex.
    pub per_sex: u64,
    pub takes: Vec<WorkerTakeRow>,
    pub selected_by: String,
    pub selected_at_ms: i64,
}

/// The selection in one unit × sex: M, m and the selected lines.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkerTakeRow {
    pub unit_id: String,
    /// `1` male, `2` female.
    pub sex: String,
    pub population_m: u64,
    pub take_m: u64,
    pub take_all: bool,
    pub unit_seed: u64,
    /// Where M came from: `interview_list` (`k_list_*`), `interview_counts`
    /// (`workers_*`) or `frame` (`employees_*`).
    #[serde(default)]
    pub count_source: String,
    /// 1-based positions in the unit's list of that sex.
    pub lines: Vec<u64>,
}

/// What an "assign" call did.
#[derive(Debug, Clone, Serialize)]
pub struct AssignOutcome {
    pub created: Vec<Assignment>,
    /// Targets that already had an assignment from this survey (not duplicated).
    pub already_assigned: usize,
}

fn survey_key(id: &str) -> String {
    id.to_owned()
}

fn sub_key(id: &str, rest: &str) -> String {
    format!("{id}/{rest}")
}

/// Parses a survey id: 1–64 characters of `A-Z a-z 0-9 _ -` (it names a directory).
pub fn parse_survey_id(id: &str) -> Result<&str, Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(Error::Invalid(format!(
            "survey id {id:?} must be 1-64 characters of letters, digits, _ and -"
        )))
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: "survey",
        id: id.to_owned(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    /// The directory holding a survey's frame files.
    pub fn survey_dir(&self, id: &str) -> Result<PathBuf, Error> {
        Ok(self.data_dir().join(SURVEYS_DIR).join(parse_survey_id(id)?))
    }

    /// The path of a survey's frame file `stem` (`units` or `links`) with content hash `sha`.
    pub fn survey_file(&self, id: &str, stem: &str, sha: &str) -> Result<PathBuf, Error> {
        Ok(self.survey_dir(id)?.join(format!("{stem}-{sha}.csv")))
    }

    /// Writes a frame file (`stem` = `units` or `links`) of a survey durably under a name
    /// that carries its SHA-256 (so concurrent uploads never overwrite each other's files):
    /// to a temporary file, fsynced, renamed into place, and the directory fsynced. Returns
    /// its path and SHA-256. The survey record that names the hash is committed afterwards,
    /// so a crash in between leaves at worst an unreferenced file.
    pub fn put_survey_file(
        &self,
        id: &str,
        stem: &str,
        bytes: &[u8],
    ) -> Result<(PathBuf, String), Error> {
        let sha = sha256_hex(bytes);
        let dir = self.survey_dir(id)?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create survey directory", &dir, e))?;
        let path = self.survey_file(id, stem, &sha)?;
        let tmp = dir.join(format!("{stem}-{}.tmp", uuid::Uuid::new_v4()));
        let mut file =
            std::fs::File::create(&tmp).map_err(|e| Error::io("create frame file", &tmp, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write frame file", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename frame file", &path, e))?;
        fsync_dir(&dir)?;
        Ok((path, sha))
    }

    /// Creates a survey; 409 when the id is taken.
    pub fn create_survey(&self, survey: Survey) -> Result<Durable<Survey>, Error> {
        parse_survey_id(&survey.id)?;
        self.write(|tx| {
            if tx.contains(TreeId::Surveys, &survey_key(&survey.id))? {
                return Err(Error::Conflict(format!(
                    "survey {} already exists",
                    survey.id
                )));
            }
            tx.put(TreeId::Surveys, survey_key(&survey.id), &survey);
            tx.event(
                &survey.created_by,
                "survey.created",
                &survey.id,
                &[],
                serde_json::to_value(&survey).unwrap_or_default(),
            );
            Ok(survey)
        })
    }

    /// A survey by id.
    pub fn survey(&self, id: &str) -> Result<Option<Survey>, Error> {
        self.get(TreeId::Surveys, &survey_key(id))
    }

    /// Every survey, in id order.
    pub fn surveys(&self) -> Result<Vec<Survey>, Error> {
        let mut out = Vec::new();
        for entry in self.tree(TreeId::Surveys).iter() {
            let (key, _) = entry?;
            // Survey records are the keys without a `/`.
            if key.contains(&b'/') {
                continue;
            }
            let key = String::from_utf8_lossy(&key).into_owned();
            if let Some(survey) = self.survey(&key)? {
                out.push(survey);
            }
        }
        Ok(out)
    }

    /// Records the survey's frame; 409 once a sample was drawn from the previous one.
    pub fn set_survey_frame(
        &self,
        id: &str,
        frame: FrameRecord,
        actor: &str,
    ) -> Result<Durable<Survey>, Error> {
        self.write(|tx| {
            let mut survey: Survey = tx
                .get(TreeId::Surveys, &survey_key(id))?
                .ok_or_else(|| not_found(id))?;
            if survey.sampled {
                return Err(Error::Conflict(format!(
                    "survey {id} already has a sample drawn from its frame; the frame cannot change"
                )));
            }
            survey.frame = Some(frame);
            tx.put(TreeId::Surveys, survey_key(id), &survey);
            tx.event(
                actor,
                "survey.frame",
                id,
                &[],
                serde_json::to_value(&survey.frame).unwrap_or_default(),
            );
            Ok(survey)
        })
    }

    /// Stores a drawn sample. A second draw is accepted only as an exact replay (same
    /// design, frame and selected units), which returns the stored record; anything else is
    /// 409, because assignments and weights depend on the first.
    pub fn save_sample(
        &self,
        id: &str,
        record: SampleRecord,
        units: Vec<SampledUnit>,
    ) -> Result<Durable<(SampleRecord, bool)>, Error> {
        self.write(|tx| {
            let mut survey: Survey = tx
                .get(TreeId::Surveys, &survey_key(id))?
                .ok_or_else(|| not_found(id))?;
            if let Some(existing) = tx.get::<SampleRecord>(TreeId::Surveys, &sub_key(id, "sample"))?
            {
                let stored = read_units(tx, id, existing.units)?;
                let same = existing.design == record.design
                    && existing.frame_digest == record.frame_digest
                    && stored == units;
                return if same {
                    Ok((existing, true))
                } else {
                    Err(Error::Conflict(format!(
                        "survey {id} already has a sample (seed {}, design {:?}); a draw is immutable \
                         and can only be replayed with the same design",
                        existing.seed, existing.design_name
                    )))
                };
            }
            for (chunk_no, chunk) in units.chunks(UNITS_PER_CHUNK).enumerate() {
                tx.put(TreeId::Surveys, chunk_key(id, chunk_no), &chunk);
            }
            tx.put(TreeId::Surveys, sub_key(id, "sample"), &record);
            survey.sampled = true;
            tx.put(TreeId::Surveys, survey_key(id), &survey);
            tx.event(
                &record.drawn_by,
                "survey.sample",
                id,
                &[],
                serde_json::json!({"seed": record.seed, "method": record.method, "units": record.units}),
            );
            Ok((record, false))
        })
    }

    /// The survey's sample record and its selected units.
    pub fn survey_sample(
        &self,
        id: &str,
    ) -> Result<Option<(SampleRecord, Vec<SampledUnit>)>, Error> {
        let Some(record) = self.get::<SampleRecord>(TreeId::Surveys, &sub_key(id, "sample"))?
        else {
            return Ok(None);
        };
        let mut units = Vec::with_capacity(record.units);
        for chunk_no in 0..record.units.div_ceil(UNITS_PER_CHUNK) {
            let chunk: Vec<SampledUnit> = self
                .get(TreeId::Surveys, &chunk_key(id, chunk_no))?
                .ok_or_else(|| missing_chunk(id, chunk_no))?;
            units.extend(chunk);
        }
        Ok(Some((record, units)))
    }

    /// Stores (or replaces) the trace from `record.from_tier`.
    pub fn save_trace(&self, id: &str, record: TraceRecord) -> Result<Durable<TraceRecord>, Error> {
        self.write(|tx| {
            if !tx.contains(TreeId::Surveys, &survey_key(id))? {
                return Err(not_found(id));
            }
            tx.put(
                TreeId::Surveys,
                sub_key(id, &format!("trace/{}", record.from_tier)),
                &record,
            );
            tx.event(
                &record.traced_by,
                "survey.trace",
                id,
                &[],
                serde_json::json!({"from_tier": record.from_tier, "links": record.links.len(),
                                   "reached": record.reached.len(), "unmatched": record.unmatched.len()}),
            );
            Ok(record)
        })
    }

    /// The trace from `from_tier`, if one was run.
    pub fn survey_trace(&self, id: &str, from_tier: u32) -> Result<Option<TraceRecord>, Error> {
        self.get(TreeId::Surveys, &sub_key(id, &format!("trace/{from_tier}")))
    }

    /// Stores (or replaces) the worker selection.
    pub fn save_workers(
        &self,
        id: &str,
        record: WorkerSelection,
    ) -> Result<Durable<WorkerSelection>, Error> {
        self.write(|tx| {
            if !tx.contains(TreeId::Surveys, &survey_key(id))? {
                return Err(not_found(id));
            }
            tx.put(TreeId::Surveys, sub_key(id, "workers"), &record);
            tx.event(
                &record.selected_by,
                "survey.workers",
                id,
                &[],
                serde_json::json!({"per_sex": record.per_sex, "takes": record.takes.len()}),
            );
            Ok(record)
        })
    }

    /// The worker selection, if one was made.
    pub fn survey_workers(&self, id: &str) -> Result<Option<WorkerSelection>, Error> {
        self.get(TreeId::Surveys, &sub_key(id, "workers"))
    }

    /// Creates the assignments whose target key has none yet from this survey, and marks
    /// them, in one transaction: running it twice creates nothing the second time.
    pub fn assign_survey_targets(
        &self,
        id: &str,
        items: Vec<(String, NewAssignment)>,
        actor: &str,
    ) -> Result<Durable<AssignOutcome>, Error> {
        self.write(|tx| {
            if !tx.contains(TreeId::Surveys, &survey_key(id))? {
                return Err(not_found(id));
            }
            let mut fresh = Vec::new();
            let mut keys = Vec::new();
            let mut already = 0;
            for (target, item) in items {
                let key = sub_key(id, &format!("assigned/{target}"));
                if tx.contains(TreeId::Surveys, &key)? || keys.contains(&key) {
                    already += 1;
                } else {
                    keys.push(key);
                    fresh.push(item);
                }
            }
            let created = self.create_assignments_in(tx, fresh, actor)?;
            for (key, assignment) in keys.into_iter().zip(&created) {
                tx.put(TreeId::Surveys, key, &assignment.id);
            }
            Ok(AssignOutcome {
                created,
                already_assigned: already,
            })
        })
    }

    /// The assignment id made from a survey target (`unit/ID` or `worker/ID/SEX/LINE`).
    pub fn survey_assignment(&self, id: &str, target: &str) -> Result<Option<String>, Error> {
        self.get(TreeId::Surveys, &sub_key(id, &format!("assigned/{target}")))
    }
}

fn chunk_key(id: &str, chunk_no: usize) -> String {
    sub_key(id, &format!("sample/{chunk_no:06}"))
}

fn missing_chunk(id: &str, chunk_no: usize) -> Error {
    Error::Corrupt {
        tree: "surveys",
        key: chunk_key(id, chunk_no),
        reason: "a chunk of the sample is missing".into(),
    }
}

fn read_units(tx: &Tx<'_>, id: &str, count: usize) -> Result<Vec<SampledUnit>, Error> {
    let mut units = Vec::with_capacity(count);
    for chunk_no in 0..count.div_ceil(UNITS_PER_CHUNK) {
        let chunk: Vec<SampledUnit> = tx
            .get(TreeId::Surveys, &chunk_key(id, chunk_no))?
            .ok_or_else(|| missing_chunk(id, chunk_no))?;
        units.extend(chunk);
    }
    Ok(units)
}

fn fsync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync survey directory", dir, e))
}
