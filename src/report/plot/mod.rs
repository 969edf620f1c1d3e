//! The report's plots as inline SVG: [`svg`] draws, [`charts`] turns report figures
//! into charts.

pub mod charts;
pub mod svg;
