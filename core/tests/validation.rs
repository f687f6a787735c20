//! One test per validation rule: each asserts the exact line and column
//! reported, and the severity.

use holdfast_core::config::{self, LoadOptions, MemLoader, Severity};

/// Findings as (severity, line, col, message).
fn findings_with(text: &str, opts: &LoadOptions) -> Vec<(Severity, u32, u32, String)> {
    let loaded = config::parse_str("t.conf", text, &MemLoader::new(), opts);
    if loaded.diagnostics.has_errors() {
        assert!(
            loaded.config.is_none(),
            "a configuration with errors must not be returned"
        );
    }
    loaded
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.span.line, d.span.col, d.message.clone()))
        .collect()
}

fn findings(text: &str) -> Vec<(Severity, u32, u32, String)> {
    findings_with(text, &LoadOptions::default())
}

/// Adds the lines a virtual server needs to raise no warning of its own,
/// below everything else so that no line number moves.
fn complete_vs(text: &str) -> String {
    let body = text.strip_suffix("}\n").expect("a virtual_server block");
    format!("{body}  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n}}\n")
}

/// Asserts that exactly one finding is reported, where and what.
#[track_caller]
fn expect_one(text: &str, severity: Severity, line: u32, col: u32, needle: &str) {
    let f = findings(text);
    assert_eq!(f.len(), 1, "expected one finding, got {f:#?}");
    let (s, l, c, m) = &f[0];
    assert_eq!((*s, *l, *c), (severity, line, col), "{m}");
    assert!(
        m.contains(needle),
        "message {m:?} does not mention {needle:?}"
    );
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

/// A minimal valid instance, with `extra` lines added to its block.
fn inst(extra: &str) -> String {
    format!("vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n{extra}    virtual_ipaddress {{\n        10.0.0.1/24\n    }}\n}}\n")
}

#[test]
fn vrid_out_of_range() {
    expect_one(
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 256\n}\n",
        E,
        3,
        23,
        "virtual_router_id 256 is out of range",
    );
}

#[test]
fn vrid_missing() {
    expect_one(
        "vrrp_instance VI_1 {\n    interface eth0\n}\n",
        E,
        1,
        15,
        "has no virtual_router_id",
    );
}

#[test]
fn interface_missing_without_unicast() {
    expect_one(
        "vrrp_instance VI_1 {\n    virtual_router_id 5\n}\n",
        E,
        1,
        15,
        "has no interface",
    );
}

/// keepalived: "Unicast instances must have unicast_src_ip or
/// interface", and it does not start.
#[test]
fn unicast_without_interface_needs_a_source() {
    expect_one(
        "vrrp_instance VI_1 {\n    virtual_router_id 5\n    unicast_peer {\n        10.0.0.2\n    }\n}\n",
        E,
        1,
        15,
        "neither an interface nor a unicast_src_ip",
    );
    // keepalived: "Non link-local address required if interface omitted".
    expect_one(
        "vrrp_instance VI_1 {\n    virtual_router_id 5\n    unicast_src_ip fe80::1\n    unicast_peer {\n        fe80::2\n    }\n}\n",
        E,
        1,
        15,
        "link-local unicast_src_ip",
    );
}

/// keepalived: "(VI_1): no interface for vip 10.0.0.100 - removing"; an
/// address with its own `dev` stays.
#[test]
fn unicast_without_interface_drops_addresses_without_dev() {
    let text = "vrrp_instance VI_1 {\n    virtual_router_id 5\n    unicast_src_ip 10.0.0.1\n    unicast_peer {\n        10.0.0.2\n    }\n    virtual_ipaddress {\n        10.0.0.100/24\n        10.0.0.101/24 dev eth0\n    }\n}\n";
    expect_one(
        text,
        W,
        8,
        9,
        "10.0.0.100 in virtual_ipaddress has no `dev`",
    );
    let loaded = config::parse_str("t.conf", text, &MemLoader::new(), &LoadOptions::default());
    let vips: Vec<String> = loaded.config.unwrap().instances[0]
        .virtual_ipaddress
        .iter()
        .map(|v| v.address.to_string())
        .collect();
    assert_eq!(vips, ["10.0.0.101"]);
}

