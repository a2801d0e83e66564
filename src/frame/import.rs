//! CSV import of units and links (`docs/frame-format.md`), reporting every problem at once.
//!
//! Import is all-or-nothing: either the whole frame is valid and a [`Frame`] comes back, or
//! the caller gets the list of problems (file, line, column, reason; up to a cap) and nothing
//! else. A row with a bad value is still checked for a duplicate id, and links that point to
//! a unit whose own row was bad are not reported a second time.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::frame::error::{FrameError, ImportError, ImportErrorKind, ImportErrors, Position};
use crate::frame::province::{is_province_2025, province_change};
use crate::frame::tax_code::TaxCode;
use crate::frame::{Frame, Link, Ownership, Unit, VsicVersion};

/// How many problems an import lists before it only counts them.
pub const DEFAULT_MAX_ERRORS: usize = 100;

/// The units-file columns with a fixed meaning. All other columns become attributes.
pub const UNIT_COLUMNS: [&str; 12] = [
    "id",
    "tax_code",
    "name",
    "vsic",
    "vsic_version",
    "province",
    "province_2025",
    "ownership",
    "household_business",
    "registered",
    "employees_male",
    "employees_female",
];

/// Units-file columns that must be present in the header.
pub const REQUIRED_UNIT_COLUMNS: [&str; 6] = [
    "id",
    "vsic",
    "province",
    "ownership",
    "employees_male",
    "employees_female",
];

/// The links-file columns; `link_weight` is optional.
pub const LINK_COLUMNS: [&str; 3] = ["buyer_id", "supplier_id", "link_weight"];

/// Reads the units file and, when given, the links file from disk.
pub fn read_frame(
    units_path: &Path,
    links_path: Option<&Path>,
    max_errors: usize,
) -> Result<Frame, FrameError> {
    let open = |path: &Path| -> Result<std::fs::File, FrameError> {
        std::fs::File::open(path).map_err(|err| {
            FrameError::Import(ImportErrors {
                errors: vec![ImportError {
                    position: Position {
                        file: path.display().to_string(),
                        line: 0,
                        column: None,
                    },
                    kind: ImportErrorKind::Malformed(err.to_string()),
                }],
                total: 1,
            })
        })
    };
    let mut units_file = open(units_path)?;
    let units_name = units_path.display().to_string();
    match links_path {
        Some(path) => {
            let mut links_file = open(path)?;
            let links_name = path.display().to_string();
            import_frame(
                &mut units_file,
                &units_name,
                Some((&mut links_file, &links_name)),
                max_errors,
            )
        }
        None => import_frame(&mut units_file, &units_name, None, max_errors),
    }
}

/// Imports a frame from a units CSV and an optional links CSV. `*_name` is the file name
/// used in error positions.
pub fn import_frame(
    units: &mut dyn Read,
    units_name: &str,
    links: Option<(&mut dyn Read, &str)>,
    max_errors: usize,
) -> Result<Frame, FrameError> {
    let mut errors = Collector {
        errors: Vec::new(),
        total: 0,
        cap: max_errors.max(1),
    };
    let parsed_units = parse_units(units, units_name, &mut errors);
    let parsed_links = match links {
        Some((reader, name)) => parse_links(reader, name, &parsed_units, &mut errors),
        None => Vec::new(),
    };
    if errors.total > 0 {
        return Err(FrameError::Import(ImportErrors {
            errors: errors.errors,
            total: errors.total,
        }));
    }
    let ParsedUnits {
        units,
        extra_names,
        extra_values,
        ..
    } = parsed_units;
    // Duplicate ids were reported above, so `Frame::new` cannot fail here; the error arm
    // still maps to a proper error rather than a panic.
    let mut frame = Frame::new(units, parsed_links).map_err(|id| {
        FrameError::Import(ImportErrors {
            errors: vec![ImportError {
                position: Position {
                    file: units_name.to_string(),
                    line: 0,
                    column: None,
                },
                kind: ImportErrorKind::DuplicateId { id, first_line: 0 },
            }],
            total: 1,
        })
    })?;
    for (name, values) in extra_names.iter().zip(extra_values) {
        // Each column has one value per accepted unit by construction.
        let _ = frame.set_attribute(name, values);
    }
    Ok(frame)
}

struct Collector {
    errors: Vec<ImportError>,
    total: usize,
    cap: usize,
}

impl Collector {
    fn push(&mut self, position: Position, kind: ImportErrorKind) {
        self.total += 1;
        if self.errors.len() < self.cap {
            self.errors.push(ImportError { position, kind });
        }
    }
}

