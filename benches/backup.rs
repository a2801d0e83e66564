//! Online backup under write load: how long writes wait while a backup runs.
//!
//! Loads N assignments (each with a ~2 KiB preload, about the size of an interview) through
//! the store API, then runs one writer that keeps creating assignments one at a time, each
//! waiting for its group commit. Baseline (same run, same disk): the writer's latencies
//! without a backup. Then the same writer while `store::backup` copies the database; the
//! figure that matters is the longest write wait compared with the backup's duration (a
//! backup that held the write lock for its copy would make it at least the copy time).
//!
//! Run: `cargo bench --bench backup [-- N]` (default 50,000).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chainsurvey::store::{self, NewAssignment, Role, Store, Target};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::Builder::new()
        .prefix("chainsurvey-backup-bench-")
        .tempdir_in(std::env::temp_dir())
        .expect("temp dir");
    let store = Store::open(&dir.path().join("data")).expect("open");
    store
        .add_user("boss", Role::Manager, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
    store
        .add_user("e1", Role::Enumerator, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
    let q = serde_json::json!({"id": "worker", "version": "1", "items": []});
    store
        .put_draft("worker", "1", &q, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("draft");
    store
        .publish("worker", "bench")
        .and_then(|d| d.wait_blocking())
        .expect("publish");
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let items = chunk.iter().map(|&i| item(i)).collect();
        store
            .create_assignments(items, "boss")
            .and_then(|d| d.wait_blocking())
            .expect("load");
    }
    let journal_mb = std::fs::metadata(dir.path().join("data/journal.jsonl"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!(
        "loaded {n} assignments ({journal_mb:.0} MB of journal) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let baseline = writer_latencies(&store, n + 1_000_000, || {
        std::thread::sleep(Duration::from_secs(3))
    });
    let mut backup_time = Duration::ZERO;
    let mut redone = 0;
    let target = dir.path().join("backup");
    let during = writer_latencies(&store, n + 2_000_000, || {
        let t = Instant::now();
        let report = store::backup(&store, &target).expect("backup");
        backup_time = t.elapsed();
        redone = report.redone_lines;
    });
    println!(
        "backup: {:.2} s, {redone} journal lines written during the copy and redone in the backup",
        backup_time.as_secs_f64()
    );
    report("baseline (no backup)", &baseline);
    report("during the backup   ", &during);
    let longest = during.last().copied().unwrap_or_default();
    println!(
        "longest write wait during the backup / backup duration = {:.3} (a backup holding the \
         write lock for its copy: ≥ 1)",
        longest.as_secs_f64() / backup_time.as_secs_f64().max(1e-9)
    );
    println!(
        "p99 during / p99 baseline = {:.2}",
        percentile(&during, 0.99).as_secs_f64() / percentile(&baseline, 0.99).as_secs_f64()
    );
    store.close().expect("close");
}

fn item(i: usize) -> NewAssignment {
    NewAssignment {
        questionnaire: "worker".into(),
        allowed_versions: None,
        enumerator: "e1".into(),
        target: Target {
            unit_id: format!("U{i}"),
            tier: Some((i % 3) as u32),
            province: Some("HN".into()),
        },
        preload: serde_json::value::RawValue::from_string(format!(
            "{{\"note\": \"{}\"}}",
            "x".repeat(2000)
        ))
        .ok(),
        preload_protected: false,
        quantity: None,
    }
}

/// Runs a writer (one durable write at a time) while `during` runs; returns the sorted
/// latencies of the writes acknowledged meanwhile.
fn writer_latencies(store: &Store, first_id: usize, during: impl FnOnce()) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = store.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut i = first_id;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                store
                    .create_assignments(vec![item(i)], "boss")
                    .and_then(|d| d.wait_blocking())
                    .expect("write");
                latencies.push(t.elapsed());
                i += 1;
            }
            latencies
        })
    };
    during();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = writer.join().expect("writer");
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(label: &str, sorted: &[Duration]) {
    println!(
        "{label}: {} writes, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sorted.len(),
        percentile(sorted, 0.5).as_secs_f64() * 1e3,
        percentile(sorted, 0.99).as_secs_f64() * 1e3,
        sorted.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}
