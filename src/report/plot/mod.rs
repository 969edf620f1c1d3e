//! The report's plots as inline SVG: [`svg`] draws, [`charts`] turns report figures
//! into charts.

pub(crate) mod charts;
pub(crate) mod svg;
