//! Surveys: the sampling steps of a survey round run on the server by managers, the same
//! library calls as `chainsurvey frame` / `chainsurvey sample` (frame import and tiers,
//! `Design::parse`, `draw_sample`, `trace_links`, `select_workers`), ending in assignments
//! for enumerators.
//!
//! Frame import, drawing, tracing and worker selection are CPU work over the whole frame,
//! so they run in `spawn_blocking`; the store records each result durably before the
//! answer. Turning selections into assignments is idempotent: each selected unit or worker
//! gets at most one assignment per survey (the store keeps a marker per target in the same
//! transaction as the assignment).

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::frame::{
    DEFAULT_MAX_ERRORS, Frame, FrameError, Tier0Rule, Tiers, compute_tiers, import_frame,
    write_links_csv, write_units_csv,
};
use crate::sampling::{
    CustomerReport, Design, LinkageIndex, ReportedSupplier, SamplingError, SupplierRoster,
    TraceRequest, WorkerSource, draw_sample, select_workers, trace_links,
};
use crate::server::auth::Caller;
use crate::server::body::{RawBody, parse_json};
use crate::server::{ApiError, AppState};
use crate::store::{
    FrameRecord, InterviewStatus, NewAssignment, ReachedRow, Role, SampleRecord, SampledUnit,
    Store, Survey, Target, Tier0Spec, TraceLinkRow, TraceRecord, UnmatchedRow, WorkerSelection,
    WorkerTakeRow, parse_survey_id,
};

/// Who may run the sampling steps.
const MANAGERS: &[Role] = &[Role::Admin, Role::Manager];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/surveys", post(create).get(list))
        .route("/api/v1/surveys/{survey}", get(one))
        .route("/api/v1/surveys/{survey}/frame", put(upload_frame))
        .route(
            "/api/v1/surveys/{survey}/frame/synthetic",
            post(synthetic_frame),
        )
        .route("/api/v1/surveys/{survey}/sample", post(draw).get(sample))
        .route("/api/v1/surveys/{survey}/sample.csv", get(sample_csv))
        .route("/api/v1/surveys/{survey}/trace", post(trace))
        .route("/api/v1/surveys/{survey}/trace/{from_tier}", get(trace_get))
        .route(
            "/api/v1/surveys/{survey}/workers",
            post(workers).get(workers_get),
        )
        .route("/api/v1/surveys/{survey}/assignments", post(assign))
}

/// Runs CPU-heavy work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|err| ApiError::internal(&err))?
}

/// A manager's request about one survey (`/api/v1/surveys/{survey}/…`, no body): the
/// caller (401 without a valid token), the manager role (403) and the survey (404), checked
/// in that order.
struct ManagedSurvey {
    caller: Caller,
    survey: Survey,
}

impl FromRequestParts<AppState> for ManagedSurvey {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let (caller, id) = caller_and_survey_id(parts, state).await?;
        let survey =
            managed_survey(&state.store, &caller, &id).map_err(IntoResponse::into_response)?;
        Ok(ManagedSurvey { caller, survey })
    }
}

/// [`ManagedSurvey`] with the request body, read (413 over the limit) after the caller and
/// the path and before the role and survey checks, the order axum gives separate extractors.
struct SurveyPost {
    caller: Caller,
    survey: Survey,
    bytes: Bytes,
}

impl FromRequest<AppState> for SurveyPost {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let (caller, id) = caller_and_survey_id(&mut parts, state).await?;
        let RawBody(bytes) = RawBody::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let survey =
            managed_survey(&state.store, &caller, &id).map_err(IntoResponse::into_response)?;
        Ok(SurveyPost {
            caller,
            survey,
            bytes,
        })
    }
}

async fn caller_and_survey_id(
    parts: &mut Parts,
    state: &AppState,
) -> Result<(Caller, String), Response> {
    let caller = Caller::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    let Path(id) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((caller, id))
}

fn managed_survey(store: &Store, caller: &Caller, id: &str) -> Result<Survey, ApiError> {
    caller.require(MANAGERS)?;
    survey_of(store, id)
}

