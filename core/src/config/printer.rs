//! Writes a typed model back as canonical keepalived syntax.
//!
//! Canonical means fully explicit: every value the model holds is written,
//! defaults included, so reading the text back gives the same model whatever
//! defaults the reader would apply. Strings that need protection are quoted.

use std::fmt::Write as _;
use std::time::Duration;

use super::model::*;
use super::value::format_timer;

/// The model as keepalived.conf text.
pub fn print(c: &Config) -> String {
    let mut p = Printer {
        out: String::new(),
        depth: 0,
    };
    p.global(&c.global);
    if let Some(ssl) = &c.ssl {
        p.open("SSL");
        p.opt_str("ca", &ssl.ca);
        p.opt_str("certificate", &ssl.certificate);
        p.opt_str("key", &ssl.key);
        p.opt_str("password", &ssl.password);
        p.close();
    }
    for s in &c.vrrp_scripts {
        p.vrrp_script(s);
    }
    for i in &c.instances {
        p.instance(i);
    }
    for g in &c.sync_groups {
        p.sync_group(g);
    }
    for g in &c.virtual_server_groups {
        p.vsg(g);
    }
    for v in &c.virtual_servers {
        p.virtual_server(v);
    }
    p.out
}

/// Quotes a value when keepalived would otherwise split or cut it.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with('"')
        && !s.starts_with('@')
        && !s.starts_with('$')
        && !s.contains(|c: char| {
            c.is_whitespace() || matches!(c, '{' | '}' | '#' | '!' | '"' | '$')
        });
    if plain {
        s.to_string()
    } else {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            if c == '"' || c == '\\' {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    }
}

fn secs(d: Duration) -> String {
    format_timer(d)
}