#[test]
fn priority_out_of_range_is_an_error_not_a_silent_100() {
    expect_one(
        &inst("    priority 300\n"),
        E,
        4,
        14,
        "priority 300 is out of range",
    );
    expect_one(
        &inst("    priority 0\n"),
        E,
        4,
        14,
        "priority 0 is out of range",
    );
}

#[test]
fn real_server_weight_out_of_range() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.1 80 {\n    weight 70000\n    TCP_CHECK {\n    }\n  }\n}\n");
    expect_one(text, E, 3, 12, "weight 70000 is out of range");
}

#[test]
fn tracking_weight_out_of_range() {
    expect_one(
        &inst("    track_interface {\n        eth1 weight 300\n    }\n"),
        E,
        5,
        21,
        "weight 300 is out of range",
    );
    // Tracked, or keepalived would also say the script is not used.
    let script = "vrrp_script chk {\n    script /bin/true\n    weight -254\n}\n".to_string()
        + &inst("    track_script {\n        chk\n    }\n");
    expect_one(&script, E, 3, 12, "weight -254 is out of range");
}

#[test]
fn timer_not_a_number() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  delay_loop 10s\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n");
    expect_one(text, E, 2, 14, "delay_loop `10s` is not a time");
}

#[test]
fn timer_out_of_range() {
    expect_one(
        &inst("    advert_int 300\n"),
        E,
        4,
        16,
        "advert_int 300 is out of range",
    );
    expect_one(
        &inst("    preempt_delay 1001\n"),
        E,
        4,
        19,
        "preempt_delay 1001 is out of range",
    );
}

#[test]
fn v2_advert_int_is_rounded_with_a_warning() {
    expect_one(&inst("    advert_int 0.4\n"), W, 4, 16, "rounded to 1");
}

#[test]
fn invalid_virtual_ip() {
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.168.100./24\n    }\n}\n";
    expect_one(
        text,
        E,
        5,
        9,
        "`192.168.100.` is not an IPv4 or IPv6 address",
    );
}

#[test]
fn invalid_prefix() {
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.1/33\n    }\n}\n";
    expect_one(text, E, 5, 9, "`/33` is not a prefix length");
    let text6 = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        fe80::1/129\n    }\n}\n";
    expect_one(text6, E, 5, 9, "0 to 128");
}

#[test]
fn invalid_real_server_address() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.300 80 {\n    TCP_CHECK {\n    }\n  }\n}\n");
    expect_one(text, E, 2, 15, "`10.0.1.300` is not a valid IP address");
}

#[test]
fn digest_must_be_32_hex_digits() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.1 80 {\n    HTTP_GET {\n      url {\n        path /\n        digest ec90a42b99ea9a2f5ecbe213ac9eba0\n      }\n    }\n  }\n}\n");
    expect_one(text, E, 6, 16, "not an MD5 digest (31 characters)");
    let bad_hex = text.replace(
        "ec90a42b99ea9a2f5ecbe213ac9eba0",
        "zz90a42b99ea9a2f5ecbe213ac9eba03",
    );
    expect_one(&bad_hex, E, 6, 16, "not an MD5 digest");
}

#[test]
fn status_code_must_be_a_code_or_range() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.1 80 {\n    HTTP_GET {\n      url {\n        path /\n        status_code 200 299-200\n      }\n    }\n  }\n}\n");
    expect_one(text, E, 6, 25, "status_code `299-200` is not valid");
}

#[test]
fn unknown_scheduler() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  lb_algo wrrr\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n");
    expect_one(text, E, 2, 11, "scheduler `wrrr` is not an IPVS scheduler");
}

