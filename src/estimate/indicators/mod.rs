//! The decent-work indicators (METHODOLOGY §4): legal parameters, derived variables, the
//! indicator catalog as data, and point estimates by domain.
//!
//! A tour:
//! - [`legal`]: dated Viet Nam legal parameters (`questionnaires/legal/vn.json`) with
//!   lookups by date and region; [`date`]: the calendar date they are keyed by.
//! - [`record`]: worker records as typed named columns, stored by column; [`derived`]: hourly earnings,
//!   informality, age group, minimum wage, overtime cap, child-labour and forced-labour
//!   flags ([`child_labour`], [`forced_labour`]).
//! - [`expr`]: the catalog's expressions through the shared questionnaire expression
//!   language (`questionnaire::expr`); [`catalog`]: `questionnaires/indicators.json`
//!   compiled against the record columns.
//! - [`evaluate`]: per-weight-set point estimates (so replicates recompute the low-pay
//!   median), domains.
//! - [`survey`]: the survey directory of `chainsurvey estimate` (`survey.json`,
//!   `workers.csv`); [`table`]: the indicator table with SE, CI, CV, n and flags, using
//!   `estimate`'s design for every variance; [`threshold`]: the linearized variable of the
//!   low-pay rate with its estimated median threshold.
//!
//! The worker variable names come from [`crate::questionnaire::dwscs`].
//!
//! Deliberately not here: variance formulas themselves (they are `estimate`'s), and the
//! commune → minimum-wage-region table (records carry `mw_region`).

pub mod catalog;
pub mod child_labour;
pub mod date;
pub mod derived;
pub mod error;
pub mod evaluate;
pub mod expr;
pub mod forced_labour;
pub mod legal;
pub mod record;
pub mod survey;
pub mod table;
pub mod threshold;

pub use error::Error;
