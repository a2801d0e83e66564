//! Online backup without blocking writers, and journal compaction tied to backups.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chainsurvey::store::{self, Store};
use serde_json::{Value, json};

use crate::server::durability::{add_assignments, assigned_counter, populate};
use crate::server::harness::World;
use crate::server::http::request;

fn manifest(backup: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(backup.join("backup.json")).unwrap()).unwrap()
}

/// The database a journal prefix describes: the first `end` bytes of `data`'s journal
/// replayed into a fresh directory by `recover`.
fn dump_of_journal_prefix(data: &Path, end: u64) -> Vec<(String, String, Value)> {
    let scratch = tempfile::tempdir().unwrap();
    let journal = std::fs::read(data.join("journal.jsonl")).unwrap();
    std::fs::write(
        scratch.path().join("journal.jsonl"),
        &journal[..end as usize],
    )
    .unwrap();
    store::recover(scratch.path()).unwrap();
    let store = Store::open(scratch.path()).unwrap();
    let dump = store.dump().unwrap();
    store.close().unwrap();
    dump
}

fn dump_of(dir: &Path) -> Vec<(String, String, Value)> {
    let store = Store::open(dir).unwrap();
    let dump = store.dump().unwrap();
    store.close().unwrap();
    dump
}

fn count(dump: &[(String, String, Value)], tree: &str) -> usize {
    dump.iter().filter(|(t, _, _)| t == tree).count()
}

#[test]
fn a_write_is_acknowledged_while_the_backup_copies_and_the_backup_is_exact_at_its_point() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 200);
    // A writer that keeps going during the whole backup.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = store.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut i = 1000;
            while !stop.load(Ordering::Relaxed) {
                add_assignments(&store, i, i + 1);
                i += 1;
            }
            i - 1000
        })
    };
    let backup_dir = out.path().join("backup");
    let mut acknowledged_during_copy = false;
    let report = store
        .backup_observed(&backup_dir, &mut || {
            // A write from another thread must be acknowledged (durably) while the copy
            // holds no lock; with the old design this waited for the whole backup.
            let (tx, rx) = std::sync::mpsc::channel();
            let writer_store = store.clone();
            std::thread::spawn(move || {
                add_assignments(&writer_store, 999_999, 1_000_000);
                let _ = tx.send(true);
            });
            acknowledged_during_copy = rx.recv_timeout(Duration::from_secs(30)) == Ok(true);
        })
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let written_by_writer = writer.join().unwrap();
    assert!(
        acknowledged_during_copy,
        "a write must be acknowledged during the copy"
    );
    assert!(written_by_writer > 0);
    assert!(
        report.redone_lines >= 1,
        "the write acknowledged during the copy is redone in the backup"
    );
    assert!(report.copy_started_at < report.point.journal_end);
    let m = manifest(&backup_dir);
    assert_eq!(m["point"]["journal_end"], json!(report.point.journal_end));
    assert_eq!(m["point"]["tx"], json!(report.point.tx));

    // Exactly the state at the point: what the journal's first `journal_end` bytes describe.
    let backup_dump = dump_of(&backup_dir);
    assert_eq!(
        backup_dump,
        dump_of_journal_prefix(dir.path(), report.point.journal_end)
    );
    // The write acknowledged during the copy is in it, once.
    let units: Vec<&Value> = backup_dump
        .iter()
        .filter(|(t, _, _)| t == "assignments")
        .map(|(_, _, v)| v)
        .filter(|v| v.to_string().contains("U999999"))
        .collect();
    assert_eq!(units.len(), 1);
    // The last event in the backup is the point's sequence.
    let events = count(&backup_dump, "events") as u64;
    assert_eq!(events, report.point.seq);

    // Round trip as before: restore, counters agree, journal recovery equals the database.
    let restored_dir = out.path().join("restored");
    store::restore(&backup_dir, &restored_dir).unwrap();
    let restored = Store::open(&restored_dir).unwrap();
    let restored_dump = restored.dump().unwrap();
    assert_eq!(restored_dump, backup_dump);
    assert_eq!(
        assigned_counter(&restored),
        count(&restored_dump, "assignments") as i64
    );
    restored.close().unwrap();
    drop(restored);
    store::recover(&restored_dir).unwrap();
    assert_eq!(dump_of(&restored_dir), restored_dump);
    store.close().unwrap();
}

