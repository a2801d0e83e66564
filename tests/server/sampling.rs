//! The survey endpoints against a real server: a manager uploads a frame, draws the tier-0
//! sample, turns it into assignments that reach the enumerator through sync, traces links
//! from submitted enterprise interviews, selects workers, and every step is idempotent or
//! replayable.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::server::harness::World;
use crate::server::http::request;

/// Tier 0: T1..T6 (VSIC 26xx); T1 and T2 have ≥ 1000 employees (take-all). Tier 1:
/// S1..S4. X1 is a trader outside the chain.
const UNITS: &str = "\
id,tax_code,name,vsic,province,ownership,employees_male,employees_female
T1,0100000001,Lead One,2630,24,FDI,600,900
T2,0100000002,Lead Two,2610,27,FDI,500,700
T3,0100000003,Three,2630,24,DOM,40,60
T4,0100000004,Four,2640,30,DOM,30,20
T5,0100000005,Five,2630,31,DOM,12,8
T6,0100000006,Six,2680,79,FDI,70,30
S1,0200000001,Sup One,2220,24,DOM,10,5
S2,0200000002,Sup Two,2592,27,DOM,20,25
S3,0200000003,Sup Three,2220,30,DOM,3,4
S4,0200000004,Sup Four,2599,31,DOM,8,2
X1,0300000001,Trader,4659,79,DOM,5,5
";

const LINKS: &str = "\
buyer_id,supplier_id,link_weight
T1,S1,
T1,S2,
T2,S2,
T3,S3,
T1,S4,
T3,S4,
T4,S4,
";

fn design(seed: u64) -> Value {
    json!({
        "schema_version": 1,
        "name": "test tier 0",
        "seed": seed,
        "population": {"tier": ["0"]},
        "take_all": {"column": "employees", "at_least": 1000},
        "sample_size": {"n": 4},
        "selection": {"method": "srswor"},
        "tracing": [{"from_tier": 0, "mode": "take_all"}],
        "workers": {"per_sex": 2}
    })
}

fn t(en: &str, vi: &str) -> Value {
    json!({"en": en, "vi": vi})
}

/// A small lint-clean enterprise questionnaire with the preloaded identification items and
/// the supplier roster.
fn enterprise() -> Value {
    json!({"schema_version": 1, "id": "enterprise", "version": "1", "title": t("Enterprise", "Doanh nghiệp"),
    "languages": ["en", "vi"], "choice_lists": {},
    "items": [
      {"kind": "question", "name": "tax_code", "type": "text", "label": t("Tax code", "Mã số thuế")},
      {"kind": "question", "name": "unit_name", "type": "text", "label": t("Name", "Tên")},
      {"kind": "question", "name": "province", "type": "text", "label": t("Province", "Tỉnh")},
      {"kind": "question", "name": "workers_male", "type": "integer", "label": t("Male workers", "Lao động nam")},
      {"kind": "question", "name": "workers_female", "type": "integer", "label": t("Female workers", "Lao động nữ")},
      {"kind": "roster", "name": "suppliers", "label": t("Suppliers", "Nhà cung cấp"), "items": [
        {"kind": "question", "name": "sup_tax_code", "type": "text", "label": t("Tax code", "Mã số thuế")},
        {"kind": "question", "name": "sup_name", "type": "text", "label": t("Name", "Tên")}]},
      {"kind": "roster", "name": "customers", "label": t("Customers", "Khách hàng"), "items": [
        {"kind": "question", "name": "cus_tax_code", "type": "text", "label": t("Tax code", "Mã số thuế")}]}
    ]})
}

