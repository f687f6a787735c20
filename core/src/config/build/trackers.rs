//! What `vrrp_sync_group` and `vrrp_instance` share: notify scripts, and
//! the interfaces and scripts they track.

use super::reader::Cx;
use crate::config::lexer::Token;
use crate::config::model::{Notify, TrackInterface, TrackScript};
use crate::config::source::Span;
use crate::config::tree::Stmt;

pub(super) fn notify_script(cx: &mut Cx, s: Stmt, n: &mut Notify) {
    let script = cx.script(s);
    let slot = match s.name() {
        "notify" => &mut n.any,
        "notify_master" => &mut n.master,
        "notify_backup" => &mut n.backup,
        "notify_fault" => &mut n.fault,
        _ => &mut n.stop,
    };
    if script.is_some() {
        *slot = script;
    }
}

pub(super) fn track_interfaces(cx: &mut Cx, s: Stmt) -> Vec<TrackInterface> {
    let mut out = Vec::new();
    if !cx.need_block(s, "track_interface { IFNAME [weight W [reverse]] ... }") {
        return out;
    }
    for entry in s.items() {
        let words: Vec<&Token> = entry.words().collect();
        if let Some((weight, reverse)) = cx.tracking_weight(&words[1..], -254, 254) {
            out.push(TrackInterface {
                name: words[0].text.to_string(),
                weight: weight.unwrap_or(0),
                reverse,
            });
        }
    }
    out
}

pub(super) fn track_scripts(cx: &mut Cx, s: Stmt) -> Vec<(TrackScript, Span, Option<i32>)> {
    let mut out = Vec::new();
    if !cx.need_block(s, "track_script { NAME [weight W [reverse]] ... }") {
        return out;
    }
    for entry in s.items() {
        let words: Vec<&Token> = entry.words().collect();
        if let Some((weight, reverse)) = cx.tracking_weight(&words[1..], -253, 253) {
            out.push((
                TrackScript {
                    name: words[0].text.to_string(),
                    weight: weight.unwrap_or(0),
                    reverse,
                },
                words[0].span,
                weight,
            ));
        }
    }
    out
}
