//! The export log beside sled: what it holds after reviews and resubmissions, and that
//! every way a data directory comes back (reopen after a crash, recovery, restore, a lost
//! log) gives the export the same interviews.

use std::io::Write as _;
use std::path::Path;

use chainsurvey::store::{self, ExportView, InterviewStatus, Store, User, Verdict};
use serde_json::json;

use crate::server::durability::{copy_dir, populate, submission};

/// What an export sees of each interview, in log order.
type Seen = Vec<(String, u32, InterviewStatus, String)>;

fn seen(view: &ExportView) -> Seen {
    let mut out = Vec::new();
    view.for_each_batch(
        "worker",
        |_, _| true,
        |batch| {
            for r in batch.records() {
                out.push((
                    r.instance_id.to_owned(),
                    r.revision,
                    r.status,
                    String::from_utf8(r.bytes[r.content.clone()].to_vec()).unwrap(),
                ));
            }
            Ok::<(), store::Error>(())
        },
    )
    .unwrap();
    out
}

fn seen_in(dir: &Path) -> Seen {
    seen(&store::open_export_view(dir).unwrap())
}

fn log_files(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let read = |name: &str| std::fs::read(dir.join("export").join(name)).unwrap();
    (read("index.dat"), read("bodies.dat"))
}

fn id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

fn assignments(store: &Store) -> Vec<String> {
    store
        .dump()
        .unwrap()
        .into_iter()
        .filter(|(t, _, _)| t == "assignments")
        .map(|(_, k, _)| k)
        .collect()
}

fn review(store: &Store, i: usize, verdict: Verdict) {
    store
        .review(&id(i), verdict, "c".into(), vec![], "sup")
        .unwrap()
        .wait_blocking()
        .unwrap();
}

fn submit(store: &Store, user: &User, i: usize, assignment: &str, age: usize) {
    store
        .submit(submission(i, assignment, json!({ "age": age })), user)
        .unwrap()
        .wait_blocking()
        .unwrap();
}

/// Four interviews; #1 rejected, resubmitted and approved; #2 approved.
fn reviewed_store(dir: &Path) -> Store {
    let store = Store::open(dir).unwrap();
    populate(&store, 6);
    let user = store.user("e1").unwrap().unwrap();
    let assignments = assignments(&store);
    for (i, assignment) in assignments.iter().take(4).enumerate() {
        submit(&store, &user, i, assignment, 20 + i);
    }
    review(&store, 1, Verdict::Reject);
    submit(&store, &user, 1, &assignments[1], 99);
    review(&store, 2, Verdict::Approve);
    review(&store, 1, Verdict::Approve);
    store
}

