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
use tokio::sync::mpsc;

use crate::export::{
    Error as ExportError, Filter, codebook_csv, codebook_json, load_layout, write_level,
};
use crate::server::auth::Caller;
use crate::server::{ApiError, AppState};
use crate::store::Role;

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

/// The HTTP status of an export error.
fn api_error(err: ExportError) -> ApiError {
    match err {
        ExportError::UnknownQuestionnaire { .. } | ExportError::NoVersions(_) => {
            ApiError::not_found(err.to_string())
        }
        ExportError::UnknownLevel { .. } | ExportError::BadFilter(_) => {
            ApiError::bad_request(err.to_string())
        }
        ExportError::Store(store) => store.into(),
        other => ApiError::internal(&other),
    }
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
    let filter = Filter::parse(
        query.status.as_deref(),
        query.from.as_deref(),
        query.to.as_deref(),
    )
    .map_err(api_error)?;
    // One view for the layout and the rows: both see the same interviews and versions.
    let view = state.store.export_view();
    let (layout, _) = load_layout(&view, &questionnaire).map_err(api_error)?;
    // An unknown level is a 400 now, before the 200 and the streaming start.
    layout.level(query.level.as_deref()).map_err(api_error)?;
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            buffer: Vec::with_capacity(CHUNK),
            sender,
        };
        let result = write_level(&view, &layout, query.level.as_deref(), &filter, &mut out);
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
    let (layout, languages) =
        load_layout(&state.store.export_view(), &questionnaire).map_err(api_error)?;
    match file.as_str() {
        "codebook.json" => Ok(axum::Json(codebook_json(&layout)).into_response()),
        "codebook.csv" => {
            let langs: Vec<&str> = languages.iter().map(String::as_str).collect();
            let mut out = Vec::new();
            codebook_csv(&layout, &langs, &mut out).map_err(api_error)?;
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