fn survey_of(store: &Store, id: &str) -> Result<Survey, ApiError> {
    store
        .survey(id)?
        .ok_or_else(|| ApiError::not_found(format!("survey {id} not found")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSurvey {
    id: String,
    #[serde(default)]
    name: String,
    /// Tier 0 = units whose VSIC code starts with one of these.
    #[serde(default)]
    tier0_vsic: Vec<String>,
    /// Tier 0 = these register ids.
    #[serde(default)]
    tier0_ids: Vec<String>,
    #[serde(default = "default_enterprise")]
    enterprise_questionnaire: String,
    #[serde(default = "default_worker")]
    worker_questionnaire: String,
}

fn default_enterprise() -> String {
    "enterprise".into()
}

fn default_worker() -> String {
    "worker".into()
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<(StatusCode, Json<Survey>), ApiError> {
    caller.require(MANAGERS)?;
    let new: NewSurvey = parse_json(&bytes)?;
    parse_survey_id(&new.id)?;
    if new.tier0_vsic.is_empty() == new.tier0_ids.is_empty() {
        return Err(ApiError::bad_request(
            "give exactly one tier-0 rule: tier0_vsic (VSIC prefixes) or tier0_ids (unit ids)",
        ));
    }
    let survey = Survey {
        name: if new.name.is_empty() {
            new.id.clone()
        } else {
            new.name
        },
        id: new.id,
        tier0: Tier0Spec {
            vsic: new.tier0_vsic,
            ids: new.tier0_ids,
        },
        enterprise_questionnaire: new.enterprise_questionnaire,
        worker_questionnaire: new.worker_questionnaire,
        frame: None,
        sampled: false,
        created_by: caller.name().to_owned(),
        created_at_ms: crate::store::now_ms(),
    };
    let survey = state.store.create_survey(survey)?.wait().await?;
    Ok((StatusCode::CREATED, Json(survey)))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(MANAGERS)?;
    Ok(Json(json!({"surveys": state.store.surveys()?})))
}

async fn one(ManagedSurvey { survey, .. }: ManagedSurvey) -> Result<Json<Survey>, ApiError> {
    Ok(Json(survey))
}

fn tier0_rule(spec: &Tier0Spec) -> Tier0Rule {
    if spec.ids.is_empty() {
        Tier0Rule::VsicPrefixes(spec.vsic.clone())
    } else {
        Tier0Rule::Ids(spec.ids.clone())
    }
}

/// Imports a frame from CSV bytes with the survey's tier-0 rule, as `frame import` does;
/// positioned import errors become a 422 listing each (file, line, column, message).
fn import_with_tiers(
    units: &[u8],
    links: Option<&[u8]>,
    spec: &Tier0Spec,
) -> Result<(Frame, Tiers), ApiError> {
    let mut units_reader = units;
    let imported = match links {
        Some(mut links_reader) => import_frame(
            &mut units_reader,
            "units.csv",
            Some((&mut links_reader, "links.csv")),
            DEFAULT_MAX_ERRORS,
        ),
        None => import_frame(&mut units_reader, "units.csv", None, DEFAULT_MAX_ERRORS),
    };
    let mut frame = imported.map_err(frame_error)?;
    let tiers = compute_tiers(&frame, &tier0_rule(spec)).map_err(frame_error)?;
    let labels: Vec<String> = (0..frame.units.len()).map(|u| tiers.label(u)).collect();
    frame
        .set_attribute("tier", labels)
        .map_err(|len| ApiError::internal(&format!("tier column has {len} values")))?;
    Ok((frame, tiers))
}

fn frame_error(err: FrameError) -> ApiError {
    match err {
        FrameError::Import(errors) => {
            let findings: Vec<Value> = errors
                .errors
                .iter()
                .map(|e| {
                    json!({
                        "file": e.position.file,
                        "line": e.position.line,
                        "column": e.position.column.as_ref().map(|(n, _)| *n),
                        "column_name": e.position.column.as_ref().map(|(_, name)| name),
                        "message": e.kind.to_string(),
                    })
                })
                .collect();
            frame_invalid(format!(
                "the frame has {} error(s); nothing was imported",
                errors.total
            ))
            .with_details(json!({"findings": findings, "total": errors.total}))
        }
        other => frame_invalid(other.to_string()),
    }
}

/// 422 `frame_invalid`: the frame files cannot be imported.
fn frame_invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "frame_invalid", message)
}

/// 422 `design_invalid`: the sampling design cannot be used as given.
fn design_invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "design_invalid", message)
}

