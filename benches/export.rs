//! Export benchmark: load DW-SCS worker interviews directly through the store API, then, at
//! each requested size, time in fresh processes (so each peak RSS is its own):
//! - the baseline: the bare walk over the interviews and their latest revisions
//!   (`ExportView::for_each_batch`, the export's own read path over the export log)
//!   touching every stored byte but decoding nothing: the floor any export over this store
//!   pays;
//! - the export: every level of the questionnaire as CSV (`write_levels`, what
//!   `chainsurvey export` and the HTTP export run) into a counting sink.
//!
//! Both open the data directory as `chainsurvey export` does (`open_for_export`). Each
//! line gives wall time, CPU time (user + system of the process, sled's threads included:
//! the machine is shared, CPU-seconds do not depend on other people's load) and VmHWM.
//!
//! Run: `cargo bench --bench export [-- SIZE...] [--data DIR]`. Sizes default to
//! `100000 1000000`; they are loaded incrementally into one data directory (about 1.1 GB
//! of disk per 100,000 interviews, and 5 to 40 minutes per million on a loaded machine). `--data DIR` keeps the directory, and a later run with
//! the same DIR loads only what is missing (its earlier load time is reported from
//! `DIR/bench-load.json`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

use chainsurvey::export::{Filter, load_layout, open_for_export, write_levels};
use chainsurvey::server::{Engine, QuestionnaireEngine};
use chainsurvey::store::canonical::content_hash;
use chainsurvey::store::{NewAssignment, Role, Store, Submission, Target};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const QUESTIONNAIRE: &str = "dwscs-worker";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("load") => load(Path::new(&args[1]), args[2].parse().expect("N")),
        Some("baseline") => baseline(Path::new(&args[1])),
        Some("export") => export(Path::new(&args[1])),
        _ => driver(&args),
    }
}

/// Load and measure at each size, each phase in its own process.
fn driver(args: &[String]) {
    let mut sizes: Vec<u64> = Vec::new();
    let mut data: Option<PathBuf> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--data" {
            data = rest.next().map(PathBuf::from);
        } else if let Ok(n) = arg.replace('_', "").parse() {
            sizes.push(n);
        } else {
            eprintln!("usage: cargo bench --bench export [-- SIZE... [--data DIR]]");
            std::process::exit(2);
        }
    }
    if sizes.is_empty() {
        sizes = vec![100_000, 1_000_000];
    }
    sizes.sort_unstable();
    let temp;
    let data = match data {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new()
                .prefix("chainsurvey-export-")
                .tempdir_in(std::env::temp_dir())
                .expect("temp dir");
            temp.path().join("data")
        }
    };
    let dir = data.to_str().expect("UTF-8 path").to_owned();
    println!("export bench: data directory {dir}");
    for n in sizes {
        child(&["load", &dir, &n.to_string()]);
        child(&["baseline", &dir]);
        child(&["export", &dir]);
    }
}

fn child(args: &[&str]) {
    let status = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(args)
        .status()
        .expect("run phase");
    assert!(status.success(), "phase {args:?} failed");
}

/// What has been loaded into a bench data directory, and what it cost.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Loaded {
    interviews: u64,
    wall_seconds: f64,
    cpu_seconds: f64,
    assignments: Vec<String>,
}