#[test]
fn unknown_forwarding_method() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  lb_kind NATT\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n");
    expect_one(text, E, 2, 11, "forwarding method `NATT` is not valid");
}

#[test]
fn sync_group_member_must_exist() {
    let text = format!(
        "{}vrrp_sync_group VG {{\n    group {{\n        VI_1\n        VI_9\n    }}\n}}\n",
        inst("")
    );
    let f = findings(&text);
    assert_eq!(f.len(), 2, "{f:#?}");
    // The missing member, then (at the group name) that one member is left.
    assert_eq!((f[0].0, f[0].1, f[0].2), (W, 8, 17), "{}", f[0].3);
    assert!(f[0].3.contains("only one member"));
    assert_eq!((f[1].0, f[1].1, f[1].2), (E, 11, 9));
    assert!(
        f[1].3.contains("`VI_9`, which does not exist"),
        "{}",
        f[1].3
    );
}

#[test]
fn instance_in_two_sync_groups() {
    let two = format!(
        "{}{}",
        inst(""),
        inst("").replace("VI_1", "VI_2").replace("51", "52")
    );
    let text = format!("{two}vrrp_sync_group A {{\n  group {{ VI_1 VI_2 }}\n}}\nvrrp_sync_group B {{\n  group {{ VI_1 }}\n}}\n");
    let f = findings(&text);
    let errors: Vec<_> = f.iter().filter(|x| x.0 == E).collect();
    assert_eq!(errors.len(), 1, "{f:#?}");
    assert_eq!((errors[0].1, errors[0].2), (19, 11));
    assert!(errors[0].3.contains("already a member of sync group `A`"));
}

#[test]
fn sync_group_interval_mismatch_is_a_warning() {
    let a = inst("    advert_int 1\n");
    let b = inst("    advert_int 2\n")
        .replace("VI_1", "VI_2")
        .replace("51", "52");
    let text = format!("{a}{b}vrrp_sync_group VG {{\n  group {{ VI_1 VI_2 }}\n}}\n");
    // VI_2's advert_int is on line 8 + 4 = 12.
    expect_one(&text, W, 12, 16, "should use one interval");
}

#[test]
fn track_script_must_exist() {
    expect_one(
        &inst("    track_script {\n        chk_nginx\n    }\n"),
        W,
        5,
        9,
        "tracks script `chk_nginx`, which is not defined",
    );
}

#[test]
fn virtual_server_group_must_exist() {
    let text = &complete_vs("virtual_server group VSG_9 {\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n");
    expect_one(
        text,
        E,
        1,
        22,
        "virtual_server_group `VSG_9` does not exist",
    );
}

#[test]
fn vrid_used_twice_on_one_interface_and_family() {
    let twice = format!("{}{}", inst(""), inst("").replace("VI_1", "VI_2"));
    expect_one(&twice, E, 10, 23, "virtual_router_id 51 is already used on interface eth0 (IPv4) by vrrp_instance `VI_1` (line 3)");
    // Another interface, or another family, is fine.
    let other_if = format!(
        "{}{}",
        inst(""),
        inst("").replace("VI_1", "VI_2").replace("eth0", "eth1")
    );
    assert!(findings(&other_if).is_empty());
    let v6 = format!(
        "{}{}",
        inst(""),
        inst("")
            .replace("VI_1", "VI_2")
            .replace("10.0.0.1/24", "fd00::1/64")
    );
    assert!(findings(&v6).is_empty(), "{:?}", findings(&v6));
}

#[test]
fn long_auth_pass_is_truncated_with_a_warning() {
    let text =
        inst("    authentication {\n        auth_type PASS\n        auth_pass abcdefghij\n    }\n");
    expect_one(&text, W, 6, 19, "only `abcdefgh` is used");
    let cfg = config::parse_str("t.conf", &text, &MemLoader::new(), &LoadOptions::default())
        .config
        .unwrap();
    assert_eq!(
        cfg.instances[0].authentication.as_ref().unwrap().password,
        "abcdefgh"
    );
}