#[test]
fn the_export_sees_each_interview_once_in_its_latest_state_in_order_of_latest_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = reviewed_store(dir.path());
    let seen = seen(&store.export_view());
    let order: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(order, [id(0), id(3), id(2), id(1)]);
    let state: Vec<(u32, InterviewStatus)> = seen.iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(
        state,
        [
            (1, InterviewStatus::Completed),
            (1, InterviewStatus::Completed),
            (1, InterviewStatus::Approved),
            (2, InterviewStatus::Approved),
        ]
    );
    // The resubmission's content, not the first revision's.
    assert!(seen[3].3.contains(r#""age":99"#), "{}", seen[3].3);
    assert!(seen[2].3.contains(r#""age":22"#), "{}", seen[2].3);
    // Each record is the sled revision's content byte for byte.
    for (instance, revision, _, content) in &seen {
        let stored = store.revision(instance, *revision).unwrap().unwrap();
        assert_eq!(stored.content.get(), content);
    }

    // Filters use the current status.
    let mut approved = 0;
    store
        .export_view()
        .for_each_batch(
            "worker",
            |status, _| status == InterviewStatus::Approved,
            |batch| {
                approved += batch.len();
                Ok::<(), store::Error>(())
            },
        )
        .unwrap();
    assert_eq!(approved, 2);
    // Another questionnaire's id sees nothing.
    let mut other = 0;
    store
        .export_view()
        .for_each_batch(
            "household",
            |_, _| true,
            |batch| {
                other += batch.len();
                Ok::<(), store::Error>(())
            },
        )
        .unwrap();
    assert_eq!(other, 0);
    let published = store.export_view().published().unwrap();
    assert_eq!(
        published
            .iter()
            .map(|p| (p.id.as_str(), p.version.as_str()))
            .collect::<Vec<_>>(),
        [("worker", "1")]
    );
}

#[test]
fn after_a_crash_the_log_is_cut_to_its_checkpoint_and_redone_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let image = tempfile::tempdir().unwrap();
    let store = reviewed_store(dir.path());
    // The crash image: everything acknowledged so far is on disk (group commits fsync
    // sled and the journal), the export log has its last checkpoint from the open and
    // more after it, and a torn tail of an unacknowledged write.
    copy_dir(dir.path(), image.path());
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(image.path().join("export/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["clean"], false);
    for (name, junk) in [
        ("index.dat", &[0xEEu8; 40][..]),
        ("bodies.dat", &[7u8; 1000][..]),
    ] {
        std::fs::OpenOptions::new()
            .append(true)
            .open(image.path().join("export").join(name))
            .unwrap()
            .write_all(junk)
            .unwrap();
    }
    let expected = seen(&store.export_view());
    store.close().unwrap();
    drop(store);
    let clean: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("export/state.json")).unwrap())
            .unwrap();
    assert_eq!(clean["clean"], true);

    // The command-line view opens the store once to reconcile an unclean directory.
    assert_eq!(seen_in(image.path()), expected);
    assert_eq!(log_files(image.path()), log_files(dir.path()));
}

#[test]
fn recovery_restore_and_a_lost_log_all_give_the_same_log() {
    let dir = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let store = reviewed_store(dir.path());
    let backup = backups.path().join("b1");
    store::backup(&store, &backup).unwrap();
    store.close().unwrap();
    drop(store);
    let expected = seen_in(dir.path());
    let files = log_files(dir.path());
    assert_eq!(expected.len(), 4);

    // The backup holds the same log, and so does a directory restored from it.
    assert_eq!(log_files(&backup), files);
    let restored = backups.path().join("restored");
    store::restore(&backup, &restored).unwrap();
    assert_eq!(seen_in(&restored), expected);

    // Recovery from the journal alone rebuilds the log byte for byte.
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    store::recover(dir.path()).unwrap();
    assert_eq!(log_files(dir.path()), files);

    // A lost log (a directory from before the export log) is projected from the journal.
    std::fs::remove_dir_all(dir.path().join("export")).unwrap();
    Store::open(dir.path()).unwrap().close().unwrap();
    assert_eq!(log_files(dir.path()), files);
    assert_eq!(seen_in(dir.path()), expected);
}

#[test]
fn after_compaction_a_lost_log_is_rebuilt_from_sled_with_the_same_interviews() {
    let dir = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let store = reviewed_store(dir.path());
    store::backup(&store, &backups.path().join("b1")).unwrap();
    let report = store.compact_journal(None).unwrap();
    assert!(report.freed_bytes > 0);
    store.close().unwrap();
    drop(store);
    let mut expected = seen_in(dir.path());
    std::fs::remove_dir_all(dir.path().join("export")).unwrap();
    let mut rebuilt = seen_in(dir.path());
    // Rebuilt from sled, one entry per interview in instance id order.
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    rebuilt.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(rebuilt, expected);
}

#[test]
fn the_command_line_view_refuses_a_database_a_running_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    populate(&store, 1);
    let err = store::open_export_view(dir.path()).err().expect("refused");
    assert!(store::is_in_use(&err), "{err}");
    store.close().unwrap();
    drop(store);
    assert!(store::open_export_view(dir.path()).is_ok());
}

#[test]
fn compaction_records_the_export_point_first_so_a_crash_after_it_still_redoes_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let image = tempfile::tempdir().unwrap();
    let store = reviewed_store(dir.path());
    store::backup(&store, &backups.path().join("b1")).unwrap();
    let user = store.user("e1").unwrap().unwrap();
    let assignment = assignments(&store)[5].clone();
    submit(&store, &user, 5, &assignment, 55);
    // The journal before the backup's point goes; the export log's recorded point (set at
    // open, before all of the above) must move past it first.
    assert!(store.compact_journal(None).unwrap().freed_bytes > 0);
    review(&store, 5, Verdict::Approve);
    copy_dir(dir.path(), image.path());
    let expected = seen(&store.export_view());
    assert_eq!(expected.len(), 5);
    store.close().unwrap();
    drop(store);
    // Redone from the journal after the recorded point: the same files as the live log
    // (a rebuild from sled would have one entry per interview instead of the history).
    assert_eq!(seen_in(image.path()), expected);
    assert_eq!(log_files(image.path()), log_files(dir.path()));
}

