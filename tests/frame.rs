//! Frame import, crosswalk, tax codes, tiers and summary (METHODOLOGY §1.3, §6 "Frame and
//! tier model").

use chainsurvey::frame::{
    FrameError, IsoDate, Ownership, TaxCode, Tier0Rule, compute_tiers, crosswalk, import_frame,
    is_province_2025, province_on, read_frame, summarize,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/frame");

fn fixture_frame() -> chainsurvey::frame::Frame {
    let units = format!("{DATA}/units.csv");
    let links = format!("{DATA}/links.csv");
    match read_frame(units.as_ref(), Some(links.as_ref()), 100) {
        Ok(frame) => frame,
        Err(err) => panic!("fixture frame should import: {err}"),
    }
}

/// Imports CSV text and returns every error as its display line ("file:line: column …").
fn import_errors(units: &str, links: Option<&str>) -> Vec<String> {
    let mut units_bytes = units.as_bytes();
    let result = match links {
        Some(text) => {
            let mut links_bytes = text.as_bytes();
            import_frame(
                &mut units_bytes,
                "units.csv",
                Some((&mut links_bytes, "links.csv")),
                100,
            )
        }
        None => import_frame(&mut units_bytes, "units.csv", None, 100),
    };
    match result {
        Ok(_) => Vec::new(),
        Err(FrameError::Import(errors)) => {
            assert_eq!(errors.total, errors.errors.len());
            errors.errors.iter().map(ToString::to_string).collect()
        }
        Err(other) => vec![format!("other: {other}")],
    }
}

const HEADER: &str = "id,tax_code,name,vsic,vsic_version,province,province_2025,ownership,household_business,registered,employees_male,employees_female";

#[test]
fn fixture_imports_with_attributes_and_crosswalk() {
    let frame = fixture_frame();
    assert_eq!(frame.units.len(), 6);
    assert_eq!(frame.links.len(), 7);
    let b = frame.index_of("B").unwrap();
    // Hai Duong (30) became Hai Phong (31) on 1 July 2025; blank province_2025 is filled.
    assert_eq!(frame.units[b].province_2025.as_deref(), Some("31"));
    assert_eq!(frame.units[b].ownership, Ownership::Domestic);
    assert_eq!(frame.attributes().names(), ["region6", "prn"]);
    assert_eq!(frame.column_value(b, "region6").as_deref(), Some("RRD"));
    // 100 employees: medium under Decree 80/2021 (100–199).
    assert_eq!(
        frame.column_value(b, "size_class").as_deref(),
        Some("medium")
    );
    assert_eq!(frame.numeric_value(b, "employees"), Ok(Some(100.0)));
    let c = frame.index_of("C").unwrap();
    assert_eq!(frame.units[c].tax_code.as_deref(), Some("0101234570-001"));
    let d = frame.index_of("D").unwrap();
    assert!(frame.units[d].household_business);
    assert!(!frame.units[d].registered);
    assert_eq!(frame.units[d].tax_code, None);
    assert_eq!(frame.links[0].weight, Some(0.6));
    assert_eq!(frame.links[2].weight, None);
}

#[test]
fn each_bad_row_kind_gets_its_positioned_error() {
    // (units rows, links text, expected error lines). Line 1 is the header.
    let cases: Vec<(&str, Option<&str>, Vec<&str>)> = vec![
        (
            "A,0101234567,a,2610,2018,27,,FDI,0,1,1,1\nA,0101234568,b,2610,2018,27,,FDI,0,1,1,1",
            None,
            vec!["units.csv:3: column 1 `id`: duplicate unit id `A` (first on line 2)"],
        ),
        (
            "A,0101234567,a,2610,2018,27,,FDI,0,1,-5,1",
            None,
            vec!["units.csv:2: column 11 `employees_male`: `-5` is negative"],
        ),
        (
            "A,0101234567,a,2610,2018,27,,FDI,0,1,1,many",
            None,
            vec![
                "units.csv:2: column 12 `employees_female`: `many` is not a whole number of employees",
            ],
        ),
        (
            "A,0101234567,a,26X0,2018,27,,XYZ,0,1,1,1",
            None,
            vec![
                "units.csv:2: column 4 `vsic`: `26X0` is not a VSIC code of 4 or 5 digits",
                "units.csv:2: column 8 `ownership`: `XYZ` is not FDI, DOM or SOE",
            ],
        ),
        (
            "A,0101234567,a,2610,2018,99,,FDI,0,1,1,1",
            None,
            vec![
                "units.csv:2: column 6 `province`: `99` is not a pre-2025 GSO province code (01–96, 63 provinces)",
            ],
        ),
        (
            "A,0101234567,a,2610,2018,27,01,FDI,0,1,1,1",
            None,
            vec![
                "units.csv:2: column 7 `province_2025`: province_2025 `01` contradicts the crosswalk: province 27 became 24",
            ],
        ),
        (
            "A,0101234567,a,2610,2018,27,,FDI,0,1,1,1\nB,0101-234-567,b,2610,2018,27,,FDI,0,1,1,1",
            None,
            vec![
                "units.csv:3: column 2 `tax_code`: tax code `0101234567` already belongs to unit `A` (line 2)",
            ],
        ),
        (
            "A,KR-12345,a,2610,2019,27,,FDI,maybe,1,1,1",
            None,
            vec![
                "units.csv:2: column 2 `tax_code`: `KR-12345` is not a tax code of 10 digits or 10+3 digits (0101234567-001)",
                "units.csv:2: column 5 `vsic_version`: `2019` is not 2018 or 2025",
                "units.csv:2: column 9 `household_business`: `maybe` is not a flag (1/0, true/false, yes/no)",
            ],
        ),
        (
            "A,0101234567,a,2610,2018,27,,FDI,0,1,1",
            None,
            vec!["units.csv:2: expected 12 fields, found 11"],
        ),
        (
            ",0101234567,a,2610,2018,27,,FDI,0,1,1,1",
            None,
            vec!["units.csv:2: column 1 `id`: value is empty"],
        ),
        (
            "A,0101234567,a,2610,2018,27,,FDI,0,1,1,1\nB,,b,2220,2018,27,,DOM,0,1,1,1",
            Some("buyer_id,supplier_id,link_weight\nA,B,0.5\nA,B,0.2\nA,Z,\nB,B,\nB,A,-1\nB,A,abc"),
            vec![
                "links.csv:3: column 2 `supplier_id`: duplicate link A -> B (first on line 2)",
                "links.csv:4: column 2 `supplier_id`: unknown unit id `Z`",
                "links.csv:5: column 2 `supplier_id`: self-link: unit `B` cannot supply itself",
                "links.csv:6: column 3 `link_weight`: `-1` is negative",
                "links.csv:7: column 3 `link_weight`: `abc` is not a finite number ≥ 0",
                // A rejected row still names a link: the same pair again is a duplicate.
                "links.csv:7: column 2 `supplier_id`: duplicate link B -> A (first on line 6)",
            ],
        ),
    ];
    for (rows, links, expected) in cases {
        let units = format!("{HEADER}\n{rows}\n");
        let got = import_errors(&units, links);
        assert_eq!(got, expected, "rows:\n{rows}");
    }
}

#[test]
fn missing_columns_and_links_to_rejected_units() {
    let got = import_errors("id,vsic,ownership\nA,2610,FDI\n", None);
    assert_eq!(
        got,
        vec![
            "units.csv:1: missing required column `province`",
            "units.csv:1: missing required column `employees_male`",
            "units.csv:1: missing required column `employees_female`",
        ]
    );
    // B's row is bad; a link to B is not reported a second time as "unknown unit".
    let units =
        format!("{HEADER}\nA,,a,2610,2018,27,,FDI,0,1,1,1\nB,,b,2610,2018,27,,FDI,0,1,x,1\n");
    let got = import_errors(&units, Some("buyer_id,supplier_id\nA,B\n"));
    assert_eq!(
        got,
        vec!["units.csv:3: column 11 `employees_male`: `x` is not a whole number of employees"]
    );
    let got = import_errors(&units.replace(",x,", ",1,"), Some("buyer,supplier\nA,B\n"));
    assert_eq!(
        got,
        vec![
            "links.csv:1: missing required column `buyer_id`",
            "links.csv:1: missing required column `supplier_id`",
        ]
    );
}

#[test]
fn errors_are_capped_but_counted() {
    let mut units = HEADER.to_string();
    for i in 0..250 {
        units.push_str(&format!("\nU{i},,u,2610,2018,27,,FDI,0,1,-1,1"));
    }
    let mut bytes = units.as_bytes();
    match import_frame(&mut bytes, "units.csv", None, 100) {
        Err(FrameError::Import(errors)) => {
            assert_eq!(errors.errors.len(), 100);
            assert_eq!(errors.total, 250);
            assert!(errors.to_string().contains("150 more errors"));
        }
        other => panic!("expected capped import errors, got {other:?}"),
    }
}

#[test]
fn non_utf8_and_unreadable_files_are_errors_not_panics() {
    let mut bytes: &[u8] = b"id,vsic,province,ownership,employees_male,employees_female\nA,2610,27,FDI,1,1\n\xff\xfe,2610,27,FDI,1,1\n";
    let result = import_frame(&mut bytes, "units.csv", None, 100);
    match result {
        Err(FrameError::Import(errors)) => {
            assert_eq!(errors.errors.len(), 1);
            assert_eq!(errors.errors[0].position.line, 3);
        }
        other => panic!("expected an import error, got {other:?}"),
    }
    let missing = read_frame("/nonexistent/units.csv".as_ref(), None, 10);
    assert!(matches!(missing, Err(FrameError::Import(_))));
}

#[test]
fn crosswalk_has_63_old_and_34_new_provinces_with_dates() {
    let rows = crosswalk();
    assert_eq!(rows.len(), 63);
    let mut new_codes: Vec<&str> = rows.iter().map(|r| r.code_2025.as_str()).collect();
    new_codes.sort_unstable();
    new_codes.dedup();
    assert_eq!(new_codes.len(), 34);
    // vietnam-electronics.md §6.2: Bac Giang + Bac Ninh, HCMC + Binh Duong + BR-VT, ….
    let merged = |old: &str| {
        rows.iter()
            .find(|r| r.code_2004 == old)
            .unwrap()
            .name_2025
            .clone()
    };
    assert_eq!(merged("24"), "Bac Ninh");
    assert_eq!(merged("27"), "Bac Ninh");
    assert_eq!(merged("74"), "Ho Chi Minh City");
    assert_eq!(merged("77"), "Ho Chi Minh City");
    assert_eq!(merged("06"), "Thai Nguyen");
    assert_eq!(merged("26"), "Phu Tho");
    assert_eq!(merged("30"), "Hai Phong");
    assert_eq!(merged("80"), "Tay Ninh");
    assert!(is_province_2025("79"));
    assert!(!is_province_2025("74"));
    let before = IsoDate::parse("2025-06-30").unwrap();
    let from = IsoDate::parse("2025-07-01").unwrap();
    assert_eq!(province_on("74", before), Some("74"));
    assert_eq!(province_on("74", from), Some("79"));
    assert_eq!(province_on("98", from), None);
    assert_eq!(IsoDate::parse("2025-13-01"), None);
}

#[test]
fn tax_codes_normalise_consistently() {
    let cases = [
        ("0101234567", Some("0101234567")),
        (" 0101 234 567 ", Some("0101234567")),
        ("0101234567-001", Some("0101234567-001")),
        ("0101234567 - 001", Some("0101234567-001")),
        ("0101234567001", Some("0101234567-001")),
        ("010123456", None),
        ("KR1234567890", None),
        ("", None),
    ];
    for (text, expected) in cases {
        let parsed = TaxCode::parse(text);
        assert_eq!(
            parsed.as_ref().map(TaxCode::display_form).as_deref(),
            expected,
            "{text:?}"
        );
        assert_eq!(
            TaxCode::key_of(text),
            parsed.as_ref().map(TaxCode::key),
            "{text:?}"
        );
    }
    let branch = TaxCode::parse("0101234567-001").unwrap();
    assert_eq!(branch.parent(), TaxCode::parse("0101234567"));
    assert_eq!(
        TaxCode::parent_key(branch.key()),
        Some(TaxCode::parse("0101234567").unwrap().key())
    );
}

#[test]
fn tier_is_shortest_distance_with_cycles_and_out_of_scope_units() {
    // METHODOLOGY §6: a 6-node graph with a cycle; A is reachable at distance 1 (T0 → A)
    // and 2 (T0 → B → A) and must be tier 1; A ↔ C is a cycle; E only buys from T0 (it is
    // a customer, not a supplier) and is out of scope.
    let frame = fixture_frame();
    let tiers = compute_tiers(&frame, &Tier0Rule::Ids(vec!["T0".into()])).unwrap();
    let tier_of = |id: &str| tiers.of(frame.index_of(id).unwrap());
    assert_eq!(tier_of("T0"), Some(0));
    assert_eq!(tier_of("A"), Some(1));
    assert_eq!(tier_of("B"), Some(1));
    assert_eq!(tier_of("C"), Some(2));
    assert_eq!(tier_of("D"), Some(3));
    assert_eq!(tier_of("E"), None);
    assert_eq!(tiers.counts(), (vec![1, 2, 1, 1], 1));
    assert_eq!(tiers.out_of_scope(), vec![frame.index_of("E").unwrap()]);

    // VSIC rule: T0 (2630) and A (2610) are tier 0, so C (A's supplier) becomes tier 1.
    let tiers = compute_tiers(&frame, &Tier0Rule::VsicPrefixes(vec!["26".into()])).unwrap();
    let tier_of = |id: &str| tiers.of(frame.index_of(id).unwrap());
    assert_eq!(tier_of("A"), Some(0));
    assert_eq!(tier_of("C"), Some(1));
    assert_eq!(tier_of("D"), Some(2));

    assert!(matches!(
        compute_tiers(&frame, &Tier0Rule::Ids(vec!["nope".into()])),
        Err(FrameError::UnknownTier0Id(id)) if id == "nope"
    ));
    assert!(matches!(
        compute_tiers(&frame, &Tier0Rule::VsicPrefixes(vec!["99".into()])),
        Err(FrameError::EmptyTier0)
    ));
}

#[test]
fn summary_counts_cells_links_and_l() {
    let frame = fixture_frame();
    let tiers = compute_tiers(&frame, &Tier0Rule::Ids(vec!["T0".into()])).unwrap();
    let summary = summarize(&frame, &tiers);
    assert_eq!(summary.n_units, 6);
    assert_eq!(summary.n_links, 7);
    assert_eq!(summary.n_weighted_links, 3);
    assert!((summary.weight_total - 0.9).abs() < 1e-12);
    // Tier 1: A has 1 tier-0 buyer (T0), B has 1. Tier 2: C has 1 tier-1 buyer (A).
    // Tier 3: D has 1 tier-2 buyer (C).
    assert_eq!(summary.l_distribution.len(), 3);
    assert_eq!(summary.l_distribution[0].get(&1), Some(&2));
    let text = summary.to_string();
    assert!(text.contains("units: 6"), "{text}");
    assert!(text.contains("out"), "{text}");
}

#[test]
fn write_then_read_round_trips() {
    let mut frame = fixture_frame();
    let tiers = compute_tiers(&frame, &Tier0Rule::Ids(vec!["T0".into()])).unwrap();
    let labels: Vec<String> = (0..frame.units.len()).map(|u| tiers.label(u)).collect();
    frame.set_attribute("tier", labels).unwrap();
    let mut units_out = Vec::new();
    let mut links_out = Vec::new();
    chainsurvey::frame::write_units_csv(&frame, &mut units_out).unwrap();
    chainsurvey::frame::write_links_csv(&frame, &mut links_out).unwrap();
    let again = import_frame(
        &mut units_out.as_slice(),
        "units.csv",
        Some((&mut links_out.as_slice(), "links.csv")),
        10,
    )
    .unwrap();
    assert_eq!(again.units, frame.units);
    assert_eq!(again.links, frame.links);
    assert_eq!(again.attributes(), frame.attributes());
    assert_eq!(again.digest(), frame.digest());
    let mut changed = again.clone();
    changed.units[0].employees_male += 1;
    assert_ne!(changed.digest(), frame.digest());
}