#[test]
fn a_backup_over_http_during_concurrent_submissions_holds_every_earlier_one_exactly_once() {
    let w = World::new();
    let r = w.server.post(
        "/api/v1/assignments",
        &w.manager,
        &json!([{"questionnaire": "worker", "enumerator": "enum1", "target": {"unit_id": "B1"}, "quantity": 1_000_000}]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let assignment = r.json()["assignments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Acknowledged submissions, each with the instant its 201 arrived.
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let acked = Arc::clone(&acked);
            let stop = Arc::clone(&stop);
            let addr = w.server.addr;
            let token = w.enumerator.clone();
            let body_of = {
                let assignment = assignment.clone();
                move |instance: &str| {
                    json!({"instance_id": instance, "questionnaire": "worker", "version": "1",
                           "assignment_id": assignment, "answers": {"age": 30 + c, "note": "b"},
                           "paradata": {"device_id": format!("tab-{c}"), "language": "en"}})
                }
            };
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let instance = uuid::Uuid::new_v4().to_string();
                    let bytes = serde_json::to_vec(&body_of(&instance)).unwrap();
                    let r = request(
                        addr,
                        "POST",
                        "/api/v1/submissions",
                        Some(&token),
                        Some("application/json"),
                        &bytes,
                    )
                    .unwrap();
                    assert_eq!(r.status, 201, "{}", r.text());
                    acked.lock().unwrap().push((instance, Instant::now()));
                }
            })
        })
        .collect();
    // Let some submissions through, then back up while the clients keep posting.
    while acked.lock().unwrap().len() < 20 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = tempfile::tempdir().unwrap();
    let backup_dir = out.path().join("b");
    let asked = Instant::now();
    let r = w
        .server
        .post("/api/v1/admin/backup", &w.admin, &json!({"to": backup_dir}));
    let answered = Instant::now();
    assert_eq!(r.status, 200, "{}", r.text());
    // Keep posting a little after, so the server's journal goes beyond the point.
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let during = acked
        .iter()
        .filter(|(_, at)| *at > asked && *at < answered)
        .count();
    assert!(
        during > 0 || answered.duration_since(asked) < Duration::from_millis(50),
        "submissions must keep being acknowledged while the backup runs"
    );

    let point = manifest(&backup_dir)["point"].clone();
    assert_eq!(
        r.json()["point"],
        point,
        "the response names the backup's point"
    );
    let restored_dir = out.path().join("restored");
    store::restore(&backup_dir, &restored_dir).unwrap();
    let restored = Store::open(&restored_dir).unwrap();
    let dump = restored.dump().unwrap();
    restored.close().unwrap();
    drop(restored);
    let mut heads: BTreeMap<&str, usize> = BTreeMap::new();
    for (tree, key, _) in &dump {
        if tree == "submissions" {
            *heads.entry(key.as_str()).or_default() += 1;
        }
    }
    let revisions = count(&dump, "revisions");
    assert_eq!(
        revisions,
        heads.len(),
        "one revision per interview, no duplicate"
    );
    for (instance, at) in &acked {
        if *at < asked {
            assert_eq!(
                heads.get(instance.as_str()),
                Some(&1),
                "{instance} was acknowledged before the backup was asked for"
            );
        }
    }
    // Exactly the server's state at the recorded point, and it recovers to itself.
    let end = point["journal_end"].as_u64().unwrap();
    let live_dir = w.server.store.data_dir().to_path_buf();
    assert_eq!(dump, dump_of_journal_prefix(&live_dir, end));
    assert!(heads.len() < acked.len(), "later submissions are not in it");
    store::recover(&restored_dir).unwrap();
    assert_eq!(dump_of(&restored_dir), dump);
}

