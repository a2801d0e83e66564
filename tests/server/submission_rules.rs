//! Submission rules that depend on more than the questionnaire: protected preloaded answers
//! and the survey's local date for `today()`. Real server on 127.0.0.1, real sled.

use std::net::SocketAddr;
use std::sync::Arc;

use chainsurvey::server::{AppState, Clock, Config, QuestionnaireEngine, UtcOffset};
use chainsurvey::store::{NewAssignment, Role, Store, Target};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::server::harness::spawn_server;
use crate::server::http::{Response, request};

/// A server whose engine dates interviews at `offset` from UTC, reading the time from
/// `clock`; with an enumerator `e1` and the published questionnaire [`visit`].
struct Server {
    addr: SocketAddr,
    store: Store,
    token: String,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A questionnaire with a date that must be today (an error rule) and two preloadable
/// questions.
fn visit() -> Value {
    let t = |en: &str, vi: &str| json!({"en": en, "vi": vi});
    json!({"schema_version": 1, "id": "visit", "version": "1", "title": t("Visit", "Thăm"), "languages": ["en", "vi"],
    "items": [
        {"kind": "question", "name": "visit_date", "type": "date", "label": t("Date of the visit", "Ngày thăm"),
         "rules": [{"check": ". = today()", "severity": "error", "message": t("The visit date must be today", "Ngày thăm phải là hôm nay")}]},
        {"kind": "question", "name": "tax_code", "type": "text", "label": t("Tax code", "Mã số thuế")},
        {"kind": "question", "name": "employees", "type": "integer", "label": t("Employees", "Số lao động")},
        {"kind": "question", "name": "note", "type": "text", "label": t("Note", "Ghi chú")}
    ]})
}

fn start(offset: UtcOffset, clock: Clock) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open store");
    store
        .add_user("boss", Role::Manager, None, None, "t")
        .and_then(|d| d.wait_blocking())
        .expect("manager");
    let token = store
        .add_user("e1", Role::Enumerator, None, None, "t")
        .and_then(|d| d.wait_blocking())
        .expect("enumerator");
    store
        .put_draft("visit", "1", &visit(), "t")
        .and_then(|d| d.wait_blocking())
        .expect("draft");
    store
        .publish("visit", "t")
        .and_then(|d| d.wait_blocking())
        .expect("publish");
    let state = AppState {
        store: store.clone(),
        engine: Arc::new(QuestionnaireEngine::with_local_time(offset, clock)),
        config: Arc::new(Config::standard()),
    };
    let (addr, tx, thread) = spawn_server(state);
    Server {
        addr,
        store,
        token,
        _dir: dir,
        shutdown: Some(tx),
        thread: Some(thread),
    }
}

impl Server {
    fn assignment(&self, preload: Option<Value>, protected: bool) -> String {
        let item = NewAssignment {
            questionnaire: "visit".into(),
            allowed_versions: None,
            enumerator: "e1".into(),
            target: Target {
                unit_id: "U1".into(),
                tier: Some(1),
                province: Some("01".into()),
            },
            preload: preload.map(|p| RawValue::from_string(p.to_string()).expect("raw")),
            preload_protected: protected,
            quantity: Some(5),
        };
        self.store
            .create_assignments(vec![item], "boss")
            .and_then(|d| d.wait_blocking())
            .expect("assignment")
            .remove(0)
            .id
    }

    fn submit(&self, instance: u32, assignment: &str, answers: Value) -> Response {
        let body = json!({
            "instance_id": format!("00000000-0000-4000-8000-{instance:012}"),
            "questionnaire": "visit", "version": "1", "assignment_id": assignment,
            "answers": answers,
        });
        request(
            self.addr,
            "POST",
            "/api/v1/submissions",
            Some(&self.token),
            Some("application/json"),
            &serde_json::to_vec(&body).expect("json"),
        )
        .expect("request")
    }
}

/// 2026-11-21T17:30:00Z: already the 22nd in Viet Nam (00:30), still the 21st in UTC.
fn just_after_midnight_in_hanoi() -> i64 {
    1_795_282_200_000
}

/// 2026-11-21T16:30:00Z: 23:30 on the 21st in Viet Nam.
fn just_before_midnight_in_hanoi() -> i64 {
    1_795_278_600_000
}

fn findings(r: &Response) -> Vec<Value> {
    r.json()["error"]["details"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn today_is_the_survey_local_date() {
    let hanoi = start(UtcOffset::VIET_NAM, just_after_midnight_in_hanoi);
    let a = hanoi.assignment(None, false);
    let r = hanoi.submit(1, &a, json!({"visit_date": "2026-11-22"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let r = hanoi.submit(2, &a, json!({"visit_date": "2026-11-21"}));
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(findings(&r)[0]["path"], "/visit_date");
    assert_eq!(findings(&r)[0]["severity"], "error");

    // One hour earlier it is still the 21st in Ha Noi.
    let evening = start(UtcOffset::VIET_NAM, just_before_midnight_in_hanoi);
    let a = evening.assignment(None, false);
    assert_eq!(
        evening
            .submit(1, &a, json!({"visit_date": "2026-11-21"}))
            .status,
        201
    );
    assert_eq!(
        evening
            .submit(2, &a, json!({"visit_date": "2026-11-22"}))
            .status,
        422
    );

    // A server configured for UTC dates the same instant on the 21st: the setting matters.
    let utc = start(UtcOffset::UTC, just_after_midnight_in_hanoi);
    let a = utc.assignment(None, false);
    assert_eq!(
        utc.submit(1, &a, json!({"visit_date": "2026-11-21"}))
            .status,
        201
    );
    assert_eq!(
        utc.submit(2, &a, json!({"visit_date": "2026-11-22"}))
            .status,
        422
    );
}

#[test]
fn protected_preloaded_answers_cannot_change() {
    let server = start(UtcOffset::VIET_NAM, just_after_midnight_in_hanoi);
    let preload = json!({"tax_code": "0101234567", "employees": 250});
    let protected = server.assignment(Some(preload.clone()), true);
    let before = server.store.dump().expect("dump");

    // Changed: 422 naming the question, nothing stored.
    let r = server.submit(
        1,
        &protected,
        json!({"visit_date": "2026-11-22", "tax_code": "0109999999", "employees": 250}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "preload_protected");
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["path"], "/tax_code");
    assert!(f[0]["message"].as_str().unwrap_or("").contains("tax_code"));
    assert_eq!(server.store.dump().expect("dump"), before);

    // Dropped: also refused, naming the dropped question.
    let r = server.submit(
        2,
        &protected,
        json!({"visit_date": "2026-11-22", "tax_code": "0101234567"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["path"], "/employees");
    assert_eq!(server.store.dump().expect("dump"), before);

    // Both wrong at once: both named.
    let r = server.submit(
        3,
        &protected,
        json!({"visit_date": "2026-11-22", "employees": 251}),
    );
    assert_eq!(r.status, 422);
    let mut paths: Vec<String> = findings(&r)
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_owned())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/employees", "/tax_code"]);

    // Unchanged, with other answers free: 201.
    let r = server.submit(
        4,
        &protected,
        json!({"visit_date": "2026-11-22", "tax_code": "0101234567", "employees": 250, "note": "ok"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // An editable preload may be changed.
    let editable = server.assignment(Some(preload), false);
    let r = server.submit(
        5,
        &editable,
        json!({"visit_date": "2026-11-22", "tax_code": "0109999999"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}
