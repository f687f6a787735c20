//! `virtual_server_group`, `virtual_server` and `real_server`.

use std::time::Duration;

use super::checker::{checker, Inherited, CHECKER_KEYWORDS};
use super::reader::Cx;
use crate::config::model::{
    Family, ForwardingMethod, Protocol, RealServer, Scheduler, SchedulerFlags, SorryServer,
    TunnelChecksum, TunnelType, VirtualServer, VirtualServerGroup, VsKey, VsgEntry,
};
use crate::config::source::Span;
use crate::config::tree::Stmt;
use crate::config::value;

/// Reads `virtual_server_group NAME { ... }`.
pub fn virtual_server_group(cx: &mut Cx, stmt: Stmt) -> Option<(VirtualServerGroup, Span)> {
    cx.arity(stmt, 1, 1, "virtual_server_group NAME { ... }");
    let name = stmt.args().first()?;
    if !cx.need_block(stmt, "virtual_server_group NAME { IP[-RANGE] PORT ... }") {
        return None;
    }
    let mut entries = Vec::new();
    for e in stmt.items() {
        cx.no_block(e);
        if e.name() == "fwmark" {
            if !cx.arity(e, 1, 2, "fwmark <integer> [inet|inet6]") {
                continue;
            }
            let Some(mark) = cx.int_tok(&e.args()[0], 1, u32::MAX as i64, "fwmark") else {
                continue;
            };
            let family = match e.args().get(1).map(|t| t.text.as_str()) {
                None => None,
                Some("inet") => Some(Family::Ipv4),
                Some("inet6") => Some(Family::Ipv6),
                Some(other) => {
                    cx.error(
                        e.args()[1].span,
                        format!("unknown family `{other}`"),
                        "inet or inet6",
                    );
                    continue;
                }
            };
            entries.push(VsgEntry::Fwmark {
                mark: mark as u32,
                family,
            });
            continue;
        }
        let (first, last) = match value::ip_range(e.name()) {
            Ok(r) => r,
            Err(msg) => {
                cx.error(
                    e.keyword().span,
                    format!("invalid virtual_server_group entry: {msg}"),
                    "IP[-LAST] [PORT] or fwmark N",
                );
                continue;
            }
        };
        cx.arity(e, 0, 1, "IP[-LAST] [PORT]");
        let port = match e.args().first() {
            Some(p) => match cx.port_tok(p, "port") {
                Some(p) => p,
                None => continue,
            },
            None => 0,
        };
        entries.push(VsgEntry::Range { first, last, port });
    }
    Some((
        VirtualServerGroup {
            name: name.text.to_string(),
            entries,
        },
        name.span,
    ))
}

/// What a virtual server needs resolved at the end: the place of its group
/// reference and its `smtp_alert` settings as written.
pub struct ServerMeta {
    /// Where its key starts.
    pub key_span: Span,
    /// `smtp_alert` as written in the virtual server.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert` as written in each real server.
    pub rs_smtp_alert: Vec<Option<bool>>,
}

impl ServerMeta {
    /// Applies the global `smtp_alert` defaults: keepalived's quirk is that
    /// real servers alert unless told otherwise, virtual servers do not.
    pub fn resolve(&self, vs: &mut VirtualServer, g: &crate::config::model::GlobalDefs) {
        let global = g.smtp_alert_checker.or(g.smtp_alert);
        vs.smtp_alert = self.smtp_alert.or(global).unwrap_or(false);
        for (rs, own) in vs.real_servers.iter_mut().zip(&self.rs_smtp_alert) {
            rs.smtp_alert = own.or(global).unwrap_or(true);
        }
    }
}