fn sampling_error(err: SamplingError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "sampling_failed",
        err.to_string(),
    )
}

/// Loads a survey's stored frame with its tiers.
fn load_frame(store: &Store, survey: &Survey) -> Result<(Frame, Tiers), ApiError> {
    let record = survey.frame.as_ref().ok_or_else(|| {
        ApiError::conflict(format!(
            "survey {} has no frame yet; upload one first",
            survey.id
        ))
    })?;
    let read = |stem: &str, sha: &str| -> Result<Vec<u8>, ApiError> {
        let path = store.survey_file(&survey.id, stem, sha)?;
        std::fs::read(&path)
            .map_err(|err| ApiError::internal(&format!("{}: {err}", path.display())))
    };
    let units = read("units", &record.units_sha256)?;
    let links = match &record.links_sha256 {
        Some(sha) => Some(read("links", sha)?),
        None => None,
    };
    let (frame, tiers) = import_with_tiers(&units, links.as_deref(), &survey.tier0)?;
    if frame.digest() != record.digest {
        return Err(ApiError::internal(&format!(
            "the frame files of survey {} no longer match their recorded digest",
            survey.id
        )));
    }
    Ok((frame, tiers))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameUpload {
    units_csv: String,
    #[serde(default)]
    links_csv: Option<String>,
}

async fn upload_frame(
    State(state): State<AppState>,
    SurveyPost {
        caller,
        survey,
        bytes,
    }: SurveyPost,
) -> Result<Json<Survey>, ApiError> {
    let upload: FrameUpload = parse_json(&bytes)?;
    store_frame(
        state,
        caller,
        survey,
        upload.units_csv.into_bytes(),
        upload.links_csv.map(String::into_bytes),
        "upload",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyntheticRequest {
    scale: f64,
    seed: u64,
}

/// The largest synthetic scale the server generates on request (≈ 280 units per 0.1).
const MAX_SERVER_SCALE: f64 = 1.0;

async fn synthetic_frame(
    State(state): State<AppState>,
    SurveyPost {
        caller,
        survey,
        bytes,
    }: SurveyPost,
) -> Result<Json<Survey>, ApiError> {
    let request: SyntheticRequest = parse_json(&bytes)?;
    if !(request.scale > 0.0 && request.scale <= MAX_SERVER_SCALE) {
        return Err(ApiError::bad_request(format!(
            "scale must be in (0, {MAX_SERVER_SCALE}]; use `chainsurvey frame synth` for larger populations"
        )));
    }
    let (units, links) = blocking(move || {
        let config = crate::synth::SynthConfig::vn_electronics();
        let pop = crate::synth::generate(&config, request.scale, request.seed).map_err(|err| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "synth_failed",
                err.to_string(),
            )
        })?;
        let mut units = Vec::new();
        let mut links = Vec::new();
        write_units_csv(&pop.frame, &mut units).map_err(|err| ApiError::internal(&err))?;
        write_links_csv(&pop.frame, &mut links).map_err(|err| ApiError::internal(&err))?;
        Ok((units, links))
    })
    .await?;
    store_frame(state, caller, survey, units, Some(links), "synthetic").await
}

/// Checks a frame (same import as the CLI), writes its files and records it.
async fn store_frame(
    state: AppState,
    caller: Caller,
    survey: Survey,
    units: Vec<u8>,
    links: Option<Vec<u8>>,
    source: &'static str,
) -> Result<Json<Survey>, ApiError> {
    if survey.sampled {
        return Err(ApiError::conflict(format!(
            "survey {} already has a sample drawn from its frame; the frame cannot change",
            survey.id
        )));
    }
    let store = state.store.clone();
    let actor = caller.name().to_owned();
    let id = survey.id.clone();
    let record = blocking(move || {
        let (frame, tiers) = import_with_tiers(&units, links.as_deref(), &survey.tier0)?;
        let (counts, out_of_scope) = tiers.counts();
        let (_, units_sha256) = store.put_survey_file(&survey.id, "units", &units)?;
        let links_sha256 = match &links {
            Some(bytes) => Some(store.put_survey_file(&survey.id, "links", bytes)?.1),
            None => None,
        };
        Ok(FrameRecord {
            source: source.to_owned(),
            units_sha256,
            links_sha256,
            digest: frame.digest(),
            units: frame.units.len(),
            links: frame.links.len(),
            tier_counts: counts,
            out_of_scope,
            uploaded_by: actor,
            uploaded_at_ms: crate::store::now_ms(),
        })
    })
    .await?;
    let survey = state
        .store
        .set_survey_frame(&id, record, caller.name())?
        .wait()
        .await?;
    Ok(Json(survey))
}

async fn draw(
    State(state): State<AppState>,
    SurveyPost {
        caller,
        survey,
        bytes,
    }: SurveyPost,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = survey.id.clone();
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("the design is not UTF-8 text"))?
        .to_owned();
    let design = Design::parse(&text).map_err(|err| design_invalid(err.to_string()))?;
    let store = state.store.clone();
    let actor = caller.name().to_owned();
    let (record, units) = blocking(move || {
        let (frame, tiers) = load_frame(&store, &survey)?;
        let sample = draw_sample(&frame, &design).map_err(sampling_error)?;
        let units: Vec<SampledUnit> = sample
            .units
            .iter()
            .map(|s| {
                let unit = &frame.units[s.unit];
                SampledUnit {
                    unit_id: unit.id.clone(),
                    tax_code: unit.tax_code.clone(),
                    name: unit.name.clone(),
                    province: unit.province.clone(),
                    stratum: sample.strata[s.stratum].key.clone(),
                    pi: s.pi,
                    take_all: s.take_all,
                    prn: s.prn,
                    tier: tiers.of(s.unit),
                }
            })
            .collect();
        let strata: Vec<Value> = sample
            .strata
            .iter()
            .map(|s| {
                json!({"key": s.key, "population": s.population, "n": s.n, "selected": s.selected,
                       "raw_allocation": s.raw_allocation, "take_all": s.take_all, "seed": s.seed,
                       "random_start": s.random_start})
            })
            .collect();
        let record = SampleRecord {
            design: text,
            design_name: sample.design_name.clone(),
            seed: sample.seed,
            method: sample.method.name().to_owned(),
            allocation: sample.allocation.clone(),
            n_total: sample.n_total,
            frame_digest: frame.digest(),
            chainsurvey_version: sample.crate_version.to_owned(),
            strata: Value::Array(strata),
            units: units.len(),
            drawn_by: actor,
            drawn_at_ms: crate::store::now_ms(),
        };
        Ok((record, units))
    })
    .await?;
    let (record, replayed) = state.store.save_sample(&id, record, units)?.wait().await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({"sample": record, "replayed": replayed})),
    ))
}

