//! Streamed CSV exports and codebooks.
//!
//! The CSV is produced on a blocking thread that walks the interviews one at a time and
//! sends 64 KiB chunks through a bounded channel to the response body: memory stays
//! constant, and a slow client slows the producer instead of filling memory.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::export::{Filter, Layout, codebook_csv, codebook_json, layout, write_level};
use crate::server::auth::Caller;
use crate::server::{ApiError, AppState};
use crate::store::{InterviewStatus, Role, Store, parse_date_ms};

const READERS: &[Role] = &[Role::Admin, Role::Manager, Role::Researcher];
const CHUNK: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exports/{file}", get(export_csv))
        .route("/api/v1/exports/{questionnaire}/{file}", get(codebook))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    level: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The export layout of a questionnaire from all its published versions.
pub fn load_layout(store: &Store, questionnaire: &str) -> Result<(Layout, Vec<String>), ApiError> {
    let mut definitions = Vec::new();
    let mut languages: Vec<String> = Vec::new();
    for summary in store.list_published(Some(questionnaire))? {
        let Some(published) = store.published(&summary.id, &summary.version)? else {
            continue;
        };
        let definition: Value =
            serde_json::from_str(published.definition.get()).map_err(|e| ApiError::internal(&e))?;
        for lang in definition["languages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !languages.iter().any(|l| l == lang) {
                languages.push(lang.to_owned());
            }
        }
        definitions.push((summary.version, definition));
    }
    if definitions.is_empty() {
        return Err(ApiError::not_found(format!(
            "questionnaire {questionnaire} has no published version"
        )));
    }
    let layout = layout(questionnaire, &definitions).map_err(|e| ApiError::internal(&e))?;
    Ok((layout, languages))
}

fn parse_filter(query: &ExportQuery) -> Result<Filter, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            InterviewStatus::ALL
                .into_iter()
                .find(|x| x.as_str() == s)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "status {s:?} is not one of completed, approved, rejected, resubmitted"
                    ))
                })?,
        ),
    };
    let date = |name: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .map(|d| {
                parse_date_ms(d).ok_or_else(|| {
                    ApiError::bad_request(format!("{name}={d:?} is not a YYYY-MM-DD date"))
                })
            })
            .transpose()
    };
    Ok(Filter {
        status,
        from_ms: date("from", &query.from)?,
        to_ms: date("to", &query.to)?.map(|t| t + 86_400_000),
    })
}

async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(READERS)?;
    let questionnaire = file
        .strip_suffix(".csv")
        .ok_or_else(|| ApiError::not_found("exports are named <questionnaire>.csv"))?
        .to_owned();
    let filter = parse_filter(&query)?;
    let (layout, _) = load_layout(&state.store, &questionnaire)?;
    let level = layout
        .level(query.level.as_deref())
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .clone();
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            buffer: Vec::with_capacity(CHUNK),
            sender,
        };
        let result = write_level(&store, &questionnaire, &level, &filter, &mut out);
        match result {
            Ok(_) => {
                let _ = out.flush();
            }
            Err(err) => {
                // Headers are gone already; cutting the body makes the client see an error
                // instead of a silently short file.
                tracing::error!(error = %err, "export failed mid-stream");
                let _ = out
                    .sender
                    .blocking_send(Err(std::io::Error::other("export failed")));
            }
        }
    });
    Ok((
        [(CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::from_stream(ChunkStream(receiver)),
    )
        .into_response())
}

async fn codebook(
    State(state): State<AppState>,
    caller: Caller,
    Path((questionnaire, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(READERS)?;
    let (layout, languages) = load_layout(&state.store, &questionnaire)?;
    match file.as_str() {
        "codebook.json" => Ok(axum::Json(codebook_json(&layout)).into_response()),
        "codebook.csv" => {
            let langs: Vec<&str> = languages.iter().map(String::as_str).collect();
            let mut out = Vec::new();
            codebook_csv(&layout, &langs, &mut out).map_err(|e| ApiError::internal(&e))?;
            Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
        }
        _ => Err(ApiError::not_found(
            "the codebook is codebook.json or codebook.csv",
        )),
    }
}

/// An `io::Write` that sends full chunks to the response body.
struct ChannelWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

struct ChunkStream(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for ChunkStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
