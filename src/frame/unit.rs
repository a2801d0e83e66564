use std::collections::HashMap;

/// Dense index of a unit inside its [`Frame`] (position in `Frame::units`).
pub type UnitIdx = usize;

/// Ownership of a unit, as used for stratification and domains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ownership {
    /// Foreign-invested (FDI).
    Fdi,
    /// Domestic private (including household businesses).
    Domestic,
    /// State-owned.
    State,
}

impl Ownership {
    /// The code used in CSV files and reports.
    pub fn code(self) -> &'static str {
        match self {
            Ownership::Fdi => "FDI",
            Ownership::Domestic => "DOM",
            Ownership::State => "SOE",
        }
    }

    /// Parses the CSV code (`FDI`, `DOM`, `SOE`, case-insensitive).
    pub fn from_code(code: &str) -> Option<Ownership> {
        match code.trim().to_ascii_uppercase().as_str() {
            "FDI" => Some(Ownership::Fdi),
            "DOM" => Some(Ownership::Domestic),
            "SOE" => Some(Ownership::State),
            _ => None,
        }
    }
}

/// Which VSIC classification a unit's activity code belongs to. VSIC 2018 (Decision
/// 27/2018) was replaced by VSIC 2025 (Decision 36/2025) from 15 Nov 2025.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VsicVersion {
    V2018,
    V2025,
}

/// Size class by employment (Decree 80/2021 thresholds for industry): micro < 10,
/// small 10–99, medium 100–199, large 200+.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SizeClass {
    Micro,
    Small,
    Medium,
    Large,
}

impl SizeClass {
    /// The size class of a unit with `employees` workers.
    pub fn from_employees(employees: u64) -> SizeClass {
        match employees {
            0..=9 => SizeClass::Micro,
            10..=99 => SizeClass::Small,
            100..=199 => SizeClass::Medium,
            _ => SizeClass::Large,
        }
    }

    /// The code used in CSV files and reports.
    pub fn code(self) -> &'static str {
        match self {
            SizeClass::Micro => "micro",
            SizeClass::Small => "small",
            SizeClass::Medium => "medium",
            SizeClass::Large => "large",
        }
    }
}

/// One register unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Register identifier, unique in the frame.
    pub id: String,
    /// Tax code (mã số thuế); household businesses may have none.
    pub tax_code: Option<String>,
    pub name: String,
    /// Main activity code (4 or 5 digits).
    pub vsic: String,
    pub vsic_version: VsicVersion,
    /// GSO province code before the 2025 merger (63 provinces).
    pub province: String,
    /// Province code after Resolution 202/2025 (34 provinces), when known.
    pub province_2025: Option<String>,
    pub ownership: Ownership,
    pub household_business: bool,
    /// Has a business registration.
    pub registered: bool,
    pub employees_male: u64,
    pub employees_female: u64,
}

impl Unit {
    /// Total employment (male + female).
    pub fn employees(&self) -> u64 {
        self.employees_male + self.employees_female
    }

    pub fn size_class(&self) -> SizeClass {
        SizeClass::from_employees(self.employees())
    }
}

/// A buyer → supplier link: `buyer` buys from `supplier`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    pub buyer: UnitIdx,
    pub supplier: UnitIdx,
    /// Optional importance (e.g. share of the supplier's sales going to the buyer), ≥ 0.
    pub weight: Option<f64>,
}

/// Units and links, with an index from register id to [`UnitIdx`].
///
/// Columns beyond the fixed [`Unit`] fields (extra CSV columns, computed tiers, permanent
/// random numbers) live in [`Frame::attributes`], so that adding one never changes `Unit`.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    pub units: Vec<Unit>,
    pub links: Vec<Link>,
    by_id: HashMap<String, UnitIdx>,
    attributes: Attributes,
}

/// Extra string columns of the frame, one value per unit, in column order.
///
/// They are what makes "stratify by any attribute" possible without a schema change:
/// a CSV column `region6` or a computed `tier` is stored here and looked up by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes {
    names: Vec<String>,
    /// `values[a][u]` is attribute `a` of unit `u`.
    values: Vec<Vec<String>>,
}

impl Attributes {
    /// Attribute names in the order they were added.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// All values of attribute `name` (one per unit), if it exists.
    pub fn column(&self, name: &str) -> Option<&[String]> {
        let pos = self.names.iter().position(|n| n == name)?;
        Some(&self.values[pos])
    }

    /// Value of attribute `name` for unit `idx`.
    pub fn get(&self, name: &str, idx: UnitIdx) -> Option<&str> {
        self.column(name)
            .and_then(|values| values.get(idx))
            .map(String::as_str)
    }
}

impl Frame {
    /// Builds a frame; returns the first duplicate id as the error.
    pub fn new(units: Vec<Unit>, links: Vec<Link>) -> Result<Frame, String> {
        let mut by_id = HashMap::with_capacity(units.len());
        for (idx, unit) in units.iter().enumerate() {
            if by_id.insert(unit.id.clone(), idx).is_some() {
                return Err(unit.id.clone());
            }
        }
        Ok(Frame {
            units,
            links,
            by_id,
            attributes: Attributes::default(),
        })
    }

    /// The extra attribute columns.
    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }

    /// Adds or replaces attribute column `name`. Returns `Err(values.len())` when the
    /// column does not have exactly one value per unit.
    pub fn set_attribute(&mut self, name: &str, values: Vec<String>) -> Result<(), usize> {
        if values.len() != self.units.len() {
            return Err(values.len());
        }
        match self.attributes.names.iter().position(|n| n == name) {
            Some(pos) => self.attributes.values[pos] = values,
            None => {
                self.attributes.names.push(name.to_string());
                self.attributes.values.push(values);
            }
        }
        Ok(())
    }

    /// The index of the unit with register id `id`.
    pub fn index_of(&self, id: &str) -> Option<UnitIdx> {
        self.by_id.get(id).copied()
    }
}
