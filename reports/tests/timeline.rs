//! Renders a small known trace and checks the picture itself: its size, and
//! the colour drawn in each lane at chosen times against what the trace says.

use holdfast_core::trace::{Kind, Record};
use holdfast_core::vrrp::instance::State;
use holdfast_reports::model::{Band, Section};
use holdfast_reports::timeline::{
    self, band_color, director_color, Layout, RGBColor, IN_POOL_COLOR, NONE_COLOR,
};
use holdfast_reports::Timeline;

fn rec(t: f64, host: &str, kind: Kind) -> Record {
    Record {
        t_ns: (t * 1e9) as u64,
        host: host.into(),
        kind,
    }
}

fn state(t: f64, host: &str, instance: &str, from: State, to: State) -> Record {
    rec(
        t,
        host,
        Kind::State {
            instance: instance.into(),
            from,
            to,
            reason: "test".into(),
        },
    )
}

fn lvs(t: f64, host: &str, action: &str, weight: Option<u32>) -> Record {
    rec(
        t,
        host,
        Kind::Lvs {
            action: action.into(),
            service: "TCP 10.0.0.10:80".into(),
            dest: Some("10.0.1.2:80".into()),
            weight,
        },
    )
}

fn arp(t: f64, owner: &str) -> Record {
    rec(
        t,
        "client@lan",
        Kind::Arp {
            segment: "lan".into(),
            address: "10.0.0.10".parse().unwrap(),
            owner: owner.into(),
        },
    )
}

/// Two directors over 10 s: d1 is Master from 3 s until its fault at 6 s,
/// d2 takes over at 6.5 s; clients follow; d1's pool loses the server at 5 s;
/// d1 crashes at 8 s and starts again at 9 s. No incident figures: a trace
/// as the daemon writes it, so the picture runs one second past the end.
fn trace() -> Vec<Record> {
    use State::*;
    vec![
        rec(
            0.0,
            "d1",
            Kind::Start {
                config: "d1.conf".into(),
            },
        ),
        rec(
            0.0,
            "d2",
            Kind::Start {
                config: "d2.conf".into(),
            },
        ),
        state(0.0, "d1", "VI_1", Initialize, Backup),
        state(0.0, "d2", "VI_1", Initialize, Backup),
        lvs(0.0, "d1", "add_dest", Some(2)),
        state(3.0, "d1", "VI_1", Backup, Master),
        arp(3.0, "d1"),
        lvs(5.0, "d1", "remove_dest", None),
        rec(
            6.0,
            "sim",
            Kind::Fault {
                label: "d1 eth0 link down".into(),
            },
        ),
        state(6.0, "d1", "VI_1", Master, Fault),
        state(6.5, "d2", "VI_1", Backup, Master),
        arp(6.5, "d2"),
        rec(
            8.0,
            "d1",
            Kind::Stop {
                reason: "crash".into(),
            },
        ),
        rec(
            9.0,
            "d1",
            Kind::Start {
                config: "d1.conf".into(),
            },
        ),
        rec(
            10.0,
            "sim",
            Kind::Fault {
                label: "end".into(),
            },
        ),
    ]
}

#[test]
fn the_model_follows_the_trace() {
    let t = Timeline::from_records(&trace());
    assert_eq!(t.directors, ["d1", "d2"]);
    assert_eq!(t.end, 11.0);
    assert!(!t.checked());
    let titles: Vec<(&str, Section)> = t
        .lanes
        .iter()
        .map(|l| (l.title.as_str(), l.section))
        .collect();
    assert_eq!(
        titles,
        [
            ("d1 VI_1", Section::Instances),
            ("d2 VI_1", Section::Instances),
            ("10.0.0.10", Section::Addresses),
            ("d1 TCP 10.0.0.10:80 → 10.0.1.2:80", Section::Pool),
        ]
    );
    assert_eq!(t.lanes[0].at(4.0), Some(Band::State(State::Master)));
    assert_eq!(t.lanes[0].at(8.5), Some(Band::Down));
    assert_eq!(t.lanes[0].at(10.5), Some(Band::State(State::Initialize)));
    assert_eq!(
        t.lanes[1].at(10.5),
        Some(Band::State(State::Master)),
        "the last state is drawn"
    );
    assert_eq!(t.lanes[2].at(1.0), Some(Band::Owner(None)));
    assert_eq!(t.lanes[3].at(5.5), Some(Band::Pool(None)));
    assert_eq!(t.faults.len(), 2);
}

