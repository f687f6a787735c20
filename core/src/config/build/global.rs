//! `global_defs`.

use std::net::IpAddr;
use std::time::Duration;

use super::reader::Cx;
use crate::config::model::{GlobalDefs, ScriptUser, SmtpServer, SslSettings};
use crate::config::tree::Stmt;

/// Keywords of `global_defs` that keepalived has and holdfast reads but does
/// not act on yet; each is refused as unimplemented (a warning under
/// `--ignore-unimplemented`).
const NOT_IMPLEMENTED: &[&str] = &[
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_owner_ignore_adverts",
    "log_unknown_vrids",
    "nftables",
    "nftables_priority",
    "nftables_counters",
    "nftables_ifindex",
    "vrrp_iptables",
    "vrrp_ipsets",
    "nftables_ipvs",
    "disable_local_igmp",
    "lvs_sync_daemon",
    "lvs_timeouts",
    "lvs_flush",
    "lvs_flush_on_stop",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "vrrp_startup_delay",
    "vrrp_delay_after_boot",
    "max_auto_priority",
    "min_auto_priority_delay",
    "vrrp_priority",
    "checker_priority",
    "bfd_priority",
    "vrrp_no_swap",
    "checker_no_swap",
    "vrrp_rt_priority",
    "checker_rt_priority",
    "dynamic_interfaces",
    "snmp_socket",
    "enable_snmp_vrrp",
    "enable_snmp_checker",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_traps",
    "enable_dbus",
    "net_namespace",
    "instance",
    "use_pid_dir",
    "process_names",
    "vmac_prefix",
    "vmac_addr_prefix",
    "default_interface",
    "checker_log_all_failures",
    "vrrp_min_garp",
    "vrrp_garp_extra_if",
    "vrrp_notify_priority_changes",
    "json_version",
    "state_dump_file",
    "stats_dump_file",
    "json_dump_file",
    "random_seed",
    "reload_check_config",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "include_check",
];

