//! Ingest load generator: durable submissions per second and latency percentiles with 1, 16
//! and 64 concurrent clients posting realistic DW-SCS worker interviews over loopback HTTP
//! to a real server (real sled database on disk, group commit, journal, the questionnaire
//! engine validating every interview).
//!
//! Baseline measured in the same run on the same disk: one `fdatasync` per write, which is
//! what a server without group commit could at best acknowledge per second.
//!
//! Run: `cargo bench --bench ingest [-- SECONDS [CLIENTS...]]` (default 5 s; 1 16 64).

#[path = "../tests/server/http.rs"]
#[allow(dead_code)]
mod http;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chainsurvey::server::{self, AppState, Config, Engine, QuestionnaireEngine};
use chainsurvey::store::{NewAssignment, Role, Store, Target};
use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut clients: Vec<usize> = args.iter().skip(1).filter_map(|s| s.parse().ok()).collect();
    if clients.is_empty() {
        clients = vec![1, 16, 64];
    }
    let max_clients = clients.iter().copied().max().unwrap_or(1);
    let dir = tempfile::Builder::new()
        .prefix("chainsurvey-ingest-")
        .tempdir_in(std::env::temp_dir())
        .expect("temp dir");

    let fsyncs_per_s = baseline_fsync_rate(dir.path());
    println!("baseline: one fdatasync per 2 KiB write = {fsyncs_per_s:.0} durable writes/s");

    let store = Store::open(&dir.path().join("data")).expect("open store");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let definition: Value = serde_json::from_slice(
        &std::fs::read(root.join("questionnaires/worker.json")).expect("worker.json"),
    )
    .expect("json");
    let engine = Arc::new(QuestionnaireEngine::new());
    let linted = engine
        .lint(&definition)
        .unwrap_or_else(|_| panic!("worker.json must lint clean"));
    store
        .add_user("boss", Role::Admin, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
    let token = store
        .add_user("enum", Role::Enumerator, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
    store
        .put_draft(&linted.id, &linted.version, &definition, "boss")
        .and_then(|d| d.wait_blocking())
        .expect("draft");
    store
        .publish(&linted.id, "boss")
        .and_then(|d| d.wait_blocking())
        .expect("publish");
    let items: Vec<NewAssignment> = (0..max_clients)
        .map(|c| NewAssignment {
            questionnaire: linted.id.clone(),
            allowed_versions: None,
            enumerator: "enum".into(),
            target: Target {
                unit_id: format!("E{c}"),
                tier: Some(0),
                province: Some("27".into()),
            },
            preload: None,
            preload_protected: false,
            quantity: Some(u32::MAX),
        })
        .collect();
    let assignments: Vec<String> = store
        .create_assignments(items, "boss")
        .and_then(|d| d.wait_blocking())
        .expect("assignments")
        .into_iter()
        .map(|a| a.id)
        .collect();
    let examples = valid_examples(root);
    println!(
        "{} example interviews ({} to {} bytes of answers)",
        examples.len(),
        examples
            .iter()
            .map(|e| e.to_string().len())
            .min()
            .unwrap_or(0),
        examples
            .iter()
            .map(|e| e.to_string().len())
            .max()
            .unwrap_or(0)
    );

    let (addr, shutdown, thread) = start_server(store.clone(), engine);
    println!(
        "clients  submissions/s  p50 ms  p99 ms  max ms  interviews/commit  vs-fsync-per-write  vs-ODK-41/s"
    );
    for &n in &clients {
        let batches_before = store.commit_batches();
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let workers: Vec<_> = (0..n)
            .map(|c| {
                let token = token.clone();
                let assignment = assignments[c].clone();
                let examples = examples.clone();
                let version = linted.version.clone();
                let id = linted.id.clone();
                std::thread::spawn(move || {
                    let mut client = http::KeepAlive::new(addr);
                    let mut latencies = Vec::new();
                    let mut i = c;
                    while Instant::now() < deadline {
                        let body = json!({
                            "instance_id": uuid::Uuid::new_v4().to_string(),
                            "questionnaire": id,
                            "version": version,
                            "assignment_id": assignment,
                            "answers": examples[i % examples.len()],
                            "paradata": {"device_id": format!("tablet-{c}"), "app_version": "1.0", "language": "vi"},
                        });
                        i += 1;
                        let bytes = serde_json::to_vec(&body).unwrap_or_default();
                        let t = Instant::now();
                        let r = client.send("POST", "/api/v1/submissions", Some(&token), &bytes).expect("request");
                        assert_eq!(r.status, 201, "{}", r.text());
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies: Vec<Duration> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("client"))
            .collect();
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        let count = latencies.len();
        let pct = |p: f64| {
            latencies
                .get(((count as f64 * p) as usize).min(count.saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let rate = count as f64 / elapsed;
        let batches = (store.commit_batches() - batches_before).max(1);
        // Server and clients share this process, so this over-states the server's share.
        let cpu_ms = (cpu_seconds() - cpu_before) * 1000.0 / count.max(1) as f64;
        println!(
            "{n:>7}  {rate:>13.0}  {:>6.1}  {:>6.1}  {:>6.1}  {:>17.1}  {cpu_ms:>17.2}  {:>17.1}x  {:>10.1}x",
            pct(0.50),
            pct(0.99),
            latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            count as f64 / batches as f64,
            rate / fsyncs_per_s,
            rate / 41.0
        );
    }
    let _ = shutdown.send(());
    let _ = thread.join();
}

fn baseline_fsync_rate(dir: &Path) -> f64 {
    let path = dir.join("fsync-baseline");
    let mut file = std::fs::File::create(&path).expect("baseline file");
    let block = vec![b'x'; 2048];
    let n = 200;
    let started = Instant::now();
    for _ in 0..n {
        file.write_all(&block).expect("write");
        file.sync_data().expect("fdatasync");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn valid_examples(root: &Path) -> Vec<Value> {
    let dir = root.join("tests/data/examples/dwscs-worker/valid");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".json") && !name.ends_with(".expect.json") {
            out.push(serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json"));
        }
    }
    out
}

fn start_server(
    store: Store,
    engine: Arc<QuestionnaireEngine>,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let state = AppState {
        store,
        engine,
        config: Arc::new(Config::standard()),
    };
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            addr_tx
                .send(listener.local_addr().expect("addr"))
                .expect("send");
            server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
    });
    (addr_rx.recv().expect("address"), tx, thread)
}

/// CPU time (user + system) this process has used, from /proc/self/stat (clock ticks of
/// 1/100 s). On a shared machine, wall-clock rates depend on other people's load; CPU time
/// per operation does not.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the file are utime and stime; after the name they are 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}
