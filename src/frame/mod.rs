//! Business-register units and supply links: the sampling frame.
//!
//! A [`Frame`] holds units (enterprises, household businesses) and buyer → supplier links
//! between them. Units are addressed by their dense index ([`UnitIdx`]) inside the frame;
//! the register identifier (`id`) and the tax code are kept for matching and output.
//!
//! Architecture invariant: `frame` depends on nothing else of ours.

mod unit;

pub use unit::{Attributes, Frame, Link, Ownership, SizeClass, Unit, UnitIdx, VsicVersion};