async fn sample(
    State(state): State<AppState>,
    ManagedSurvey { survey, .. }: ManagedSurvey,
) -> Result<Json<Value>, ApiError> {
    let (record, units) = stored_sample(&state.store, &survey.id)?;
    Ok(Json(json!({"sample": record, "units": units})))
}

/// The sample of a survey the caller has already looked up.
fn stored_sample(store: &Store, id: &str) -> Result<(SampleRecord, Vec<SampledUnit>), ApiError> {
    store
        .survey_sample(id)?
        .ok_or_else(|| ApiError::not_found(format!("survey {id} has no sample yet")))
}

/// The design of a survey's stored sample, which tracing and worker selection follow (404
/// without a sample, 422 `sampling_failed` if the stored design no longer parses).
fn sample_design(store: &Store, id: &str) -> Result<Design, ApiError> {
    let (sample, _) = stored_sample(store, id)?;
    Design::parse(&sample.design).map_err(sampling_error)
}

/// The selected units as CSV with every probability and the replay record (the same
/// columns as `chainsurvey sample draw`, plus name, province and the assignment id).
async fn sample_csv(
    State(state): State<AppState>,
    ManagedSurvey { survey, .. }: ManagedSurvey,
) -> Result<impl IntoResponse, ApiError> {
    let id = survey.id.clone();
    let (record, units) = stored_sample(&state.store, &id)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_err = |err: csv::Error| ApiError::internal(&err);
    writer
        .write_record([
            "id",
            "tax_code",
            "name",
            "province",
            "stratum",
            "pi",
            "design_weight",
            "take_all",
            "method",
            "allocation",
            "seed",
            "prn",
            "tier",
            "chainsurvey_version",
            "frame_digest",
            "assignment_id",
        ])
        .map_err(csv_err)?;
    for unit in &units {
        let assignment = state
            .store
            .survey_assignment(&id, &format!("unit/{}", unit.unit_id))?;
        writer
            .write_record([
                unit.unit_id.clone(),
                unit.tax_code.clone().unwrap_or_default(),
                unit.name.clone(),
                unit.province.clone(),
                unit.stratum.clone(),
                format!("{:?}", unit.pi),
                format!("{:?}", 1.0 / unit.pi),
                u8::from(unit.take_all).to_string(),
                record.method.clone(),
                record.allocation.clone(),
                record.seed.to_string(),
                unit.prn.map(|u| format!("{u:?}")).unwrap_or_default(),
                unit.tier.map(|t| t.to_string()).unwrap_or_default(),
                record.chainsurvey_version.clone(),
                record.frame_digest.clone(),
                assignment.unwrap_or_default(),
            ])
            .map_err(csv_err)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|err| ApiError::internal(&err.to_string()))?;
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], bytes))
}

