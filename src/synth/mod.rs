//! The embedded default population: a synthetic Viet Nam electronics supply chain with
//! known truth (`../shared/data/vietnam-electronics.md` §7).
