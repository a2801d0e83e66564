//! A readable outline of a questionnaire for designers (`questionnaire show`): sections,
//! questions with their types, choices, skip conditions, rules and rosters, indented by
//! nesting, in one language.

use std::fmt::Write;

use crate::questionnaire::model::{Item, ItemKind, Questionnaire, Required, RuleSeverity};
use crate::questionnaire::text::Text;

/// Renders the outline in `lang` (falling back to the default language for missing texts).
pub fn outline(questionnaire: &Questionnaire, lang: &str) -> String {
    let fallback = questionnaire.default_language();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} version {} (languages: {})",
        questionnaire.title.get_or(lang, fallback),
        questionnaire.id,
        questionnaire.version,
        questionnaire.languages.join(", ")
    );
    let mut ctx = Ctx {
        questionnaire,
        lang,
        fallback,
        out,
    };
    for item in &questionnaire.items {
        ctx.item(item, 1);
    }
    ctx.out
}

struct Ctx<'q> {
    questionnaire: &'q Questionnaire,
    lang: &'q str,
    fallback: &'q str,
    out: String,
}

impl Ctx<'_> {
    fn text<'t>(&self, text: Option<&'t Text>) -> &'t str {
        text.map(|t| t.get_or(self.lang, self.fallback))
            .unwrap_or("")
    }

    fn line(&mut self, depth: usize, text: &str) {
        let _ = writeln!(self.out, "{}{text}", "  ".repeat(depth));
    }

    fn item(&mut self, item: &Item, depth: usize) {
        let label = self.text(item.label.as_ref());
        let head = match item.kind {
            ItemKind::Group => format!("[group] {} — {label}", item.name),
            ItemKind::Roster => {
                let mut bounds = Vec::new();
                if let Some(count) = &item.count {
                    bounds.push(format!("count {}", count.source));
                }
                if let Some(min) = item.min {
                    bounds.push(format!("min {min}"));
                }
                if let Some(max) = item.max {
                    bounds.push(format!("max {max}"));
                }
                let bounds = if bounds.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", bounds.join(", "))
                };
                format!("[roster] {}{bounds} — {label}", item.name)
            }
            ItemKind::Note => format!("[note] {} — {label}", item.name),
            ItemKind::Calculate => format!(
                "[calculate] {} = {}",
                item.name,
                item.calculation.as_ref().map_or("", |e| e.source.as_str())
            ),
            ItemKind::Question => {
                let qtype = item.question_type.map_or("?", |t| t.as_str());
                let mut flags = Vec::new();
                match &item.required {
                    Required::No => {}
                    Required::Yes => flags.push("required".to_string()),
                    Required::When(e) => flags.push(format!("required if {}", e.source)),
                }
                if item.allow_dont_know {
                    flags.push("DK allowed".to_string());
                }
                if item.allow_refused {
                    flags.push("refusal allowed".to_string());
                }
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(", {}", flags.join(", "))
                };
                format!("{} ({qtype}{flags}) — {label}", item.name)
            }
        };
        self.line(depth, &head);
        if !item.aliases.is_empty() {
            self.line(depth + 2, &format!("formerly: {}", item.aliases.join(", ")));
        }
        if let Some(relevant) = &item.relevant {
            self.line(depth + 2, &format!("asked if: {}", relevant.source));
        }
        if let Some(hint) = &item.hint {
            let hint = hint.get_or(self.lang, self.fallback).to_string();
            self.line(depth + 2, &format!("hint: {hint}"));
        }
        if let Some(list_name) = &item.choices {
            match self.questionnaire.choice_list(list_name) {
                Some(list) => {
                    let shown: Vec<String> = list
                        .choices
                        .iter()
                        .map(|c| {
                            format!("{}={}", c.value, c.label.get_or(self.lang, self.fallback))
                        })
                        .collect();
                    self.line(
                        depth + 2,
                        &format!("choices ({list_name}): {}", shown.join("; ")),
                    );
                }
                None => self.line(depth + 2, &format!("choices: {list_name} (undefined list)")),
            }
        }
        if let Some(filter) = &item.choice_filter {
            self.line(depth + 2, &format!("choice filter: {}", filter.source));
        }
        for rule in &item.rules {
            let severity = match rule.severity {
                RuleSeverity::Error => "error",
                RuleSeverity::Warning => "warning",
            };
            let message = rule.message.get_or(self.lang, self.fallback).to_string();
            self.line(
                depth + 2,
                &format!("rule ({severity}): {} — {message}", rule.check.source),
            );
        }
        for child in &item.items {
            self.item(child, depth + 1);
        }
    }
}
