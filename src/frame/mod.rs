//! Business-register units and supply links: the sampling frame.
//!
//! A [`Frame`] holds units (enterprises, household businesses) and buyer → supplier links
//! between them. Units are addressed by their dense index ([`UnitIdx`]) inside the frame;
//! the register identifier (`id`) and the tax code are kept for matching and output. Extra
//! CSV columns and computed columns (the tier) are [`Attributes`], looked up by name.
//!
//! The tour: `unit` (the types), `import` (CSV in, every error with its position, see
//! `docs/frame-format.md`), `write` (CSV out), `province` (the 2025 merger crosswalk, as
//! embedded data with its effective date), `tax_code` (normal form for record linkage),
//! `adjacency` (compressed link lists), `tier` (tier 0 by rule, tier t by shortest link
//! distance), `column` (columns by name for strata and sizes), `summary` (`frame show`), `digest` (SHA-256 of the content, stored with samples).
//!
//! It deliberately does not sample, weight or store anything: frames are values.
//!
//! Architecture invariant: `frame` depends on nothing else of ours.

mod adjacency;
mod column;
mod digest;
mod error;
mod import;
mod province;
mod summary;
mod tax_code;
mod tier;
mod unit;
mod write;

pub use adjacency::Adjacency;
pub use column::BUILTIN_COLUMNS;
pub use error::{FrameError, ImportError, ImportErrorKind, ImportErrors, Position};
pub use import::{
    DEFAULT_MAX_ERRORS, LINK_COLUMNS, REQUIRED_UNIT_COLUMNS, UNIT_COLUMNS, import_frame, read_frame,
};
pub use province::{
    CROSSWALK_CSV, IsoDate, ProvinceChange, crosswalk, is_province_2004, is_province_2025,
    parse_crosswalk, province_change, province_on,
};
pub use summary::{CellCount, FrameSummary, summarize};
pub use tax_code::TaxCode;
pub use tier::{Tier0Rule, Tiers, compute_tiers, tier0_units};
pub use unit::{Attributes, Frame, Link, Ownership, SizeClass, Unit, UnitIdx, VsicVersion};
pub use write::{write_links_csv, write_units_csv};