#[test]
fn comment_cutting_a_word_is_a_warning_naming_the_value() {
    let text =
        inst("    authentication {\n        auth_type PASS\n        auth_pass ab#cd\n    }\n");
    expect_one(&text, W, 6, 21, "the value read is `ab`");
    let quoted =
        inst("    authentication {\n        auth_type PASS\n        auth_pass \"ab#cd\"\n    }\n");
    let loaded = config::parse_str(
        "t.conf",
        &quoted,
        &MemLoader::new(),
        &LoadOptions::default(),
    );
    assert!(loaded.diagnostics.as_slice().is_empty());
    assert_eq!(
        loaded.config.unwrap().instances[0]
            .authentication
            .as_ref()
            .unwrap()
            .password,
        "ab#cd"
    );
}

#[test]
fn unknown_keyword_is_a_warning_and_strict_makes_it_an_error() {
    let text = inst("    priorty 100\n");
    expect_one(&text, W, 4, 5, "unknown keyword `priorty` in vrrp_instance");
    let strict = findings_with(
        &text,
        &LoadOptions {
            strict: true,
            ..LoadOptions::default()
        },
    );
    assert_eq!(strict.len(), 1);
    assert_eq!((strict[0].0, strict[0].1, strict[0].2), (E, 4, 5));
    assert!(config::parse_str(
        "t.conf",
        &text,
        &MemLoader::new(),
        &LoadOptions {
            strict: true,
            ..Default::default()
        }
    )
    .config
    .is_none());
}

#[test]
fn unclosed_block_names_the_line_it_opened_on() {
    let text = "global_defs {\n    router_id a\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n";
    expect_one(text, E, 4, 20, "opened on line 4 is never closed");
}

#[test]
fn unterminated_string_names_its_own_line() {
    let text = "vrrp_script chk {\n    script \"/usr/bin/check\n    interval 2\n}\n".to_string()
        + &inst("    track_script {\n        chk\n    }\n");
    // The rest of the line is taken as the string, so nothing else is reported.
    expect_one(&text, E, 2, 12, "unterminated string");
}

#[test]
fn stray_closing_brace() {
    expect_one("global_defs {\n}\n}\n", E, 3, 1, "unexpected `}`");
}

#[test]
fn missing_value() {
    expect_one(
        &inst("    priority\n"),
        E,
        4,
        5,
        "`priority` is missing a value",
    );
}

#[test]
fn duplicate_instance_name() {
    let text = format!(
        "{}{}",
        inst(""),
        inst("").replace("51", "52").replace("eth0", "eth1")
    );
    expect_one(
        &text,
        E,
        8,
        15,
        "vrrp_instance `VI_1` is defined twice (first on line 1)",
    );
}

#[test]
fn unicast_peer_family_must_match() {
    expect_one(
        &inst("    unicast_peer {\n        fd00::2\n    }\n"),
        E,
        5,
        9,
        "not of the instance's address family",
    );
}

#[test]
fn http_get_needs_a_url() {
    let text = &complete_vs("virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.1 80 {\n    HTTP_GET {\n      connect_timeout 3\n    }\n  }\n}\n");
    expect_one(text, E, 3, 5, "HTTP_GET has no url");
}

/// A keyword holdfast does not act on is an error at its place, saying
/// what keepalived does with it; `ignore_unimplemented` makes it a warning
/// that says it is ignored.
#[test]
fn not_implemented_keywords_are_refused_unless_ignored() {
    let text = inst("    virtual_routes {\n        10.1.0.0/16 via 10.0.0.254\n    }\n");
    expect_one(
        &text,
        E,
        4,
        5,
        "`virtual_routes` is not implemented by holdfast (keepalived adds these routes or rules while the instance is Master and removes them after)",
    );
    let ignored = findings_with(
        &text,
        &LoadOptions {
            ignore_unimplemented: true,
            ..LoadOptions::default()
        },
    );
    assert_eq!(ignored.len(), 1, "{ignored:#?}");
    assert_eq!((ignored[0].0, ignored[0].1, ignored[0].2), (W, 4, 5));
    assert!(ignored[0]
        .3
        .ends_with("; ignored, as --ignore-unimplemented asks: holdfast runs without it"));
    // --strict still refuses it.
    let strict = findings_with(
        &text,
        &LoadOptions {
            ignore_unimplemented: true,
            strict: true,
            ..LoadOptions::default()
        },
    );
    assert_eq!(strict[0].0, E);
}