struct ParsedUnits {
    units: Vec<Unit>,
    /// Unit index of every id whose row was accepted.
    index: HashMap<String, usize>,
    /// Ids whose row had errors: links to them are not reported again.
    rejected: HashMap<String, u64>,
    extra_names: Vec<String>,
    extra_values: Vec<Vec<String>>,
}

/// The header of a CSV: column name → 0-based index.
struct Header {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

fn read_header(
    reader: &mut csv::Reader<&mut dyn Read>,
    file: &str,
    errors: &mut Collector,
) -> Option<Header> {
    let record = match reader.headers() {
        Ok(record) => record.clone(),
        Err(err) => {
            errors.push(
                at(file, 1, None),
                ImportErrorKind::Malformed(err.to_string()),
            );
            return None;
        }
    };
    let names: Vec<String> = record.iter().map(|s| s.trim().to_string()).collect();
    let mut index = HashMap::new();
    for (pos, name) in names.iter().enumerate() {
        if index.insert(name.clone(), pos).is_some() {
            errors.push(
                at(file, 1, Some((pos, name))),
                ImportErrorKind::DuplicateColumn(name.clone()),
            );
        }
    }
    Some(Header { names, index })
}

fn at(file: &str, line: u64, column: Option<(usize, &str)>) -> Position {
    Position {
        file: file.to_string(),
        line,
        column: column.map(|(pos, name)| (pos + 1, name.to_string())),
    }
}

fn csv_reader(reader: &mut dyn Read) -> csv::Reader<&mut dyn Read> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader)
}

/// Iterates over records, reporting unreadable ones; `each` gets (line, record).
fn for_each_record(
    reader: &mut csv::Reader<&mut dyn Read>,
    file: &str,
    n_columns: usize,
    errors: &mut Collector,
    mut each: impl FnMut(u64, &csv::StringRecord, &mut Collector),
) {
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                if record.len() != n_columns {
                    errors.push(
                        at(file, line, None),
                        ImportErrorKind::FieldCount {
                            expected: n_columns,
                            found: record.len(),
                        },
                    );
                    continue;
                }
                each(line, &record, errors);
            }
            Err(err) => {
                let line = err.position().map_or(0, csv::Position::line);
                let recoverable = matches!(err.kind(), csv::ErrorKind::Utf8 { .. });
                errors.push(
                    at(file, line, None),
                    ImportErrorKind::Malformed(err.to_string()),
                );
                if !recoverable {
                    break;
                }
            }
        }
    }
}

/// Opens a CSV file and reads its header, reporting every required column it lacks (all of
/// them, at line 1). `None` when the header is unreadable or a required column is missing:
/// the rows cannot be read then.
fn open_csv<'r>(
    reader: &'r mut dyn Read,
    file: &str,
    required: &[&str],
    errors: &mut Collector,
) -> Option<(csv::Reader<&'r mut dyn Read>, Header)> {
    let mut reader = csv_reader(reader);
    let header = read_header(&mut reader, file, errors)?;
    let mut missing = false;
    for column in required {
        if !header.index.contains_key(*column) {
            errors.push(
                at(file, 1, None),
                ImportErrorKind::MissingColumn(column.to_string()),
            );
            missing = true;
        }
    }
    (!missing).then_some((reader, header))
}

/// [`for_each_record`] with each well-formed record wrapped in a [`Row`] that reports its
/// errors at its line and column.
fn for_each_row(
    reader: &mut csv::Reader<&mut dyn Read>,
    file: &str,
    header: &Header,
    errors: &mut Collector,
    mut each: impl FnMut(Row<'_, '_>),
) {
    for_each_record(
        reader,
        file,
        header.names.len(),
        errors,
        |line, record, errors| {
            each(Row {
                file,
                line,
                record,
                header,
                errors,
                ok: true,
            })
        },
    );
}