/// Reads one `global_defs` block into `g` (several blocks add up, later wins).
pub fn global_defs(cx: &mut Cx, stmt: Stmt, g: &mut GlobalDefs) {
    if !cx.need_block(stmt, "global_defs { ... }") {
        return;
    }
    let mut lower_delay_set = false;
    let mut lower_repeat_set = false;
    for s in stmt.items() {
        let secs = |n: u64| Duration::from_secs(n);
        match s.name() {
            "router_id" => g.router_id = cx.string(s).or(g.router_id.take()),
            "lvs_id" => {
                cx.deprecated(s, "router_id");
                g.router_id = cx.string(s).or(g.router_id.take());
            }
            "notification_email" => {
                if cx.need_block(s, "notification_email { ADDRESS ... }") {
                    g.notification_email
                        .extend(s.items().flat_map(Stmt::words).map(|t| t.text.to_string()));
                }
            }
            "notification_email_from" => {
                g.notification_email_from = cx.string(s).or(g.notification_email_from.take())
            }
            "smtp_server" => {
                cx.no_block(s);
                if cx.arity(s, 1, 2, "smtp_server <IP address|host name> [port]") {
                    let port = match s.args().get(1) {
                        Some(p) => cx.port_tok(p, "smtp_server port"),
                        None => Some(25),
                    };
                    if let Some(port) = port {
                        g.smtp_server = Some(SmtpServer {
                            host: s.args()[0].text.to_string(),
                            port,
                        });
                    }
                }
            }
            "smtp_helo_name" => g.smtp_helo_name = cx.string(s).or(g.smtp_helo_name.take()),
            "smtp_connect_timeout" => {
                if let Some(t) = cx.timer(s, secs(1), secs(3600)) {
                    g.smtp_connect_timeout = t;
                }
            }
            "smtp_alert" => g.smtp_alert = cx.flag(s).or(g.smtp_alert),
            "smtp_alert_vrrp" => g.smtp_alert_vrrp = cx.flag(s).or(g.smtp_alert_vrrp),
            "smtp_alert_checker" => g.smtp_alert_checker = cx.flag(s).or(g.smtp_alert_checker),
            "no_email_faults" => g.no_email_faults = cx.flag(s).unwrap_or(g.no_email_faults),
            "no_checker_emails" => g.no_checker_emails = cx.flag(s).unwrap_or(g.no_checker_emails),
            "vrrp_version" => {
                if let Some(v) = cx.int(s, 2, 3) {
                    g.vrrp_version = v as u8;
                }
            }
            "vrrp_mcast_group4" => match cx.ip(s) {
                Some(IpAddr::V4(a)) if a.is_multicast() => g.vrrp_mcast_group4 = a,
                Some(_) => cx.error(
                    s.args()[0].span,
                    "vrrp_mcast_group4 must be an IPv4 multicast address",
                    "an address in 224.0.0.0/4",
                ),
                None => {}
            },
            "vrrp_mcast_group6" => match cx.ip(s) {
                Some(IpAddr::V6(a)) if a.is_multicast() => g.vrrp_mcast_group6 = a,
                Some(_) => cx.error(
                    s.args()[0].span,
                    "vrrp_mcast_group6 must be an IPv6 multicast address",
                    "an address in ff00::/8",
                ),
                None => {}
            },
            "vrrp_garp_master_delay" => {
                if let Some(n) = cx.int(s, 0, 1000) {
                    g.garp.master_delay = secs(n as u64);
                }
            }
            "vrrp_garp_master_repeat" => {
                if let Some(n) = cx.int(s, 0, 1000) {
                    g.garp.master_repeat = n as u32;
                }
            }
            "vrrp_garp_master_refresh" => {
                if let Some(n) = cx.int(s, 0, 86400) {
                    g.garp.master_refresh = (n > 0).then(|| secs(n as u64));
                }
            }
            "vrrp_garp_master_refresh_repeat" => {
                if let Some(n) = cx.int(s, 1, 1000) {
                    g.garp.master_refresh_repeat = n as u32;
                }
            }
            "vrrp_garp_lower_prio_delay" => {
                if let Some(n) = cx.int(s, 0, 1000) {
                    g.garp.lower_prio_delay = secs(n as u64);
                    lower_delay_set = true;
                }
            }
            "vrrp_garp_lower_prio_repeat" => {
                if let Some(n) = cx.int(s, 0, 1000) {
                    g.garp.lower_prio_repeat = n as u32;
                    lower_repeat_set = true;
                }
            }
            // Announcements leave back to back, which is keepalived's
            // interval 0; any other spacing is not carried out.
            "vrrp_garp_interval" => {
                if let Some(t) = cx.timer(s, Duration::ZERO, secs(1)) {
                    g.vrrp_garp_interval = t;
                    if !t.is_zero() {
                        cx.not_implemented(s);
                    }
                }
            }
            "vrrp_gna_interval" => {
                if let Some(t) = cx.timer(s, Duration::ZERO, secs(1)) {
                    g.vrrp_gna_interval = t;
                    if !t.is_zero() {
                        cx.not_implemented(s);
                    }
                }
            }
            "vrrp_down_timer_adverts" => {
                if let Some(n) = cx.int(s, 1, 100) {
                    g.vrrp_down_timer_adverts = n as u32;
                }
            }
            "script_user" => {
                cx.no_block(s);
                if cx.arity(s, 1, 2, "script_user <user> [group]") {
                    g.script_user = Some(ScriptUser {
                        user: s.args()[0].text.to_string(),
                        group: s.args().get(1).map(|t| t.text.to_string()),
                    });
                }
            }
            "enable_script_security" => {
                g.enable_script_security = cx.flag(s).unwrap_or(g.enable_script_security)
            }
            "vrrp_strict" => {
                g.vrrp_strict = cx.flag(s).unwrap_or(g.vrrp_strict);
                // Its checks on the configuration are made; its firewall
                // rules (no_accept) are not.
                if g.vrrp_strict {
                    cx.not_implemented(s);
                }
            }
            "v3_checksum_as_v2" => g.v3_checksum_as_v2 = cx.flag(s).unwrap_or(g.v3_checksum_as_v2),
            k if NOT_IMPLEMENTED.contains(&k) => cx.not_implemented(s),
            _ => cx.unknown(s, "global_defs"),
        }
    }
    // keepalived: the lower-priority GARP settings default to the master ones.
    if !lower_delay_set {
        g.garp.lower_prio_delay = g.garp.master_delay;
    }
    if !lower_repeat_set {
        g.garp.lower_prio_repeat = g.garp.master_repeat;
    }
}

/// The top-level `SSL { password ca certificate key }` block.
pub fn ssl(cx: &mut Cx, stmt: Stmt, ssl: &mut SslSettings) {
    if !cx.need_block(
        stmt,
        "SSL { ca FILE certificate FILE key FILE password STRING }",
    ) {
        return;
    }
    for s in stmt.items() {
        match s.name() {
            "ca" => ssl.ca = cx.string(s).or(ssl.ca.take()),
            "certificate" => ssl.certificate = cx.string(s).or(ssl.certificate.take()),
            "key" => ssl.key = cx.string(s).or(ssl.key.take()),
            "password" => ssl.password = cx.string(s).or(ssl.password.take()),
            _ => cx.unknown(s, "SSL"),
        }
    }
}