/// `auth_type AH` needs an IPsec AH header holdfast does not build: refused
/// at the word, saying what keepalived does.
#[test]
fn ah_authentication_is_refused_unless_ignored() {
    let text =
        inst("    authentication {\n        auth_type AH\n        auth_pass secret\n    }\n");
    let f = findings(&text);
    assert!(
        f.iter().any(|x| x.0 == E
            && x.1 == 5
            && x.3.contains("`auth_type AH` is not implemented by holdfast (keepalived authenticates each advert with an IPsec AH header")),
        "{f:#?}"
    );
}

/// What holdfast reads but used to leave silently unused is reported.
#[test]
fn silently_unused_settings_are_reported() {
    for (extra, word) in [
        ("    use_vmac\n", "use_vmac"),
        ("    no_accept\n", "no_accept"),
    ] {
        let f = findings(&inst(extra));
        assert!(
            f.iter().any(|x| x.0 == E
                && x.3
                    .contains(&format!("`{word}` is not implemented by holdfast"))),
            "{word}: {f:#?}"
        );
    }
    for (global, word) in [
        ("vrrp_strict", "vrrp_strict"),
        ("vrrp_garp_interval 0.1", "vrrp_garp_interval"),
        ("vrrp_gna_interval 0.1", "vrrp_gna_interval"),
    ] {
        let text = format!("global_defs {{\n    {global}\n}}\n{}", inst(""));
        let f = findings(&text);
        assert!(
            f.iter().any(|x| x.0 == E
                && x.3
                    .contains(&format!("`{word}` is not implemented by holdfast"))),
            "{word}: {f:#?}"
        );
    }
    // keepalived's own default (back to back) is what holdfast does.
    let text = format!("global_defs {{\n    vrrp_garp_interval 0\n}}\n{}", inst(""));
    assert!(findings(&text).is_empty());
}

#[test]
fn errors_are_reported_in_source_order() {
    let text =
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 0\n    priority 999\n}\n";
    let f = findings(text);
    let places: Vec<(u32, u32)> = f.iter().map(|x| (x.1, x.2)).collect();
    assert_eq!(places, vec![(3, 23), (4, 14)]);
}

/// Reads a configuration that must have no error.
fn model(text: &str) -> holdfast_core::config::Config {
    let loaded = config::parse_str("t.conf", text, &MemLoader::new(), &LoadOptions::default());
    loaded
        .config
        .clone()
        .unwrap_or_else(|| panic!("{}", loaded.render()))
}

#[test]
fn missing_protocol_scheduler_and_method_are_keepalived_defaults_with_warnings() {
    let text = "virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n";
    let f = findings(text);
    let messages: Vec<_> = f.iter().map(|x| (x.0, x.1, x.2, x.3.as_str())).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages.iter().all(|m| (m.0, m.1, m.2) == (W, 1, 1)));
    assert!(messages[0].3.contains("UDP is used"));
    assert!(messages[1].3.contains("wlc is used"));
    assert!(messages[2].3.contains("NAT is used"));
    let vs = &model(text).virtual_servers[0];
    assert_eq!(vs.protocol, holdfast_core::config::model::Protocol::Udp);
}

#[test]
fn port_zero_needs_persistence() {
    let text = complete_vs("virtual_server 10.0.0.1 0 {\n  real_server 10.0.1.1 80 {\n  }\n}\n");
    expect_one(&text, W, 1, 1, "persistence_timeout 360 is set");
    assert_eq!(
        model(&text).virtual_servers[0].persistence_timeout,
        Some(360)
    );
}

