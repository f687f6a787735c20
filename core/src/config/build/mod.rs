//! From the syntax tree to the typed model, with every finding located.

mod checker;
mod global;
mod lvs;
pub(crate) mod reader;
mod sync_group;
mod trackers;
mod unimplemented;
mod vrrp;
mod vrrp_addresses;
mod vrrp_script;

use std::collections::{BTreeMap, BTreeSet};

use reader::Cx;

use super::diagnostic::Diagnostics;
use super::model::{Config, Family, VsKey};
use super::source::Span;
use super::tree::{Keep, Stmt, Tree};

/// Top-level keywords keepalived has that holdfast reads but does not act on yet.
const TOP_NOT_IMPLEMENTED: &[&str] = &[
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "net_namespace",
    "net_namespace_ipvs",
    "linkbeat_interfaces",
    "interface_up_down_delays",
    "track_group",
    "track_file",
    "vrrp_track_file",
    "vrrp_track_process",
    "bfd_instance",
    "garp_group",
    "namespace_with_ipsets",
    "use_pid_dir",
    "instance",
];

/// Builds the model from top-level statements as they arrive.
///
/// Virtual servers (the bulk of a large configuration) are turned into model
/// values at once and their syntax dropped; the VRRP blocks and
/// `global_defs` are few and kept until the end, because keepalived applies
/// global defaults after reading everything, so a `global_defs` below the
/// instances still counts.
#[derive(Default)]
pub struct Builder {
    diags: Diagnostics,
    vsgs: Vec<super::model::VirtualServerGroup>,
    vsg_names: BTreeMap<String, Span>,
    servers: Vec<super::model::VirtualServer>,
    metas: Vec<lvs::ServerMeta>,
    ssl: Option<super::model::SslSettings>,
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one top-level statement and says whether its syntax is needed
    /// again at the end.
    pub fn statement(&mut self, s: Stmt) -> Keep {
        let mut cx = Cx {
            diags: &mut self.diags,
        };
        match s.name() {
            "global_defs" | "vrrp_script" | "vrrp_sync_group" | "vrrp_instance" => {
                return Keep::Yes;
            }
            "virtual_server_group" => {
                if let Some((g, span)) = lvs::virtual_server_group(&mut cx, s) {
                    if let Some(first) = self.vsg_names.get(&g.name) {
                        cx.error(
                            span,
                            format!(
                                "virtual_server_group `{}` is defined twice (first on line {})",
                                g.name, first.line
                            ),
                            "a unique name",
                        );
                    } else {
                        self.vsg_names.insert(g.name.clone(), span);
                        self.vsgs.push(g);
                    }
                }
            }
            "virtual_server" => {
                if let Some((vs, meta)) = lvs::virtual_server(&mut cx, s) {
                    self.servers.push(vs);
                    self.metas.push(meta);
                }
            }
            "SSL" => global::ssl(&mut cx, s, self.ssl.get_or_insert_with(Default::default)),
            k if TOP_NOT_IMPLEMENTED.contains(&k) => cx.not_implemented(s),
            _ => cx.unknown(s, "the top level"),
        }
        Keep::No
    }

    /// Resolves what needed the whole file (the kept statements `kept` of
    /// `tree`) and returns the model and findings.
    pub fn finish(mut self, tree: &Tree, kept: &[u32]) -> (Config, Diagnostics) {
        let deferred: Vec<Stmt<'_>> = kept.iter().map(|&i| tree.stmt(i)).collect();
        let ssl = self.ssl.take();
        let mut config = finish(
            &deferred,
            self.vsgs,
            &self.vsg_names,
            (self.servers, self.metas),
            &mut self.diags,
        );
        config.ssl = ssl;
        (config, self.diags)
    }
}

