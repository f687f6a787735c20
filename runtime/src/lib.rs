//! holdfast-runtime: the production daemon's driver of `holdfast_core`
//! (DESIGN.md, "Runtime"): raw sockets, netlink, probes, data planes. Not
//! built yet.
