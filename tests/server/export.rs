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