fn method(cx: &mut Cx, s: Stmt) -> Option<ForwardingMethod> {
    cx.no_block(s);
    let usage = "NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]";
    if !cx.arity(s, 1, usize::MAX, usage) {
        return None;
    }
    let kind = &s.args()[0];
    let m = match kind.text.to_ascii_uppercase().as_str() {
        "NAT" => ForwardingMethod::Nat,
        "DR" => ForwardingMethod::Dr,
        "TUN" => {
            let mut tunnel = TunnelType::Ipip;
            let mut checksum = None;
            let mut it = s.args()[1..].iter();
            while let Some(t) = it.next() {
                match t.text.as_str() {
                    "type" => {
                        let Some(ty) = it.next() else {
                            cx.error(
                                t.span,
                                "`type` is missing its value",
                                "type ipip|gue port N|gre",
                            );
                            return None;
                        };
                        tunnel = match ty.text.as_str() {
                            "ipip" => TunnelType::Ipip,
                            "gre" => TunnelType::Gre,
                            "gue" => {
                                let port = match (it.next(), it.next()) {
                                    (Some(kw), Some(p)) if kw.text == "port" => {
                                        cx.port_tok(p, "gue port")?
                                    }
                                    _ => {
                                        cx.error(ty.span, "`gue` needs a port", "type gue port N");
                                        return None;
                                    }
                                };
                                TunnelType::Gue { port }
                            }
                            other => {
                                cx.error(
                                    ty.span,
                                    format!("unknown tunnel type `{other}`"),
                                    "ipip, gue or gre",
                                );
                                return None;
                            }
                        }
                    }
                    "nocsum" => checksum = Some(TunnelChecksum::Nocsum),
                    "csum" => checksum = Some(TunnelChecksum::Csum),
                    "remcsum" => checksum = Some(TunnelChecksum::Remcsum),
                    other => {
                        cx.error(t.span, format!("unexpected `{other}`"), usage);
                        return None;
                    }
                }
            }
            return Some(ForwardingMethod::Tun { tunnel, checksum });
        }
        other => {
            cx.error(
                kind.span,
                format!("forwarding method `{other}` is not valid"),
                "NAT, DR or TUN",
            );
            return None;
        }
    };
    cx.arity(s, 1, 1, usage);
    Some(m)
}

