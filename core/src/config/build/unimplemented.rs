//! What keepalived does with a keyword holdfast reads but does not act on.
//! Each such keyword is an error unless the user asks to run without it
//! (`--ignore-unimplemented`): the message says what would be missing, so
//! that the choice is an informed one.

/// keepalived's behaviour for `keyword`, as a phrase after "keepalived ".
pub fn keepalived_does(keyword: &str) -> &'static str {
    match keyword {
        "DNS_CHECK" => "checks the real server with a DNS query",
        "SMTP_CHECK" => "checks the real server with an SMTP HELO exchange",
        "UDP_CHECK" => "checks the real server with a UDP datagram",
        "PING_CHECK" => "checks the real server with ICMP echo requests",
        "FILE_CHECK" => "takes the real server's health from a file's contents",
        "BFD_CHECK" => "takes the real server's health from a BFD session",
        k if k.starts_with("regex") => "matches the HTTP answer against a regular expression",
        "tls_compliant" => "closes TLS sessions as the standard asks",
        "auth_type AH" => {
            "authenticates each advert with an IPsec AH header (HMAC-MD5-96) and leaves the VRRP password field empty; a peer without the header drops the advert"
        }
        "use_vmac" | "vmac_xmit_base" | "use_vmac_addr" | "vmac_garp_intvl" | "vmac_prefix"
        | "vmac_addr_prefix" => {
            "puts the virtual addresses on a macvlan interface with the virtual MAC 00:00:5e:00:01:VRID"
        }
        "use_ipvlan" => "puts the virtual addresses on an ipvlan interface",
        "virtual_routes" | "virtual_rules" => {
            "adds these routes or rules while the instance is Master and removes them after"
        }
        "static_ipaddress" | "static_routes" | "static_rules" => {
            "adds these addresses, routes or rules at start, whatever the VRRP state"
        }
        "track_file" | "vrrp_track_file" => {
            "changes the priority, or goes to FAULT, on the number in a file"
        }
        "track_process" | "vrrp_track_process" => {
            "changes the priority, or goes to FAULT, when a process stops running"
        }
        "track_bfd" | "bfd_instance" => "changes the priority, or goes to FAULT, on a BFD session",
        "track_group" => "tracks the instance's interfaces as a group",
        "garp_group" | "vrrp_garp_interval" | "vrrp_gna_interval" | "vrrp_min_garp"
        | "vrrp_garp_extra_if" | "garp_extra_if" => {
            "spaces and repeats its gratuitous ARPs and neighbour advertisements by these settings"
        }
        "no_accept" => {
            "drops traffic sent to the virtual addresses of a Backup with firewall rules"
        }
        "vrrp_strict" => {
            "under strict mode also drops traffic to a Backup's virtual addresses with firewall rules; holdfast makes strict mode's checks on the configuration, not the rules"
        }
        "mcast_dst_ip" => "sends and listens for adverts on that multicast group instead of 224.0.0.18",
        "unicast_ttl" | "check_unicast_src" | "vrrp_check_unicast_src" | "unicast_fault_no_peer"
        | "old_unicast_checksum" => "applies this rule to unicast adverts",
        "net_namespace" | "net_namespace_ipvs" | "namespace_with_ipsets" => {
            "runs inside that network namespace"
        }
        "lvs_sync_daemon" | "lvs_sync_daemon_interface" => {
            "runs the kernel's IPVS connection-synchronisation daemon"
        }
        "ha_suspend" => "stops the virtual server's checkers while the address is on another director",
        k if k.contains("notify_fifo") => "writes every state change to a FIFO",
        k if k.contains("snmp") || k.starts_with("enable_traps") || k.starts_with("enable_snmp") => {
            "answers SNMP queries and sends traps"
        }
        "enable_dbus" => "offers its state over D-Bus",
        "nftables" | "nftables_priority" | "nftables_counters" | "nftables_ifindex"
        | "vrrp_iptables" | "vrrp_ipsets" | "nftables_ipvs" => {
            "installs firewall rules for the virtual addresses"
        }
        "startup_script" | "startup_script_timeout" | "shutdown_script"
        | "shutdown_script_timeout" => "runs this script when it starts or stops",
        "peer" | "preferred_lft" | "home" | "-nodad" | "nodad" | "mngtmpaddr" | "noprefixroute"
        | "autojoin" | "track" => "passes this address option to the kernel",
        _ => "acts on it (see keepalived.conf(5))",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_checker_kind_says_how_keepalived_checks() {
        for k in [
            "DNS_CHECK",
            "SMTP_CHECK",
            "UDP_CHECK",
            "PING_CHECK",
            "FILE_CHECK",
        ] {
            assert!(keepalived_does(k).starts_with("checks") || k == "FILE_CHECK");
        }
        assert_eq!(
            keepalived_does("snmp_socket"),
            "answers SNMP queries and sends traps"
        );
        assert_eq!(
            keepalived_does("no_such_word"),
            "acts on it (see keepalived.conf(5))"
        );
    }
}
