//! `chainsurvey questionnaire lint|show|diff|validate`, run as a user runs them.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::questionnaire::{clean_json, fixture_path};

/// Runs `chainsurvey questionnaire <args>` and asserts the exit code; returns stdout and
/// stderr.
fn check_cli(args: &[&str], expected_code: i32) -> (String, String) {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .arg("questionnaire")
        .args(args)
        .output()
        .expect("run chainsurvey");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(expected_code),
        "args {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write temp file");
    path.display().to_string()
}

fn clean() -> String {
    fixture_path("clean.json").display().to_string()
}

#[test]
fn lint_clean_and_broken_files() {
    let (stdout, _) = check_cli(&["lint", &clean()], 0);
    assert!(stdout.contains("0 error(s), 0 warning(s)"), "{stdout}");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut broken = clean_json();
    broken["items"][1]["items"][1]["relevant"] = json!("${consnt} = '1'");
    let broken = write(dir.path(), "broken.json", &broken.to_string());
    let (stdout, _) = check_cli(&["lint", &clean(), &broken], 1);
    assert!(
        stdout.contains(&format!(
            "{broken}: error[undefined_reference] /items/1/items/1/relevant (col 1):"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean `consent`?"), "{stdout}");
    let (stdout, _) = check_cli(&["lint", "--format", "json", &broken], 1);
    let report: Value = serde_json::from_str(&stdout).expect("JSON output");
    let finding = &report["files"][0]["diagnostics"][0];
    assert_eq!(finding["code"], "undefined_reference");
    assert_eq!(finding["path"], "/items/1/items/1/relevant");
    assert_eq!(finding["column"], 1);
    assert_eq!(finding["severity"], "error");
}

#[test]
fn unreadable_and_invalid_files_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.json").display().to_string();
    let (_, stderr) = check_cli(&["lint", &missing], 2);
    assert!(
        stderr.contains("nope.json: cannot read the file"),
        "{stderr}"
    );
    let malformed = write(dir.path(), "malformed.json", "{\"id\": ");
    let (stdout, _) = check_cli(&["lint", &malformed], 2);
    assert!(stdout.contains("error[json_syntax]"), "{stdout}");
    let array = write(dir.path(), "array.json", "[]");
    let (_, stderr) = check_cli(&["show", &array], 2);
    assert!(stderr.contains("error[not_an_object]"), "{stderr}");
    let (_, stderr) = check_cli(&["diff", &clean(), &malformed], 2);
    assert!(stderr.contains("malformed.json"), "{stderr}");
    let (_, stderr) = check_cli(&["validate", &clean(), &malformed], 2);
    assert!(stderr.contains("error[json_syntax]"), "{stderr}");
}

#[test]
fn show_prints_an_outline_in_the_requested_language() {
    let (stdout, _) = check_cli(&["show", &clean(), "--lang", "vi"], 0);
    assert!(
        stdout.starts_with("Khảo sát nhỏ — test-mini version 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  [group] sec_a — A. Người trả lời"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    age (integer, required, refusal allowed) — Tuổi"),
        "{stdout}"
    );
    assert!(stdout.contains("asked if: ${consent} = '1'"), "{stdout}");
    assert!(stdout.contains("choices (sex): 1=Nam; 2=Nữ"), "{stdout}");
    assert!(stdout.contains("rule (warning): . < 80"), "{stdout}");
    assert!(
        stdout.contains("  [roster] children (count ${n_children}, max 10) — Con"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    [roster] jobs (min 0, max 3)"),
        "{stdout}"
    );
    let (stdout, _) = check_cli(&["show", &clean()], 0);
    assert!(
        stdout.contains("choices (sex): 1=Male; 2=Female"),
        "{stdout}"
    );
}

#[test]
fn diff_exit_code_follows_the_verdict() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut added = clean_json();
    added["items"].as_array_mut().expect("items").push(json!({
        "kind": "question", "name": "phone", "type": "text",
        "label": {"en": "Phone", "vi": "Điện thoại"}}));
    let added = write(dir.path(), "added.json", &added.to_string());
    let (stdout, _) = check_cli(&["diff", &clean(), &added], 0);
    assert!(stdout.contains("compatible[question_added]"), "{stdout}");
    let mut removed = clean_json();
    removed["items"][1]["items"]
        .as_array_mut()
        .expect("items")
        .remove(8);
    let removed = write(dir.path(), "removed.json", &removed.to_string());
    let (stdout, _) = check_cli(&["diff", &clean(), &removed], 1);
    assert!(stdout.contains("BREAKING[question_removed]"), "{stdout}");
    let (stdout, _) = check_cli(&["diff", "--format", "json", &clean(), &removed], 1);
    let report: Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(report["verdict"], "breaking");
    assert_eq!(report["changes"][0]["code"], "question_removed");
}

#[test]
fn validate_reports_findings_and_calculations() {
    let answers = fixture_path("clean_answers.json").display().to_string();
    let (stdout, _) = check_cli(&["validate", &clean(), &answers, "--format", "json"], 0);
    let report: Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(report["valid"], true);
    assert_eq!(report["calculations"]["total_child_hours"], 15.5);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut bad: Value =
        serde_json::from_str(&std::fs::read_to_string(&answers).expect("read")).expect("JSON");
    bad["hours"] = json!(120);
    let bad = write(dir.path(), "bad.json", &bad.to_string());
    let (stdout, _) = check_cli(&["validate", &clean(), &bad, "--lang", "vi"], 1);
    assert!(
        stdout.contains("error[rule_failed] /hours: Số giờ phải từ 0 đến 112"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning[rule_failed] /hours: Trên 84 giờ"),
        "{stdout}"
    );
    let (stdout, _) = check_cli(&["validate", "--format", "json", &clean(), &bad], 1);
    let report: Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 1);
    assert_eq!(report["warnings"], 1);
    // A definition with lint errors cannot validate anything.
    let mut broken = clean_json();
    broken["items"][1]["items"][1]["relevant"] = json!("${nope}");
    let broken = write(dir.path(), "broken.json", &broken.to_string());
    let (_, stderr) = check_cli(&["validate", &broken, &answers], 2);
    assert!(stderr.contains("lint errors"), "{stderr}");
}
