//! Streamed CSV export over HTTP: levels, keys, union of versions, missing codes, codebook.

use serde_json::json;

use crate::server::harness::{World, questionnaire_with};
use crate::server::http::request;

#[test]
fn export_streams_each_level_with_keys_versions_and_missing_codes() {
    let w = World::new();
    let s = &w.server;
    // Version 2 adds a question; an assignment allows both versions.
    assert_eq!(
        s.post(
            "/api/v1/questionnaires/drafts",
            &w.designer,
            &questionnaire_with("2", false)
        )
        .status,
        201
    );
    assert_eq!(
        s.post(
            "/api/v1/questionnaires/drafts/worker/publish",
            &w.designer,
            &json!({})
        )
        .status,
        201
    );
    assert_eq!(
        s.post(
            "/api/v1/questionnaires/drafts",
            &w.designer,
            &questionnaire_with("3", true)
        )
        .status,
        201
    );
    assert_eq!(
        s.post(
            "/api/v1/questionnaires/drafts/worker/publish",
            &w.designer,
            &json!({})
        )
        .status,
        201
    );
    let r = s.post(
        "/api/v1/assignments",
        &w.manager,
        &json!({"questionnaire": "worker", "allowed_versions": ["2", "3"], "enumerator": "enum1", "target": {"unit_id": "U9"}, "quantity": 2}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let assignment = r.json()["assignments"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = "11111111-1111-4111-8111-111111111111";
    let b = "22222222-2222-4222-8222-222222222222";
    let mut first = w.submission(a, &assignment, json!({"age": 30, "sex": "2", "jobs": [
        {"job_title": "assembler", "job_hours": 48}, {"job_title": "cleaner", "job_hours": {"missing": "refused"}}]}));
    first["version"] = json!("2");
    let mut second = w.submission(
        b,
        &assignment,
        json!({"age": {"missing": "dont_know"}, "union_member": "1"}),
    );
    second["version"] = json!("3");
    assert_eq!(
        s.post("/api/v1/submissions", &w.enumerator, &first).status,
        201
    );
    assert_eq!(
        s.post("/api/v1/submissions", &w.enumerator, &second).status,
        201
    );

    let main = request(
        s.addr,
        "GET",
        "/api/v1/exports/worker.csv",
        Some(&w.researcher),
        None,
        b"",
    )
    .expect("export");
    assert_eq!(main.status, 200, "{}", main.text());
    let text = main.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "KEY,instance_id,revision,version,status,enumerator,received_at,age,sex,hours,double_hours,note,union_member"
    );
    assert_eq!(lines.len(), 3);
    let row_a: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with(a))
        .expect("row a")
        .split(',')
        .collect();
    assert_eq!(&row_a[1..6], &[a, "1", "2", "completed", "enum1"]);
    assert_eq!(&row_a[7..], &["30", "2", "-97", "-97", "-97", "-97"]);
    let row_b: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with(b))
        .expect("row b")
        .split(',')
        .collect();
    assert_eq!(&row_b[7..], &["-98", "-97", "-97", "-97", "-97", "1"]);

    let jobs = request(
        s.addr,
        "GET",
        "/api/v1/exports/worker.csv?level=jobs",
        Some(&w.manager),
        None,
        b"",
    )
    .expect("export");
    assert_eq!(jobs.status, 200);
    let text = jobs.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "KEY,PARENT_KEY,instance_id,job_title,job_hours");
    assert_eq!(lines[1], format!("{a}/jobs[1],{a},{a},assembler,48"));
    assert_eq!(lines[2], format!("{a}/jobs[2],{a},{a},cleaner,-99"));
    assert_eq!(lines.len(), 3);

    // Filters: status and dates.
    let none = request(
        s.addr,
        "GET",
        "/api/v1/exports/worker.csv?status=approved",
        Some(&w.manager),
        None,
        b"",
    )
    .expect("export");
    assert_eq!(none.text().lines().count(), 1);
    let future = request(
        s.addr,
        "GET",
        "/api/v1/exports/worker.csv?from=2999-01-01",
        Some(&w.manager),
        None,
        b"",
    )
    .expect("export");
    assert_eq!(future.text().lines().count(), 1);
    let bad = request(
        s.addr,
        "GET",
        "/api/v1/exports/worker.csv?level=nope",
        Some(&w.manager),
        None,
        b"",
    )
    .expect("export");
    assert_eq!(bad.status, 400);
    let forbidden = request(
        s.addr,
        "GET",
        "/api/v1/exports/worker.csv",
        Some(&w.enumerator),
        None,
        b"",
    )
    .expect("export");
    assert_eq!(forbidden.status, 403);

    let codebook = s
        .get("/api/v1/exports/worker/codebook.json", &w.researcher)
        .json();
    assert_eq!(codebook["missing_codes"]["-98"], "don't know");
    let union = &codebook["levels"][0]["columns"][5];
    assert_eq!(union["variable"], "union_member");
    assert_eq!(union["versions"], json!(["3"]));
    assert_eq!(codebook["levels"][1]["level"], "jobs");
    let csv = request(
        s.addr,
        "GET",
        "/api/v1/exports/worker/codebook.csv",
        Some(&w.researcher),
        None,
        b"",
    )
    .expect("codebook");
    let text = csv.text();
    assert!(text.starts_with("level,variable,label_en,label_vi,type,choices,versions"));
    assert!(
        text.contains("worker,sex,Sex,Giới tính,select_one,1=Male; 2=Female,1 2 3"),
        "{text}"
    );
}