/// Reads `virtual_server ... { ... }`.
/// Global defaults are not known while virtual servers stream past (a
/// `global_defs` may come last), so the `smtp_alert` values as written are
/// kept here and resolved at the end.
pub fn virtual_server(cx: &mut Cx, stmt: Stmt) -> Option<(VirtualServer, ServerMeta)> {
    let usage = "virtual_server IP PORT | fwmark N | group NAME { ... }";
    if !cx.arity(stmt, 1, 2, usage) {
        return None;
    }
    let first = &stmt.args()[0];
    let key = match first.text.as_str() {
        "fwmark" => {
            let Some(n) = stmt.args().get(1) else {
                cx.error(
                    first.span,
                    "`fwmark` is missing its value",
                    "virtual_server fwmark <integer>",
                );
                return None;
            };
            VsKey::Fwmark {
                mark: cx.int_tok(n, 1, u32::MAX as i64, "fwmark")? as u32,
            }
        }
        "group" => {
            let Some(n) = stmt.args().get(1) else {
                cx.error(
                    first.span,
                    "`group` is missing its name",
                    "virtual_server group <name>",
                );
                return None;
            };
            VsKey::Group {
                name: n.text.to_string(),
            }
        }
        _ => {
            let address = cx.ip_tok(first, "virtual server address")?;
            let port = match stmt.args().get(1) {
                Some(p) => cx.port_tok(p, "virtual server port")?,
                None => 0,
            };
            VsKey::Addr { address, port }
        }
    };
    let key_span = stmt
        .args()
        .get(1)
        .filter(|_| matches!(key, VsKey::Group { .. }))
        .unwrap_or(first)
        .span;
    if !cx.need_block(stmt, "virtual_server ... { real_server ... }") {
        return None;
    }

    let mut vs = VirtualServer {
        key,
        protocol: Protocol::Tcp,
        scheduler: Scheduler::Wlc,
        scheduler_flags: SchedulerFlags::default(),
        method: ForwardingMethod::Nat,
        persistence_timeout: None,
        persistence_granularity: None,
        ip_family: None,
        delay_loop: Duration::from_secs(60),
        sorry_server: None,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        alpha: false,
        omega: false,
        ha_suspend: false,
        virtualhost: None,
        smtp_alert: false,
        real_servers: Vec::new(),
    };
    let mut protocol_span = None;
    let mut sched_set = false;
    let mut method_set = false;
    let mut vs_weight: Option<u32> = None;
    let mut sorry: Option<(std::net::IpAddr, Option<u16>)> = None;
    let mut sorry_inhibit = false;
    let mut sorry_method = None;
    let mut inherit = Inherited::default();
    let mut vs_inhibit = false;
    let mut vs_smtp_alert = None;
    let mut rs_smtp_alert = Vec::new();
    let mut rs_stmts: Vec<Stmt> = Vec::new();

    for s in stmt.items() {
        match s.name() {
            "delay_loop" => {
                vs.delay_loop = cx
                    .timer(s, Duration::from_micros(1), Duration::from_secs(86_400))
                    .unwrap_or(vs.delay_loop)
            }
            "weight" => vs_weight = cx.int(s, 0, 65_535).map(|n| n as u32).or(vs_weight),
            "lb_algo" | "lvs_sched" => {
                sched_set = true;
                if let Some(t) = cx.one(
                    s,
                    "lvs_sched rr|wrr|lc|wlc|lblc|sh|mh|dh|fo|ovf|lblcr|sed|nq|twos",
                ) {
                    match Scheduler::from_name(&t.text) {
                        Some(sc) => vs.scheduler = sc,
                        None => cx.error(
                            t.span,
                            format!("scheduler `{}` is not an IPVS scheduler", t.text),
                            "one of rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos",
                        ),
                    }
                }
            }
            "lb_kind" | "lvs_method" => {
                method_set = true;
                vs.method = method(cx, s).unwrap_or(vs.method);
            }
            "persistence_timeout" => {
                cx.no_block(s);
                cx.arity(s, 0, 1, "persistence_timeout [seconds]");
                vs.persistence_timeout = match s.args().first() {
                    // keepalived: the keyword alone means 6 minutes.
                    None => Some(360),
                    Some(t) => cx
                        .int_tok(t, 1, 2_678_400, "persistence_timeout")
                        .map(|n| n as u32)
                        .or(vs.persistence_timeout),
                };
            }
            "persistence_granularity" => {
                if let Some(t) = cx.one(s, "persistence_granularity <netmask>") {
                    match value::netmask(&t.text) {
                        Some(p) => vs.persistence_granularity = Some(p),
                        None => cx.error(
                            t.span,
                            format!("`{}` is not a netmask", t.text),
                            "a netmask such as 255.255.255.0, or a prefix length",
                        ),
                    }
                }
            }
            "protocol" => {
                if let Some(t) = cx.one(s, "protocol TCP|UDP|SCTP") {
                    match t.text.to_ascii_uppercase().as_str() {
                        "TCP" => vs.protocol = Protocol::Tcp,
                        "UDP" => vs.protocol = Protocol::Udp,
                        "SCTP" => vs.protocol = Protocol::Sctp,
                        other => cx.error(
                            t.span,
                            format!("protocol `{other}` is not valid"),
                            "TCP, UDP or SCTP",
                        ),
                    }
                    protocol_span = Some(s.keyword().span);
                }
            }
            "ip_family" => {
                if let Some(t) = cx.one(s, "ip_family inet|inet6") {
                    match t.text.as_str() {
                        "inet" => vs.ip_family = Some(Family::Ipv4),
                        "inet6" => vs.ip_family = Some(Family::Ipv6),
                        other => cx.error(
                            t.span,
                            format!("ip_family `{other}` is not valid"),
                            "inet or inet6",
                        ),
                    }
                }
            }
            "sorry_server" => {
                cx.no_block(s);
                if cx.arity(s, 1, 2, "sorry_server IP [PORT]") {
                    let addr = cx.ip_tok(&s.args()[0], "sorry_server address");
                    let port = s.args().get(1).map(|p| cx.port_tok(p, "sorry_server port"));
                    if let (Some(a), None | Some(Some(_))) = (addr, port) {
                        sorry = Some((a, port.flatten()));
                    }
                }
            }
            "sorry_server_inhibit" => sorry_inhibit = cx.flag(s).unwrap_or(sorry_inhibit),
            "sorry_server_lvs_method" => sorry_method = method(cx, s).or(sorry_method),
            "quorum" => {
                vs.quorum = cx
                    .int(s, 1, u32::MAX as i64)
                    .map_or(vs.quorum, |n| n as u32)
            }
            "hysteresis" => {
                vs.hysteresis = cx
                    .int(s, 0, u32::MAX as i64)
                    .map_or(vs.hysteresis, |n| n as u32)
            }
            "quorum_up" => vs.quorum_up = cx.script(s).or(vs.quorum_up.take()),
            "quorum_down" => vs.quorum_down = cx.script(s).or(vs.quorum_down.take()),
            "alpha" => vs.alpha = cx.flag(s).unwrap_or(vs.alpha),
            "omega" => vs.omega = cx.flag(s).unwrap_or(vs.omega),
            "ha_suspend" => {
                vs.ha_suspend = cx.flag(s).unwrap_or(vs.ha_suspend);
                if vs.ha_suspend {
                    cx.not_implemented(s);
                }
            }
            "virtualhost" => vs.virtualhost = cx.string(s).or(vs.virtualhost.take()),
            "smtp_alert" => vs_smtp_alert = cx.flag(s).or(vs_smtp_alert),
            "inhibit_on_failure" => vs_inhibit = cx.flag(s).unwrap_or(vs_inhibit),
            "real_server" => rs_stmts.push(s),
            k if inherit.read(cx, s, k) => {}
            k if SchedulerFlags::default()
                .named()
                .iter()
                .any(|(n, _)| *n == k) =>
            {
                cx.bare(s);
                for (n, f) in vs.scheduler_flags.named() {
                    if n == k {
                        *f = true;
                    }
                }
            }
            "persistence_engine" | "snmp_name" | "lvs_sync_daemon" => cx.not_implemented(s),
            _ => cx.unknown(s, "virtual_server"),
        }
    }

    if let (VsKey::Fwmark { .. }, Some(span)) = (&vs.key, protocol_span) {
        cx.warn(
            span,
            "protocol is ignored for fwmark virtual servers (as keepalived)",
        );
        vs.protocol = Protocol::Tcp;
    }
    // keepalived's completions of a virtual server, each said out loud.
    let at = stmt.keyword().span;
    if protocol_span.is_none() && !matches!(vs.key, VsKey::Fwmark { .. }) {
        cx.warn(at, "virtual_server has no `protocol`; UDP is used, as keepalived does (write `protocol TCP` if that is meant)");
        vs.protocol = Protocol::Udp;
    }
    if !sched_set {
        cx.warn(
            at,
            "virtual_server has no `lvs_sched` (`lb_algo`); wlc is used, as keepalived does",
        );
    }
    if !method_set {
        cx.warn(
            at,
            "virtual_server has no `lvs_method` (`lb_kind`); NAT is used, as keepalived does",
        );
    }
    if let (VsKey::Addr { port: 0, .. }, None) = (&vs.key, vs.persistence_timeout) {
        cx.warn(at, "port 0 is only valid for a persistent service; persistence_timeout 360 is set, as keepalived does");
        vs.persistence_timeout = Some(360);
    }
    let vs_port = match vs.key {
        VsKey::Addr { port, .. } if port != 0 => Some(port),
        _ => None,
    };
    vs.sorry_server = sorry.map(|(address, port)| SorryServer {
        address,
        port: port.or(vs_port),
        method: sorry_method.unwrap_or(vs.method),
        inhibit: sorry_inhibit,
    });
    if let (Some(sorry), Some(port)) = (&mut vs.sorry_server, vs_port) {
        if sorry.method == ForwardingMethod::Dr && sorry.port != Some(port) {
            cx.warn(at, format!("a DR sorry_server cannot change the port; it uses the service's port {port}, as keepalived does"));
            sorry.port = Some(port);
        }
    }
    inherit.alpha = inherit.alpha.or(Some(vs.alpha));
    let rs_written = !rs_stmts.is_empty();
    // Sized once: a large pool of real servers carries no slack.
    vs.real_servers.reserve_exact(rs_stmts.len());
    for s in rs_stmts {
        let defaults = RsDefaults {
            port: vs_port,
            weight: vs_weight.unwrap_or(1),
            inhibit: vs_inhibit,
        };
        let Some((mut rs, smtp)) = real_server(cx, s, &vs, defaults, &inherit) else {
            continue;
        };
        if let (ForwardingMethod::Dr, Some(port)) = (rs.method, vs_port) {
            if rs.port != Some(port) {
                cx.warn(s.keyword().span, format!("a DR real server cannot change the port; it uses the service's port {port}, as keepalived does"));
                rs.port = Some(port);
            }
        }
        if vs
            .real_servers
            .iter()
            .any(|r| r.address == rs.address && r.port == rs.port)
        {
            cx.warn(
                s.keyword().span,
                "duplicate real_server; this one is ignored, as keepalived does",
            );
            continue;
        }
        vs.real_servers.push(rs);
        rs_smtp_alert.push(smtp);
    }
    if vs.real_servers.is_empty() {
        // When real servers were written but none could be read, their
        // errors say it already.
        if !rs_written {
            cx.warn(
                at,
                "virtual_server has no real servers; it is ignored, as keepalived does",
            );
        }
        return None;
    }
    let total: u64 = vs.real_servers.iter().map(|r| u64::from(r.weight)).sum();
    if u64::from(vs.quorum) > total.max(1) {
        let to = total.max(1) as u32;
        cx.warn(at, format!("quorum {} exceeds the total weight {total} of the real servers; it is reduced to {to}, as keepalived does", vs.quorum));
        vs.quorum = to;
    }
    if vs.hysteresis >= vs.quorum {
        let to = vs.quorum - 1;
        cx.warn(
            at,
            format!(
                "hysteresis {} >= quorum {}; it is set to {to}, as keepalived does",
                vs.hysteresis, vs.quorum
            ),
        );
        vs.hysteresis = to;
    }
    Some((
        vs,
        ServerMeta {
            key_span,
            smtp_alert: vs_smtp_alert,
            rs_smtp_alert,
        },
    ))
}

