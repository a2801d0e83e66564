//! A real server on 127.0.0.1:0 over a real sled database in a temp directory.

use std::net::SocketAddr;
use std::sync::Arc;

use chainsurvey::server::{self, AppState, Config, QuestionnaireEngine};
use chainsurvey::store::{Role, Store};
use serde_json::{Value, json};

use crate::server::http::{Response, request};

/// Serves `state` on 127.0.0.1:0 on a runtime thread of its own (two workers): the
/// address, the sender that shuts it down cleanly, and the thread to join.
pub fn spawn_server(
    state: AppState,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let running = server::spawn_on_loopback(state, Some(2)).expect("start the server");
    (running.addr, running.shutdown, running.thread)
}

/// A running server; dropping it shuts it down cleanly.
pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Store,
    /// Keeps the data directory alive as long as the server.
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(Config {
            max_body_bytes: 64 * 1024,
            max_bulk_bytes: 1024 * 1024,
            max_page: 50,
        })
    }

    pub fn start_with(config: Config) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open store");
        let state = AppState {
            store: store.clone(),
            engine: Arc::new(QuestionnaireEngine::new()),
            config: Arc::new(config),
        };
        let (addr, tx, thread) = spawn_server(state);
        TestServer {
            addr,
            store,
            _dir: dir,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        let ct = body.map(|_| "application/json");
        request(self.addr, method, path, token, ct, &bytes).expect("request")
    }

    pub fn get(&self, path: &str, token: &str) -> Response {
        self.call("GET", path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.call("POST", path, Some(token), Some(body))
    }

    /// Creates a user directly in the store and returns its token.
    pub fn user(&self, name: &str, role: Role, supervisor: Option<&str>) -> String {
        self.store
            .add_user(name, role, None, supervisor, "test")
            .expect("add user")
            .wait_blocking()
            .expect("durable")
    }

    fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A survey set up for tests: users of every role, a published questionnaire, and one
/// assignment for each of two enumerators.
pub struct World {
    pub server: TestServer,
    pub admin: String,
    pub designer: String,
    pub manager: String,
    pub supervisor: String,
    pub other_supervisor: String,
    pub enumerator: String,
    pub other_enumerator: String,
    pub researcher: String,
    /// An assignment of `enumerator`.
    pub assignment: String,
    /// An assignment of `other_enumerator`.
    pub other_assignment: String,
}

/// A small, lint-clean worker questionnaire: `age` (integer, 15–99 hard rule, don't know
/// allowed), `sex`, `hours` (warning above 84, refusal allowed), `double_hours`
/// (calculated), `note`, and a `jobs` roster. With `extra`, a `union_member` question.
pub fn questionnaire_with(version: &str, extra: bool) -> Value {
    fn t(en: &str, vi: &str) -> Value {
        json!({"en": en, "vi": vi})
    }
    let mut items = vec![
        json!({"kind": "question", "name": "age", "type": "integer", "label": t("Age", "Tuổi"), "allow_dont_know": true,
               "rules": [{"check": ". >= 15 and . <= 99", "severity": "error", "message": t("Age must be 15-99", "Tuổi phải từ 15 đến 99")}]}),
        json!({"kind": "question", "name": "sex", "type": "select_one", "choices": "sex", "label": t("Sex", "Giới tính")}),
        json!({"kind": "question", "name": "hours", "type": "decimal", "label": t("Hours", "Số giờ"), "allow_refused": true,
               "rules": [{"check": ". <= 84", "severity": "warning", "message": t("More than 84 hours: please confirm", "Trên 84 giờ: vui lòng xác nhận")}]}),
        json!({"kind": "calculate", "name": "double_hours", "calculation": "${hours} * 2"}),
        json!({"kind": "question", "name": "note", "type": "text", "label": t("Note", "Ghi chú")}),
        json!({"kind": "roster", "name": "jobs", "label": t("Jobs", "Việc làm"), "items": [
            {"kind": "question", "name": "job_title", "type": "text", "label": t("Title", "Chức danh")},
            {"kind": "question", "name": "job_hours", "type": "decimal", "label": t("Hours", "Giờ"), "allow_refused": true}]}),
    ];
    if extra {
        items.push(json!({"kind": "question", "name": "union_member", "type": "select_one", "choices": "sex", "label": t("Union", "Công đoàn")}));
    }
    json!({"schema_version": 1, "id": "worker", "version": version, "title": t("Worker", "Người lao động"), "languages": ["en", "vi"],
           "choice_lists": {"sex": [{"value": "1", "label": t("Male", "Nam")}, {"value": "2", "label": t("Female", "Nữ")}]},
           "items": items})
}

/// [`questionnaire_with`] without the extra question.
pub fn questionnaire(version: &str) -> Value {
    questionnaire_with(version, false)
}

impl World {
    pub fn new() -> World {
        World::with_server(TestServer::start())
    }

    pub fn with_server(server: TestServer) -> World {
        let admin = server.user("admin", Role::Admin, None);
        let designer = server.user("dana", Role::Designer, None);
        let manager = server.user("minh", Role::Manager, None);
        let supervisor = server.user("sup", Role::Supervisor, None);
        let other_supervisor = server.user("sup2", Role::Supervisor, None);
        let enumerator = server.user("enum1", Role::Enumerator, Some("sup"));
        let other_enumerator = server.user("enum2", Role::Enumerator, Some("sup2"));
        let researcher = server.user("rita", Role::Researcher, None);
        let r = server.post(
            "/api/v1/questionnaires/drafts",
            &designer,
            &questionnaire("1"),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let r = server.post(
            "/api/v1/questionnaires/drafts/worker/publish",
            &designer,
            &json!({}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let r = server.post(
            "/api/v1/assignments",
            &manager,
            &json!([
                {"questionnaire": "worker", "enumerator": "enum1", "target": {"unit_id": "U1", "tier": 0, "province": "HN"}},
                {"questionnaire": "worker", "enumerator": "enum2", "target": {"unit_id": "U2", "tier": 1, "province": "BN"}}
            ]),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let body = r.json();
        let assignment = body["assignments"][0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let other_assignment = body["assignments"][1]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        World {
            server,
            admin,
            designer,
            manager,
            supervisor,
            other_supervisor,
            enumerator,
            other_enumerator,
            researcher,
            assignment,
            other_assignment,
        }
    }

    /// A submission body for `assignment` with these answers.
    pub fn submission(&self, instance: &str, assignment: &str, answers: Value) -> Value {
        json!({
            "instance_id": instance,
            "questionnaire": "worker",
            "version": "1",
            "assignment_id": assignment,
            "answers": answers,
            "paradata": {"device_id": "tab-1", "language": "en"}
        })
    }
}
