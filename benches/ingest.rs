//! Ingest load generator: durable submissions per second and latency percentiles with 1, 16
//! and 64 concurrent clients posting realistic DW-SCS worker interviews over loopback HTTP
//! to a real server (real sled database on disk, group commit, journal, the questionnaire
//! engine validating every interview).
//!
//! Baseline measured in the same run on the same disk: one `fdatasync` per write, which is
//! what a server without group commit could at best acknowledge per second.
//!
//! Run: `cargo bench --bench ingest [-- SECONDS [CLIENTS...]]` (default 5 s; 1 16 64).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;

use chainsurvey::server::{self, AppState, Config, QuestionnaireEngine};
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
    let engine = Arc::new(QuestionnaireEngine::new());
    let (definition, linted) = common::worker_questionnaire(&engine);
    common::publish_as_boss(&store, &definition, &linted);
    let token = store
        .add_user("enum", Role::Enumerator, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
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
    let examples = valid_examples(Path::new(env!("CARGO_MANIFEST_DIR")));
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
        "clients  submissions/s  p50 ms  p99 ms  max ms  interviews/commit  server-CPU-us/sub  client-CPU-us/sub  vs-fsync-per-write  vs-ODK-41/s"
    );
    for &n in &clients {
        let batches_before = store.commit_batches();
        let server_before = server_cpu_ns();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let workers: Vec<_> = (0..n)
            .map(|c| {
                // The request of client c, serialised once: only the instance id changes
                // per request, so the load generator spends its CPU on sockets, not JSON.
                let bodies: Vec<(Vec<u8>, Vec<u8>)> = examples
                    .iter()
                    .map(|answers| {
                        let rest = json!({
                            "questionnaire": linted.id,
                            "version": linted.version,
                            "assignment_id": assignments[c],
                            "answers": answers,
                            "paradata": {"device_id": format!("tablet-{c}"), "app_version": "1.0", "language": "vi"},
                        });
                        let rest = serde_json::to_vec(&rest).unwrap_or_default();
                        (b"{\"instance_id\":\"".to_vec(), rest)
                    })
                    .collect();
                let token = token.clone();
                std::thread::Builder::new()
                    .name(CLIENT_THREAD.into())
                    .spawn(move || {
                        let mut client = Client::connect(addr, &token);
                        let mut latencies = Vec::new();
                        let mut i = 0usize;
                        while Instant::now() < deadline {
                            let (open, rest) = &bodies[(c + i) % bodies.len()];
                            // A valid, unique UUID v4 without a random number generator.
                            let id = format!("{:08x}-{:04x}-4000-8000-{:012x}", run_tag(), c, i);
                            i += 1;
                            let t = Instant::now();
                            let status = client.post(open, id.as_bytes(), rest);
                            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&client.body));
                            latencies.push(t.elapsed());
                        }
                        (latencies, thread_cpu_ns())
                    })
                    .expect("client thread")
            })
            .collect();
        let mut latencies: Vec<Duration> = Vec::new();
        let mut client_ns = 0u64;
        for w in workers {
            let (l, ns) = w.join().expect("client");
            latencies.extend(l);
            client_ns += ns;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let server_ns = server_cpu_ns().saturating_sub(server_before);
        latencies.sort();
        let count = latencies.len();
        let pct = |p: f64| {
            latencies
                .get(((count as f64 * p) as usize).min(count.saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let rate = count as f64 / elapsed;
        let batches = (store.commit_batches() - batches_before).max(1);
        let per = |ns: u64| ns as f64 / 1000.0 / count.max(1) as f64;
        println!(
            "{n:>7}  {rate:>13.0}  {:>6.1}  {:>6.1}  {:>6.1}  {:>17.1}  {:>17.0}  {:>17.0}  {:>17.1}x  {:>10.1}x",
            pct(0.50),
            pct(0.99),
            latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            count as f64 / batches as f64,
            per(server_ns),
            per(client_ns),
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
    let state = AppState {
        store,
        engine,
        config: Arc::new(Config::standard()),
    };
    let running = server::spawn_on_loopback(state, None).expect("start the server");
    (running.addr, running.shutdown, running.thread)
}

/// The name of load-generator threads, so their CPU time is not counted as the server's.
const CLIENT_THREAD: &str = "ingest-client";

/// A tag that keeps instance ids unique across runs of the bench on one database.
fn run_tag() -> u32 {
    static TAG: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *TAG.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    })
}

/// A minimal HTTP/1.1 keep-alive client: one `write` per request from a reused buffer,
/// the response read into a reused buffer. The shared 2 cores should serve the server.
struct Client {
    stream: std::net::TcpStream,
    head: Vec<u8>,
    message: Vec<u8>,
    buffer: Vec<u8>,
    body: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr, token: &str) -> Client {
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let head = format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: "
        )
        .into_bytes();
        Client {
            stream,
            head,
            message: Vec::with_capacity(8192),
            buffer: Vec::with_capacity(8192),
            body: Vec::new(),
        }
    }

    /// Posts `open` + `id` + `"," rest-without-its-opening-brace` and returns the status.
    fn post(&mut self, open: &[u8], id: &[u8], rest: &[u8]) -> u16 {
        use std::io::Read;
        let length = open.len() + id.len() + 2 + rest.len() - 1;
        self.message.clear();
        self.message.extend_from_slice(&self.head);
        self.message
            .extend_from_slice(format!("{length}\r\n\r\n").as_bytes());
        self.message.extend_from_slice(open);
        self.message.extend_from_slice(id);
        self.message.extend_from_slice(b"\",");
        self.message.extend_from_slice(&rest[1..]);
        self.stream.write_all(&self.message).expect("send");
        self.buffer.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("status line");
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("content-length");
                while self.buffer.len() < end + 4 + length {
                    let n = self.stream.read(&mut chunk).expect("read");
                    assert!(n > 0, "server closed the connection");
                    self.buffer.extend_from_slice(&chunk[..n]);
                }
                self.body.clear();
                self.body
                    .extend_from_slice(&self.buffer[end + 4..end + 4 + length]);
                return status;
            }
            let n = self.stream.read(&mut chunk).expect("read");
            assert!(n > 0, "server closed the connection");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// CPU time this thread has run, in nanoseconds (`/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    schedstat_ns(Path::new("/proc/thread-self/schedstat"))
}

fn schedstat_ns(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// CPU time of every live thread of this process that is not a load-generator client, in
/// nanoseconds: the server's runtime workers, its committer and sled's threads. On a
/// shared machine wall-clock rates depend on other people's load; CPU time per
/// submission does not.
fn server_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .map(|name| name.trim() != CLIENT_THREAD)
                .unwrap_or(false)
        })
        .map(|task| schedstat_ns(&task.path().join("schedstat")))
        .sum()
}