/// A unit whose enterprise interview in this survey is submitted (completed, resubmitted
/// or approved), with the content of its latest revision.
struct Interviewed {
    unit_id: String,
    content: Value,
}

impl Interviewed {
    /// The interview's answers. A stored revision's content is `{questionnaire, version,
    /// answers, paradata, …}`; content without `answers` is taken as the answers themselves.
    fn answers(&self) -> &Value {
        self.content.get("answers").unwrap_or(&self.content)
    }
}

/// Reads the latest revisions of the survey's enterprise interviews that belong to
/// assignments this survey created.
fn interviewed_units(store: &Store, survey: &Survey) -> Result<Vec<Interviewed>, ApiError> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in store.latest_revisions(&survey.enterprise_questionnaire) {
        let (interview, revision) = entry?;
        if interview.status == InterviewStatus::Rejected {
            continue;
        }
        let Some(assignment) = store.assignment(&interview.assignment_id)? else {
            continue;
        };
        let unit_id = assignment.target.unit_id;
        let marker = store.survey_assignment(&survey.id, &format!("unit/{unit_id}"))?;
        if marker.as_deref() != Some(assignment.id.as_str()) || !seen.insert(unit_id.clone()) {
            continue;
        }
        let content: Value =
            serde_json::from_str(revision.content.get()).map_err(|err| ApiError::internal(&err))?;
        out.push(Interviewed { unit_id, content });
    }
    Ok(out)
}

/// A plain answer as text (numbers too); missing-answer objects and other shapes are none.
fn answer_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The supplier roster (`suppliers[]`: `sup_tax_code`, `sup_name`, `sup_purchase_value`)
/// of an enterprise interview.
fn supplier_roster(interviewed: &Interviewed) -> SupplierRoster {
    let answers = interviewed.answers();
    let rows = answers
        .get("suppliers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    SupplierRoster {
        respondent_id: interviewed.unit_id.clone(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, row)| ReportedSupplier {
                row: i as u32 + 1,
                tax_code: answer_text(row.get("sup_tax_code")),
                name: answer_text(row.get("sup_name")).unwrap_or_default(),
                purchase_value: row.get("sup_purchase_value").and_then(Value::as_f64),
            })
            .collect(),
    }
}

