//! A content digest of a frame, stored with every sample so a replay can prove it ran on the
//! same frame (METHODOLOGY §6, audit trail: "seed, frame digest, π per stage …").

use sha2::{Digest, Sha256};

use crate::frame::Frame;

impl Frame {
    /// SHA-256 (hex) over every unit's fields and attributes, in order, then every link.
    /// Fields are length-prefixed, so no two different frames share an encoding.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(b"chainsurvey-frame-v1");
        for (idx, unit) in self.units.iter().enumerate() {
            field(unit.id.as_bytes());
            field(unit.tax_code.as_deref().unwrap_or("").as_bytes());
            field(unit.name.as_bytes());
            field(unit.vsic.as_bytes());
            field(
                self.column_value(idx, "vsic_version")
                    .unwrap_or_default()
                    .as_bytes(),
            );
            field(unit.province.as_bytes());
            field(unit.province_2025.as_deref().unwrap_or("").as_bytes());
            field(unit.ownership.code().as_bytes());
            field(&[u8::from(unit.household_business), u8::from(unit.registered)]);
            field(&unit.employees_male.to_le_bytes());
            field(&unit.employees_female.to_le_bytes());
            for name in self.attributes().names() {
                field(name.as_bytes());
                field(self.attributes().get(name, idx).unwrap_or("").as_bytes());
            }
        }
        for link in &self.links {
            field(&(link.buyer as u64).to_le_bytes());
            field(&(link.supplier as u64).to_le_bytes());
            match link.weight {
                Some(w) => field(&w.to_bits().to_le_bytes()),
                None => field(b""),
            }
        }
        let digest = hasher.finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}