/// The status filter takes a comma-separated list; `from`/`to` are inclusive days on the
/// latest revision's arrival; both apply to roster levels too; bad filters are a 400.
#[test]
fn export_filters_by_status_list_and_inclusive_dates() {
    use chainsurvey::store::{parse_date_ms, rfc3339};

    let w = World::new();
    let s = &w.server;
    let a = "aaaaaaaa-1111-4111-8111-111111111111";
    let b = "bbbbbbbb-2222-4222-8222-222222222222";
    let c = "cccccccc-3333-4333-8333-333333333333";
    let r = s.post(
        "/api/v1/assignments",
        &w.manager,
        &json!({"questionnaire": "worker", "enumerator": "enum1", "target": {"unit_id": "U7"}, "quantity": 3}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let assignment = r.json()["assignments"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for (id, title) in [(a, "assembler"), (b, "cleaner"), (c, "driver")] {
        let body = w.submission(
            id,
            &assignment,
            json!({"age": 30, "jobs": [{"job_title": title, "job_hours": 40}]}),
        );
        let r = s.post("/api/v1/submissions", &w.enumerator, &body);
        assert_eq!(r.status, 201, "{}", r.text());
    }
    for (id, verdict) in [(a, "approve"), (b, "reject")] {
        let r = s.post(
            &format!("/api/v1/submissions/{id}/review"),
            &w.supervisor,
            &json!({"verdict": verdict, "comment": "ok"}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let get = |query: &str| {
        request(
            s.addr,
            "GET",
            &format!("/api/v1/exports/worker.csv?{query}"),
            Some(&w.manager),
            None,
            b"",
        )
        .expect("export")
    };
    let ids = |query: &str| -> Vec<String> {
        let r = get(query);
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        let mut ids: Vec<String> = r
            .text()
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap_or_default().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(""), [a, b, c]);
    assert_eq!(ids("status=approved"), [a]);
    assert_eq!(ids("status=completed,rejected"), [b, c]);
    assert_eq!(ids("status=resubmitted"), Vec::<String>::new());

    // Dates: the day each interview arrived, read from its own received_at column.
    let main = get("").text();
    let received = main
        .lines()
        .find(|l| l.starts_with(a))
        .and_then(|l| l.split(',').nth(6))
        .expect("received_at of a")
        .to_owned();
    let day = &received[..10];
    let day_ms = parse_date_ms(day).expect("a date");
    let before = &rfc3339(day_ms - 86_400_000)[..10];
    let after = &rfc3339(day_ms + 86_400_000)[..10];
    assert!(ids(&format!("from={day}&to={day}")).contains(&a.to_owned()));
    assert!(!ids(&format!("to={before}")).contains(&a.to_owned()));
    assert!(!ids(&format!("from={after}")).contains(&a.to_owned()));
    assert_eq!(
        ids(&format!("status=approved&from={before}&to={after}")),
        [a]
    );

    // Roster levels are filtered the same way.
    let jobs = get("level=jobs&status=completed,approved").text();
    let rows: Vec<&str> = jobs.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{jobs}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("{a}/jobs[1],{a},{a},assembler")))
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("{c}/jobs[1],{c},{c},driver")))
    );

    for (query, needle) in [
        ("status=done", "\"done\""),
        ("status=approved,finished", "\"finished\""),
        ("from=22/11/2026", "from"),
        ("to=2026-02-30", "to"),
        (&format!("from={after}&to={before}") as &str, "after"),
    ] {
        let r = get(query);
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        let message = r.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(needle), "{query}: {message}");
    }
    // An unknown questionnaire is a 404 naming it.
    let r = request(
        s.addr,
        "GET",
        "/api/v1/exports/nope.csv",
        Some(&w.manager),
        None,
        b"",
    )
    .expect("export");
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("nope"), "{}", r.text());
}

