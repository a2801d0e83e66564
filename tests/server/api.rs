//! The HTTP API against a real server: roles, isolation, submissions, review, sync.

use std::collections::BTreeSet;

use chainsurvey::server::routes::ROUTES;
use chainsurvey::store::Role;
use serde_json::{Value, json};

use crate::server::harness::{TestServer, World, questionnaire};
use crate::server::http::request;

const INSTANCE: &str = "0b6f3c2e-5d1a-4f7e-9a3b-2c1d0e9f8a7b";

fn path_for(world: &World, path: &str) -> String {
    let file = if path.contains("{questionnaire}") {
        "codebook.json"
    } else {
        "worker.csv"
    };
    path.replace("{questionnaire}", "worker")
        .replace("{file}", file)
        .replace("{name}", "enum1")
        .replace("{version}", "1")
        .replace("{instance_id}", INSTANCE)
        .replace("{survey}", "no-such-survey")
        .replace("{from_tier}", "0")
        .replace(
            "{id}",
            if path.contains("/questionnaires/") {
                "worker"
            } else {
                &world.assignment
            },
        )
}

fn body_for(world: &World, method: &str, path: &str) -> Option<Value> {
    if method == "GET" {
        return None;
    }
    Some(match path {
        "/api/v1/login" => json!({"name": "nobody", "password": "wrong-password"}),
        "/api/v1/users" => json!({"name": format!("u{}", rand_suffix()), "role": "researcher"}),
        "/api/v1/users/{name}/supervisor" => json!({"supervisor": "sup"}),
        "/api/v1/questionnaires/drafts" => questionnaire("2"),
        "/api/v1/assignments" => {
            json!({"questionnaire": "worker", "enumerator": "enum1", "target": {"unit_id": "X"}})
        }
        "/api/v1/submissions" => world.submission(INSTANCE, &world.assignment, json!({"age": 30})),
        "/api/v1/submissions/{instance_id}/review" => json!({"verdict": "approve"}),
        "/api/v1/admin/backup" => {
            json!({"to": std::env::temp_dir().join(format!("cs-backup-{}", rand_suffix()))})
        }
        _ => json!({}),
    })
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[test]
fn every_endpoint_with_every_role_and_without_a_valid_token() {
    let world = World::new();
    let tokens: Vec<(Role, &str)> = vec![
        (Role::Admin, &world.admin),
        (Role::Designer, &world.designer),
        (Role::Manager, &world.manager),
        (Role::Supervisor, &world.supervisor),
        (Role::Enumerator, &world.enumerator),
        (Role::Researcher, &world.researcher),
    ];
    let mut checked = 0;
    for route in ROUTES {
        let path = path_for(&world, route.path);
        let body = body_for(&world, route.method, route.path);
        if route.roles.is_empty() {
            let r = world.server.call(route.method, &path, None, body.as_ref());
            if route.path == "/api/v1/login" {
                // Wrong credentials are the one 401 a public endpoint gives.
                assert_eq!(r.status, 401);
                assert_eq!(r.json()["error"]["message"], "wrong name or password");
            } else {
                assert_eq!(
                    r.status,
                    200,
                    "{} {path} without token: {}",
                    route.method,
                    r.text()
                );
            }
            continue;
        }
        for token in [None, Some("cs1.0000000000000000.deadbeef"), Some("garbage")] {
            let r = world.server.call(route.method, &path, token, body.as_ref());
            assert_eq!(
                r.status,
                401,
                "{} {path} with token {token:?}: {}",
                route.method,
                r.text()
            );
            assert_eq!(r.json()["error"]["code"], "unauthorized");
        }
        // Forbidden roles first, so allowed roles' writes cannot influence them.
        let (allowed, forbidden): (Vec<_>, Vec<_>) = tokens
            .iter()
            .partition(|(role, _)| route.roles.contains(role));
        for (role, token) in forbidden.iter().chain(allowed.iter()) {
            let r = world.server.call(
                route.method,
                &path,
                Some(token),
                body_for(&world, route.method, route.path).as_ref(),
            );
            if route.roles.contains(role) {
                assert!(
                    r.status != 401 && r.status != 403 && r.status != 405,
                    "{} {path} as {role}: {} {}",
                    route.method,
                    r.status,
                    r.text()
                );
            } else {
                assert_eq!(
                    r.status,
                    403,
                    "{} {path} as {role}: {}",
                    route.method,
                    r.text()
                );
                assert_eq!(r.json()["error"]["code"], "forbidden");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, (ROUTES.len() - 3) * 6);
}

#[test]
fn openapi_lists_every_route_and_errors_are_json() {
    let server = TestServer::start();
    let r = request(server.addr, "GET", "/api/openapi.json", None, None, b"").expect("request");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = r.json();
    for route in ROUTES {
        assert!(
            doc["paths"][route.path][route.method.to_lowercase()].is_object(),
            "{} {} missing from OpenAPI",
            route.method,
            route.path
        );
    }
    let paths = doc["paths"].as_object().map(|m| m.len()).unwrap_or(0);
    let distinct: BTreeSet<&str> = ROUTES.iter().map(|r| r.path).collect();
    assert_eq!(paths, distinct.len());
    // Many requests over one kept-alive connection (what devices and the load generator do).
    let mut conn = crate::server::http::KeepAlive::new(server.addr);
    for _ in 0..3 {
        let r = conn
            .send("GET", "/api/v1/health", None, b"")
            .expect("keep-alive request");
        assert_eq!(r.json()["status"], "ok");
    }
    let r = request(server.addr, "GET", "/api/v1/nope", None, None, b"").expect("request");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = request(server.addr, "DELETE", "/api/v1/sync", None, None, b"").expect("request");
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error"]["code"], "method_not_allowed");
}

#[test]
fn an_enumerator_never_reads_or_writes_another_enumerators_work() {
    let w = World::new();
    let s = &w.server;
    // Reading another's assignment: not found (its existence is not revealed).
    let r = s.get(
        &format!("/api/v1/assignments/{}", w.other_assignment),
        &w.enumerator,
    );
    assert_eq!(r.status, 404);
    // Listing shows only one's own.
    let r = s.get("/api/v1/assignments", &w.enumerator);
    let ids: Vec<String> = r.json()["assignments"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids, vec![w.assignment.clone()]);
    // Starting or submitting to another's assignment: refused.
    let r = s.post(
        &format!("/api/v1/assignments/{}/start", w.other_assignment),
        &w.enumerator,
        &json!({}),
    );
    assert_eq!(r.status, 404);
    let r = s.post(
        "/api/v1/submissions",
        &w.enumerator,
        &w.submission(INSTANCE, &w.other_assignment, json!({"age": 30})),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    // enum2 submits; enum1 cannot read it, nor replay its instance id.
    let theirs = w.submission(INSTANCE, &w.other_assignment, json!({"age": 41}));
    let r = s.post("/api/v1/submissions", &w.other_enumerator, &theirs);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.get(&format!("/api/v1/submissions/{INSTANCE}"), &w.enumerator);
    assert_eq!(r.status, 404);
    let r = s.post("/api/v1/submissions", &w.enumerator, &theirs);
    assert_ne!(r.status, 201);
    let r = s.post(
        "/api/v1/submissions",
        &w.enumerator,
        &w.submission(INSTANCE, &w.assignment, json!({"age": 30})),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    // Sync: enum1 sees only its own assignment's events.
    let r = s.get("/api/v1/sync?since=0", &w.enumerator);
    let subjects: BTreeSet<String> = r.json()["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["subject"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(subjects.contains(&w.assignment));
    assert!(!subjects.contains(&w.other_assignment));
    assert!(!subjects.contains(INSTANCE));
    // The other team's supervisor cannot see or review it either.
    let r = s.get(&format!("/api/v1/submissions/{INSTANCE}"), &w.supervisor);
    assert_eq!(r.status, 404);
    let r = s.post(
        &format!("/api/v1/submissions/{INSTANCE}/review"),
        &w.supervisor,
        &json!({"verdict": "approve"}),
    );
    assert_eq!(r.status, 404);
    let r = s.get(
        &format!("/api/v1/submissions/{INSTANCE}"),
        &w.other_supervisor,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn submissions_replay_conflict_validation_version_size_and_review() {
    let w = World::new();
    let s = &w.server;
    let first = w.submission(INSTANCE, &w.assignment, json!({"age": 30, "hours": 90}));
    let r = s.post("/api/v1/submissions", &w.enumerator, &first);
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["revision"], 1);
    assert_eq!(body["replayed"], false);
    assert_eq!(body["warnings"][0]["path"], "/hours");
    assert_eq!(body["calculations"]["double_hours"].as_f64(), Some(180.0));

    // Idempotent replay: same answer, no duplicate; key order does not matter.
    let reordered: Value = serde_json::from_str(&serde_json::to_string(&first).unwrap().replace(
        r#""answers":{"age":30,"hours":90}"#,
        r#""answers":{"hours":90,"age":30}"#,
    ))
    .unwrap();
    for replay in [&first, &reordered] {
        let r = s.post("/api/v1/submissions", &w.enumerator, replay);
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["replayed"], true);
        assert_eq!(r.json()["revision"], 1);
    }
    let r = s.get(&format!("/api/v1/submissions/{INSTANCE}"), &w.manager);
    assert_eq!(r.json()["revisions"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        r.json()["revisions"][0]["warnings"][0]["code"],
        "rule_failed"
    );

    // Same id, different content: 409 while it is not rejected.
    let changed = w.submission(INSTANCE, &w.assignment, json!({"age": 31, "hours": 90}));
    let r = s.post("/api/v1/submissions", &w.enumerator, &changed);
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "conflict");

    // Validation errors: 422 with findings, nothing stored.
    let other = "3c1f8a2e-0000-4000-8000-000000000001";
    let bad = w.submission(other, &w.assignment, json!({"age": 200}));
    let r = s.post("/api/v1/submissions", &w.enumerator, &bad);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["findings"][0]["path"], "/age");
    let r = s.get(&format!("/api/v1/submissions/{other}"), &w.manager);
    assert_eq!(r.status, 404);

    // A version the assignment does not allow: 409 with the allowed versions.
    let mut wrong_version = w.submission(other, &w.assignment, json!({"age": 30}));
    wrong_version["version"] = json!("9");
    let r = s.post("/api/v1/submissions", &w.enumerator, &wrong_version);
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(
        r.json()["error"]["details"]["allowed_versions"],
        json!(["1"])
    );

    // Bodies over the limit: 413 in the JSON error shape. Not a UUID: 400.
    let big = w.submission(
        other,
        &w.assignment,
        json!({"note": "x".repeat(100 * 1024)}),
    );
    let r = s.post("/api/v1/submissions", &w.enumerator, &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "payload_too_large");
    let r = s.post(
        "/api/v1/submissions",
        &w.enumerator,
        &w.submission("not-a-uuid", &w.assignment, json!({})),
    );
    assert_eq!(r.status, 400);

    // A key repeated inside the answers is refused (400, naming the place), not silently
    // resolved to its last value; nothing is stored.
    let body = serde_json::to_string(&w.submission(other, &w.assignment, json!({"age": 30})))
        .expect("json")
        .replace("\"age\":30", "\"age\":30,\"age\":31");
    let r = request(
        s.addr,
        "POST",
        "/api/v1/submissions",
        Some(&w.enumerator),
        Some("application/json"),
        body.as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["code"], "duplicate_key");
    assert_eq!(r.json()["error"]["details"]["path"], "/answers/age");
    let r = s.get(&format!("/api/v1/submissions/{other}"), &w.enumerator);
    assert_eq!(r.status, 404, "{}", r.text());

    // Review: the team's supervisor sees it in the queue, rejects with a per-question
    // comment; the enumerator sees the rejection through sync.
    let r = s.get("/api/v1/review/queue", &w.supervisor);
    assert_eq!(r.json()["interviews"][0]["instance_id"], INSTANCE);
    let r = s.get("/api/v1/review/queue", &w.other_supervisor);
    assert_eq!(r.json()["interviews"], json!([]));
    let r = s.post(
        &format!("/api/v1/submissions/{INSTANCE}/review"),
        &w.supervisor,
        &json!({"verdict": "reject"}),
    );
    assert_eq!(r.status, 400, "a rejection without any comment is refused");
    let r = s.post(
        &format!("/api/v1/submissions/{INSTANCE}/review"),
        &w.supervisor,
        &json!({"verdict": "reject", "comment": "check hours", "question_comments": [{"path": "/hours", "comment": "90 hours?"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["interview"]["status"], "rejected");
    let r = s.post(
        &format!("/api/v1/submissions/{INSTANCE}/review"),
        &w.supervisor,
        &json!({"verdict": "approve"}),
    );
    assert_eq!(
        r.status, 409,
        "deciding a rejected interview again is an illegal transition"
    );
    let sync = s.get("/api/v1/sync?since=0", &w.enumerator).json();
    let rejection = sync["changes"]
        .as_array()
        .and_then(|c| c.iter().find(|e| e["kind"] == "review.decided"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        rejection["data"]["decision"]["question_comments"][0]["comment"],
        "90 hours?"
    );

    // The corrected interview is revision 2 of the same instance, history kept.
    let fixed = w.submission(INSTANCE, &w.assignment, json!({"age": 30, "hours": 60}));
    let r = s.post("/api/v1/submissions", &w.enumerator, &fixed);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["revision"], 2);
    assert_eq!(r.json()["status"], "resubmitted");
    let r = s.post(
        &format!("/api/v1/submissions/{INSTANCE}/review"),
        &w.supervisor,
        &json!({"verdict": "approve"}),
    );
    assert_eq!(r.status, 200);
    let r = s
        .get(&format!("/api/v1/submissions/{INSTANCE}"), &w.enumerator)
        .json();
    assert_eq!(r["revisions"].as_array().map(Vec::len), Some(2));
    assert_eq!(r["decisions"].as_array().map(Vec::len), Some(2));
    assert_eq!(r["interview"]["status"], "approved");
    // Approved is final.
    let r = s.post(
        "/api/v1/submissions",
        &w.enumerator,
        &w.submission(INSTANCE, &w.assignment, json!({"age": 32})),
    );
    assert_eq!(r.status, 409);

    // The assignment (quantity 1) is completed: a second interview is refused with 409.
    let r = s.post(
        "/api/v1/submissions",
        &w.enumerator,
        &w.submission(
            "3c1f8a2e-0000-4000-8000-000000000002",
            &w.assignment,
            json!({"age": 30}),
        ),
    );
    assert_eq!(r.status, 409, "{}", r.text());

    // Progress comes from counters.
    let p = s.get("/api/v1/progress", &w.manager).json();
    assert_eq!(p["interview"]["enumerator"]["enum1"]["approved"], 1);
    assert_eq!(p["interview"]["all"][""].get("rejected"), None);
    assert_eq!(p["assignment"]["all"][""]["completed"], 1);
    assert_eq!(p["assignment"]["all"][""]["assigned"], 1);
    assert_eq!(p["assignment"]["province"]["HN"]["completed"], 1);
    assert_eq!(p["interview"]["team"]["sup"]["approved"], 1);
    let p = s.get("/api/v1/progress", &w.other_supervisor).json();
    assert!(p["interview"]["enumerator"].get("enum1").is_none());
}

#[test]
fn closed_assignments_refuse_interviews_with_an_actionable_message() {
    let w = World::new();
    let s = &w.server;
    let r = s.post(
        &format!("/api/v1/assignments/{}/close", w.assignment),
        &w.manager,
        &json!({}),
    );
    assert_eq!(r.status, 200);
    let r = s.post(
        "/api/v1/submissions",
        &w.enumerator,
        &w.submission(INSTANCE, &w.assignment, json!({"age": 30})),
    );
    assert_eq!(r.status, 409);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("closed")
    );
    let r = s.post(
        &format!("/api/v1/assignments/{}/close", w.assignment),
        &w.manager,
        &json!({}),
    );
    assert_eq!(r.status, 409, "closing twice is an illegal transition");
    let r = s.post(
        &format!("/api/v1/assignments/{}/start", w.assignment),
        &w.enumerator,
        &json!({}),
    );
    assert_eq!(r.status, 409);
}

#[test]
fn drafts_must_lint_clean_and_versions_are_immutable() {
    let w = World::new();
    let s = &w.server;
    let r = s.post(
        "/api/v1/questionnaires/drafts",
        &w.designer,
        &json!({"id": "worker"}),
    );
    assert_eq!(r.status, 422);
    let findings = r.json()["error"]["details"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["code"] == "missing_key" && f["severity"] == "error"),
        "{findings:?}"
    );
    // A definition with an expression error: the finding names the place.
    let mut broken = questionnaire("7");
    broken["items"][3]["calculation"] = json!("${hours * 2");
    let r = s.post("/api/v1/questionnaires/drafts", &w.designer, &broken);
    assert_eq!(r.status, 422, "{}", r.text());
    let findings = r.json()["error"]["details"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        findings.iter().any(|f| f["path"] == "/items/3/calculation"),
        "{findings:?}"
    );
    // Re-publishing version 1 is refused.
    let r = s.post(
        "/api/v1/questionnaires/drafts",
        &w.designer,
        &questionnaire("1"),
    );
    assert_eq!(r.status, 201);
    let r = s.post(
        "/api/v1/questionnaires/drafts/worker/publish",
        &w.designer,
        &json!({}),
    );
    assert_eq!(r.status, 409);
    // A new version: diff first, then publish; both versions are listed with hashes.
    let mut v2 = questionnaire("2");
    v2["title"] = json!({"en": "Worker v2", "vi": "Người lao động v2"});
    assert_eq!(
        s.post("/api/v1/questionnaires/drafts", &w.designer, &v2)
            .status,
        201
    );
    let d = s
        .get("/api/v1/questionnaires/drafts/worker/diff", &w.designer)
        .json();
    assert_eq!(d["previous_version"], "1");
    assert_eq!(d["diff"]["verdict"], "compatible");
    assert!(
        !d["diff"]["changes"]
            .as_array()
            .map(Vec::is_empty)
            .unwrap_or(true)
    );
    assert_eq!(
        s.post(
            "/api/v1/questionnaires/drafts/worker/publish",
            &w.designer,
            &json!({})
        )
        .status,
        201
    );
    let list = s.get("/api/v1/questionnaires", &w.enumerator).json();
    let versions: Vec<&str> = list["questionnaires"]
        .as_array()
        .map(|a| a.iter().filter_map(|q| q["version"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(versions, vec!["1", "2"]);
    let v = s
        .get("/api/v1/questionnaires/worker/versions/2", &w.enumerator)
        .json();
    assert_eq!(v["definition"]["title"]["en"], "Worker v2");
    assert_eq!(v["hash"].as_str().map(str::len), Some(64));
}

#[test]
fn passwords_log_in_and_bulk_csv_creates_assignments() {
    let w = World::new();
    let s = &w.server;
    let r = s.post(
        "/api/v1/users",
        &w.admin,
        &json!({"name": "enum3", "role": "enumerator", "password": "correct horse battery", "supervisor": "sup"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "enum3", "password": "wrong password!"})),
    );
    assert_eq!(r.status, 401);
    let r = s.call(
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "enum3", "password": "correct horse battery"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(s.get("/api/v1/me", &token).json()["name"], "enum3");
    let r = s.post(
        "/api/v1/users",
        &w.admin,
        &json!({"name": "short", "role": "researcher", "password": "123"}),
    );
    assert_eq!(r.status, 400);

    let csv = "questionnaire,enumerator,unit_id,tier,province,quantity\nworker,enum3,E1,0,HN,1\nworker,enum3,E2,1,BN,2\n";
    let r = request(
        s.addr,
        "POST",
        "/api/v1/assignments",
        Some(&w.manager),
        Some("text/csv"),
        csv.as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["created"], 2);
    let mine = s.get("/api/v1/assignments", &token).json();
    assert_eq!(mine["assignments"].as_array().map(Vec::len), Some(2));
    // A bad row names its line and creates nothing.
    let csv = "questionnaire,enumerator,unit_id,tier\nworker,enum3,E3,0\nworker,enum3,E4,two\n";
    let r = request(
        s.addr,
        "POST",
        "/api/v1/assignments",
        Some(&w.manager),
        Some("text/csv"),
        csv.as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("line 3")
    );
    let csv = "questionnaire,enumerator,unit_id\nworker,enum3,E3\nworker,rita,E4\n";
    let r = request(
        s.addr,
        "POST",
        "/api/v1/assignments",
        Some(&w.manager),
        Some("text/csv"),
        csv.as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(
        s.get("/api/v1/assignments", &token).json()["assignments"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn sync_pages_never_skip_or_repeat_while_writes_happen() {
    let w = World::new();
    let addr = w.server.addr;
    let manager = w.manager.clone();
    let writer = std::thread::spawn(move || {
        for i in 0..60 {
            let body = json!({"questionnaire": "worker", "enumerator": "enum1", "target": {"unit_id": format!("W{i}")}});
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let r = request(
                addr,
                "POST",
                "/api/v1/assignments",
                Some(&manager),
                Some("application/json"),
                &bytes,
            )
            .expect("request");
            assert_eq!(r.status, 201);
        }
    });
    let mut seen: Vec<u64> = Vec::new();
    let mut since = 0u64;
    let mut idle_rounds = 0;
    loop {
        let page = w
            .server
            .get(
                &format!("/api/v1/sync?since={since}&limit=7"),
                &w.enumerator,
            )
            .json();
        let changes = page["changes"].as_array().cloned().unwrap_or_default();
        assert!(changes.len() <= 7);
        for c in &changes {
            seen.push(c["seq"].as_u64().expect("seq"));
        }
        since = page["next"].as_u64().expect("next");
        if changes.is_empty() && writer.is_finished() {
            idle_rounds += 1;
            if idle_rounds > 2 {
                break;
            }
        }
    }
    writer.join().expect("writer");
    let all = w
        .server
        .get("/api/v1/sync?since=0&limit=50", &w.enumerator)
        .json();
    let mut expected: Vec<u64> = Vec::new();
    let mut cursor = 0;
    let mut page = all;
    loop {
        for c in page["changes"].as_array().cloned().unwrap_or_default() {
            expected.push(c["seq"].as_u64().expect("seq"));
        }
        cursor = page["next"].as_u64().unwrap_or(cursor);
        if page["more"] != true {
            break;
        }
        page = w
            .server
            .get(
                &format!("/api/v1/sync?since={cursor}&limit=50"),
                &w.enumerator,
            )
            .json();
    }
    assert_eq!(
        expected.len(),
        61,
        "one assignment from the world, sixty from the writer"
    );
    assert!(
        seen.windows(2).all(|p| p[0] < p[1]),
        "strictly increasing, so no repeats"
    );
    assert_eq!(
        seen, expected,
        "the incremental reader saw exactly the full feed"
    );
}

#[test]
fn after_a_failed_fsync_writes_are_refused_with_503_and_nothing_is_acknowledged() {
    let w = World::new();
    let s = &w.server;
    s.store.inject_commit_failure();
    let body = w.submission(INSTANCE, &w.assignment, json!({"age": 30}));
    let r = s.post("/api/v1/submissions", &w.enumerator, &body);
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "unavailable");
    // Every later write is refused too, without trying; reads still work.
    let r = s.post(
        &format!("/api/v1/assignments/{}/start", w.assignment),
        &w.enumerator,
        &json!({}),
    );
    assert_eq!(r.status, 503);
    let r = s.post("/api/v1/submissions", &w.enumerator, &body);
    assert_eq!(r.status, 503);
    assert_eq!(
        s.get("/api/v1/health", &w.admin).json()["status"],
        "refusing_writes"
    );
    assert_eq!(s.get("/api/v1/assignments", &w.enumerator).status, 200);
}

#[test]
fn every_web_file_is_served_from_the_binary() {
    let server = TestServer::start();
    let mut on_disk: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/web"))
        .expect("web dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = chainsurvey::server::assets::ASSETS
        .iter()
        .map(|(n, _, _)| (*n).to_owned())
        .collect();
    embedded.sort();
    assert_eq!(embedded, on_disk, "web/ and the embedded asset list differ");
    for name in &on_disk {
        let r = request(server.addr, "GET", &format!("/{name}"), None, None, b"").expect("request");
        assert_eq!(r.status, 200, "{name}");
        let disk =
            std::fs::read(format!("{}/web/{name}", env!("CARGO_MANIFEST_DIR"))).expect("read");
        assert_eq!(r.body, disk, "{name} served byte for byte");
    }
    let r = request(server.addr, "GET", "/", None, None, b"").expect("request");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let r = request(server.addr, "GET", "/secret.txt", None, None, b"").expect("request");
    assert_eq!(r.status, 404);
}