#[test]
fn quorum_and_hysteresis_are_clamped() {
    let text = complete_vs("virtual_server 10.0.0.1 80 {\n  quorum 5\n  hysteresis 9\n  real_server 10.0.1.1 80 {\n    weight 2\n  }\n}\n");
    let f = findings(&text);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f[0].3.contains("quorum 5 exceeds the total weight 2"));
    assert!(f[1].3.contains("hysteresis 9 >= quorum 2"));
    let vs = &model(&text).virtual_servers[0];
    assert_eq!((vs.quorum, vs.hysteresis), (2, 1));
}

#[test]
fn duplicate_real_server_is_dropped() {
    let text = complete_vs("virtual_server 10.0.0.1 80 {\n  real_server 10.0.1.1 80 {\n  }\n  real_server 10.0.1.1 80 {\n  }\n}\n");
    expect_one(&text, W, 4, 3, "duplicate real_server");
    assert_eq!(model(&text).virtual_servers[0].real_servers.len(), 1);
}

#[test]
fn dr_real_server_takes_the_service_port() {
    let text = "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind DR\n  real_server 10.0.1.1 8080 {\n  }\n}\n";
    expect_one(text, W, 5, 3, "uses the service's port 80");
    assert_eq!(
        model(text).virtual_servers[0].real_servers[0].port,
        Some(80)
    );
}

#[test]
fn virtual_server_weight_is_the_real_servers_default() {
    let text = complete_vs("virtual_server 10.0.0.1 80 {\n  weight 7\n  real_server 10.0.1.1 80 {\n  }\n  real_server 10.0.1.2 80 {\n    weight 3\n  }\n}\n");
    let rs = &model(&text).virtual_servers[0].real_servers;
    assert_eq!((rs[0].weight, rs[1].weight), (7, 3));
}

#[test]
fn virtual_server_without_real_servers_is_ignored() {
    let text = complete_vs("virtual_server 10.0.0.1 80 {\n  sorry_server 10.0.2.1 80\n}\n");
    expect_one(&text, W, 1, 1, "no real servers; it is ignored");
    assert!(model(&text).virtual_servers.is_empty());
}

#[test]
fn vip_of_the_other_family_is_ignored() {
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.1/24\n        fe80::10/64 dev eth0\n    }\n}\n";
    expect_one(
        text,
        W,
        6,
        9,
        "fe80::10 is not of the instance's address family; it is ignored",
    );
    let i = &model(text).instances[0];
    assert_eq!(i.virtual_ipaddress.len(), 1);
    assert!(i.virtual_ipaddress_excluded.is_empty());
}

#[test]
fn bad_auth_type_is_one_error_at_its_value() {
    let text = inst("    authentication {\n        auth_type pass\n        auth_pass x\n    }\n");
    expect_one(&text, E, 5, 19, "auth_type `pass` is not valid");
}

#[test]
fn persistence_timeout_range_is_keepalived_s() {
    let text = complete_vs("virtual_server 10.0.0.1 80 {\n  persistence_timeout 2678401\n  real_server 10.0.1.1 80 {\n  }\n}\n");
    expect_one(
        &text,
        E,
        2,
        23,
        "persistence_timeout 2678401 is out of range",
    );
}

#[test]
fn ssl_block_is_read_and_its_unknown_keywords_located() {
    let text = "SSL {\n  ca /etc/ssl/ca.pem\n  certificate /etc/ssl/c.pem\n  key /etc/ssl/c.key\n  password secret\n}\n";
    let loaded = config::parse_str("t.conf", text, &MemLoader::new(), &LoadOptions::default());
    let ssl = loaded.config.expect("valid").ssl.expect("SSL read");
    assert_eq!(ssl.ca.as_deref(), Some("/etc/ssl/ca.pem"));
    assert_eq!(ssl.certificate.as_deref(), Some("/etc/ssl/c.pem"));
    assert_eq!(ssl.key.as_deref(), Some("/etc/ssl/c.key"));
    assert_eq!(ssl.password.as_deref(), Some("secret"));
    expect_one(
        "SSL {\n  cafile x\n}\n",
        Severity::Warning,
        2,
        3,
        "unknown keyword `cafile` in SSL",
    );
}