#[test]
fn each_lane_has_the_colour_of_its_state_at_chosen_times() {
    let t = Timeline::from_records(&trace());
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline-test");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("timeline.png");
    let layout: Layout = timeline::png(&t, &path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (layout.width, layout.height));
    assert_eq!(img.width(), 1600);
    let pixel = |lane: usize, at: f64| {
        let p = img.get_pixel(layout.x(at) as u32, layout.lane_middle(lane) as u32);
        (p[0], p[1], p[2])
    };
    let rgb = |c: RGBColor| (c.0, c.1, c.2);
    let state = |s| rgb(timeline::state_color(s));
    // d1 VI_1: Backup, Master, Fault.
    assert_eq!(pixel(0, 1.5), state(State::Backup));
    assert_eq!(pixel(0, 4.5), state(State::Master));
    assert_eq!(pixel(0, 7.0), state(State::Fault));
    assert_eq!(pixel(0, 8.5), rgb(timeline::DOWN_COLOR));
    // d2 VI_1: Backup, then Master.
    assert_eq!(pixel(1, 4.5), state(State::Backup));
    assert_eq!(pixel(1, 8.0), state(State::Master));
    // The address: nobody, d1, d2.
    assert_eq!(pixel(2, 1.5), rgb(NONE_COLOR));
    assert_eq!(pixel(2, 4.5), rgb(director_color(0)));
    assert_eq!(pixel(2, 8.0), rgb(director_color(1)));
    // d1's pool: in (away from the weight label), then out.
    assert_eq!(pixel(3, 3.5), rgb(IN_POOL_COLOR));
    assert_eq!(pixel(3, 7.0), rgb(NONE_COLOR));
    // The time axis: 0 s at x = 330, the end (11 s) at x = 1570, and a
    // tick drawn at 4 s.
    assert_eq!((layout.x(0.0), layout.x(11.0)), (330, 1570));
    assert_eq!(
        layout.x(4.0),
        330 + (4.0_f64 / 11.0 * 1240.0).round() as i32
    );
    let tick = img.get_pixel(layout.x(4.0) as u32, layout.chart.1 as u32 + 3);
    assert!(tick[0] < 0x60, "no tick at 4 s: {tick:?}");
    // Height: three headings, four lanes, the axis, three legend rows and
    // the fault list (two faults, one row).
    assert_eq!(
        layout.height as i32,
        50 + 3 * 26 + 4 * (18 + 5) + 4 + 40 + 3 * 18 + 10 + 18 + 20
    );
    // And the colours are what the model says.
    assert_eq!(
        rgb(band_color(Band::State(State::Master))),
        state(State::Master)
    );
}

#[test]
fn the_svg_and_the_page_carry_the_picture() {
    let records = trace();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-test");
    let w = holdfast_reports::write(&dir, "test <report>", Some(&records), None).unwrap();
    let html = std::fs::read_to_string(&w.html).unwrap();
    assert!(html.contains("<title>test &lt;report&gt;</title>"));
    assert!(
        html.contains("src=\"data:image/png;base64,iVBOR"),
        "the PNG is embedded"
    );
    let svg = std::fs::read_to_string(dir.join("timeline.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("d1 VI_1"));
    assert!(svg.contains("fill=\"#2E7D32\""), "Master bands in the SVG");
    assert!(
        html.contains("only simulated runs are checked"),
        "no claim for an unchecked trace"
    );
}

/// A trace with no clients (the daemon's): addresses by who holds them,
/// two holders at once shown as such.
#[test]
fn without_clients_addresses_show_who_holds_them() {
    let vip = |t: f64, host: &str, add: bool| {
        let address = "10.0.0.10".parse().unwrap();
        let (instance, dev) = ("VI_1".to_string(), "eth0".to_string());
        let kind = if add {
            Kind::VipAdd {
                instance,
                address,
                dev,
            }
        } else {
            Kind::VipRemove {
                instance,
                address,
                dev,
            }
        };
        rec(t, host, kind)
    };
    let records = vec![
        vip(1.0, "d1", true),
        vip(2.0, "d2", true),
        vip(2.5, "d1", false),
        rec(
            4.0,
            "d2",
            Kind::Stop {
                reason: "signal".into(),
            },
        ),
    ];
    let t = Timeline::from_records(&records);
    assert_eq!(t.lanes.len(), 1);
    assert_eq!(t.lanes[0].section, Section::Holders);
    let d1 = t.directors.iter().position(|d| d == "d1");
    let d2 = t.directors.iter().position(|d| d == "d2");
    assert_eq!(t.lanes[0].at(1.5), Some(Band::Held(1, d1)));
    assert_eq!(t.lanes[0].at(2.2), Some(Band::Held(2, d1)));
    assert_eq!(t.lanes[0].at(3.0), Some(Band::Held(1, d2)));
    assert_eq!(
        t.lanes[0].at(4.5),
        Some(Band::Held(0, None)),
        "a stopped director holds nothing"
    );
    let split = band_color(Band::Held(2, d1));
    assert_eq!((split.0, split.1, split.2), (0xb7, 0x1c, 0x1c));
}

#[test]
fn bad_inputs_are_refused_with_their_reason() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let read = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        holdfast_reports::read_input(&path).unwrap_err().to_string()
    };
    assert!(read("empty.jsonl", "\n").ends_with("no trace records in it"));
    let e = read(
        "sweep.json",
        r#"{ "scenario": "x", "runs": [ { "seed": "one" } ] }"#,
    );
    assert!(e.contains("not a valid sweep"), "{e}");
    let e = read(
        "junk.jsonl",
        "{\"t_ns\": 1, \"host\": \"a\", \"kind\": \"start\", \"config\": \"c\"}\nnot json\n",
    );
    assert!(e.contains("not a trace: line 2"), "{e}");
}