#[test]
fn compaction_frees_the_journal_a_backup_holds_and_recover_rebuilds_from_backup_and_journal() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // No backup yet: compaction refuses and changes nothing.
    assert!(store.compact_journal(None).is_err());
    populate(&store, 300);
    let journal = dir.path().join("journal.jsonl");
    let before = std::fs::metadata(&journal).unwrap();
    let first = out.path().join("first");
    let report = store::backup(&store, &first).unwrap();
    add_assignments(&store, 300, 320);
    let compacted = store.compact_journal(None).unwrap();
    assert_eq!(compacted.backup, first.canonicalize().unwrap());
    assert_eq!(compacted.floor, report.point.line_start);
    assert!(compacted.freed_bytes > before.len() / 2);
    // The file keeps its length (stored offsets stay valid) but no longer its blocks.
    let after = std::fs::metadata(&journal).unwrap();
    assert!(after.len() > before.len());
    assert!(
        after.blocks() * 512 < before.blocks() * 512 / 2,
        "blocks {} before, {} after",
        before.blocks(),
        after.blocks()
    );
    // Compacting again to the same backup frees nothing more.
    assert_eq!(store.compact_journal(None).unwrap().freed_bytes, 0);
    // The running store keeps writing, and a second backup carries the compacted journal.
    add_assignments(&store, 320, 340);
    let second = out.path().join("second");
    store::backup(&store, &second).unwrap();
    assert!(
        std::fs::metadata(second.join("journal.jsonl"))
            .unwrap()
            .blocks()
            * 512
            < before.len() / 2,
        "the backup's journal keeps the hole"
    );
    add_assignments(&store, 340, 350);
    let live = store.dump().unwrap();
    store.close().unwrap();
    drop(store);

    // The database is lost: recover starts from the first backup and replays the rest.
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let recovered = store::recover(dir.path()).unwrap();
    assert_eq!(recovered.base, Some(first.canonicalize().unwrap()));
    assert_eq!(recovered.journal_lines, 20 + 20 + 10);
    assert_eq!(dump_of(dir.path()), live);
    assert_eq!(count(&live, "assignments"), 350);

    // A backup of another data directory is refused as a base, changing nothing.
    let other = tempfile::tempdir().unwrap();
    let other_store = Store::open(other.path()).unwrap();
    populate(&other_store, 400);
    let foreign = out.path().join("foreign");
    store::backup(&other_store, &foreign).unwrap();
    other_store.close().unwrap();
    drop(other_store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.compact_journal(Some(&foreign)).is_err());
    // The second backup moves the floor; the first is then older than it and refused.
    let compacted = store.compact_journal(Some(&second)).unwrap();
    assert!(compacted.freed_bytes > 0);
    assert!(store.compact_journal(Some(&first)).is_err());
    store.close().unwrap();
    drop(store);
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let recovered = store::recover(dir.path()).unwrap();
    assert_eq!(recovered.base, Some(second.canonicalize().unwrap()));
    assert_eq!(recovered.journal_lines, 10);
    assert_eq!(dump_of(dir.path()), live);

    // Restoring the second backup gives a data directory that can recover by itself.
    let restored = out.path().join("restored");
    store::restore(&second, &restored).unwrap();
    std::fs::remove_dir_all(restored.join("db")).unwrap();
    let report = store::recover(&restored).unwrap();
    assert_eq!(report.base, Some(second.canonicalize().unwrap()));
    assert_eq!(dump_of(&restored), dump_of(&second));
}

#[test]
fn the_cli_backs_up_compacts_and_recovers_from_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 50);
    let live = store.dump().unwrap();
    store.close().unwrap();
    drop(store);
    let run = |args: &[&std::ffi::OsStr]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };
    let data = dir.path().as_os_str();
    let backup = out.path().join("b");
    // Nothing to compact to yet: a clear refusal.
    let (ok, text) = run(&["compact-journal".as_ref(), "--data".as_ref(), data]);
    assert!(!ok && text.contains("no recorded backup"), "{text}");
    let (ok, text) = run(&[
        "backup".as_ref(),
        "--data".as_ref(),
        data,
        "--to".as_ref(),
        backup.as_os_str(),
        "--compact-journal".as_ref(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("journal compacted"), "{text}");
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let (ok, text) = run(&["recover".as_ref(), "--data".as_ref(), data]);
    assert!(ok, "{text}");
    assert!(
        text.contains("started from the database of the backup"),
        "{text}"
    );
    assert_eq!(dump_of(dir.path()), live);
}

#[test]
fn a_moved_floor_backup_is_named_in_the_refusal_and_accepted_at_its_new_place() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 100);
    let first = out.path().join("first");
    store::backup(&store, &first).unwrap();
    add_assignments(&store, 100, 110);
    store.compact_journal(None).unwrap();
    let live = store.dump().unwrap();
    store.close().unwrap();
    drop(store);
    let moved = out.path().join("archive");
    std::fs::rename(&first, &moved).unwrap();
    // Refused before anything moves: the database stays where it is.
    let err = store::recover(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("first") && err.contains("backup.json"),
        "{err}"
    );
    assert!(dir.path().join("db").is_dir());
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("damaged"))
    );
    let report = Store::recover_from_backup(dir.path(), &moved).unwrap();
    assert_eq!(report.base, Some(moved.clone()));
    assert_eq!(report.journal_lines, 10);
    assert!(report.moved_to.is_some());
    assert_eq!(dump_of(dir.path()), live);
}
