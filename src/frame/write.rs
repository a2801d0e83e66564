//! Writes a frame back as the CSV files it was imported from (`docs/frame-format.md`), with
//! the attributes (including computed ones such as `tier`) as extra columns.

use std::io::Write;

use crate::frame::Frame;
use crate::frame::import::UNIT_COLUMNS;

/// Writes the units file: the fixed columns, then every attribute column.
pub fn write_units_csv(frame: &Frame, out: &mut dyn Write) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    let attributes = frame.attributes();
    let mut header: Vec<&str> = UNIT_COLUMNS.to_vec();
    header.extend(attributes.names().iter().map(String::as_str));
    writer.write_record(&header)?;
    for idx in 0..frame.units.len() {
        let mut record: Vec<String> = UNIT_COLUMNS
            .iter()
            .map(|column| {
                frame
                    .column_value(idx, column)
                    .map(|v| v.into_owned())
                    .unwrap_or_default()
            })
            .collect();
        for name in attributes.names() {
            record.push(attributes.get(name, idx).unwrap_or_default().to_string());
        }
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes the links file (`buyer_id,supplier_id,link_weight`).
pub fn write_links_csv(frame: &Frame, out: &mut dyn Write) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["buyer_id", "supplier_id", "link_weight"])?;
    for link in &frame.links {
        let weight = link.weight.map(|w| w.to_string()).unwrap_or_default();
        writer.write_record([
            frame.units[link.buyer].id.as_str(),
            frame.units[link.supplier].id.as_str(),
            weight.as_str(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}
