//! Export benchmark: load N interviews (default 1,000,000 DW-SCS worker interviews)
//! directly through the store API, then stream the main-level CSV export in a fresh process
//! and print rows/s and that process's peak RSS.
//!
//! Baseline measured in the same run: the bare walk over the same interviews and their
//! latest revisions (the same merge join the export uses) without decoding answers or
//! writing CSV, so the ratio shows what the export itself costs on top of reading the store.
//!
//! Run: `cargo bench --bench export [-- N]`. Needs about 6 GB of disk per million.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chainsurvey::export::{Filter, layout, write_level};
use chainsurvey::server::{Engine, QuestionnaireEngine};
use chainsurvey::store::canonical::content_hash;
use chainsurvey::store::{NewAssignment, Role, Store, Submission, Target};
use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("load") => load(Path::new(&args[1]), args[2].parse().expect("N")),
        Some("run") => run(Path::new(&args[1])),
        other => {
            let n: usize = other.and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
            let dir = tempfile::Builder::new()
                .prefix("chainsurvey-export-")
                .tempdir_in(std::env::temp_dir())
                .expect("temp dir");
            let data = dir.path().join("data");
            // Each phase in its own process, so the export's peak RSS is its own.
            child(&["load", data.to_str().unwrap_or_default(), &n.to_string()]);
            child(&["run", data.to_str().unwrap_or_default()]);
        }
    }
}

fn child(args: &[&str]) {
    let status = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(args)
        .status()
        .expect("run phase");
    assert!(status.success(), "phase {args:?} failed");
}

fn load(data: &Path, n: usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let store = Store::open(data).expect("open");
    let definition: Value = serde_json::from_slice(
        &std::fs::read(root.join("questionnaires/worker.json")).expect("worker.json"),
    )
    .expect("json");
    let engine = QuestionnaireEngine::new();
    let linted = engine
        .lint(&definition)
        .unwrap_or_else(|_| panic!("worker.json lints clean"));
    store
        .add_user("boss", Role::Admin, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
    store
        .add_user("enum", Role::Enumerator, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
    store
        .put_draft(&linted.id, &linted.version, &definition, "boss")
        .and_then(|d| d.wait_blocking())
        .expect("draft");
    let published = store
        .publish(&linted.id, "boss")
        .and_then(|d| d.wait_blocking())
        .expect("publish");
    let definition_text = store
        .published(&linted.id, &linted.version)
        .expect("read")
        .expect("published")
        .definition;
    let n_assignments = 1000;
    let items: Vec<NewAssignment> = (0..n_assignments)
        .map(|c| NewAssignment {
            questionnaire: linted.id.clone(),
            allowed_versions: None,
            enumerator: "enum".into(),
            target: Target {
                unit_id: format!("E{c}"),
                tier: Some((c % 3) as u32),
                province: Some(format!("{:02}", c % 63)),
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
    let enumerator = store.user("enum").expect("read").expect("user");
    // Validate each example once (the engine is not what this bench measures).
    let mut examples = Vec::new();
    let dir = root.join("tests/data/examples/dwscs-worker/valid");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.ends_with(".json") || name.ends_with(".expect.json") {
            continue;
        }
        let answers: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        let validated = engine
            .validate(&published.hash, definition_text.get(), &answers, "vi")
            .unwrap_or_else(|_| panic!("{name} validates"));
        examples.push((
            answers,
            serde_json::to_value(&validated.warnings).unwrap_or_default(),
            validated.calculations,
        ));
    }
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let mut tickets = Vec::new();
    for i in 0..n {
        let (answers, warnings, calculations) = &examples[i % examples.len()];
        let assignment = &assignments[i % n_assignments];
        let content = json!({"questionnaire": linted.id, "version": linted.version, "assignment_id": assignment,
            "answers": answers, "paradata": {"device_id": format!("tablet-{}", i % 200), "language": "vi"}});
        let submission = Submission {
            instance_id: uuid::Uuid::new_v4().to_string(),
            assignment_id: assignment.clone(),
            questionnaire: linted.id.clone(),
            version: linted.version.clone(),
            definition_hash: published.hash.clone(),
            content_hash: content_hash(&content),
            content,
            warnings: warnings.clone(),
            calculations: calculations.clone(),
        };
        tickets.push(store.submit(submission, &enumerator).expect("submit"));
        if tickets.len() == 5000 {
            for t in tickets.drain(..) {
                t.wait_blocking().expect("durable");
            }
        }
        if (i + 1) % 100_000 == 0 {
            println!(
                "loaded {} interviews ({:.0}/s)",
                i + 1,
                (i + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    for t in tickets {
        t.wait_blocking().expect("durable");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "loaded {n} interviews in {seconds:.1} s ({:.0}/s, {:.0} per CPU-second)",
        n as f64 / seconds,
        n as f64 / (cpu_seconds() - cpu_before).max(0.01)
    );
    store.close().expect("close");
}

fn run(data: &Path) {
    let store = Store::open(data).expect("open");
    let versions = store.list_published(Some("dwscs-worker")).expect("list");
    let definitions: Vec<(String, Value)> = versions
        .iter()
        .map(|s| {
            let p = store
                .published(&s.id, &s.version)
                .expect("read")
                .expect("published");
            (
                s.version.clone(),
                serde_json::from_str(p.definition.get()).expect("json"),
            )
        })
        .collect();
    let layout = layout("dwscs-worker", &definitions).expect("layout");
    let level = layout.level(None).expect("main level");

    // Baseline: walk and read, no decoding or CSV.
    let started = Instant::now();
    let mut walked = 0u64;
    for entry in store.latest_revisions("dwscs-worker") {
        let (_interview, _revision) = entry.expect("interview");
        walked += 1;
    }
    let walk_rate = walked as f64 / started.elapsed().as_secs_f64();

    let mut sink = CountingSink(0);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let rows =
        write_level(&store, "dwscs-worker", level, &Filter::default(), &mut sink).expect("export");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let rate = rows as f64 / seconds;
    println!(
        "export: {rows} rows x {} columns, {:.0} MB of CSV in {seconds:.1} s = {rate:.0} rows/s ({:.0} rows per CPU-second); baseline walk {walk_rate:.0} interviews/s (export/walk = {:.2}); peak RSS {} MB",
        level.columns.len() + 7,
        sink.0 as f64 / 1e6,
        rows as f64 / cpu.max(0.01),
        rate / walk_rate,
        peak_rss_mb()
    );
}

struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
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