fn publish_enterprise(w: &World) {
    let s = &w.server;
    let r = s.post("/api/v1/questionnaires/drafts", &w.designer, &enterprise());
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.post(
        "/api/v1/questionnaires/drafts/enterprise/publish",
        &w.designer,
        &json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn create_survey(w: &World, id: &str) {
    let r = w.server.post(
        "/api/v1/surveys",
        &w.manager,
        &json!({"id": id, "name": "DW-SCS test", "tier0_vsic": ["26"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn upload(w: &World, id: &str, units: &str, links: &str) -> crate::server::http::Response {
    w.server.call(
        "PUT",
        &format!("/api/v1/surveys/{id}/frame"),
        Some(&w.manager),
        Some(&json!({"units_csv": units, "links_csv": links})),
    )
}

fn draw(w: &World, id: &str, design: &Value) -> crate::server::http::Response {
    w.server
        .post(&format!("/api/v1/surveys/{id}/sample"), &w.manager, design)
}

/// unit id → π of a sample answer.
fn pis(sample: &Value) -> BTreeMap<String, f64> {
    sample["units"]
        .as_array()
        .map(|units| {
            units
                .iter()
                .map(|u| {
                    (
                        u["unit_id"].as_str().unwrap_or_default().to_owned(),
                        u["pi"].as_f64().unwrap_or(f64::NAN),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_bad_frame_is_refused_with_line_and_column_and_wrong_roles_get_403() {
    let w = World::new();
    let s = &w.server;
    for token in [&w.enumerator, &w.supervisor, &w.designer, &w.researcher] {
        let r = s.post(
            "/api/v1/surveys",
            token,
            &json!({"id": "x", "tier0_vsic": ["26"]}),
        );
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(r.json()["error"]["code"], "forbidden");
    }
    create_survey(&w, "bad");
    // Line 3 has a non-numeric employee count; line 4 repeats an id.
    let units = UNITS.replacen("500,700", "500,seven hundred", 1).replacen(
        "T3,0100000003",
        "T1,0100000003",
        1,
    );
    let r = upload(&w, "bad", &units, LINKS);
    assert_eq!(r.status, 422, "{}", r.text());
    let body = r.json();
    assert_eq!(body["error"]["code"], "frame_invalid");
    let findings = body["error"]["details"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        findings.iter().any(|f| f["file"] == "units.csv"
            && f["line"] == 3
            && f["column"] == 8
            && f["column_name"] == "employees_female"),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["line"] == 4 && f["message"].as_str().unwrap_or("").contains("duplicate")),
        "{findings:?}"
    );
    // Nothing was recorded: the survey still has no frame, and a draw is refused.
    let r = s.get("/api/v1/surveys/bad", &w.manager);
    assert_eq!(r.status, 200);
    assert!(r.json()["frame"].is_null(), "{}", r.text());
    let r = draw(&w, "bad", &design(7));
    assert_eq!(r.status, 409, "{}", r.text());
    // A frame whose link names an unknown unit is refused with the links file's position.
    let r = upload(&w, "bad", UNITS, "buyer_id,supplier_id\nT1,NOPE\n");
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(
        r.json()["error"]["details"]["findings"][0]["file"],
        "links.csv"
    );
    assert_eq!(r.json()["error"]["details"]["findings"][0]["line"], 2);
    // An unknown survey is 404, a bad survey id 422.
    assert_eq!(upload(&w, "nope", UNITS, LINKS).status, 404);
    let r = s.post(
        "/api/v1/surveys",
        &w.manager,
        &json!({"id": "../etc", "tier0_vsic": ["26"]}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
}

#[test]
fn the_draw_is_recorded_replayable_and_invalid_designs_get_422() {
    let w = World::new();
    let s = &w.server;
    create_survey(&w, "a");
    create_survey(&w, "b");
    for id in ["a", "b"] {
        let r = upload(&w, id, UNITS, LINKS);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["frame"]["tier_counts"], json!([6, 4]));
        assert_eq!(r.json()["frame"]["out_of_scope"], 1);
    }
    let r = draw(&w, "a", &json!({"schema_version": 1, "seed": 1}));
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "design_invalid");
    let r = draw(
        &w,
        "a",
        &json!({"schema_version": 1, "name": "x", "seed": 1, "sample_size": {"n": 2}, "selection": {"method": "lottery"}}),
    );
    assert_eq!(r.status, 422, "{}", r.text());

    let r = draw(&w, "a", &design(20260315));
    assert_eq!(r.status, 201, "{}", r.text());
    let record = r.json()["sample"].clone();
    assert_eq!(record["seed"], 20260315);
    assert_eq!(record["method"], "srswor");
    assert_eq!(record["units"], 4);
    let a = s.get("/api/v1/surveys/a/sample", &w.manager).json();
    let a_pis = pis(&a);
    assert_eq!(a_pis.len(), 4);
    // T1 and T2 are take-all; the other 2 come from the 4 remaining tier-0 units.
    assert_eq!(a_pis.get("T1"), Some(&1.0));
    assert_eq!(a_pis.get("T2"), Some(&1.0));
    for (id, pi) in &a_pis {
        assert!(id.starts_with('T'), "{id} is not tier 0");
        if id != "T1" && id != "T2" {
            assert!((pi - 0.5).abs() < 1e-12, "{id}: π {pi}");
        }
    }
    // Replaying the same design answers 200 with the stored record, unchanged.
    let r = draw(&w, "a", &design(20260315));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["replayed"], true);
    assert_eq!(r.json()["sample"], record);
    // The same design on the same frame in another survey selects the same units.
    let r = draw(&w, "b", &design(20260315));
    assert_eq!(r.status, 201, "{}", r.text());
    let b = s.get("/api/v1/surveys/b/sample", &w.manager).json();
    assert_eq!(pis(&b), a_pis);
    assert_eq!(b["sample"]["frame_digest"], a["sample"]["frame_digest"]);
    // A different seed cannot replace a drawn sample, nor can the frame change.
    let r = draw(&w, "a", &design(1));
    assert_eq!(r.status, 409, "{}", r.text());
    let r = upload(&w, "a", UNITS, LINKS);
    assert_eq!(r.status, 409, "{}", r.text());

    // The CSV carries every probability and the replay record.
    let r = request(
        s.addr,
        "GET",
        "/api/v1/surveys/a/sample.csv",
        Some(&w.manager),
        None,
        b"",
    )
    .expect("request");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    let text = r.text();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let pi: f64 = row[col("pi")].parse().expect("pi");
        let weight: f64 = row[col("design_weight")].parse().expect("weight");
        assert_eq!(Some(&pi), a_pis.get(row[col("id")]));
        assert!((pi * weight - 1.0).abs() < 1e-12);
        assert_eq!(row[col("seed")], "20260315");
        assert_eq!(row[col("method")], "srswor");
        assert_eq!(row[col("tier")], "0");
    }
    // Wrong roles cannot read it.
    for token in [&w.enumerator, &w.supervisor, &w.researcher, &w.designer] {
        assert_eq!(s.get("/api/v1/surveys/a/sample.csv", token).status, 403);
    }
}

/// Submits an enterprise interview for `assignment` listing these supplier tax codes.
fn submit(
    w: &World,
    token: &str,
    instance: &str,
    assignment: &Value,
    suppliers: &[&str],
    workers: Option<(u64, u64)>,
) {
    let rows: Vec<Value> = suppliers
        .iter()
        .map(|code| json!({"sup_tax_code": code, "sup_name": format!("supplier {code}")}))
        .collect();
    let body = json!({
        "instance_id": instance,
        "questionnaire": "enterprise",
        "version": "1",
        "assignment_id": assignment["id"],
        "answers": {"tax_code": assignment["preload"]["tax_code"], "unit_name": assignment["preload"]["unit_name"],
                    "province": assignment["preload"]["province"], "suppliers": rows},
        "paradata": {"device_id": "tab-1", "language": "vi"}
    });
    let mut body = body;
    if let Some((male, female)) = workers {
        body["answers"]["workers_male"] = json!(male);
        body["answers"]["workers_female"] = json!(female);
    }
    let r = w.server.post("/api/v1/submissions", token, &body);
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn sample_to_assignments_to_trace_to_workers() {
    let w = World::new();
    let s = &w.server;
    publish_enterprise(&w);
    create_survey(&w, "dwscs");
    assert_eq!(upload(&w, "dwscs", UNITS, LINKS).status, 200);
    assert_eq!(draw(&w, "dwscs", &design(99)).status, 201);
    let sampled = pis(&s.get("/api/v1/surveys/dwscs/sample", &w.manager).json());

    // Selected units become enterprise assignments of enum1, with protected preloads.
    let assign = json!({"from": "sample", "enumerators": ["enum1"]});
    let r = s.post("/api/v1/surveys/dwscs/assignments", &w.manager, &assign);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["created"], 4);
    // Running it again duplicates nothing.
    let r = s.post("/api/v1/surveys/dwscs/assignments", &w.manager, &assign);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["created"], 0);
    assert_eq!(r.json()["already_assigned"], 4);
    // Workers cannot be assigned before they are selected.
    let r = s.post(
        "/api/v1/surveys/dwscs/assignments",
        &w.manager,
        &json!({"from": "workers", "enumerators": ["sup"]}),
    );
    assert_eq!(r.status, 404, "no worker selection yet: {}", r.text());

    // The assignments reach enum1 through sync, and nobody else.
    let sync = s.get("/api/v1/sync?since=0", &w.enumerator).json();
    let mut by_unit: BTreeMap<String, Value> = BTreeMap::new();
    for change in sync["changes"].as_array().cloned().unwrap_or_default() {
        if change["kind"] == "assignment.created" && change["data"]["questionnaire"] == "enterprise"
        {
            let unit = change["data"]["target"]["unit_id"]
                .as_str()
                .unwrap_or_default();
            by_unit.insert(unit.to_owned(), change["data"].clone());
        }
    }
    assert_eq!(
        by_unit.keys().cloned().collect::<Vec<_>>(),
        sampled.keys().cloned().collect::<Vec<_>>()
    );
    let t1 = by_unit["T1"].clone();
    assert_eq!(t1["preload"]["tax_code"], "0100000001");
    assert_eq!(t1["preload"]["unit_name"], "Lead One");
    assert_eq!(t1["preload"]["province"], "24");
    assert_eq!(t1["preload_protected"], true);
    assert_eq!(t1["target"]["tier"], 0);
    let other = s.get("/api/v1/sync?since=0", &w.other_enumerator).json();
    assert!(
        !other.to_string().contains("\"enterprise\""),
        "enum2 sees enterprise work"
    );
    // The sample CSV names each unit's assignment.
    let csv = s.get("/api/v1/surveys/dwscs/sample.csv", &w.manager).text();
    assert!(csv.contains(t1["id"].as_str().unwrap_or("missing")));

    // Tracing needs submitted interviews.
    let r = s.post(
        "/api/v1/surveys/dwscs/trace",
        &w.manager,
        &json!({"from_tier": 0}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    // T1 lists S1, S2 and a code not in the frame; T2 lists S2 (written differently) and S4.
    submit(
        &w,
        &w.enumerator,
        "0b6f3c2e-5d1a-4f7e-9a3b-2c1d0e9f0001",
        &t1,
        &["0200000001", "0200000002", "0999999999"],
        Some((3, 1)),
    );
    let t2 = by_unit["T2"].clone();
    submit(
        &w,
        &w.enumerator,
        "0b6f3c2e-5d1a-4f7e-9a3b-2c1d0e9f0002",
        &t2,
        &["0200 000 002", "0200000004"],
        None,
    );
    let r = s.post(
        "/api/v1/surveys/dwscs/trace",
        &w.manager,
        &json!({"from_tier": 0}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let trace = r.json();
    assert_eq!(trace["respondents"], json!(["T1", "T2"]));
    assert_eq!(trace["method"], "take_all");
    let reached: BTreeMap<String, Value> = trace["reached"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r["unit_id"].as_str().unwrap_or_default().to_owned(), r))
        .collect();
    assert_eq!(
        reached.keys().cloned().collect::<Vec<_>>(),
        ["S1", "S2", "S4"]
    );
    // L_i = the tier-0 buyers of i in the register plus respondents that reported a link
    // the register lacks: S1 ← T1; S2 ← T1, T2; S4 ← T1, T3, T4 and T2 (reported only).
    assert_eq!(reached["S1"]["l"], 1);
    assert_eq!(reached["S2"]["l"], 2);
    assert_eq!(reached["S4"]["l"], 4);
    assert_eq!(reached["S4"]["l_linked"], 4);
    assert_eq!(reached["S2"]["n_reporting"], 2);
    for unit in reached.values() {
        assert_eq!(unit["pi_given_s"], 1.0);
        assert_eq!(unit["selected"], true);
        assert_eq!(unit["frame_tier"], 1);
        assert_eq!(unit["link_count_method"], "register_links");
    }
    assert_eq!(trace["links"].as_array().map(Vec::len), Some(4));
    assert!(
        trace["links"]
            .as_array()
            .is_some_and(|l| l.iter().all(|l| l["p"] == 1.0))
    );
    let unmatched = trace["unmatched"].as_array().cloned().unwrap_or_default();
    assert_eq!(unmatched.len(), 1, "{unmatched:?}");
    assert_eq!(unmatched[0]["respondent_id"], "T1");
    assert_eq!(unmatched[0]["row"], 3);
    assert_eq!(unmatched[0]["reason"], "tax code not in the frame");
    let stored = s.get("/api/v1/surveys/dwscs/trace/0", &w.manager).json();
    assert_eq!(stored, trace);

    // Traced tier-1 units become assignments of enum2, once.
    let assign = json!({"from": "trace", "from_tier": 0, "enumerators": ["enum2"]});
    let r = s.post("/api/v1/surveys/dwscs/assignments", &w.manager, &assign);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["created"], 3);
    assert!(
        r.json()["assignments"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["target"]["tier"] == 1))
    );
    let traced_assignments = r.json()["assignments"].clone();
    let r = s.post("/api/v1/surveys/dwscs/assignments", &w.manager, &assign);
    assert_eq!(r.json()["created"], 0);

    // Workers in the two interviewed units: M from the frame counts, m = 2 per sex.
    let r = s.post("/api/v1/surveys/dwscs/workers", &w.manager, &json!({}));
    assert_eq!(r.status, 201, "{}", r.text());
    let selection = r.json();
    assert_eq!(selection["per_sex"], 2);
    let takes = selection["takes"].as_array().cloned().unwrap_or_default();
    assert_eq!(takes.len(), 4);
    // T1 reported its workforce (3 men, 1 woman: the woman is taken with certainty); T2
    // did not, so M comes from the frame.
    let expected_m = [
        ("T1", "1", 3, 2, "interview_counts"),
        ("T1", "2", 1, 1, "interview_counts"),
        ("T2", "1", 500, 2, "frame"),
        ("T2", "2", 700, 2, "frame"),
    ];
    for (unit, sex, m, take_m, source) in expected_m {
        let take = takes
            .iter()
            .find(|t| t["unit_id"] == unit && t["sex"] == sex)
            .unwrap_or_else(|| panic!("no take for {unit} sex {sex}"));
        assert_eq!(take["population_m"], m);
        assert_eq!(take["take_m"], take_m);
        assert_eq!(take["take_all"], m <= 2);
        assert_eq!(take["count_source"], source);
        let lines = take["lines"].as_array().cloned().unwrap_or_default();
        assert_eq!(lines.len() as u64, take_m);
        assert!(
            lines
                .iter()
                .all(|l| l.as_u64().is_some_and(|l| (1..=m).contains(&l)))
        );
    }
    // The same request selects the same workers (the design's seed).
    let again = s
        .post("/api/v1/surveys/dwscs/workers", &w.manager, &json!({}))
        .json();
    assert_eq!(again["takes"], selection["takes"]);
    let assign = json!({"from": "workers", "enumerators": ["enum1", "enum2"]});
    let r = s.post("/api/v1/surveys/dwscs/assignments", &w.manager, &assign);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["created"], 7);
    let created = r.json()["assignments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(created.iter().all(|a| a["questionnaire"] == "worker"));
    assert_eq!(
        created
            .iter()
            .filter(|a| a["enumerator"] == "enum1")
            .count(),
        4
    );
    let r = s.post("/api/v1/surveys/dwscs/assignments", &w.manager, &assign);
    assert_eq!(r.json()["created"], 0);
    assert_eq!(r.json()["already_assigned"], 7);

    // Once S4 is interviewed and lists its customers (T1, and T5 which the register does
    // not link to it), a new trace counts L_i by record linkage: T1, T3, T4 (register),
    // T2 (reported S4), T5 (S4's own roster) = 5.
    let s4 = traced_assignments
        .as_array()
        .and_then(|a| a.iter().find(|a| a["target"]["unit_id"] == "S4"))
        .cloned()
        .unwrap_or(Value::Null);
    let body = json!({
        "instance_id": "0b6f3c2e-5d1a-4f7e-9a3b-2c1d0e9f0004",
        "questionnaire": "enterprise",
        "version": "1",
        "assignment_id": s4["id"],
        "answers": {"tax_code": "0200000004", "unit_name": "Sup Four", "province": "31", "customers": [{"cus_tax_code": "0100000001"}, {"cus_tax_code": "0100000005"}]},
        "paradata": {"device_id": "tab-2", "language": "vi"}
    });
    let r = s.post("/api/v1/submissions", &w.other_enumerator, &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.post(
        "/api/v1/surveys/dwscs/trace",
        &w.manager,
        &json!({"from_tier": 0}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let s4_reached = r.json()["reached"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["unit_id"] == "S4"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(s4_reached["l"], 5, "{s4_reached}");
    assert_eq!(s4_reached["link_count_method"], "record_linkage");
    // S4 is tier 1, so it is not a tier-0 respondent.
    assert_eq!(r.json()["respondents"], json!(["T1", "T2"]));

    // A rejected interview is no longer a respondent: T2's rows drop out of a new trace.
    let r = s.post(
        "/api/v1/submissions/0b6f3c2e-5d1a-4f7e-9a3b-2c1d0e9f0002/review",
        &w.supervisor,
        &json!({"verdict": "reject", "comment": "check the supplier list"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.post(
        "/api/v1/surveys/dwscs/trace",
        &w.manager,
        &json!({"from_tier": 0}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let retrace = r.json();
    assert_eq!(retrace["respondents"], json!(["T1"]));
    let units: Vec<&str> = retrace["reached"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["unit_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(units, ["S1", "S2"]);
}

#[test]
fn concurrent_assign_calls_never_duplicate() {
    let w = World::new();
    publish_enterprise(&w);
    create_survey(&w, "c");
    assert_eq!(upload(&w, "c", UNITS, LINKS).status, 200);
    assert_eq!(draw(&w, "c", &design(3)).status, 201);
    let assign = json!({"from": "sample", "enumerators": ["enum1", "enum2"]});
    let created: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let r = w
                        .server
                        .post("/api/v1/surveys/c/assignments", &w.manager, &assign);
                    assert_eq!(r.status, 201, "{}", r.text());
                    r.json()["created"].as_u64().unwrap_or(u64::MAX)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(u64::MAX))
            .collect()
    });
    assert_eq!(created.iter().sum::<u64>(), 4, "{created:?}");
    let r = w
        .server
        .get("/api/v1/assignments?limit=50", &w.manager)
        .json();
    let enterprise = r["assignments"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|a| a["questionnaire"] == "enterprise")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(enterprise, 4);
}

#[test]
fn a_backup_carries_the_frame_files_and_synthetic_frames_are_reproducible() {
    let w = World::new();
    let s = &w.server;
    create_survey(&w, "a");
    let r = upload(&w, "a", UNITS, LINKS);
    assert_eq!(r.status, 200, "{}", r.text());
    let frame = r.json()["frame"].clone();
    let units_sha = frame["units_sha256"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let links_sha = frame["links_sha256"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let to = tempfile::tempdir().expect("temp dir");
    let target = to.path().join("backup");
    chainsurvey::store::backup(&s.store, &target).expect("backup");
    let copied = std::fs::read_to_string(target.join(format!("surveys/a/units-{units_sha}.csv")))
        .expect("units copy");
    assert_eq!(copied, UNITS);
    let copied = std::fs::read_to_string(target.join(format!("surveys/a/links-{links_sha}.csv")))
        .expect("links copy");
    assert_eq!(copied, LINKS);

    // The synthetic population at a small scale, twice with the same seed: the same frame.
    let mut digests = Vec::new();
    for id in ["syn1", "syn2"] {
        create_survey(&w, id);
        let r = s.post(
            &format!("/api/v1/surveys/{id}/frame/synthetic"),
            &w.manager,
            &json!({"scale": 0.02, "seed": 5}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let frame = r.json()["frame"].clone();
        assert_eq!(frame["source"], "synthetic");
        assert!(frame["units"].as_u64().is_some_and(|n| n > 0), "{frame}");
        assert!(
            frame["tier_counts"][0].as_u64().is_some_and(|n| n > 0),
            "{frame}"
        );
        digests.push(frame["digest"].clone());
    }
    assert_eq!(digests[0], digests[1]);
    let r = s.post(
        "/api/v1/surveys/syn1/frame/synthetic",
        &w.manager,
        &json!({"scale": 50.0, "seed": 5}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
}