/// `chainsurvey export` over a data directory a real server filled: refused while the
/// server runs, then the same files and bytes as the HTTP export once it stopped.
mod cli_export {
    use std::net::SocketAddr;
    use std::path::Path;
    use std::sync::Arc;

    use chainsurvey::server::{AppState, Config, QuestionnaireEngine};
    use chainsurvey::store::{Role, Store};
    use serde_json::{Value, json};

    use crate::server::harness::{questionnaire_with, spawn_server};
    use crate::server::http::request;

    fn chainsurvey() -> std::process::Command {
        std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
    }

    /// A server on a data directory the test owns, so it can stop the server and keep the
    /// data.
    struct Live {
        addr: SocketAddr,
        shutdown: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Live {
        fn start(store: Store) -> Live {
            let state = AppState {
                store,
                engine: Arc::new(QuestionnaireEngine::new()),
                config: Arc::new(Config::standard()),
            };
            let (addr, tx, thread) = spawn_server(state);
            Live {
                addr,
                shutdown: Some(tx),
                thread: Some(thread),
            }
        }

        fn call(
            &self,
            method: &str,
            path: &str,
            token: &str,
            body: Option<&Value>,
        ) -> (u16, Vec<u8>) {
            let bytes = body
                .map(|b| serde_json::to_vec(b).expect("json"))
                .unwrap_or_default();
            let r = request(
                self.addr,
                method,
                path,
                Some(token),
                body.map(|_| "application/json"),
                &bytes,
            )
            .expect("request");
            (r.status, r.body)
        }

        /// Stops the server; `serve` closes the store on the way out.
        fn stop(&mut self) {
            if let Some(tx) = self.shutdown.take() {
                let _ = tx.send(());
            }
            if let Some(thread) = self.thread.take() {
                thread.join().expect("server thread");
            }
        }
    }

    impl Drop for Live {
        fn drop(&mut self) {
            self.stop();
        }
    }

