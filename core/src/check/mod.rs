//! Health checking of real servers: when each checker probes and when its
//! server counts as up or down (`schedule`), and judging an HTTP response
//! as keepalived's HTTP_GET / SSL_GET does (`http`). The probes themselves
//! are I/O and run in a driver; `Node` ties the checkers to the LVS table.

pub mod http;
pub mod schedule;
