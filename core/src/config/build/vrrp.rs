//! `vrrp_instance`.

use std::time::Duration;

use super::reader::Cx;
use super::trackers::{notify_script, track_interfaces, track_scripts};
use super::vrrp_addresses::{unicast_peer_block, virtual_ips};
use crate::config::lexer::Token;
use crate::config::model::{
    AuthType, Authentication, Family, GarpTiming, GlobalDefs, InitialState, Notify, UnicastPeer,
    VirtualIp, VrrpInstance,
};
use crate::config::source::Span;
use crate::config::tree::Stmt;
use crate::config::value;

/// Instance keywords keepalived has that holdfast reads but does not act on yet.
const INSTANCE_NOT_IMPLEMENTED: &[&str] = &[
    "virtual_routes",
    "virtual_rules",
    "track_file",
    "track_process",
    "track_bfd",
    "mcast_dst_ip",
    "track_src_ip",
    "unicast_ttl",
    "check_unicast_src",
    "unicast_fault_no_peer",
    "old_unicast_checksum",
    "use_vmac_addr",
    "vmac_xmit_base",
    "use_ipvlan",
    "garp_extra_if",
    "vmac_garp_intvl",
    "timer_expired_backup",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "owner_ignore_adverts",
    "skip_check_adv_addr",
    "strict_mode",
    "notify_deleted",
    "notify_master_rx_lower_pri",
    "notify_priority_changes",
    "promote_secondaries",
    "linkbeat_use_polling",
    "kernel_rx_buf_size",
    "debug",
    "native_ipv6",
    "vrf",
    "no_virtual_ipaddress",
    "auth_hmac",
];

/// An instance as read, with the places that cross-block checks report.
pub struct InstanceDraft {
    /// The instance.
    pub inst: VrrpInstance,
    /// Where its name is.
    pub name_span: Span,
    /// Where its VRID is (its name if it has none).
    pub vrid_span: Span,
    /// Where its `advert_int` is (its name if defaulted).
    pub advert_span: Span,
    /// Where each tracked script's name is.
    pub track_script_spans: Vec<Span>,
    /// Tracked-script weights as written (`None`: take the script's).
    pub track_script_weights: Vec<Option<i32>>,
}

