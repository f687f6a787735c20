//! `vrrp_sync_group`.

use super::reader::Cx;
use super::trackers::{notify_script, track_interfaces, track_scripts};
use crate::config::model::{GlobalDefs, Notify, SyncGroup};
use crate::config::source::Span;
use crate::config::tree::Stmt;

/// A sync group as read, with the places of its member names.
pub struct SyncGroupDraft {
    /// The group.
    pub group: SyncGroup,
    /// Where its name is.
    pub name_span: Span,
    /// Where each member name is.
    pub member_spans: Vec<Span>,
    /// Where each tracked script's name is.
    pub track_script_spans: Vec<Span>,
    /// Tracked-script weights as written (`None`: take the script's).
    pub track_script_weights: Vec<Option<i32>>,
}

/// Reads `vrrp_sync_group NAME { ... }`.
pub fn sync_group(cx: &mut Cx, stmt: Stmt, g: &GlobalDefs) -> Option<SyncGroupDraft> {
    cx.arity(stmt, 1, 1, "vrrp_sync_group NAME { group { ... } }");
    let name = stmt.args().first()?;
    if !cx.need_block(stmt, "vrrp_sync_group NAME { group { INSTANCE ... } }") {
        return None;
    }
    let mut draft = SyncGroupDraft {
        group: SyncGroup {
            name: name.text.to_string(),
            members: Vec::new(),
            notify: Notify::default(),
            smtp_alert: g.smtp_alert_vrrp.or(g.smtp_alert).unwrap_or(false),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            sync_group_tracking_weight: false,
        },
        name_span: name.span,
        member_spans: Vec::new(),
        track_script_spans: Vec::new(),
        track_script_weights: Vec::new(),
    };
    for s in stmt.items() {
        match s.name() {
            "group" => {
                if cx.need_block(s, "group { INSTANCE ... }") {
                    for t in s.items().flat_map(Stmt::words) {
                        draft.group.members.push(t.text.to_string());
                        draft.member_spans.push(t.span);
                    }
                }
            }
            "notify" | "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" => {
                notify_script(cx, s, &mut draft.group.notify)
            }
            "smtp_alert" => draft.group.smtp_alert = cx.flag(s).unwrap_or(draft.group.smtp_alert),
            "track_interface" => draft.group.track_interfaces.extend(track_interfaces(cx, s)),
            "track_script" => {
                for (entry, span, weight) in track_scripts(cx, s) {
                    draft.group.track_scripts.push(entry);
                    draft.track_script_spans.push(span);
                    draft.track_script_weights.push(weight);
                }
            }
            "sync_group_tracking_weight" => {
                cx.bare(s);
                draft.group.sync_group_tracking_weight = true;
            }
            "global_tracking" => {
                cx.bare(s);
                cx.deprecated(s, "sync_group_tracking_weight");
                draft.group.sync_group_tracking_weight = true;
            }
            "track_file" | "track_process" | "track_bfd" | "notify_priority_changes" => {
                cx.not_implemented(s)
            }
            _ if s.block_open().is_none() && s.args().is_empty() => {
                // keepalived once listed members directly in the group block.
                cx.warn(
                    s.keyword().span,
                    format!(
                        "unknown keyword `{}` in vrrp_sync_group; ignored (members belong inside `group {{ ... }}`)",
                        s.name()
                    ),
                );
            }
            _ => cx.unknown(s, "vrrp_sync_group"),
        }
    }
    Some(draft)
}