    /// Fills a data directory through the HTTP API: two published versions (the second
    /// adds a question), interviews with roster rows, don't know / refused, text that needs
    /// CSV quoting and JSON escapes, one approved. Returns the running server and the
    /// researcher's token.
    fn filled(dir: &Path) -> (Live, String) {
        let store = Store::open(dir).expect("open");
        let token = |name: &str, role: Role, sup: Option<&str>| {
            store
                .add_user(name, role, None, sup, "test")
                .and_then(|d| d.wait_blocking())
                .expect("user")
        };
        let designer = token("dana", Role::Designer, None);
        let manager = token("minh", Role::Manager, None);
        let supervisor = token("sup", Role::Supervisor, None);
        let enumerator = token("enum1", Role::Enumerator, Some("sup"));
        let researcher = token("rita", Role::Researcher, None);
        let live = Live::start(store);
        for (version, extra) in [("2", false), ("3", true)] {
            let (status, body) = live.call(
                "POST",
                "/api/v1/questionnaires/drafts",
                &designer,
                Some(&questionnaire_with(version, extra)),
            );
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
            let (status, _) = live.call(
                "POST",
                "/api/v1/questionnaires/drafts/worker/publish",
                &designer,
                Some(&json!({})),
            );
            assert_eq!(status, 201);
        }
        let (status, body) = live.call(
            "POST",
            "/api/v1/assignments",
            &manager,
            Some(&json!({"questionnaire": "worker", "allowed_versions": ["2", "3"], "enumerator": "enum1",
                "target": {"unit_id": "U9"}, "quantity": 10})),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let assignment =
            serde_json::from_slice::<Value>(&body).expect("json")["assignments"][0]["id"]
                .as_str()
                .expect("id")
                .to_owned();
        let interviews = [
            (
                "11111111-1111-4111-8111-111111111111",
                "2",
                json!({"age": 30, "sex": "2", "note": "line one\nline \"two\", ok",
                "jobs": [{"job_title": "assembler, line 3", "job_hours": 48}, {"job_title": "cleaner", "job_hours": {"missing": "refused"}}]}),
            ),
            (
                "22222222-2222-4222-8222-222222222222",
                "3",
                json!({"age": {"missing": "dont_know"}, "union_member": "1", "note": "Bắc Ninh \\ tab\there"}),
            ),
            (
                "33333333-3333-4333-8333-333333333333",
                "3",
                json!({"age": 52, "hours": 90, "jobs": [{"job_title": "driver"}]}),
            ),
        ];
        for (id, version, answers) in interviews {
            let body = json!({"instance_id": id, "questionnaire": "worker", "version": version,
                "assignment_id": assignment, "answers": answers, "paradata": {"device_id": "tab-1", "language": "en"}});
            let (status, text) = live.call("POST", "/api/v1/submissions", &enumerator, Some(&body));
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&text));
        }
        let (status, _) = live.call(
            "POST",
            "/api/v1/submissions/33333333-3333-4333-8333-333333333333/review",
            &supervisor,
            Some(&json!({"verdict": "approve"})),
        );
        assert_eq!(status, 200);
        (live, researcher)
    }