fn parse_units(reader: &mut dyn Read, file: &str, errors: &mut Collector) -> ParsedUnits {
    let mut parsed = ParsedUnits {
        units: Vec::new(),
        index: HashMap::new(),
        rejected: HashMap::new(),
        extra_names: Vec::new(),
        extra_values: Vec::new(),
    };
    let Some((mut reader, header)) = open_csv(reader, file, &REQUIRED_UNIT_COLUMNS, errors) else {
        return parsed;
    };
    let extra_columns: Vec<usize> = (0..header.names.len())
        .filter(|&pos| !UNIT_COLUMNS.contains(&header.names[pos].as_str()))
        .collect();
    parsed.extra_names = extra_columns
        .iter()
        .map(|&pos| header.names[pos].clone())
        .collect();
    parsed.extra_values = vec![Vec::new(); extra_columns.len()];
    let mut first_line_of_id: HashMap<String, u64> = HashMap::new();
    let mut tax_owner: HashMap<TaxCode, (String, u64)> = HashMap::new();

    for_each_row(&mut reader, file, &header, errors, |mut row| {
        let (line, record) = (row.line, row.record);
        let id = row.required("id").unwrap_or_default().to_string();
        if !id.is_empty() {
            if let Some(&first_line) = first_line_of_id.get(&id) {
                row.fail(
                    "id",
                    ImportErrorKind::DuplicateId {
                        id: id.clone(),
                        first_line,
                    },
                );
                return;
            }
            first_line_of_id.insert(id.clone(), line);
        }
        let tax_code = row.optional("tax_code").and_then(|text| {
            let code = TaxCode::parse(text);
            if code.is_none() {
                row.fail(
                    "tax_code",
                    ImportErrorKind::BadValue {
                        value: text.to_string(),
                        expected: "a tax code of 10 digits or 10+3 digits (0101234567-001)".into(),
                    },
                );
            }
            code
        });
        if let Some(code) = &tax_code {
            if let Some((other_id, first_line)) = tax_owner.get(code) {
                row.fail(
                    "tax_code",
                    ImportErrorKind::DuplicateTaxCode {
                        tax_code: code.display_form(),
                        other_id: other_id.clone(),
                        first_line: *first_line,
                    },
                );
            } else {
                tax_owner.insert(code.clone(), (id.clone(), line));
            }
        }
        let name = row.optional("name").unwrap_or_default().to_string();
        let vsic = row.required("vsic").unwrap_or_default().to_string();
        let vsic_ok = matches!(vsic.len(), 4 | 5) && vsic.bytes().all(|b| b.is_ascii_digit());
        if !vsic.is_empty() && !vsic_ok {
            row.fail(
                "vsic",
                ImportErrorKind::BadValue {
                    value: vsic.clone(),
                    expected: "a VSIC code of 4 or 5 digits".into(),
                },
            );
        }
        let vsic_version = match row.optional("vsic_version") {
            None | Some("2018") => VsicVersion::V2018,
            Some("2025") => VsicVersion::V2025,
            Some(other) => {
                row.fail(
                    "vsic_version",
                    ImportErrorKind::BadValue {
                        value: other.to_string(),
                        expected: "2018 or 2025".into(),
                    },
                );
                VsicVersion::V2018
            }
        };
        let province = row.required("province").unwrap_or_default().to_string();
        let change = province_change(&province);
        if !province.is_empty() && change.is_none() {
            row.fail(
                "province",
                ImportErrorKind::UnknownProvince(province.clone()),
            );
        }
        let province_2025 = match (row.optional("province_2025"), change) {
            (None, change) => change.map(|c| c.code_2025.clone()),
            (Some(given), change) => {
                if !is_province_2025(given) {
                    row.fail(
                        "province_2025",
                        ImportErrorKind::BadValue {
                            value: given.to_string(),
                            expected: "one of the 34 post-2025 province codes".into(),
                        },
                    );
                } else if let Some(change) = change
                    && change.code_2025 != given
                {
                    row.fail(
                        "province_2025",
                        ImportErrorKind::CrosswalkMismatch {
                            given: given.to_string(),
                            province: province.clone(),
                            expected: change.code_2025.clone(),
                        },
                    );
                }
                Some(given.to_string())
            }
        };
        let ownership = row.required("ownership").and_then(|text| {
            let parsed = Ownership::from_code(text);
            if parsed.is_none() {
                row.fail(
                    "ownership",
                    ImportErrorKind::BadValue {
                        value: text.to_string(),
                        expected: "FDI, DOM or SOE".into(),
                    },
                );
            }
            parsed
        });
        let household_business = row.flag("household_business", false);
        let registered = row.flag("registered", true);
        let employees_male = row.count("employees_male");
        let employees_female = row.count("employees_female");
        let ok = row.ok;
        let extras: Vec<String> = extra_columns
            .iter()
            .map(|&pos| record.get(pos).unwrap_or_default().to_string())
            .collect();
        match (ok, ownership, employees_male, employees_female) {
            (true, Some(ownership), Some(employees_male), Some(employees_female)) => {
                parsed.index.insert(id.clone(), parsed.units.len());
                parsed.units.push(Unit {
                    id,
                    tax_code: tax_code.map(|code| code.display_form()),
                    name,
                    vsic,
                    vsic_version,
                    province,
                    province_2025,
                    ownership,
                    household_business,
                    registered,
                    employees_male,
                    employees_female,
                });
                for (column, value) in parsed.extra_values.iter_mut().zip(extras) {
                    column.push(value);
                }
            }
            _ => {
                if !id.is_empty() {
                    parsed.rejected.insert(id, line);
                }
            }
        }
    });
    parsed
}

