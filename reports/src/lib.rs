//! holdfast-reports: convergence plots and HTML reports from traces
//! (DESIGN.md, "Reports"). Not built yet.