fn finish(
    tree: &[Stmt],
    vsgs: Vec<super::model::VirtualServerGroup>,
    vsg_names: &BTreeMap<String, Span>,
    (mut servers, metas): (Vec<super::model::VirtualServer>, Vec<lvs::ServerMeta>),
    diags: &mut Diagnostics,
) -> Config {
    let mut cx = Cx { diags };
    let mut config = Config {
        virtual_server_groups: vsgs,
        ..Config::default()
    };

    for &s in tree.iter().filter(|s| s.name() == "global_defs") {
        global::global_defs(&mut cx, s, &mut config.global);
    }

    let mut script_spans: BTreeMap<String, Span> = BTreeMap::new();
    let mut groups = Vec::new();
    let mut instances = Vec::new();
    for &s in tree {
        match s.name() {
            "vrrp_script" => {
                if let Some((script, span)) = vrrp_script::vrrp_script(&mut cx, s) {
                    if let Some(first) = script_spans.get(&script.name) {
                        cx.error(
                            span,
                            format!(
                                "vrrp_script `{}` is defined twice (first on line {})",
                                script.name, first.line
                            ),
                            "a unique name",
                        );
                    } else {
                        script_spans.insert(script.name.clone(), span);
                        config.vrrp_scripts.push(script);
                    }
                }
            }
            "vrrp_sync_group" => groups.extend(sync_group::sync_group(&mut cx, s, &config.global)),
            "vrrp_instance" => instances.extend(vrrp::instance(&mut cx, s, &config.global)),
            _ => {}
        }
    }

    // Instances: unique names, unique VRID per interface and family, known
    // tracked scripts.
    let mut inst_spans: BTreeMap<String, Span> = BTreeMap::new();
    let mut inst_script_spans: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    let mut vrids: BTreeMap<(String, Family, u8), (String, Span)> = BTreeMap::new();
    let mut advert_spans: BTreeMap<String, Span> = BTreeMap::new();
    let mut kept_instances = Vec::new();
    for mut d in instances {
        if let Some(first) = inst_spans.get(&d.inst.name) {
            cx.error(
                d.name_span,
                format!(
                    "vrrp_instance `{}` is defined twice (first on line {})",
                    d.inst.name, first.line
                ),
                "a unique name",
            );
            continue;
        }
        if let Some(ifname) = &d.inst.interface {
            let key = (ifname.clone(), d.inst.family, d.inst.virtual_router_id);
            if let Some((other, span)) = vrids.get(&key) {
                cx.error(
                    d.vrid_span,
                    format!(
                        "virtual_router_id {} is already used on interface {} ({}) by vrrp_instance `{other}` (line {})",
                        key.2,
                        key.0,
                        if key.1 == Family::Ipv4 { "IPv4" } else { "IPv6" },
                        span.line
                    ),
                    "a VRID that is unique per interface and address family",
                );
            } else {
                vrids.insert(key, (d.inst.name.clone(), d.vrid_span));
            }
        }
        let kept = resolve_track_scripts(
            &mut cx,
            &config,
            &mut d.inst.track_scripts,
            &d.track_script_spans,
            &d.track_script_weights,
            &d.inst.name,
        );
        inst_script_spans.insert(d.inst.name.clone(), kept);
        inst_spans.insert(d.inst.name.clone(), d.name_span);
        advert_spans.insert(d.inst.name.clone(), d.advert_span);
        kept_instances.push(d.inst);
    }
    let mut instances = kept_instances;

    // Sync groups: unique names, members exist and belong to one group only,
    // equal advert intervals.
    let mut group_names: BTreeMap<String, Span> = BTreeMap::new();
    let mut member_of: BTreeMap<String, String> = BTreeMap::new();
    for mut d in groups {
        if let Some(first) = group_names.get(&d.group.name) {
            cx.error(
                d.name_span,
                format!(
                    "vrrp_sync_group `{}` is defined twice (first on line {})",
                    d.group.name, first.line
                ),
                "a unique name",
            );
            continue;
        }
        let mut seen = BTreeSet::new();
        let mut ok_members = Vec::new();
        for (m, span) in d.group.members.iter().zip(&d.member_spans) {
            if !inst_spans.contains_key(m) {
                cx.error(
                    *span,
                    format!(
                        "sync group `{}` names vrrp_instance `{m}`, which does not exist",
                        d.group.name
                    ),
                    "the name of a vrrp_instance",
                );
                continue;
            }
            if !seen.insert(m.clone()) {
                cx.warn(
                    *span,
                    format!("`{m}` is listed twice in sync group `{}`", d.group.name),
                );
                continue;
            }
            if let Some(other) = member_of.get(m) {
                cx.error(
                    *span,
                    format!("vrrp_instance `{m}` is already a member of sync group `{other}`"),
                    "each instance in at most one sync group",
                );
                continue;
            }
            member_of.insert(m.clone(), d.group.name.clone());
            ok_members.push(m.clone());
        }
        if ok_members.is_empty() {
            cx.warn(
                d.name_span,
                format!(
                    "sync group `{}` has no members; it is removed (as keepalived)",
                    d.group.name
                ),
            );
            continue;
        }
        if ok_members.len() == 1 {
            cx.warn(
                d.name_span,
                format!(
                    "sync group `{}` has only one member; it synchronises nothing",
                    d.group.name
                ),
            );
        }
        let mut intervals = ok_members
            .iter()
            .filter_map(|m| instances.iter().find(|i| &i.name == m));
        if let Some(first) = intervals.next() {
            for other in intervals {
                if other.advert_int != first.advert_int {
                    cx.warn(
                        advert_spans[&other.name],
                        format!(
                            "vrrp_instance `{}` in sync group `{}` advertises every {:?} but `{}` every {:?}; members of a sync group should use one interval",
                            other.name, d.group.name, other.advert_int, first.name, first.advert_int
                        ),
                    );
                }
            }
        }
        d.group.members = ok_members;
        let name = d.group.name.clone();
        let _ = resolve_track_scripts(
            &mut cx,
            &config,
            &mut d.group.track_scripts,
            &d.track_script_spans,
            &d.track_script_weights,
            &name,
        );
        group_names.insert(d.group.name.clone(), d.name_span);
        config.sync_groups.push(d.group);
    }
    weights_as_keepalived_reads_them(
        &mut cx,
        &mut config,
        &mut instances,
        &inst_script_spans,
        &inst_spans,
    );
    config.instances = instances;
    drop_unused_scripts(&mut cx, &mut config, &script_spans);

    // Virtual servers: group references, global mail defaults (resolved in
    // place: a large pool is never copied).
    let mut keep = Vec::with_capacity(servers.len());
    for (vs, meta) in servers.iter_mut().zip(&metas) {
        let mut ok = true;
        if let VsKey::Group { name } = &vs.key {
            if !vsg_names.contains_key(name) {
                cx.error(
                    meta.key_span,
                    format!("virtual_server_group `{name}` does not exist"),
                    "the name of a virtual_server_group",
                );
                ok = false;
            }
        }
        meta.resolve(vs, &config.global);
        keep.push(ok);
    }
    let mut flags = keep.into_iter();
    servers.retain(|_| flags.next().unwrap_or(false));
    config.virtual_servers = servers;
    config
}

