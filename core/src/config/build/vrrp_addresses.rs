//! An instance's addresses: `virtual_ipaddress` (and `_excluded`) entries
//! and `unicast_peer` blocks.

use std::net::IpAddr;

use super::reader::Cx;
use crate::config::lexer::Token;
use crate::config::model::{Scope, UnicastPeer, VirtualIp};
use crate::config::source::Span;
use crate::config::tree::Stmt;
use crate::config::value;

pub(super) fn virtual_ips(cx: &mut Cx, s: Stmt) -> Vec<(VirtualIp, Span)> {
    let mut out = Vec::new();
    if !cx.need_block(
        s,
        "virtual_ipaddress { IP[/PREFIX] [dev IF] [label L] ... }",
    ) {
        return out;
    }
    for entry in s.items() {
        if let Some(vip) = virtual_ip(cx, entry) {
            out.push((vip, entry.keyword().span));
        }
    }
    out
}

fn virtual_ip(cx: &mut Cx, entry: Stmt) -> Option<VirtualIp> {
    cx.no_block(entry);
    let (address, prefix) = match value::ip_prefix(&entry.keyword().text) {
        Ok(v) => v,
        Err(e) => {
            cx.error(
                entry.keyword().span,
                format!("invalid virtual IP address: {e}"),
                "IP[/PREFIX], e.g. 192.168.200.10/24",
            );
            return None;
        }
    };
    let mut vip = VirtualIp {
        address,
        prefix_len: prefix.unwrap_or(if address.is_ipv4() { 32 } else { 128 }),
        broadcast: None,
        dev: None,
        scope: None,
        label: None,
        no_track: false,
    };
    let mut words = entry.args().iter();
    while let Some(opt) = words.next() {
        let mut value_of = |cx: &mut Cx| -> Option<&Token> {
            let v = words.next();
            if v.is_none() {
                cx.error(
                    opt.span,
                    format!("`{}` is missing its value", opt.text),
                    format!("{} <value>", opt.text),
                );
            }
            v
        };
        match opt.text.as_str() {
            "brd" | "broadcast" => {
                let v = value_of(cx)?;
                vip.broadcast = Some(cx.ip_tok(v, "broadcast address")?);
            }
            "dev" => vip.dev = Some(value_of(cx)?.text.to_string()),
            "label" => vip.label = Some(value_of(cx)?.text.to_string()),
            "scope" => {
                let v = value_of(cx)?;
                match Scope::from_name(&v.text) {
                    Some(sc) => vip.scope = Some(sc),
                    None => {
                        cx.error(
                            v.span,
                            format!("scope `{}` is not valid", v.text),
                            "global, site, link, host or nowhere",
                        );
                        return None;
                    }
                }
            }
            "no_track" => vip.no_track = true,
            "peer" | "preferred_lft" => {
                value_of(cx)?;
                cx.not_implemented_at(opt.span, &opt.text);
            }
            "home" | "-nodad" | "nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin" | "track"
            | "use_vmac" => cx.not_implemented_at(opt.span, &opt.text),
            other => {
                cx.error(
                    opt.span,
                    format!("unknown virtual_ipaddress option `{other}`"),
                    "brd, dev, scope, label or no_track",
                );
                return None;
            }
        }
    }
    Some(vip)
}

pub(super) fn unicast_peer_block(cx: &mut Cx, s: Stmt) -> Vec<(UnicastPeer, Span)> {
    let mut out = Vec::new();
    if !cx.need_block(s, "unicast_peer { IP [min_ttl N] [max_ttl N] ... }") {
        return out;
    }
    for entry in s.items() {
        let Some(address) = cx.ip_tok(entry.keyword(), "unicast peer") else {
            continue;
        };
        let mut peer = UnicastPeer {
            address: address as IpAddr,
            min_ttl: None,
            max_ttl: None,
        };
        let mut it = entry.args().iter();
        while let Some(opt) = it.next() {
            let slot = match opt.text.as_str() {
                "min_ttl" => &mut peer.min_ttl,
                "max_ttl" => &mut peer.max_ttl,
                other => {
                    cx.error(
                        opt.span,
                        format!("unknown unicast_peer option `{other}`"),
                        "min_ttl N or max_ttl N",
                    );
                    break;
                }
            };
            match it.next() {
                Some(v) => *slot = cx.int_tok(v, 0, 255, &opt.text).map(|n| n as u8),
                None => cx.error(
                    opt.span,
                    format!("`{}` is missing its value", opt.text),
                    format!("{} <0..255>", opt.text),
                ),
            }
        }
        out.push((peer, entry.keyword().span));
    }
    out
}