    fn read(dir: &Path, name: &str) -> Vec<u8> {
        std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn cli_export_writes_the_http_files_byte_for_byte_and_refuses_a_running_server() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        let (mut live, researcher) = filled(&data);
        let mut http = Vec::new();
        for (path, file) in [
            ("/api/v1/exports/worker.csv", "worker.csv"),
            ("/api/v1/exports/worker.csv?level=jobs", "jobs.csv"),
            ("/api/v1/exports/worker/codebook.json", "codebook.json"),
            ("/api/v1/exports/worker/codebook.csv", "codebook.csv"),
            (
                "/api/v1/exports/worker.csv?status=approved,rejected",
                "approved/worker.csv",
            ),
            (
                "/api/v1/exports/worker.csv?level=jobs&status=approved",
                "approved/jobs.csv",
            ),
        ] {
            let (status, body) = live.call("GET", path, &researcher, None);
            assert_eq!(status, 200, "{path}");
            http.push((file, body));
        }
        // The data under test is the intended one (quoting, escapes, codes all present).
        let main = String::from_utf8(http[0].1.clone()).expect("UTF-8");
        assert!(
            main.contains("\"line one\nline \"\"two\"\", ok\""),
            "{main}"
        );
        assert!(main.contains("Bắc Ninh \\ tab\there"), "{main}");
        assert!(main.contains(",-98,"), "{main}");
        assert_eq!(
            main.lines().count(),
            5,
            "header + 3 rows, one spanning two lines"
        );
        let approved = String::from_utf8(http[4].1.clone()).expect("UTF-8");
        assert_eq!(approved.lines().count(), 2, "{approved}");

        // While the server runs, the database is locked: a clear refusal, exit code 2,
        // and nothing written.
        let out = tmp.path().join("out");
        let run = |extra: &[&str]| {
            chainsurvey()
                .args(["export", "--data"])
                .arg(&data)
                .args(["--questionnaire", "worker", "--out"])
                .arg(&out)
                .args(extra)
                .output()
                .expect("run chainsurvey export")
        };
        let refused = run(&[]);
        assert_eq!(refused.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("database in use"), "{stderr}");
        assert!(
            stderr.contains("HTTP export") && stderr.contains("stop the server"),
            "{stderr}"
        );
        assert!(!out.exists(), "nothing written while refused");

        live.stop();
        let done = run(&[]);
        assert_eq!(
            done.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let listing = String::from_utf8_lossy(&done.stdout);
        assert!(
            listing.contains("worker.csv\t3") && listing.contains("jobs.csv\t3"),
            "{listing}"
        );
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .expect("out")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["codebook.csv", "codebook.json", "jobs.csv", "worker.csv"]
        );
        for (file, body) in &http[..4] {
            assert!(
                read(&out, file) == *body,
                "{file} differs from the HTTP export"
            );
        }

        // The same filter means the same thing in both.
        let filtered = tmp.path().join("out-approved");
        let done = chainsurvey()
            .args(["export", "--data"])
            .arg(&data)
            .args([
                "--questionnaire",
                "worker",
                "--status",
                "approved,rejected",
                "--out",
            ])
            .arg(&filtered)
            .output()
            .expect("run");
        assert_eq!(
            done.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        assert!(
            read(&filtered, "worker.csv") == http[4].1,
            "filtered main level differs"
        );
        let jobs_approved = chainsurvey()
            .args(["export", "--data"])
            .arg(&data)
            .args(["--questionnaire", "worker", "--status", "approved", "--out"])
            .arg(tmp.path().join("out-jobs"))
            .output()
            .expect("run");
        assert_eq!(jobs_approved.status.code(), Some(0));
        assert!(
            read(&tmp.path().join("out-jobs"), "jobs.csv") == http[5].1,
            "filtered roster level differs"
        );
        // Dates: nothing arrived after tomorrow.
        let later = chainsurvey()
            .args(["export", "--data"])
            .arg(&data)
            .args(["--questionnaire", "worker", "--from", "2999-01-01", "--out"])
            .arg(tmp.path().join("out-later"))
            .output()
            .expect("run");
        assert_eq!(later.status.code(), Some(0));
        let later = read(&tmp.path().join("out-later"), "worker.csv");
        assert_eq!(String::from_utf8_lossy(&later).lines().count(), 1);
    }

    #[test]
    fn cli_export_refuses_unknown_questionnaires_bad_filters_and_missing_data() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        let (mut live, _) = filled(&data);
        live.stop();
        let out = tmp.path().join("out");
        let run = |args: &[&str]| {
            chainsurvey()
                .arg("export")
                .args(args)
                .arg("--out")
                .arg(&out)
                .output()
                .expect("run chainsurvey export")
        };
        let data_arg = data.to_str().expect("UTF-8");
        for (args, needle) in [
            (
                vec!["--data", data_arg, "--questionnaire", "nope"],
                "\"nope\" has no published version (published: worker)",
            ),
            (
                vec![
                    "--data",
                    data_arg,
                    "--questionnaire",
                    "worker",
                    "--status",
                    "done",
                ],
                "status \"done\" is not one of",
            ),
            (
                vec![
                    "--data",
                    data_arg,
                    "--questionnaire",
                    "worker",
                    "--from",
                    "2026-11-31",
                ],
                "from \"2026-11-31\"",
            ),
            (
                vec![
                    "--data",
                    data_arg,
                    "--questionnaire",
                    "worker",
                    "--from",
                    "2026-11-02",
                    "--to",
                    "2026-11-01",
                ],
                "after",
            ),
        ] {
            let r = run(&args);
            assert_eq!(r.status.code(), Some(2), "{args:?}");
            let stderr = String::from_utf8_lossy(&r.stderr);
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
            assert!(!out.join("worker.csv").exists(), "{args:?} wrote files");
        }
        // A directory without a database is refused, and no database is created in it.
        let empty = tmp.path().join("empty");
        let r = run(&[
            "--data",
            empty.to_str().expect("UTF-8"),
            "--questionnaire",
            "worker",
        ]);
        assert_eq!(r.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains("holds no chainsurvey database"), "{stderr}");
        assert!(!empty.exists(), "the export created {}", empty.display());
    }
}