/// Reads `vrrp_instance NAME { ... }`; `None` when it cannot be used.
pub fn instance(cx: &mut Cx, stmt: Stmt, g: &GlobalDefs) -> Option<InstanceDraft> {
    cx.arity(stmt, 1, 1, "vrrp_instance NAME { ... }");
    let name = stmt.args().first()?;
    if !cx.need_block(
        stmt,
        "vrrp_instance NAME { interface ...; virtual_router_id ...; ... }",
    ) {
        return None;
    }
    let mut state = InitialState::Backup;
    let mut state_span = None;
    let mut interface = None;
    let mut vrid: Option<(u8, Span)> = None;
    let mut vrid_written = false;
    let mut priority = 100u8;
    let mut priority_written = false;
    let mut advert: Option<&Token> = None;
    let mut version: Option<(u8, Span)> = None;
    let mut auth: Option<(Authentication, Span)> = None;
    let mut vips: Vec<(VirtualIp, Span)> = Vec::new();
    let mut excluded: Vec<(VirtualIp, Span)> = Vec::new();
    let mut nopreempt: Option<Span> = None;
    let mut preempt_delay: Option<(Duration, Span)> = None;
    let mut mcast_src_ip = None;
    let mut unicast_src_ip = None;
    let mut unicast_peers: Vec<(UnicastPeer, Span)> = Vec::new();
    let mut track_if = Vec::new();
    let mut track_sc = Vec::new();
    let mut dont_track_primary = false;
    let mut notify = Notify::default();
    let mut smtp_alert = None;
    let mut garp = g.garp;
    let mut use_vmac = None;
    let mut accept = None;
    let mut down_timer_adverts = g.vrrp_down_timer_adverts;

    for s in stmt.items() {
        match s.name() {
            "state" => {
                if let Some(t) = cx.one(s, "state MASTER|BACKUP") {
                    match t.text.as_str() {
                        "MASTER" => state = InitialState::Master,
                        // keepalived keeps a MASTER written before.
                        "BACKUP" if state_span.is_some() && state == InitialState::Master => cx
                            .warn(
                                t.span,
                                "`state` was MASTER already; BACKUP is ignored (as keepalived)",
                            ),
                        "BACKUP" => state = InitialState::Backup,
                        other => cx.error(
                            t.span,
                            format!("state `{other}` is not valid"),
                            "MASTER or BACKUP",
                        ),
                    }
                    state_span = Some(t.span);
                }
            }
            "interface" => interface = cx.string(s).or(interface),
            "virtual_router_id" => {
                vrid_written = true;
                if let Some(n) = cx.int(s, 1, 255) {
                    vrid = Some((n as u8, s.args()[0].span));
                }
            }
            "priority" => {
                priority_written = true;
                priority = cx.int(s, 1, 255).map_or(priority, |n| n as u8);
            }
            "advert_int" => {
                if let Some(t) = cx.one(s, "advert_int <seconds>") {
                    if cx
                        .timer_tok(
                            t,
                            Duration::from_millis(10),
                            Duration::from_secs(255),
                            "advert_int",
                        )
                        .is_some()
                    {
                        advert = Some(t);
                    }
                }
            }
            "version" => {
                if let Some(n) = cx.int(s, 2, 3) {
                    version = Some((n as u8, s.args()[0].span));
                }
            }
            "authentication" => auth = authentication(cx, s).or(auth),
            "virtual_ipaddress" => vips.extend(virtual_ips(cx, s)),
            "virtual_ipaddress_excluded" => excluded.extend(virtual_ips(cx, s)),
            "nopreempt" => {
                cx.bare(s);
                nopreempt = Some(s.keyword().span);
            }
            "preempt" => {
                cx.bare(s);
                nopreempt = None;
            }
            "preempt_delay" => {
                if let Some(d) = cx.timer(s, Duration::ZERO, Duration::from_secs(1000)) {
                    preempt_delay = Some((d, s.keyword().span));
                }
            }
            "mcast_src_ip" => mcast_src_ip = cx.ip(s).or(mcast_src_ip),
            "unicast_src_ip" => unicast_src_ip = cx.ip(s).or(unicast_src_ip),
            "unicast_peer" => unicast_peers.extend(unicast_peer_block(cx, s)),
            "track_interface" => track_if.extend(track_interfaces(cx, s)),
            "track_script" => track_sc.extend(track_scripts(cx, s)),
            "dont_track_primary" => {
                cx.bare(s);
                dont_track_primary = true;
            }
            "notify" | "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" => {
                notify_script(cx, s, &mut notify)
            }
            "smtp_alert" => smtp_alert = cx.flag(s).or(smtp_alert),
            "garp_master_delay" => {
                garp.master_delay = cx
                    .int(s, 0, 1000)
                    .map_or(garp.master_delay, |n| Duration::from_secs(n as u64))
            }
            "garp_master_repeat" => {
                garp.master_repeat = cx.int(s, 0, 1000).map_or(garp.master_repeat, |n| n as u32)
            }
            "garp_master_refresh" => {
                if let Some(n) = cx.int(s, 0, 86_400) {
                    garp.master_refresh = (n > 0).then(|| Duration::from_secs(n as u64));
                }
            }
            "garp_master_refresh_repeat" => {
                garp.master_refresh_repeat = cx
                    .int(s, 1, 1000)
                    .map_or(garp.master_refresh_repeat, |n| n as u32)
            }
            "garp_lower_prio_delay" => {
                garp.lower_prio_delay = cx
                    .int(s, 0, 1000)
                    .map_or(garp.lower_prio_delay, |n| Duration::from_secs(n as u64))
            }
            "garp_lower_prio_repeat" => {
                garp.lower_prio_repeat = cx
                    .int(s, 0, 1000)
                    .map_or(garp.lower_prio_repeat, |n| n as u32)
            }
            "use_vmac" => {
                cx.no_block(s);
                cx.arity(s, 0, 1, "use_vmac [NAME]");
                use_vmac = Some(s.args().first().map(|t| t.text.to_string()));
                cx.not_implemented(s);
            }
            "accept" => {
                cx.bare(s);
                accept = Some(true);
            }
            "no_accept" => {
                cx.bare(s);
                accept = Some(false);
                cx.not_implemented(s);
            }
            "down_timer_adverts" => {
                down_timer_adverts = cx.int(s, 1, 100).map_or(down_timer_adverts, |n| n as u32)
            }
            "lvs_sync_daemon_interface" => {
                cx.deprecated(s, "global_defs { lvs_sync_daemon INTERFACE VI_NAME }");
                cx.not_implemented(s);
            }
            k if INSTANCE_NOT_IMPLEMENTED.contains(&k) => cx.not_implemented(s),
            _ => cx.unknown(s, "vrrp_instance"),
        }
    }

    let Some((vrid, vrid_span)) = vrid else {
        if vrid_written {
            // Already reported where it was written.
            return None;
        }
        cx.error(
            name.span,
            format!("vrrp_instance `{}` has no virtual_router_id", name.text),
            "virtual_router_id <1..255> in the block",
        );
        return None;
    };
    if interface.is_none() && unicast_peers.is_empty() {
        cx.error(
            name.span,
            format!("vrrp_instance `{}` has no interface", name.text),
            "interface <name> in the block (required unless unicast_peer is used)",
        );
        return None;
    }
    if interface.is_none() && unicast_src_ip.is_none() {
        // keepalived: "Unicast instances must have unicast_src_ip or
        // interface", and it does not start.
        cx.error(
            name.span,
            format!(
                "vrrp_instance `{}` has neither an interface nor a unicast_src_ip: its adverts would have no source",
                name.text
            ),
            "interface <name> or unicast_src_ip <address> in the block",
        );
        return None;
    }
    let link_local = |a: &std::net::IpAddr| match a {
        std::net::IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
        std::net::IpAddr::V4(_) => false,
    };
    if interface.is_none() && unicast_src_ip.as_ref().is_some_and(link_local) {
        // keepalived: "Non link-local address required if interface
        // omitted": a link-local address means nothing without its link.
        cx.error(
            name.span,
            format!(
                "vrrp_instance `{}` has no interface and a link-local unicast_src_ip",
                name.text
            ),
            "an interface, or a unicast_src_ip that is not link-local",
        );
        return None;
    }
    // The family is the first VIP's (keepalived), else the unicast addresses'.
    let family = vips
        .first()
        .map(|(v, _)| Family::of(&v.address))
        .or_else(|| unicast_src_ip.as_ref().map(Family::of))
        .or_else(|| unicast_peers.first().map(|(p, _)| Family::of(&p.address)))
        .unwrap_or_default();
    if interface.is_none() {
        // keepalived: "(NAME): no interface for vip X - removing".
        for (list, what) in [
            (&mut vips, "virtual_ipaddress"),
            (&mut excluded, "virtual_ipaddress_excluded"),
        ] {
            list.retain(|(v, span)| {
                if v.dev.is_some() {
                    return true;
                }
                cx.warn(
                    *span,
                    format!(
                        "{} in {what} has no `dev` and the instance no interface: it is removed, as keepalived removes it",
                        v.address
                    ),
                );
                false
            });
        }
    }

    let mut advertised = Vec::new();
    for (vip, span) in vips {
        if Family::of(&vip.address) == family {
            advertised.push(vip);
        } else {
            cx.warn(
                span,
                format!(
                    "{} is not of the instance's address family; it is ignored, as keepalived does (use virtual_ipaddress_excluded for addresses of the other family)",
                    vip.address
                ),
            );
        }
    }
    for (peer, span) in &unicast_peers {
        if Family::of(&peer.address) != family {
            cx.error(
                *span,
                format!(
                    "unicast peer {} is not of the instance's address family",
                    peer.address
                ),
                "peers of the same family as the VIPs",
            );
        }
    }

    let version = match (family, version) {
        (Family::Ipv6, Some((2, span))) => {
            cx.warn(
                span,
                "IPv6 instances use VRRP version 3; `version 2` is ignored",
            );
            3
        }
        (Family::Ipv6, _) => 3,
        (_, Some((v, _))) => v,
        (_, None) => g.vrrp_version,
    };

    let advert_int = advert_interval(cx, advert, version);
    let advert_span = advert.map_or(name.span, |t| t.span);

    let authentication = match auth {
        Some((_, span)) if version == 3 => {
            cx.warn(span, "VRRP version 3 does not support authentication; the authentication block is ignored (as keepalived)");
            None
        }
        Some((_, span)) if g.vrrp_strict => {
            cx.warn(span, "vrrp_strict does not allow authentication; the authentication block is ignored (as keepalived)");
            None
        }
        Some((a, _)) => Some(a),
        None => None,
    };

    // keepalived derives what is not written from what is
    // (vrrp_complete_instance): `state MASTER` without a priority is the
    // address owner, priority 255 without a state wants MASTER.
    if !priority_written && state_span.is_some() && state == InitialState::Master {
        priority = 255;
    }
    if state_span.is_none() && priority == 255 {
        state = InitialState::Master;
    }
    if state == InitialState::Master
        && priority != 255
        && authentication
            .as_ref()
            .is_some_and(|a| a.auth_type == AuthType::Ah)
    {
        cx.warn(
            state_span.unwrap_or(name.span),
            "initial state MASTER is incompatible with AH authentication; starting as BACKUP (as keepalived)",
        );
        state = InitialState::Backup;
    }
    let mut nopreempt_flag = nopreempt.is_some();
    if let (Some(span), 255) = (nopreempt, priority) {
        cx.warn(
            span,
            "`nopreempt` does not work with priority 255 (the address owner); it is cleared (as keepalived)",
        );
        nopreempt_flag = false;
    } else if let (Some(span), InitialState::Master) = (nopreempt, state) {
        cx.warn(
            span,
            "`nopreempt` does not work with `state MASTER`; it is cleared (as keepalived)",
        );
        nopreempt_flag = false;
    }
    let mut preempt_delay_value = preempt_delay.map_or(Duration::ZERO, |(d, _)| d);
    if let (Some((d, span)), InitialState::Master) = (preempt_delay, state) {
        if !d.is_zero() {
            cx.warn(
                span,
                "`preempt_delay` does not work with `state MASTER`; it is cleared (as keepalived)",
            );
        }
        preempt_delay_value = Duration::ZERO;
    }

    let track_script_spans = track_sc.iter().map(|(_, s, _)| *s).collect();
    let track_script_weights = track_sc.iter().map(|(_, _, w)| *w).collect();
    let inst = VrrpInstance {
        name: name.text.to_string(),
        initial_state: state,
        interface,
        family,
        virtual_router_id: vrid,
        priority,
        advert_int,
        version,
        authentication,
        virtual_ipaddress: advertised,
        virtual_ipaddress_excluded: excluded.into_iter().map(|(v, _)| v).collect(),
        nopreempt: nopreempt_flag,
        preempt_delay: preempt_delay_value,
        mcast_src_ip,
        unicast_src_ip,
        unicast_peers: unicast_peers.into_iter().map(|(p, _)| p).collect(),
        track_interfaces: track_if,
        track_scripts: track_sc.into_iter().map(|(t, _, _)| t).collect(),
        dont_track_primary,
        notify,
        smtp_alert: smtp_alert
            .or(g.smtp_alert_vrrp)
            .or(g.smtp_alert)
            .unwrap_or(false),
        garp: GarpTiming { ..garp },
        use_vmac: use_vmac.map(|n| n.unwrap_or_else(|| format!("vrrp.{vrid}"))),
        accept: accept.unwrap_or(!g.vrrp_strict),
        down_timer_adverts,
    };
    Some(InstanceDraft {
        inst,
        name_span: name.span,
        vrid_span,
        advert_span,
        track_script_spans,
        track_script_weights,
    })
}

