//! `vrrp_script`.

use std::time::Duration;

use super::reader::Cx;
use crate::config::model::VrrpScript;
use crate::config::source::Span;
use crate::config::tree::Stmt;

/// Reads `vrrp_script NAME { ... }`; `None` when it cannot be used.
pub fn vrrp_script(cx: &mut Cx, stmt: Stmt) -> Option<(VrrpScript, Span)> {
    cx.arity(stmt, 1, 1, "vrrp_script NAME { ... }");
    let name = stmt.args().first()?;
    if !cx.need_block(stmt, "vrrp_script NAME { script ...; interval ... }") {
        return None;
    }
    let mut script = None;
    let mut interval = Duration::from_secs(1);
    let mut timeout = None;
    let mut weight = 0;
    let mut reverse = false;
    let mut rise = 1;
    let mut fall = 1;
    let mut init_fail = false;
    let mut user = None;
    for s in stmt.items() {
        match s.name() {
            "script" => {
                cx.no_block(s);
                if cx.arity(s, 1, usize::MAX, "script <command line>") {
                    // An unquoted script line is the rest of the line, words joined by a space.
                    let words: Vec<&str> = s.args().iter().map(|t| t.text.as_str()).collect();
                    script = Some(words.join(" "));
                }
            }
            "interval" => {
                interval = cx
                    .timer(s, Duration::from_micros(1), Duration::from_secs(86_400))
                    .unwrap_or(interval)
            }
            "timeout" => {
                timeout = cx
                    .timer(s, Duration::from_micros(1), Duration::from_secs(86_400))
                    .or(timeout)
            }
            "weight" => {
                cx.no_block(s);
                if cx.arity(s, 1, 2, "weight <-253..253> [reverse]") {
                    if let Some(w) = cx.int_tok(&s.args()[0], -253, 253, "weight") {
                        weight = w as i32;
                    }
                    match s.args().get(1).map(|t| t.text.as_str()) {
                        None => {}
                        Some("reverse") => reverse = true,
                        Some("noreverse") => reverse = false,
                        Some(other) => cx.error(
                            s.args()[1].span,
                            format!("unexpected `{other}`"),
                            "`reverse` or `noreverse`",
                        ),
                    }
                }
            }
            "rise" => rise = cx.int(s, 1, 1_000_000).map_or(rise, |n| n as u32),
            "fall" => fall = cx.int(s, 1, 1_000_000).map_or(fall, |n| n as u32),
            "init_fail" => {
                cx.bare(s);
                init_fail = true;
            }
            "user" => {
                cx.no_block(s);
                if cx.arity(s, 1, 2, "user <user> [group]") {
                    user = Some((
                        s.args()[0].text.to_string(),
                        s.args().get(1).map(|t| t.text.to_string()),
                    ));
                }
            }
            _ => cx.unknown(s, "vrrp_script"),
        }
    }
    let Some(command) = script else {
        cx.warn(
            stmt.keyword().span,
            format!(
                "vrrp_script `{}` has no `script`; it is removed (keepalived does the same)",
                name.text
            ),
        );
        return None;
    };
    let (user, group) = user.map_or((None, None), |(u, g)| (Some(u), g));
    let script = crate::config::model::Script {
        command,
        user,
        group,
    };
    Some((
        VrrpScript {
            name: name.text.to_string(),
            script,
            interval,
            timeout: timeout.unwrap_or(interval),
            weight,
            reverse,
            rise,
            fall,
            init_fail,
        },
        name.span,
    ))
}
