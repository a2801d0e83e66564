//! `chainsurvey serve --demo` with the real binary: a new data directory gets accounts and
//! assignments an enumerator can sync at once; a restart changes nothing; a data directory
//! holding other data is refused.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::server::crash::{Running, start_with};
use crate::server::http::request;

fn serve_demo(data: &Path) -> Running {
    start_with(data, &["--demo"])
}

fn stop(mut running: Running) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(running.child.id().to_string())
        .status();
    let status = running.child.wait().expect("wait");
    assert!(status.success(), "clean shutdown: {status}");
}

/// `name` → (password, token) from the "demo account" lines.
fn accounts(lines: &[String]) -> BTreeMap<String, (String, String)> {
    lines
        .iter()
        .filter_map(|line| {
            let rest = line.strip_prefix("demo account ")?;
            let words: Vec<&str> = rest.split_whitespace().collect();
            // NAME (ROLE): password P token T
            Some((
                words.first()?.to_string(),
                (words.get(3)?.to_string(), words.get(5)?.to_string()),
            ))
        })
        .collect()
}

fn call(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &Value) -> Value {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(body).expect("json")
    };
    let ct = (!bytes.is_empty()).then_some("application/json");
    let r = request(addr, method, path, token, ct, &bytes).expect("request");
    assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.text());
    r.json()
}

/// The assignments an enumerator's sync feed announces.
fn synced_assignments(addr: SocketAddr, token: &str) -> Vec<Value> {
    let page = call(
        addr,
        "GET",
        "/api/v1/sync?since=0",
        Some(token),
        &Value::Null,
    );
    page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["subject"].as_str().is_some_and(|s| !s.is_empty()))
        .filter(|c| {
            c["kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("assignment"))
        })
        .cloned()
        .collect()
}

#[test]
fn serve_demo_seeds_a_new_directory_once_and_refuses_other_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let server = serve_demo(&data);
    let found = accounts(&server.lines);
    assert_eq!(
        found.keys().map(String::as_str).collect::<Vec<_>>(),
        ["enumerator1", "enumerator2", "supervisor"]
    );
    assert!(
        server.lines.iter().any(|l| l.starts_with("admin token")),
        "{:?}",
        server.lines
    );
    // An enumerator logs in with the printed password, as the web client does, and syncs.
    let (password, token) = found["enumerator1"].clone();
    let login = call(
        server.addr,
        "POST",
        "/api/v1/login",
        None,
        &json!({"name": "enumerator1", "password": password}),
    );
    let session = login["token"].as_str().expect("token").to_owned();
    let mine = synced_assignments(server.addr, &session);
    assert_eq!(mine.len(), 3, "{mine:?}");
    // The printed token works too, and the assignments name a published questionnaire.
    let list = call(
        server.addr,
        "GET",
        "/api/v1/assignments",
        Some(&token),
        &Value::Null,
    );
    let assignments = list["assignments"].as_array().expect("assignments").clone();
    assert_eq!(assignments.len(), 3);
    for a in &assignments {
        assert_eq!(a["questionnaire"], "dwscs-enterprise");
        assert_eq!(a["enumerator"], "enumerator1");
    }
    let published = call(
        server.addr,
        "GET",
        "/api/v1/questionnaires",
        Some(&token),
        &Value::Null,
    );
    assert!(
        published["questionnaires"]
            .as_array()
            .expect("list")
            .iter()
            .any(|q| q["id"] == "dwscs-enterprise")
    );
    let (_, other_token) = found["enumerator2"].clone();
    assert_eq!(synced_assignments(server.addr, &other_token).len(), 3);
    stop(server);

    // A restart with --demo changes nothing: no new accounts, no more assignments.
    let server = serve_demo(&data);
    assert!(accounts(&server.lines).is_empty(), "{:?}", server.lines);
    assert!(
        server.lines.iter().any(|l| l.contains("demo data already")),
        "{:?}",
        server.lines
    );
    assert_eq!(synced_assignments(server.addr, &token).len(), 3);
    stop(server);

    // A data directory with other data is refused with a clear message, unchanged.
    let other = dir.path().join("other");
    let plain = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["user", "add", "lan", "--role", "enumerator", "--data"])
        .arg(&other)
        .output()
        .expect("user add");
    assert!(plain.status.success());
    let refused = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(&other)
        .output()
        .expect("serve --demo");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not a chainsurvey demo"), "{stderr}");
    let list = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["user", "list", "--data"])
        .arg(&other)
        .output()
        .expect("user list");
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("lan") && !listed.contains("admin"),
        "{listed}"
    );
}