/// v2 intervals are whole seconds and v3 intervals centiseconds: keepalived
/// rounds other values with a warning, and so do we.
fn advert_interval(cx: &mut Cx, tok: Option<&Token>, version: u8) -> Duration {
    let Some(tok) = tok else {
        return Duration::from_secs(1);
    };
    let written = value::timer(&tok.text).unwrap_or(Duration::from_secs(1));
    let micros = written.as_micros() as u64;
    if version == 2 {
        let secs = ((micros + 500_000) / 1_000_000).clamp(1, 255);
        if secs * 1_000_000 != micros {
            cx.warn(tok.span, format!("VRRPv2 advert_int must be whole seconds; {} is rounded to {secs} (as keepalived)", tok.text));
        }
        Duration::from_secs(secs)
    } else {
        let cs = ((micros + 5_000) / 10_000).clamp(1, 4095);
        if cs * 10_000 != micros {
            cx.warn(
                tok.span,
                format!(
                    "VRRPv3 advert_int is in centiseconds (0.01 to 40.95); {} is rounded to {}",
                    tok.text,
                    value::format_timer(Duration::from_millis(cs * 10))
                ),
            );
        }
        Duration::from_millis(cs * 10)
    }
}

fn authentication(cx: &mut Cx, s: Stmt) -> Option<(Authentication, Span)> {
    if !cx.need_block(
        s,
        "authentication { auth_type PASS|AH; auth_pass PASSWORD }",
    ) {
        return None;
    }
    let mut kind = None;
    let mut kind_written = false;
    let mut pass: Option<&Token> = None;
    for item in s.items() {
        match item.name() {
            "auth_type" => {
                kind_written = true;
                if let Some(t) = cx.one(item, "auth_type PASS|AH") {
                    match t.text.as_str() {
                        "PASS" => kind = Some(AuthType::Pass),
                        "AH" => {
                            // keepalived sends an IPsec AH header (HMAC-MD5-96)
                            // that holdfast does not build or check.
                            cx.not_implemented_at(t.span, "auth_type AH");
                            kind = Some(AuthType::Ah);
                        }
                        other => cx.error(
                            t.span,
                            format!("auth_type `{other}` is not valid"),
                            "PASS or AH",
                        ),
                    }
                }
            }
            "auth_pass" => pass = cx.one(item, "auth_pass PASSWORD").or(pass),
            _ => cx.unknown(item, "authentication"),
        }
    }
    let Some(kind) = kind else {
        if kind_written {
            // Already reported where it was written.
            return None;
        }
        cx.error(
            s.keyword().span,
            "authentication has no auth_type",
            "auth_type PASS or auth_type AH in the block",
        );
        return None;
    };
    let Some(pass) = pass else {
        cx.error(
            s.keyword().span,
            "authentication has no auth_pass",
            "auth_pass PASSWORD in the block",
        );
        return None;
    };
    let mut password = pass.text.to_string();
    if password.len() > 8 {
        let mut cut = 8;
        while !password.is_char_boundary(cut) {
            cut -= 1;
        }
        password.truncate(cut);
        cx.warn(
            pass.span,
            format!("auth_pass is longer than 8 characters; only `{password}` is used (keepalived truncates it too)"),
        );
    }
    Some((
        Authentication {
            auth_type: kind,
            password,
        },
        s.keyword().span,
    ))
}