/// keepalived's `vrrp_state_handler`: a BACKUP after a MASTER is ignored,
/// with a warning; and what is not written is derived from what is
/// (`vrrp_complete_instance`): `state MASTER` without a priority is the
/// address owner, priority 255 without a state wants MASTER; an owner's
/// `nopreempt` is cleared, with a warning.
#[test]
fn state_and_priority_are_derived_from_each_other_as_keepalived_does() {
    use holdfast_core::config::model::InitialState;
    expect_one(
        &inst("    state MASTER\n    state BACKUP\n    priority 100\n"),
        W,
        5,
        11,
        "BACKUP is ignored",
    );
    expect_one(
        &inst("    priority 255\n    nopreempt\n"),
        W,
        5,
        5,
        "priority 255",
    );
    let read = |extra: &str| {
        let loaded = config::parse_str(
            "t.conf",
            &inst(extra),
            &MemLoader::new(),
            &LoadOptions::default(),
        );
        let i = loaded.config.expect("it reads").instances[0].clone();
        (i.priority, i.initial_state)
    };
    assert_eq!(read("    state MASTER\n"), (255, InitialState::Master));
    assert_eq!(read("    priority 255\n"), (255, InitialState::Master));
    assert_eq!(
        read("    state BACKUP\n    priority 255\n"),
        (255, InitialState::Backup)
    );
    assert_eq!(
        read("    state MASTER\n    state BACKUP\n"),
        (255, InitialState::Master)
    );
    assert_eq!(read(""), (100, InitialState::Backup));
}

/// keepalived 2.2.7's reading of weights in sync groups (measured): a
/// member's weighted track_script is dropped without
/// sync_group_tracking_weight (and a script nothing else tracks is then not
/// used, nor run); its weighted track_interface keeps the weight, with a
/// warning that says keepalived applies it despite its own message.
#[test]
fn weighted_trackers_in_a_sync_group_as_keepalived_runs_them() {
    let scripted = |group_extra: &str| {
        format!(
            "vrrp_script chk {{\n    script /bin/true\n}}\nvrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n{group_extra}}}\n{}",
            inst("    track_script {\n        chk weight -20\n    }\n    track_interface {\n        eth1 weight -30\n    }\n")
        )
    };
    let f = findings(&scripted(""));
    let said = |needle: &str| {
        f.iter()
            .filter(|x| x.3.contains(needle))
            .map(|x| (x.0, x.1))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        said("weighted track_script `chk` is ignored"),
        [(W, 13)],
        "{f:#?}"
    );
    assert_eq!(said("vrrp_script `chk` is not used"), [(W, 1)], "{f:#?}");
    assert_eq!(said("applies it all the same"), [(W, 9)], "{f:#?}");
    let read = |text: &str| {
        let loaded = config::parse_str("t.conf", text, &MemLoader::new(), &LoadOptions::default());
        loaded.config.expect("it reads")
    };
    let c = read(&scripted(""));
    assert!(c.instances[0].track_scripts.is_empty() && c.vrrp_scripts.is_empty());
    assert_eq!(c.instances[0].track_interfaces[0].weight, -30);
    // With sync_group_tracking_weight both count, with no warning.
    let weighted = scripted("    sync_group_tracking_weight\n");
    let f = findings(&weighted);
    assert!(f.iter().all(|x| x.3.contains("only one member")), "{f:#?}");
    let c = read(&weighted);
    assert_eq!(c.instances[0].track_scripts[0].weight, -20);
}