/// The customer roster (`customers[].cus_tax_code`) and `n_customers_electronics` of an
/// interview, when it reported either.
fn customer_report(interviewed: &Interviewed) -> Option<CustomerReport> {
    let answers = interviewed.answers();
    let codes: Vec<Option<String>> = answers
        .get("customers")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .map(|row| answer_text(row.get("cus_tax_code")))
                .collect()
        })
        .unwrap_or_default();
    let self_reported = answers
        .get("n_customers_electronics")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok());
    (!codes.is_empty() || self_reported.is_some()).then(|| CustomerReport {
        unit_id: interviewed.unit_id.clone(),
        customer_tax_codes: codes,
        self_reported_links: self_reported,
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TraceBody {
    #[serde(default)]
    from_tier: u32,
}

fn optional_body<T: for<'de> Deserialize<'de> + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(bytes)
    }
}

async fn trace(
    State(state): State<AppState>,
    SurveyPost {
        caller,
        survey,
        bytes,
    }: SurveyPost,
) -> Result<(StatusCode, Json<TraceRecord>), ApiError> {
    let id = survey.id.clone();
    let body: TraceBody = optional_body(&bytes)?;
    let design = sample_design(&state.store, &id)?;
    let store = state.store.clone();
    let actor = caller.name().to_owned();
    let record = blocking(move || {
        let (frame, tiers) = load_frame(&store, &survey)?;
        let interviewed = interviewed_units(&store, &survey)?;
        let mut rosters: Vec<SupplierRoster> = interviewed
            .iter()
            .filter(|i| {
                frame
                    .index_of(&i.unit_id)
                    .is_some_and(|u| tiers.of(u) == Some(body.from_tier))
            })
            .map(supplier_roster)
            .collect();
        // Respondent order must not depend on instance ids, so a rerun over the same
        // interviews traces the same way.
        rosters.sort_by(|a, b| a.respondent_id.cmp(&b.respondent_id));
        // Customer rosters of units already interviewed give L_i by record linkage when
        // those units are reached (a rerun after the next tier's interviews).
        let customers: Vec<CustomerReport> =
            interviewed.iter().filter_map(customer_report).collect();
        if rosters.is_empty() {
            return Err(ApiError::conflict(format!(
                "no submitted enterprise interview of a tier-{} unit in survey {}",
                body.from_tier, survey.id
            )));
        }
        let index = LinkageIndex::build(&frame);
        let mode = design.trace_mode(body.from_tier);
        let result = trace_links(&TraceRequest {
            frame: &frame,
            index: &index,
            tiers: tiers.as_slice(),
            from_tier: body.from_tier,
            rosters: &rosters,
            customers: &customers,
            mode: &mode,
            seed: design.seed,
        })
        .map_err(sampling_error)?;
        let units = &frame.units;
        Ok(TraceRecord {
            from_tier: result.from_tier,
            seed: result.seed,
            method: result.method.clone(),
            respondents: rosters.iter().map(|r| r.respondent_id.clone()).collect(),
            links: result
                .links
                .iter()
                .map(|l| TraceLinkRow {
                    buyer_id: units[l.buyer].id.clone(),
                    supplier_id: units[l.supplier].id.clone(),
                    row: l.row,
                    match_kind: l.match_kind.name().to_owned(),
                    listed: l.listed,
                    p: l.p,
                    retained: l.retained,
                })
                .collect(),
            reached: result
                .reached
                .iter()
                .map(|r| {
                    let unit = &units[r.unit];
                    ReachedRow {
                        unit_id: unit.id.clone(),
                        tax_code: unit.tax_code.clone(),
                        name: unit.name.clone(),
                        province: unit.province.clone(),
                        frame_tier: r.frame_tier,
                        n_reporting: r.n_reporting,
                        pi_given_s: r.pi_given_s,
                        selected: r.selected,
                        l: r.l,
                        l_linked: r.l_linked,
                        l_self_reported: r.l_self_reported,
                        link_count_method: r.link_count_method.name().to_owned(),
                    }
                })
                .collect(),
            unmatched: result
                .unmatched
                .iter()
                .map(|u| UnmatchedRow {
                    respondent_id: units[u.respondent].id.clone(),
                    row: u.row,
                    sup_tax_code: u.tax_code.clone(),
                    sup_name: u.name.clone(),
                    reason: u.reason.to_string(),
                })
                .collect(),
            traced_by: actor,
            traced_at_ms: crate::store::now_ms(),
        })
    })
    .await?;
    let record = state.store.save_trace(&id, record)?.wait().await?;
    Ok((StatusCode::CREATED, Json(record)))
}