fn load_record(data: &Path) -> Loaded {
    std::fs::read(data.join("bench-load.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Interviews per `submit_many` call while loading.
const LOAD_BATCH: usize = 2000;

/// Loads interviews until the directory holds `n`.
fn load(data: &Path, n: u64) {
    let mut record = load_record(data);
    if record.interviews >= n {
        println!(
            "load: {} interviews already loaded in {:.0} s ({:.0}/s wall, {:.0} per CPU-second)",
            record.interviews,
            record.wall_seconds,
            record.interviews as f64 / record.wall_seconds.max(0.01),
            record.interviews as f64 / record.cpu_seconds.max(0.01),
        );
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let store = Store::open(data).expect("open");
    let engine = QuestionnaireEngine::new();
    let (definition, linted) = common::worker_questionnaire(&engine);
    if record.assignments.is_empty() {
        common::publish_as_boss(&store, &definition, &linted);
        store
            .add_user("enum", Role::Enumerator, None, None, "bench")
            .and_then(|d| d.wait_blocking())
            .expect("user");
        let items: Vec<NewAssignment> = (0..1000)
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
        record.assignments = store
            .create_assignments(items, "boss")
            .and_then(|d| d.wait_blocking())
            .expect("assignments")
            .into_iter()
            .map(|a| a.id)
            .collect();
    }
    let published = store
        .published(&linted.id, &linted.version)
        .expect("read")
        .expect("published");
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
            .validate(&published.hash, published.definition.get(), &answers, "vi")
            .unwrap_or_else(|_| panic!("{name} validates"));
        examples.push((
            answers,
            serde_json::to_value(&validated.warnings).unwrap_or_default(),
            validated.calculations,
        ));
    }
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let first = record.interviews;
    // Batches through `submit_many`: one write and one group commit per batch, the same
    // database as `submit` one by one.
    let mut batch = Vec::with_capacity(LOAD_BATCH);
    for i in first..n {
        let i = i as usize;
        let (answers, warnings, calculations) = &examples[i % examples.len()];
        let assignment = &record.assignments[i % record.assignments.len()];
        let content = json!({"questionnaire": linted.id, "version": linted.version, "assignment_id": assignment,
            "answers": answers, "paradata": {"device_id": format!("tablet-{}", i % 200), "language": "vi"}});
        batch.push(Submission {
            instance_id: uuid::Uuid::new_v4().to_string(),
            assignment_id: assignment.clone(),
            questionnaire: linted.id.clone(),
            version: linted.version.clone(),
            definition_hash: published.hash.clone(),
            content_hash: content_hash(&content),
            content,
            warnings: warnings.clone(),
            calculations: calculations.clone(),
        });
        if batch.len() == LOAD_BATCH || i as u64 + 1 == n {
            store
                .submit_many(batch.drain(..).map(|s| (s, &enumerator)))
                .and_then(|d| d.wait_blocking())
                .expect("durable batch");
        }
        if (i + 1).is_multiple_of(100_000) {
            println!(
                "  loaded {} interviews ({:.0}/s)",
                i + 1,
                (i as u64 + 1 - first) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    store.close().expect("close");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    record.interviews = n;
    record.wall_seconds += seconds;
    record.cpu_seconds += cpu;
    std::fs::write(
        data.join("bench-load.json"),
        serde_json::to_vec(&record).expect("json"),
    )
    .expect("write load record");
    println!(
        "load: {} interviews in {seconds:.1} s ({:.0}/s wall, {:.0} per CPU-second); {n} in all",
        n - first,
        (n - first) as f64 / seconds,
        (n - first) as f64 / cpu.max(0.01),
    );
}

/// The floor: walk every interview and its latest revision, touching each stored byte.
fn baseline(data: &Path) {
    let store = open_for_export(data).expect("open");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut walked = 0u64;
    let mut bytes = 0u64;
    let mut checksum = 0u8;
    store
        .for_each_batch(
            QUESTIONNAIRE,
            |_, _| true,
            |batch| {
                walked += batch.len() as u64;
                bytes += batch.bytes().len() as u64;
                checksum ^= batch.bytes().iter().fold(0u8, |a, b| a ^ b);
                Ok::<(), chainsurvey::store::Error>(())
            },
        )
        .expect("walk");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    std::hint::black_box(checksum);
    println!(
        "baseline walk: {walked} interviews, {:.0} MB of revisions in {seconds:.2} s = {:.0} interviews/s wall, {:.0} per CPU-second; peak RSS {} MB",
        bytes as f64 / 1e6,
        walked as f64 / seconds,
        walked as f64 / cpu.max(0.01),
        peak_rss_mb()
    );
    write_figure(data, "baseline", walked as f64 / cpu.max(0.01));
}

/// The export of every level into counting sinks.
fn export(data: &Path) {
    let store = open_for_export(data).expect("open");
    let (layout, _) = load_layout(&store, QUESTIONNAIRE).expect("layout");
    let outputs: Vec<(usize, CountingSink)> = (0..layout.levels.len())
        .map(|i| (i, CountingSink(0)))
        .collect();
    let columns = layout.levels[0].columns.len() + 7;
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let rows = write_levels(&store, &layout, outputs, &Filter::default()).expect("export");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let main_rows = rows[0];
    let all_rows: u64 = rows.iter().sum();
    let per_cpu = main_rows as f64 / cpu.max(0.01);
    let baseline = read_figure(data, "baseline");
    println!(
        "export: {main_rows} main-level rows x {columns} columns ({all_rows} rows in {} levels) in {seconds:.2} s = {:.0} rows/s wall, {per_cpu:.0} rows per CPU-second (baseline walk / export CPU = {:.2}); peak RSS {} MB",
        layout.levels.len(),
        main_rows as f64 / seconds,
        baseline / per_cpu,
        peak_rss_mb()
    );
}

fn write_figure(data: &Path, name: &str, value: f64) {
    let _ = std::fs::write(data.join(format!("bench-{name}.txt")), value.to_string());
}

fn read_figure(data: &Path, name: &str) -> f64 {
    std::fs::read_to_string(data.join(format!("bench-{name}.txt")))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(f64::NAN)
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
