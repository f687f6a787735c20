//! holdfast-sim: the deterministic discrete-event simulator of whole
//! topologies (DESIGN.md, "Simulator"). Not built yet: this crate exists so
//! the dependency rule holds from the start (it may use `core`, never
//! `runtime`, a socket or the wall clock).