async fn trace_get(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, from_tier)): Path<(String, String)>,
) -> Result<Json<TraceRecord>, ApiError> {
    caller.require(MANAGERS)?;
    survey_of(&state.store, &id)?;
    let from_tier: u32 = from_tier
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{from_tier:?} is not a tier number")))?;
    stored_trace(&state.store, &id, from_tier).map(Json)
}

/// The trace of a survey from `from_tier`, for a survey the caller has already looked up.
fn stored_trace(store: &Store, id: &str, from_tier: u32) -> Result<TraceRecord, ApiError> {
    store.survey_trace(id, from_tier)?.ok_or_else(|| {
        ApiError::not_found(format!("survey {id} has no trace from tier {from_tier}"))
    })
}

async fn workers(
    State(state): State<AppState>,
    ManagedSurvey { caller, survey }: ManagedSurvey,
) -> Result<(StatusCode, Json<WorkerSelection>), ApiError> {
    let id = survey.id.clone();
    let design = sample_design(&state.store, &id)?;
    let store = state.store.clone();
    let actor = caller.name().to_owned();
    let record = blocking(move || {
        let spec = design.workers.ok_or_else(|| {
            design_invalid("the survey's design has no `workers` section (workers per sex)")
        })?;
        let (frame, _) = load_frame(&store, &survey)?;
        let mut takes = Vec::new();
        for interviewed in interviewed_units(&store, &survey)? {
            let Some(idx) = frame.index_of(&interviewed.unit_id) else {
                continue;
            };
            let unit = &frame.units[idx];
            let (male, female, count_source) = workforce(&interviewed, unit);
            let source = WorkerSource::Counts { male, female };
            for take in select_workers(&unit.id, source, spec.per_sex, design.seed)
                .map_err(sampling_error)?
            {
                takes.push(WorkerTakeRow {
                    unit_id: take.unit_id.clone(),
                    sex: take.sex.code().to_owned(),
                    population_m: take.population,
                    take_m: take.take,
                    take_all: take.take_all,
                    unit_seed: take.seed,
                    count_source: count_source.to_owned(),
                    lines: take.selected.iter().map(|w| w.line).collect(),
                });
            }
        }
        Ok(WorkerSelection {
            seed: design.seed,
            per_sex: spec.per_sex,
            takes,
            selected_by: actor,
            selected_at_ms: crate::store::now_ms(),
        })
    })
    .await?;
    let record = state.store.save_workers(&id, record)?.wait().await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// M by sex for a unit: the interview's payroll-list counts (`k_list_male`,
/// `k_list_female`), else its section C counts (`workers_male`, `workers_female`), else the
/// frame's employment by sex (docs/dwscs-questionnaires.md, "Worker selection").
fn workforce(interviewed: &Interviewed, unit: &crate::frame::Unit) -> (u64, u64, &'static str) {
    let answers = interviewed.answers();
    let pair = |male: &str, female: &str| {
        Some((answers.get(male)?.as_u64()?, answers.get(female)?.as_u64()?))
    };
    if let Some((m, f)) = pair("k_list_male", "k_list_female") {
        (m, f, "interview_list")
    } else if let Some((m, f)) = pair("workers_male", "workers_female") {
        (m, f, "interview_counts")
    } else {
        (unit.employees_male, unit.employees_female, "frame")
    }
}

async fn workers_get(
    State(state): State<AppState>,
    ManagedSurvey { survey, .. }: ManagedSurvey,
) -> Result<Json<WorkerSelection>, ApiError> {
    stored_workers(&state.store, &survey.id).map(Json)
}

/// The worker selection of a survey the caller has already looked up.
fn stored_workers(store: &Store, id: &str) -> Result<WorkerSelection, ApiError> {
    store
        .survey_workers(id)?
        .ok_or_else(|| ApiError::not_found(format!("survey {id} has no worker selection yet")))
}

/// What to turn into assignments.
#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum AssignFrom {
    /// The tier-0 sample's units (enterprise questionnaire).
    Sample,
    /// The units a trace selected (enterprise questionnaire).
    Trace,
    /// The selected workers (worker questionnaire).
    Workers,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    from: AssignFrom,
    /// Enumerators, given targets in turn (round robin, in selection order).
    enumerators: Vec<String>,
    /// For `trace`: the tier the trace started from.
    #[serde(default)]
    from_tier: u32,
}