/// One data row being parsed: field access that records errors with their position.
struct Row<'a, 'e> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    header: &'a Header,
    errors: &'e mut Collector,
    ok: bool,
}

impl<'a> Row<'a, '_> {
    fn fail(&mut self, column: &str, kind: ImportErrorKind) {
        self.ok = false;
        let pos = self.header.index.get(column).copied();
        self.errors
            .push(at(self.file, self.line, pos.map(|p| (p, column))), kind);
    }

    /// The trimmed value of `column`, `None` when the column is absent or the value empty.
    fn optional(&self, column: &str) -> Option<&'a str> {
        let pos = *self.header.index.get(column)?;
        self.record.get(pos).filter(|value| !value.is_empty())
    }

    fn required(&mut self, column: &str) -> Option<&'a str> {
        let value = self.optional(column);
        if value.is_none() {
            self.fail(column, ImportErrorKind::Empty);
        }
        value
    }

    fn flag(&mut self, column: &str, default: bool) -> bool {
        match self
            .optional(column)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => default,
            Some("1" | "true" | "yes" | "y") => true,
            Some("0" | "2" | "false" | "no" | "n") => false,
            Some(other) => {
                let value = other.to_string();
                self.fail(
                    column,
                    ImportErrorKind::BadValue {
                        value,
                        expected: "a flag (1/0, true/false, yes/no)".into(),
                    },
                );
                default
            }
        }
    }

    fn count(&mut self, column: &str) -> Option<u64> {
        let text = self.required(column)?;
        if let Ok(value) = text.parse::<u64>() {
            return Some(value);
        }
        let kind = if text.parse::<i64>().is_ok_and(|v| v < 0)
            || text.parse::<f64>().is_ok_and(|v| v < 0.0)
        {
            ImportErrorKind::Negative {
                value: text.to_string(),
            }
        } else {
            ImportErrorKind::BadValue {
                value: text.to_string(),
                expected: "a whole number of employees".into(),
            }
        };
        self.fail(column, kind);
        None
    }
}

fn parse_links(
    reader: &mut dyn Read,
    file: &str,
    units: &ParsedUnits,
    errors: &mut Collector,
) -> Vec<Link> {
    let mut links = Vec::new();
    let Some((mut reader, header)) = open_csv(reader, file, &["buyer_id", "supplier_id"], errors)
    else {
        return links;
    };
    let mut first_line_of_pair: HashMap<(usize, usize), u64> = HashMap::new();
    for_each_row(&mut reader, file, &header, errors, |mut row| {
        let line = row.line;
        let buyer = link_endpoint(&mut row, "buyer_id", units);
        let supplier = link_endpoint(&mut row, "supplier_id", units);
        let weight = row
            .optional("link_weight")
            .and_then(|text| match text.parse::<f64>() {
                Ok(value) if value.is_finite() && value >= 0.0 => Some(value),
                Ok(value) if value < 0.0 => {
                    row.fail(
                        "link_weight",
                        ImportErrorKind::Negative {
                            value: text.to_string(),
                        },
                    );
                    None
                }
                _ => {
                    row.fail(
                        "link_weight",
                        ImportErrorKind::BadValue {
                            value: text.to_string(),
                            expected: "a finite number ≥ 0".into(),
                        },
                    );
                    None
                }
            });
        let (Some(buyer), Some(supplier)) = (buyer, supplier) else {
            return;
        };
        if buyer == supplier {
            row.fail(
                "supplier_id",
                ImportErrorKind::SelfLink(units.units[buyer].id.clone()),
            );
            return;
        }
        if let Some(&first_line) = first_line_of_pair.get(&(buyer, supplier)) {
            row.fail(
                "supplier_id",
                ImportErrorKind::DuplicateLink {
                    buyer: units.units[buyer].id.clone(),
                    supplier: units.units[supplier].id.clone(),
                    first_line,
                },
            );
            return;
        }
        first_line_of_pair.insert((buyer, supplier), line);
        if row.ok {
            links.push(Link {
                buyer,
                supplier,
                weight,
            });
        }
    });
    links
}

/// The unit index named in a links-file column, reporting unknown ids (but not ids whose own
/// row was rejected: that error is already listed).
fn link_endpoint(row: &mut Row, column: &str, units: &ParsedUnits) -> Option<usize> {
    let id = row.required(column)?;
    if let Some(&idx) = units.index.get(id) {
        return Some(idx);
    }
    if !units.rejected.contains_key(id) {
        row.fail(column, ImportErrorKind::UnknownUnit(id.to_string()));
    }
    row.ok = false;
    None
}