#[test]
fn a_damaged_state_or_a_log_shorter_than_its_state_is_rebuilt_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = reviewed_store(dir.path());
    store.close().unwrap();
    drop(store);
    let files = log_files(dir.path());
    let expected = seen_in(dir.path());
    let export = dir.path().join("export");

    std::fs::write(export.join("state.json"), b"{\"format\": 1, \"entr").unwrap();
    Store::open(dir.path()).unwrap().close().unwrap();
    assert_eq!(log_files(dir.path()), files);

    let index = std::fs::OpenOptions::new()
        .write(true)
        .open(export.join("index.dat"))
        .unwrap();
    index.set_len(files.0.len() as u64 - 64).unwrap();
    drop(index);
    Store::open(dir.path()).unwrap().close().unwrap();
    assert_eq!(log_files(dir.path()), files);

    // A state from a newer program is not trusted either.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(export.join("state.json")).unwrap()).unwrap();
    let mut newer = state.clone();
    newer["format"] = json!(99);
    std::fs::write(export.join("state.json"), newer.to_string()).unwrap();
    assert_eq!(seen_in(dir.path()), expected);
    assert_eq!(log_files(dir.path()), files);
}

/// The export view against sled's own latest state (`Store::latest_revisions`), sorted by
/// instance id: every interview once, with its current revision, status and content.
fn sled_truth(store: &Store) -> Seen {
    let mut truth: Seen = store
        .latest_revisions("worker")
        .map(|entry| {
            let (interview, revision) = entry.unwrap();
            (
                interview.instance_id,
                revision.revision,
                interview.status,
                revision.content.get().to_owned(),
            )
        })
        .collect();
    truth.sort_by(|a, b| a.0.cmp(&b.0));
    truth
}

fn sorted(mut seen: Seen) -> Seen {
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    seen
}

#[test]
fn the_export_view_equals_sleds_latest_state_through_random_histories_reopens_and_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let image = tempfile::tempdir().unwrap();
    let mut current = dir.path().to_path_buf();
    let mut store = Store::open(&current).unwrap();
    populate(&store, 40);
    let user = store.user("e1").unwrap().unwrap();
    let assignments = assignments(&store);
    // A fixed xorshift stream: the same history on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut created = 0usize;
    let mut checks = 0;
    for step in 0..300 {
        let roll = next(100);
        if roll < 30 && created < assignments.len() {
            submit(&store, &user, created, &assignments[created], next(90));
            created += 1;
        } else if created > 0 {
            let i = next(created);
            let status = store.interview(&id(i)).unwrap().unwrap().status;
            match (roll % 4, status) {
                (0, s) if s.awaits_review() => review(&store, i, Verdict::Approve),
                (1, s) if s.awaits_review() => review(&store, i, Verdict::Reject),
                (_, InterviewStatus::Rejected) => {
                    submit(&store, &user, i, &assignments[i], 100 + step)
                }
                _ => {}
            }
        }
        if step % 50 == 49 {
            assert_eq!(
                sorted(seen(&store.export_view())),
                sled_truth(&store),
                "step {step}"
            );
            checks += 1;
            match step / 50 % 3 {
                // A clean reopen.
                0 => {
                    store.close().unwrap();
                    drop(store);
                    store = Store::open(&current).unwrap();
                }
                // A crash: continue from a copy of the directory as it is on disk.
                1 => {
                    let target = image.path().join(format!("crash-{step}"));
                    copy_dir(&current, &target);
                    store.close().unwrap();
                    drop(store);
                    current = target;
                    store = Store::open(&current).unwrap();
                }
                _ => {}
            }
            assert_eq!(
                sorted(seen(&store.export_view())),
                sled_truth(&store),
                "step {step} reopened"
            );
        }
    }
    assert_eq!(checks, 6);
    let truth = sled_truth(&store);
    assert_eq!(truth.len(), created);
    assert!(truth.iter().any(|t| t.1 > 1), "some resubmissions");
    assert!(truth.iter().any(|t| t.2 == InterviewStatus::Approved));
}
