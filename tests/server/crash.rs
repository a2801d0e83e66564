//! Crash safety with the real binary: concurrent clients, SIGKILL mid-stream, restart,
//! and every acknowledged write is there exactly once. `scripts/crash-test.sh` runs a
//! longer version (more rounds and clients).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::server::http::request;

struct Running {
    child: Child,
    addr: SocketAddr,
    admin_token: Option<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Never leave a server behind when a check fails; after a kill or a clean exit these
        // calls do nothing harmful.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &Path) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chainsurvey");
    // Owned by `Running` at once, so every panic below still reaps it.
    let mut running = Running {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        admin_token: None,
    };
    let stdout = running.child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server output").expect("line");
        if let Some(token) = line.strip_prefix("admin token (shown once, keep it): ") {
            running.admin_token = Some(token.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("chainsurvey listening on http://") {
            let addr: SocketAddr = rest
                .split('/')
                .next()
                .and_then(|a| a.parse().ok())
                .expect("address");
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            running.addr = addr;
            return running;
        }
    }
}

/// Runs `rounds` of: start, `clients` concurrent writers, SIGKILL after `kill_after`,
/// restart and check. Returns the number of acknowledged writes checked.
pub fn crash_rounds(rounds: usize, clients: usize, kill_after: Duration) -> usize {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut token: Option<String> = None;
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    for round in 0..rounds {
        let mut server = start(dir.path());
        if round == 0 {
            token = server.admin_token.take();
        }
        let token = token.clone().expect("admin token from the first start");
        check_present(server.addr, &token, &acknowledged);
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let acked = Arc::clone(&acked);
                let stop = Arc::clone(&stop);
                let token = token.clone();
                let addr = server.addr;
                std::thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 10_000 {
                        let name = format!("r{round}c{c}n{i}");
                        i += 1;
                        let body = serde_json::to_vec(&json!({"name": name, "role": "researcher"}))
                            .unwrap_or_default();
                        match request(
                            addr,
                            "POST",
                            "/api/v1/users",
                            Some(&token),
                            Some("application/json"),
                            &body,
                        ) {
                            Ok(r) if r.status == 201 => acked.lock().expect("lock").push(name),
                            Ok(r) => panic!("unexpected status {} {}", r.status, r.text()),
                            // The kill: connection refused or reset. Not acknowledged.
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(kill_after);
        server.child.kill().expect("SIGKILL"); // std's kill sends SIGKILL on Unix.
        server.child.wait().expect("reap");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in workers {
            w.join().expect("client thread");
        }
        let round_acked = acked.lock().expect("lock").clone();
        assert!(
            !round_acked.is_empty(),
            "round {round}: no write was acknowledged before the kill"
        );
        acknowledged.extend(round_acked);
    }
    let server = start(dir.path());
    check_present(server.addr, token.as_deref().expect("token"), &acknowledged);
    let mut server = server;
    // SIGTERM: a clean shutdown that flushes.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status();
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "clean shutdown after SIGTERM: {status}");
    // After all the kills, the journal still rebuilds exactly the database.
    let store = chainsurvey::store::Store::open(dir.path()).expect("database opens cleanly");
    let before = store.dump().expect("dump");
    store.close().expect("close");
    drop(store);
    chainsurvey::store::recover(dir.path()).expect("recover");
    let store = chainsurvey::store::Store::open(dir.path()).expect("open recovered");
    assert_eq!(
        store.dump().expect("dump"),
        before,
        "journal recovery equals the database"
    );
    acknowledged.len()
}

fn check_present(addr: SocketAddr, token: &str, acknowledged: &BTreeSet<String>) {
    let r = request(addr, "GET", "/api/v1/users", Some(token), None, b"").expect("list users");
    assert_eq!(r.status, 200);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for user in r.json()["users"].as_array().cloned().unwrap_or_default() {
        *counts
            .entry(user["name"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    for name in acknowledged {
        assert_eq!(
            counts.get(name),
            Some(&1),
            "acknowledged user {name} must be present exactly once"
        );
    }
    // The event log holds exactly one creation event per user: no duplicate writes.
    let mut created: BTreeMap<String, usize> = BTreeMap::new();
    let mut since = 0;
    loop {
        let page = request(
            addr,
            "GET",
            &format!("/api/v1/sync?since={since}&limit=1000"),
            Some(token),
            None,
            b"",
        )
        .expect("sync")
        .json();
        for c in page["changes"].as_array().cloned().unwrap_or_default() {
            if c["kind"] == "user.created" {
                *created
                    .entry(c["subject"].as_str().unwrap_or_default().to_owned())
                    .or_default() += 1;
            }
        }
        since = page["next"].as_u64().unwrap_or(since);
        if page["more"] != true {
            break;
        }
    }
    assert!(
        created.values().all(|&n| n == 1),
        "a user was created twice"
    );
    for name in acknowledged {
        assert_eq!(created.get(name), Some(&1));
    }
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_write() {
    let n = crash_rounds(3, 8, Duration::from_millis(400));
    assert!(n > 0);
}