/// What a real server takes from its virtual server unless it says otherwise.
struct RsDefaults {
    port: Option<u16>,
    weight: u32,
    inhibit: bool,
}

fn real_server(
    cx: &mut Cx,
    stmt: Stmt,
    vs: &VirtualServer,
    defaults: RsDefaults,
    vs_inherit: &Inherited,
) -> Option<(RealServer, Option<bool>)> {
    let RsDefaults {
        port: vs_port,
        weight: vs_weight,
        inhibit: vs_inhibit,
    } = defaults;
    if !cx.arity(stmt, 1, 2, "real_server IP [PORT] { ... }") {
        return None;
    }
    let address = cx.ip_tok(&stmt.args()[0], "real server address")?;
    let port = match stmt.args().get(1) {
        Some(p) => Some(cx.port_tok(p, "real server port")?),
        None => vs_port,
    };
    let mut rs = RealServer {
        address,
        port,
        weight: vs_weight,
        method: vs.method,
        inhibit_on_failure: vs_inhibit,
        notify_up: None,
        notify_down: None,
        uthreshold: None,
        lthreshold: None,
        smtp_alert: true,
        virtualhost: None,
        checkers: Vec::new(),
    };
    let mut inherit = vs_inherit.clone();
    let mut checker_stmts: Vec<Stmt> = Vec::new();
    let mut rs_delay_loop = None;
    let mut smtp_alert = None;
    for s in stmt.items() {
        match s.name() {
            "weight" => rs.weight = cx.int(s, 0, 65_535).map_or(rs.weight, |n| n as u32),
            "lvs_method" => rs.method = method(cx, s).unwrap_or(rs.method),
            "inhibit_on_failure" => {
                rs.inhibit_on_failure = cx.flag(s).unwrap_or(rs.inhibit_on_failure)
            }
            "notify_up" => rs.notify_up = cx.script(s).map(Box::new).or(rs.notify_up.take()),
            "notify_down" => rs.notify_down = cx.script(s).map(Box::new).or(rs.notify_down.take()),
            "uthreshold" => rs.uthreshold = cx.u32(s, 0).or(rs.uthreshold),
            "lthreshold" => rs.lthreshold = cx.u32(s, 0).or(rs.lthreshold),
            "smtp_alert" => smtp_alert = cx.flag(s).or(smtp_alert),
            "virtualhost" => rs.virtualhost = cx.string(s).or(rs.virtualhost.take()),
            "delay_loop" => {
                rs_delay_loop = cx
                    .timer(s, Duration::from_micros(1), Duration::from_secs(86_400))
                    .or(rs_delay_loop)
            }
            k if CHECKER_KEYWORDS.contains(&k) => checker_stmts.push(s),
            k if inherit.read(cx, s, k) => {}
            "snmp_name" => cx.not_implemented(s),
            "BFD_CHECK" => cx.not_implemented(s),
            _ => cx.unknown(s, "real_server"),
        }
    }
    if let (Some(lo), Some(hi)) = (rs.lthreshold, rs.uthreshold) {
        if lo > hi {
            cx.error(
                stmt.keyword().span,
                format!("lthreshold {lo} is above uthreshold {hi}"),
                "lthreshold <= uthreshold",
            );
        }
    }
    if rs.port.is_none() && matches!(vs.key, VsKey::Addr { .. }) && vs_port.is_none() {
        // `virtual_server IP` without a port: real servers take port 0 (all ports).
        rs.port = Some(0);
    }
    let delay_loop = rs_delay_loop.unwrap_or(vs.delay_loop);
    let virtualhost = rs.virtualhost.clone().or_else(|| vs.virtualhost.clone());
    rs.checkers.reserve_exact(checker_stmts.len());
    for s in checker_stmts {
        if let Some(c) = checker(cx, s, &inherit, delay_loop, virtualhost.as_deref()) {
            if c.kind.is_implemented() {
                rs.checkers.push(c);
            } else {
                // Read in full, so that its own mistakes are reported too.
                cx.not_implemented(s);
            }
        }
    }
    Some((rs, smtp_alert))
}
