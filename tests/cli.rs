//! Tests of the `chainsurvey` binary as a user runs it.

use std::process::Command;

fn chainsurvey() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
}

#[test]
fn help_lists_the_questionnaire_command() {
    let out = chainsurvey()
        .arg("--help")
        .output()
        .expect("run chainsurvey");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("questionnaire"), "help was: {text}");
}