/// Gives each tracked script its weight (the entry's, else the script's)
/// and drops, with a warning as keepalived, entries naming no script.
fn resolve_track_scripts(
    cx: &mut Cx,
    config: &Config,
    entries: &mut Vec<super::model::TrackScript>,
    spans: &[Span],
    weights: &[Option<i32>],
    owner: &str,
) -> Vec<Span> {
    let (mut kept, mut kept_spans) = (Vec::new(), Vec::new());
    for ((mut e, span), w) in std::mem::take(entries).into_iter().zip(spans).zip(weights) {
        match config.vrrp_scripts.iter().find(|s| s.name == e.name) {
            Some(script) => {
                if w.is_none() {
                    e.weight = script.weight;
                    e.reverse = e.reverse || script.reverse;
                }
                kept.push(e);
                kept_spans.push(*span);
            }
            None => cx.warn(
                *span,
                format!("`{owner}` tracks script `{}`, which is not defined (or was removed); the tracker is ignored, as keepalived does", e.name),
            ),
        }
    }
    *entries = kept;
    kept_spans
}

/// keepalived 2.2.7's reading of weights (`vrrp_complete_instance` and
/// the sync groups' trackers, measured): a member of a sync group without
/// `sync_group_tracking_weight` loses its weighted `track_script`s, and
/// an address owner its own; a member's weighted `track_interface` keeps
/// its weight at run time all the same (keepalived says it ignores it);
/// a sync group with an address owner among its members tracks its own
/// interfaces and scripts with weight 0.
fn weights_as_keepalived_reads_them(
    cx: &mut Cx,
    config: &mut Config,
    instances: &mut [super::model::VrrpInstance],
    script_spans: &BTreeMap<String, Vec<Span>>,
    inst_spans: &BTreeMap<String, Span>,
) {
    for inst in instances.iter_mut() {
        let group = config
            .sync_groups
            .iter()
            .find(|g| g.members.contains(&inst.name));
        let unweighted = group.filter(|g| !g.sync_group_tracking_weight);
        let spans = script_spans.get(&inst.name).cloned().unwrap_or_default();
        let mut kept = Vec::new();
        for (t, span) in std::mem::take(&mut inst.track_scripts)
            .into_iter()
            .zip(spans)
        {
            match (t.weight, unweighted) {
                (0, _) => kept.push(t),
                (_, Some(g)) => cx.warn(
                    span,
                    format!(
                        "`{}` is in sync group `{}` without sync_group_tracking_weight: its weighted track_script `{}` is ignored and the script does not count (as keepalived: \"ignoring tracked script with weights due to SYNC group\")",
                        inst.name, g.name, t.name
                    ),
                ),
                _ if inst.priority == 255 => cx.warn(
                    span,
                    format!(
                        "`{}` has priority 255: its weighted track_script `{}` is ignored (as keepalived: \"Cannot have weighted track script with priority 255\")",
                        inst.name, t.name
                    ),
                ),
                _ => kept.push(t),
            }
        }
        inst.track_scripts = kept;
        if let Some(g) = unweighted {
            if inst.track_interfaces.iter().any(|t| t.weight != 0) {
                cx.warn(
                    inst_spans[&inst.name],
                    format!(
                        "`{}` is in sync group `{}` without sync_group_tracking_weight and tracks interfaces with a weight: keepalived 2.2.7 says it ignores the weight, and applies it all the same; so does holdfast (add sync_group_tracking_weight to say so)",
                        inst.name, g.name
                    ),
                );
            }
        }
    }
    for g in &mut config.sync_groups {
        let has_owner = instances
            .iter()
            .any(|i| g.members.contains(&i.name) && i.priority == 255);
        let weighted = g.track_scripts.iter().any(|t| t.weight != 0)
            || g.track_interfaces.iter().any(|t| t.weight != 0);
        if has_owner && weighted {
            cx.warn(
                inst_spans
                    .get(&g.members[0])
                    .copied()
                    .unwrap_or_default(),
                format!(
                    "sync group `{}` has an address owner (priority 255) among its members: its own trackers count with weight 0, a fault (as keepalived: \"Cannot have weighted track ... with member having priority 255\")",
                    g.name
                ),
            );
            for t in &mut g.track_scripts {
                t.weight = 0;
            }
            for t in &mut g.track_interfaces {
                t.weight = 0;
            }
        }
    }
}

/// keepalived removes a `vrrp_script` that no instance or sync group
/// tracks, and never runs it ("Warning - script X is not used").
fn drop_unused_scripts(cx: &mut Cx, config: &mut Config, spans: &BTreeMap<String, Span>) {
    let used: BTreeSet<String> = config
        .instances
        .iter()
        .flat_map(|i| i.track_scripts.iter())
        .chain(
            config
                .sync_groups
                .iter()
                .flat_map(|g| g.track_scripts.iter()),
        )
        .map(|t| t.name.clone())
        .collect();
    config.vrrp_scripts.retain(|s| {
        let keep = used.contains(&s.name);
        if !keep {
            cx.warn(
                spans.get(&s.name).copied().unwrap_or_default(),
                format!(
                    "vrrp_script `{}` is not used: keepalived does not run it (\"Warning - script {} is not used\"), nor does holdfast",
                    s.name, s.name
                ),
            );
        }
        keep
    });
}
