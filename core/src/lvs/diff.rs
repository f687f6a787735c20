//! The minimal ordered operations from one table to another.
//!
//! Order: services that go away first (the kernel drops their destinations
//! with them), then changes inside services that stay (edit the service,
//! remove, edit, add destinations), then new services with their
//! destinations. Nothing that stays is touched.

use serde::Serialize;

use super::table::{DestKey, DestParams, Service, ServiceKey, ServiceParams, Table};

/// One change to apply to a data plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Op {
    /// Create a service.
    AddService(ServiceKey, ServiceParams),
    /// Change a service's settings.
    EditService(ServiceKey, ServiceParams),
    /// Delete a service and its destinations.
    RemoveService(ServiceKey),
    /// Add a destination.
    AddDest(ServiceKey, DestKey, DestParams),
    /// Change a destination's settings.
    EditDest(ServiceKey, DestKey, DestParams),
    /// Remove a destination.
    RemoveDest(ServiceKey, DestKey),
}

/// Operations that turn `old` into `new`.
pub fn diff(old: &Table, new: &Table) -> Vec<Op> {
    let mut ops = Vec::new();
    for key in old.services.keys() {
        if !new.services.contains_key(key) {
            ops.push(Op::RemoveService(key.clone()));
        }
    }
    for (key, want) in &new.services {
        let Some(have) = old.services.get(key) else {
            continue;
        };
        if have.params != want.params {
            ops.push(Op::EditService(key.clone(), want.params.clone()));
        }
        for d in have.dests.keys() {
            if !want.dests.contains_key(d) {
                ops.push(Op::RemoveDest(key.clone(), *d));
            }
        }
        for (d, p) in &want.dests {
            match have.dests.get(d) {
                Some(h) if h == p => {}
                Some(_) => ops.push(Op::EditDest(key.clone(), *d, p.clone())),
                None => ops.push(Op::AddDest(key.clone(), *d, p.clone())),
            }
        }
    }
    for (key, want) in &new.services {
        if old.services.contains_key(key) {
            continue;
        }
        ops.push(Op::AddService(key.clone(), want.params.clone()));
        for (d, p) in &want.dests {
            ops.push(Op::AddDest(key.clone(), *d, p.clone()));
        }
    }
    ops
}

/// An operation that does not fit the table it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The service does not exist.
    #[error("no such service {0:?}")]
    NoService(ServiceKey),
    /// The service exists already.
    #[error("service {0:?} exists already")]
    ServiceExists(ServiceKey),
    /// The destination does not exist.
    #[error("no such destination {1:?} in {0:?}")]
    NoDest(ServiceKey, DestKey),
    /// The destination exists already.
    #[error("destination {1:?} exists already in {0:?}")]
    DestExists(ServiceKey, DestKey),
}

fn service<'t>(t: &'t mut Table, k: &ServiceKey) -> Result<&'t mut Service, ApplyError> {
    t.services
        .get_mut(k)
        .ok_or_else(|| ApplyError::NoService(k.clone()))
}

/// Applies one operation as the kernel would, refusing what it would refuse.
pub fn apply(table: &mut Table, op: &Op) -> Result<(), ApplyError> {
    match op {
        Op::AddService(k, p) => {
            if table.services.contains_key(k) {
                return Err(ApplyError::ServiceExists(k.clone()));
            }
            table.services.insert(
                k.clone(),
                Service {
                    params: p.clone(),
                    dests: Default::default(),
                },
            );
        }
        Op::EditService(k, p) => service(table, k)?.params = p.clone(),
        Op::RemoveService(k) => {
            table
                .services
                .remove(k)
                .ok_or_else(|| ApplyError::NoService(k.clone()))?;
        }
        Op::AddDest(k, d, p) => {
            let s = service(table, k)?;
            if s.dests.contains_key(d) {
                return Err(ApplyError::DestExists(k.clone(), *d));
            }
            s.dests.insert(*d, p.clone());
        }
        Op::EditDest(k, d, p) => {
            let s = service(table, k)?;
            *s.dests
                .get_mut(d)
                .ok_or_else(|| ApplyError::NoDest(k.clone(), *d))? = p.clone();
        }
        Op::RemoveDest(k, d) => {
            service(table, k)?
                .dests
                .remove(d)
                .ok_or_else(|| ApplyError::NoDest(k.clone(), *d))?;
        }
    }
    Ok(())
}