fn whole_secs(d: Duration) -> String {
    d.as_secs().to_string()
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn script_line(s: &Script) -> String {
    let mut line = quote(&s.command);
    if let Some(u) = &s.user {
        line.push(' ');
        line.push_str(&quote(u));
        if let Some(g) = &s.group {
            line.push(' ');
            line.push_str(&quote(g));
        }
    }
    line
}

fn method(m: &ForwardingMethod) -> String {
    match m {
        ForwardingMethod::Nat => "NAT".into(),
        ForwardingMethod::Dr => "DR".into(),
        ForwardingMethod::Tun { tunnel, checksum } => {
            let mut s = match tunnel {
                TunnelType::Ipip => "TUN type ipip".to_string(),
                TunnelType::Gre => "TUN type gre".to_string(),
                TunnelType::Gue { port } => format!("TUN type gue port {port}"),
            };
            match checksum {
                Some(TunnelChecksum::Nocsum) => s.push_str(" nocsum"),
                Some(TunnelChecksum::Csum) => s.push_str(" csum"),
                Some(TunnelChecksum::Remcsum) => s.push_str(" remcsum"),
                None => {}
            }
            s
        }
    }
}

struct Printer {
    out: String,
    depth: usize,
}

impl Printer {
    fn line(&mut self, text: impl AsRef<str>) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text.as_ref());
        self.out.push('\n');
    }

    fn open(&mut self, head: impl AsRef<str>) {
        self.line(format!("{} {{", head.as_ref()));
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth -= 1;
        self.line("}");
    }

    fn kv(&mut self, k: &str, v: impl std::fmt::Display) {
        self.line(format!("{k} {v}"));
    }

    fn opt_str(&mut self, k: &str, v: &Option<String>) {
        if let Some(v) = v {
            self.kv(k, quote(v));
        }
    }

    fn opt_script(&mut self, k: &str, v: Option<&Script>) {
        if let Some(s) = v {
            self.kv(k, script_line(s));
        }
    }

    fn global(&mut self, g: &GlobalDefs) {
        self.open("global_defs");
        self.opt_str("router_id", &g.router_id);
        if !g.notification_email.is_empty() {
            self.open("notification_email");
            for e in &g.notification_email {
                self.line(quote(e));
            }
            self.close();
        }
        self.opt_str("notification_email_from", &g.notification_email_from);
        if let Some(s) = &g.smtp_server {
            self.line(format!("smtp_server {} {}", quote(&s.host), s.port));
        }
        self.opt_str("smtp_helo_name", &g.smtp_helo_name);
        self.kv("smtp_connect_timeout", secs(g.smtp_connect_timeout));
        for (k, v) in [
            ("smtp_alert", g.smtp_alert),
            ("smtp_alert_vrrp", g.smtp_alert_vrrp),
            ("smtp_alert_checker", g.smtp_alert_checker),
        ] {
            if let Some(v) = v {
                self.kv(k, yes(v));
            }
        }
        self.kv("no_email_faults", yes(g.no_email_faults));
        self.kv("no_checker_emails", yes(g.no_checker_emails));
        self.kv("vrrp_version", g.vrrp_version);
        self.kv("vrrp_mcast_group4", g.vrrp_mcast_group4);
        self.kv("vrrp_mcast_group6", g.vrrp_mcast_group6);
        self.garp("vrrp_garp_", &g.garp);
        self.kv("vrrp_garp_interval", secs(g.vrrp_garp_interval));
        self.kv("vrrp_gna_interval", secs(g.vrrp_gna_interval));
        self.kv("vrrp_down_timer_adverts", g.vrrp_down_timer_adverts);
        if let Some(u) = &g.script_user {
            match &u.group {
                Some(grp) => self.line(format!("script_user {} {}", quote(&u.user), quote(grp))),
                None => self.kv("script_user", quote(&u.user)),
            }
        }
        self.kv("enable_script_security", yes(g.enable_script_security));
        self.kv("vrrp_strict", yes(g.vrrp_strict));
        self.kv("v3_checksum_as_v2", yes(g.v3_checksum_as_v2));
        self.close();
    }

    fn garp(&mut self, prefix: &str, g: &GarpTiming) {
        self.kv(&format!("{prefix}master_delay"), whole_secs(g.master_delay));
        self.kv(&format!("{prefix}master_repeat"), g.master_repeat);
        self.kv(
            &format!("{prefix}master_refresh"),
            g.master_refresh.map_or("0".into(), whole_secs),
        );
        self.kv(
            &format!("{prefix}master_refresh_repeat"),
            g.master_refresh_repeat,
        );
        self.kv(
            &format!("{prefix}lower_prio_delay"),
            whole_secs(g.lower_prio_delay),
        );
        self.kv(&format!("{prefix}lower_prio_repeat"), g.lower_prio_repeat);
    }

    fn vrrp_script(&mut self, s: &VrrpScript) {
        self.open(format!("vrrp_script {}", quote(&s.name)));
        self.kv("script", quote(&s.script.command));
        if let Some(u) = &s.script.user {
            match &s.script.group {
                Some(g) => self.line(format!("user {} {}", quote(u), quote(g))),
                None => self.kv("user", quote(u)),
            }
        }
        self.kv("interval", secs(s.interval));
        self.kv("timeout", secs(s.timeout));
        self.line(format!(
            "weight {}{}",
            s.weight,
            if s.reverse { " reverse" } else { "" }
        ));
        self.kv("rise", s.rise);
        self.kv("fall", s.fall);
        if s.init_fail {
            self.line("init_fail");
        }
        self.close();
    }

    fn notify(&mut self, n: &Notify) {
        self.opt_script("notify", n.any.as_ref());
        self.opt_script("notify_master", n.master.as_ref());
        self.opt_script("notify_backup", n.backup.as_ref());
        self.opt_script("notify_fault", n.fault.as_ref());
        self.opt_script("notify_stop", n.stop.as_ref());
    }

    fn trackers(&mut self, ifs: &[TrackInterface], scripts: &[TrackScript]) {
        let ifs = ifs.iter().map(|t| (&t.name, t.weight, t.reverse));
        self.tracked("track_interface", ifs);
        let scripts = scripts.iter().map(|t| (&t.name, t.weight, t.reverse));
        self.tracked("track_script", scripts);
    }

    /// A `track_*` block of `NAME weight W [reverse]` lines (nothing if empty).
    fn tracked<'a>(&mut self, head: &str, entries: impl Iterator<Item = (&'a String, i32, bool)>) {
        let mut entries = entries.peekable();
        if entries.peek().is_none() {
            return;
        }
        self.open(head);
        for (name, weight, reverse) in entries {
            let reverse = if reverse { " reverse" } else { "" };
            self.line(format!("{} weight {weight}{reverse}", quote(name)));
        }
        self.close();
    }

    fn vips(&mut self, head: &str, vips: &[VirtualIp]) {
        if vips.is_empty() {
            return;
        }
        self.open(head);
        for v in vips {
            let mut l = format!("{}/{}", v.address, v.prefix_len);
            if let Some(b) = v.broadcast {
                let _ = write!(l, " brd {b}");
            }
            if let Some(d) = &v.dev {
                let _ = write!(l, " dev {}", quote(d));
            }
            if let Some(s) = v.scope {
                let _ = write!(l, " scope {}", s.as_str());
            }
            if let Some(lb) = &v.label {
                let _ = write!(l, " label {}", quote(lb));
            }
            if v.no_track {
                l.push_str(" no_track");
            }
            self.line(l);
        }
        self.close();
    }

    fn instance(&mut self, i: &VrrpInstance) {
        self.open(format!("vrrp_instance {}", quote(&i.name)));
        self.kv(
            "state",
            match i.initial_state {
                InitialState::Master => "MASTER",
                InitialState::Backup => "BACKUP",
            },
        );
        self.opt_str("interface", &i.interface);
        self.kv("virtual_router_id", i.virtual_router_id);
        self.kv("priority", i.priority);
        self.kv("version", i.version);
        self.kv("advert_int", secs(i.advert_int));
        if let Some(a) = &i.authentication {
            self.open("authentication");
            self.kv(
                "auth_type",
                match a.auth_type {
                    AuthType::Pass => "PASS",
                    AuthType::Ah => "AH",
                },
            );
            self.kv("auth_pass", quote(&a.password));
            self.close();
        }
        self.vips("virtual_ipaddress", &i.virtual_ipaddress);
        self.vips("virtual_ipaddress_excluded", &i.virtual_ipaddress_excluded);
        if i.nopreempt {
            self.line("nopreempt");
        }
        if !i.preempt_delay.is_zero() {
            self.kv("preempt_delay", secs(i.preempt_delay));
        }
        if let Some(a) = i.mcast_src_ip {
            self.kv("mcast_src_ip", a);
        }
        if let Some(a) = i.unicast_src_ip {
            self.kv("unicast_src_ip", a);
        }
        if !i.unicast_peers.is_empty() {
            self.open("unicast_peer");
            for p in &i.unicast_peers {
                let mut l = p.address.to_string();
                if let Some(t) = p.min_ttl {
                    let _ = write!(l, " min_ttl {t}");
                }
                if let Some(t) = p.max_ttl {
                    let _ = write!(l, " max_ttl {t}");
                }
                self.line(l);
            }
            self.close();
        }
        self.trackers(&i.track_interfaces, &i.track_scripts);
        if i.dont_track_primary {
            self.line("dont_track_primary");
        }
        self.notify(&i.notify);
        self.kv("smtp_alert", yes(i.smtp_alert));
        self.garp("garp_", &i.garp);
        if let Some(v) = &i.use_vmac {
            self.kv("use_vmac", quote(v));
        }
        self.line(if i.accept { "accept" } else { "no_accept" });
        self.kv("down_timer_adverts", i.down_timer_adverts);
        self.close();
    }

    fn sync_group(&mut self, g: &SyncGroup) {
        self.open(format!("vrrp_sync_group {}", quote(&g.name)));
        self.open("group");
        for m in &g.members {
            self.line(quote(m));
        }
        self.close();
        self.notify(&g.notify);
        self.kv("smtp_alert", yes(g.smtp_alert));
        self.trackers(&g.track_interfaces, &g.track_scripts);
        if g.sync_group_tracking_weight {
            self.line("sync_group_tracking_weight");
        }
        self.close();
    }

    fn vsg(&mut self, g: &VirtualServerGroup) {
        self.open(format!("virtual_server_group {}", quote(&g.name)));
        for e in &g.entries {
            match e {
                VsgEntry::Range { first, last, port } if first == last => {
                    self.line(format!("{first} {port}"))
                }
                VsgEntry::Range { first, last, port } => {
                    self.line(format!("{first}-{last} {port}"))
                }
                VsgEntry::Fwmark { mark, family } => self.line(match family {
                    None => format!("fwmark {mark}"),
                    Some(Family::Ipv4) => format!("fwmark {mark} inet"),
                    Some(Family::Ipv6) => format!("fwmark {mark} inet6"),
                }),
            }
        }
        self.close();
    }

    fn virtual_server(&mut self, v: &VirtualServer) {
        let head = match &v.key {
            VsKey::Addr { address, port } => format!("virtual_server {address} {port}"),
            VsKey::Fwmark { mark } => format!("virtual_server fwmark {mark}"),
            VsKey::Group { name } => format!("virtual_server group {}", quote(name)),
        };
        self.open(head);
        if !matches!(v.key, VsKey::Fwmark { .. }) {
            self.kv("protocol", v.protocol.as_str());
        }
        self.kv("lvs_sched", v.scheduler.as_str());
        let mut flags = v.scheduler_flags;
        for (name, on) in flags.named() {
            if *on {
                self.line(name);
            }
        }
        self.kv("lvs_method", method(&v.method));
        if let Some(t) = v.persistence_timeout {
            self.kv("persistence_timeout", t);
        }
        if let Some(g) = v.persistence_granularity {
            self.kv("persistence_granularity", g);
        }
        match v.ip_family {
            Some(Family::Ipv4) => self.kv("ip_family", "inet"),
            Some(Family::Ipv6) => self.kv("ip_family", "inet6"),
            None => {}
        }
        self.kv("delay_loop", secs(v.delay_loop));
        if let Some(s) = &v.sorry_server {
            match s.port {
                Some(p) => self.line(format!("sorry_server {} {p}", s.address)),
                None => self.kv("sorry_server", s.address),
            }
            self.kv("sorry_server_lvs_method", method(&s.method));
            self.kv("sorry_server_inhibit", yes(s.inhibit));
        }
        self.kv("quorum", v.quorum);
        self.kv("hysteresis", v.hysteresis);
        self.opt_script("quorum_up", v.quorum_up.as_ref());
        self.opt_script("quorum_down", v.quorum_down.as_ref());
        self.kv("alpha", yes(v.alpha));
        self.kv("omega", yes(v.omega));
        self.kv("ha_suspend", yes(v.ha_suspend));
        self.opt_str("virtualhost", &v.virtualhost);
        self.kv("smtp_alert", yes(v.smtp_alert));
        for r in &v.real_servers {
            self.real_server(r);
        }
        self.close();
    }

    fn real_server(&mut self, r: &RealServer) {
        self.open(match r.port {
            Some(p) => format!("real_server {} {p}", r.address),
            None => format!("real_server {}", r.address),
        });
        self.kv("weight", r.weight);
        self.kv("lvs_method", method(&r.method));
        self.kv("inhibit_on_failure", yes(r.inhibit_on_failure));
        self.opt_script("notify_up", r.notify_up.as_deref());
        self.opt_script("notify_down", r.notify_down.as_deref());
        if let Some(t) = r.uthreshold {
            self.kv("uthreshold", t);
        }
        if let Some(t) = r.lthreshold {
            self.kv("lthreshold", t);
        }
        self.kv("smtp_alert", yes(r.smtp_alert));
        self.opt_str("virtualhost", &r.virtualhost);
        for c in &r.checkers {
            self.checker(c);
        }
        self.close();
    }

    fn connect(&mut self, c: &Connect) {
        if let Some(a) = c.ip {
            self.kv("connect_ip", a);
        }
        if let Some(p) = c.port {
            self.kv("connect_port", p);
        }
        if let Some(a) = c.bindto {
            self.kv("bindto", a);
        }
        if let Some(p) = c.bind_port {
            self.kv("bind_port", p);
        }
        self.opt_str("bind_if", &c.bind_if);
        if let Some(m) = c.fwmark {
            self.kv("fwmark", m);
        }
    }

    fn checker(&mut self, c: &Checker) {
        self.open(c.kind.keyword());
        self.connect(&c.connect);
        self.kv("connect_timeout", secs(c.connect_timeout));
        self.kv("retry", c.retry);
        self.kv("delay_before_retry", secs(c.delay_before_retry));
        self.kv("warmup", secs(c.warmup));
        self.kv("delay_loop", secs(c.delay_loop));
        self.kv("alpha", yes(c.alpha));
        self.kv("log_all_failures", yes(c.log_all_failures));
        match &c.kind {
            CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => {
                self.kv("http_protocol", h.http_protocol.as_str());
                self.kv("fast_recovery", yes(h.fast_recovery));
                self.opt_str("virtualhost", &h.virtualhost);
                if matches!(c.kind, CheckerKind::SslGet(_)) {
                    self.kv("enable_sni", yes(h.enable_sni));
                    self.opt_str("sni_name", &h.sni_name);
                    self.kv("tls_compliant", yes(h.tls_compliant));
                }
                for u in &h.urls {
                    self.open("url");
                    self.kv("path", quote(&u.path));
                    if let Some(d) = &u.digest {
                        self.kv("digest", d.to_hex());
                    }
                    let codes: Vec<String> = u
                        .status_codes
                        .iter()
                        .map(|&(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            }
                        })
                        .collect();
                    self.kv("status_code", codes.join(" "));
                    self.opt_str("virtualhost", &u.virtualhost);
                    self.close();
                }
            }
            CheckerKind::MiscCheck(m) => {
                self.kv("misc_path", quote(&m.path));
                if let Some(t) = m.timeout {
                    self.kv("misc_timeout", whole_secs(t));
                }
                self.kv("misc_dynamic", yes(m.dynamic));
                self.opt_str("user", &m.user);
            }
            CheckerKind::SmtpCheck(s) => {
                self.opt_str("helo_name", &s.helo_name);
                for h in &s.hosts {
                    self.open("host");
                    self.connect(h);
                    self.close();
                }
            }
            CheckerKind::DnsCheck(d) => {
                self.kv("type", d.query_type.as_str());
                self.kv("name", quote(&d.name));
            }
            CheckerKind::UdpCheck(u) => {
                self.opt_str("payload", &u.payload);
                self.opt_str("require_reply", &u.require_reply);
                if let Some(n) = u.min_reply_length {
                    self.kv("min_reply_length", n);
                }
                if let Some(n) = u.max_reply_length {
                    self.kv("max_reply_length", n);
                }
            }
            CheckerKind::FileCheck(f) => {
                self.kv("track_file", quote(&f.track_file));
                self.kv("dynamic", yes(f.dynamic));
                self.line(format!(
                    "weight {}{}",
                    f.weight,
                    if f.reverse { " reverse" } else { "" }
                ));
            }
            CheckerKind::TcpCheck | CheckerKind::PingCheck => {}
        }
        self.close();
    }
}
