//! The store's durability machinery: reopen, journal redo, recovery, backup and restore.

use chainsurvey::store::{self, NewAssignment, Role, Store, Target};
use serde_json::json;

/// Fills a store with a bit of everything: users, a questionnaire, assignments, events.
pub fn populate(store: &Store, n_assignments: usize) {
    store
        .add_user("boss", Role::Manager, None, None, "t")
        .unwrap()
        .wait_blocking()
        .unwrap();
    store
        .add_user("sup", Role::Supervisor, None, None, "t")
        .unwrap()
        .wait_blocking()
        .unwrap();
    store
        .add_user("e1", Role::Enumerator, None, Some("sup"), "t")
        .unwrap()
        .wait_blocking()
        .unwrap();
    let q = json!({"id": "worker", "version": "1", "items": []});
    store
        .put_draft("worker", "1", &q, "t")
        .unwrap()
        .wait_blocking()
        .unwrap();
    store
        .publish("worker", "t")
        .unwrap()
        .wait_blocking()
        .unwrap();
    add_assignments(store, 0, n_assignments);
}

pub fn add_assignments(store: &Store, from: usize, to: usize) {
    for i in from..to {
        let item = NewAssignment {
            questionnaire: "worker".into(),
            allowed_versions: None,
            enumerator: "e1".into(),
            target: Target {
                unit_id: format!("U{i}"),
                tier: Some((i % 3) as u32),
                province: Some("HN".into()),
            },
            preload: None,
            preload_protected: false,
            quantity: None,
        };
        store
            .create_assignments(vec![item], "boss")
            .unwrap()
            .wait_blocking()
            .unwrap();
    }
}

/// The progress counter of assignments in status "assigned", over all dimensions.
pub fn assigned_counter(store: &Store) -> i64 {
    store
        .progress()
        .unwrap()
        .rows
        .iter()
        .filter(|r| r.kind == "assignment" && r.dimension == "all" && r.status == "assigned")
        .map(|r| r.count)
        .sum()
}

#[test]
fn acknowledged_writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 20);
    let before = store.dump().unwrap();
    store.close().unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.dump().unwrap(), before);
    // The event sequence continues after the last stored event.
    let last = store
        .changes_since(&store::Feed::All, 0, 1000)
        .unwrap()
        .next;
    add_assignments(&store, 20, 21);
    let page = store.changes_since(&store::Feed::All, last, 1000).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].seq, last + 1);
}

#[test]
fn journal_recovery_rebuilds_exactly_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 30);
    let before = store.dump().unwrap();
    assert!(
        before.len() > 30 * 3,
        "assignments, index entries, events, counters"
    );
    store.close().unwrap();
    drop(store);
    // Damage the database beyond repair: remove it.
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let report = store::recover(dir.path()).unwrap();
    assert_eq!(report.moved_to, None);
    assert_eq!(report.journal_lines, 3 + 2 + 30);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.dump().unwrap(), before);
}

#[test]
fn recovery_moves_a_damaged_database_aside() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 5);
    let before = store.dump().unwrap();
    store.close().unwrap();
    drop(store);
    // Scribble over sled's main file.
    let db_file = dir.path().join("db").join("db");
    std::fs::write(&db_file, vec![0xA5u8; 4096]).unwrap();
    let report = store::recover(dir.path()).unwrap();
    assert!(report.moved_to.is_some_and(|p| p.exists()));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.dump().unwrap(), before);
}

#[test]
fn open_redoes_journal_lines_the_database_lost() {
    // Simulate sled losing its most recent writes: put an older copy of the database back
    // beside the newer journal. Opening must redo the missing transactions.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = tempfile::tempdir().unwrap();
    let snapshot_dir = snapshot.path().join("b");
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 10);
    store::backup(&store, &snapshot_dir).unwrap();
    add_assignments(&store, 10, 25);
    let after = store.dump().unwrap();
    store.close().unwrap();
    drop(store);
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    copy_dir(&snapshot_dir.join("db"), &dir.path().join("db"));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.dump().unwrap(), after);
}

pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn backup_and_restore_round_trip_while_writes_continue() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 10);
    // Writers keep going during the backup; the backup is a consistent cut.
    let writer_store = store.clone();
    let writer = std::thread::spawn(move || add_assignments(&writer_store, 10, 60));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let backup_dir = out.path().join("backup");
    store::backup(&store, &backup_dir).unwrap();
    writer.join().unwrap();
    // The restored copy opens, and its journal recovery equals its database.
    let restored_dir = out.path().join("restored");
    store::restore(&backup_dir, &restored_dir).unwrap();
    let restored = Store::open(&restored_dir).unwrap();
    let restored_dump = restored.dump().unwrap();
    let n_assignments = restored_dump
        .iter()
        .filter(|(t, _, _)| t == "assignments")
        .count();
    assert!((10..=60).contains(&n_assignments));
    // Counters agree with the records in the cut.
    assert_eq!(assigned_counter(&restored), n_assignments as i64);
    restored.close().unwrap();
    drop(restored);
    store::recover(&restored_dir).unwrap();
    let recovered = Store::open(&restored_dir).unwrap();
    assert_eq!(recovered.dump().unwrap(), restored_dump);
    // Restoring over a non-empty directory is refused and changes nothing.
    assert!(store::restore(&backup_dir, &restored_dir).is_err());
    // And the live store has everything.
    assert_eq!(
        store
            .dump()
            .unwrap()
            .iter()
            .filter(|(t, _, _)| t == "assignments")
            .count(),
        60
    );
}

