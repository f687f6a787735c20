//! Health checking of real servers. For now: judging an HTTP response as
//! keepalived's HTTP_GET / SSL_GET does (`http`). The scheduler and the LVS
//! table (the rest of issue 4) come next.

pub mod http;
pub mod schedule;