/// A selected unit or worker about to become an assignment.
struct PendingTarget {
    /// The survey's idempotency key: `unit/ID` or `worker/UNIT/SEX/LINE`.
    key: String,
    unit_id: String,
    tier: Option<u32>,
    province: Option<String>,
    preload: Option<Value>,
}

impl PendingTarget {
    /// A selected unit (sampled or reached by a trace) for the enterprise questionnaire:
    /// keyed `unit/ID` and preloaded with its tax code, name and province.
    fn unit(
        unit_id: String,
        tax_code: Option<String>,
        name: String,
        province: String,
        tier: Option<u32>,
    ) -> PendingTarget {
        let preload = json!({"tax_code": tax_code, "unit_name": name, "province": province});
        PendingTarget {
            key: format!("unit/{unit_id}"),
            unit_id,
            tier,
            province: Some(province),
            preload: Some(preload),
        }
    }
}

async fn assign(
    State(state): State<AppState>,
    SurveyPost {
        caller,
        survey,
        bytes,
    }: SurveyPost,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = survey.id.clone();
    let body: AssignBody = parse_json(&bytes)?;
    if body.enumerators.is_empty() {
        return Err(ApiError::bad_request("give at least one enumerator"));
    }
    // In selection order.
    let mut targets: Vec<PendingTarget> = Vec::new();
    let questionnaire = match body.from {
        AssignFrom::Sample => {
            let (_, units) = stored_sample(&state.store, &id)?;
            for unit in units {
                targets.push(PendingTarget::unit(
                    unit.unit_id,
                    unit.tax_code,
                    unit.name,
                    unit.province,
                    unit.tier,
                ));
            }
            survey.enterprise_questionnaire.clone()
        }
        AssignFrom::Trace => {
            let trace = stored_trace(&state.store, &id, body.from_tier)?;
            for unit in trace.reached.into_iter().filter(|r| r.selected) {
                targets.push(PendingTarget::unit(
                    unit.unit_id,
                    unit.tax_code,
                    unit.name,
                    unit.province,
                    Some(trace.from_tier + 1),
                ));
            }
            survey.enterprise_questionnaire.clone()
        }
        AssignFrom::Workers => {
            let selection = stored_workers(&state.store, &id)?;
            for take in selection.takes {
                for line in take.lines {
                    let worker = format!("{}/{}/{line}", take.unit_id, take.sex);
                    targets.push(PendingTarget {
                        key: format!("worker/{worker}"),
                        unit_id: worker,
                        tier: None,
                        province: None,
                        preload: Some(json!({"sex": take.sex})),
                    });
                }
            }
            survey.worker_questionnaire.clone()
        }
    };
    let mut items = Vec::with_capacity(targets.len());
    for (i, target) in targets.into_iter().enumerate() {
        let PendingTarget {
            key,
            unit_id,
            tier,
            province,
            preload,
        } = target;
        let preload = preload
            .map(|p| RawValue::from_string(p.to_string()))
            .transpose()
            .map_err(|err| ApiError::internal(&err))?;
        items.push((
            key,
            NewAssignment {
                questionnaire: questionnaire.clone(),
                allowed_versions: None,
                enumerator: body.enumerators[i % body.enumerators.len()].clone(),
                target: Target {
                    unit_id,
                    tier,
                    province,
                },
                preload,
                preload_protected: true,
                quantity: None,
            },
        ));
    }
    let outcome = state
        .store
        .assign_survey_targets(&id, items, caller.name())?
        .wait()
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"created": outcome.created.len(), "already_assigned": outcome.already_assigned,
                    "assignments": outcome.created}),
        ),
    ))
}