#[test]
fn many_concurrent_writers_share_group_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 0);
    let before = store.commit_batches();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let s = store.clone();
            std::thread::spawn(move || add_assignments(&s, t * 100, t * 100 + 20))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let batches = store.commit_batches() - before;
    assert!(
        batches < 320,
        "320 writes took {batches} group commits: not grouped"
    );
    let count = store
        .dump()
        .unwrap()
        .iter()
        .filter(|(t, _, _)| t == "assignments")
        .count();
    assert_eq!(count, 320);
}

/// A validated-looking submission of `answers` for assignment `assignment`.
pub fn submission(
    instance: usize,
    assignment: &str,
    answers: serde_json::Value,
) -> store::Submission {
    let content = json!({"questionnaire": "worker", "version": "1", "assignment_id": assignment,
        "answers": answers, "paradata": {"language": "vi"}});
    store::Submission {
        instance_id: format!("00000000-0000-4000-8000-{instance:012}"),
        assignment_id: assignment.to_owned(),
        questionnaire: "worker".into(),
        version: "1".into(),
        definition_hash: "h".into(),
        content_hash: store::canonical::content_hash(&content),
        content,
        warnings: json!([]),
        calculations: json!({"n": instance}),
    }
}

/// Timestamps differ between two runs; everything else must not.
fn without_times(
    dump: Vec<(String, String, serde_json::Value)>,
) -> Vec<(String, String, serde_json::Value)> {
    fn clear(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if key.ends_with("_ms") {
                        *v = json!(0);
                    } else {
                        clear(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(clear),
            _ => {}
        }
    }
    dump.into_iter()
        .map(|(t, k, mut v)| {
            clear(&mut v);
            (t, k, v)
        })
        .collect()
}

#[test]
fn submit_many_equals_submit_one_by_one() {
    let one = tempfile::tempdir().unwrap();
    let many = tempfile::tempdir().unwrap();
    let store = Store::open(one.path()).unwrap();
    populate(&store, 12);
    store.close().unwrap();
    drop(store);
    copy_dir(one.path(), many.path());
    let a = Store::open(one.path()).unwrap();
    let b = Store::open(many.path()).unwrap();
    let assignments: Vec<String> = a
        .dump()
        .unwrap()
        .into_iter()
        .filter(|(t, _, _)| t == "assignments")
        .map(|(_, k, _)| k)
        .collect();
    assert_eq!(assignments.len(), 12);
    let user = a.user("e1").unwrap().unwrap();
    // Ten new interviews, then a replay of an earlier item of the same batch, then a
    // replay of the first: both must write nothing.
    let mut items: Vec<store::Submission> = (0..10)
        .map(|i| submission(i, &assignments[i], json!({"age": 20 + i})))
        .collect();
    items.push(submission(3, &assignments[3], json!({"age": 23})));
    items.push(submission(0, &assignments[0], json!({"age": 20})));

    let mut one_by_one = Vec::new();
    for item in items.clone() {
        one_by_one.push(a.submit(item, &user).unwrap().wait_blocking().unwrap());
    }
    let batches_before = b.commit_batches();
    let batched = b
        .submit_many(items.iter().cloned().map(|s| (s, &user)))
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert_eq!(b.commit_batches() - batches_before, 1, "one group commit");
    assert_eq!(batched.len(), 12);
    let replayed = |o: &store::SubmitOutcome| matches!(o, store::SubmitOutcome::Replayed { .. });
    assert_eq!(
        one_by_one.iter().map(replayed).collect::<Vec<_>>(),
        batched.iter().map(replayed).collect::<Vec<_>>()
    );
    assert_eq!(batched.iter().filter(|o| replayed(o)).count(), 2);
    let dump_a = without_times(a.dump().unwrap());
    assert!(dump_a.iter().filter(|(t, _, _)| t == "revisions").count() == 10);
    assert_eq!(dump_a, without_times(b.dump().unwrap()));

    // Replaying the whole batch again writes nothing and answers every item as a replay.
    let before = b.dump().unwrap();
    let again = b
        .submit_many(items.iter().cloned().map(|s| (s, &user)))
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert!(again.iter().all(replayed));
    assert_eq!(b.dump().unwrap(), before);

    // Changed content under a used instance id is a conflict, and the batch is all or
    // nothing: the valid new item before it is not written either.
    let bad = vec![
        submission(10, &assignments[10], json!({"age": 30})),
        submission(1, &assignments[1], json!({"age": 99})),
    ];
    let refused = b.submit_many(bad.into_iter().map(|s| (s, &user)));
    assert!(matches!(refused, Err(store::Error::Conflict(_))));
    assert_eq!(b.dump().unwrap(), before);

    // And the journal rebuilds the batched database exactly.
    b.close().unwrap();
    drop(b);
    std::fs::remove_dir_all(many.path().join("db")).unwrap();
    store::recover(many.path()).unwrap();
    let b = Store::open(many.path()).unwrap();
    assert_eq!(b.dump().unwrap(), before);
}

/// sled can hold a closed store's lock for a moment (its last log write finishes on a
/// thread of its own); an open waits for a lock released within 2 s, and still refuses one
/// held longer (another process).
#[test]
fn an_open_waits_briefly_for_the_database_lock_and_then_refuses() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path()).unwrap().close().unwrap();
    let lock_file = dir.path().join("db").join("db");
    let holder = std::fs::File::open(&lock_file).unwrap();
    holder.try_lock().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(holder);
    });
    let store = Store::open(dir.path()).expect("opens once the lock is released");
    release.join().unwrap();
    store.close().unwrap();
    drop(store);

    let holder = std::fs::File::open(&lock_file).unwrap();
    holder.try_lock().unwrap();
    let started = std::time::Instant::now();
    let err = Store::open(dir.path()).err().expect("refused while held");
    assert!(store::is_in_use(&err), "{err}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    let err = store::open_export_view(dir.path())
        .err()
        .expect("refused while held");
    assert!(store::is_in_use(&err), "{err}");
}
