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
/// d2 takes over at 6.5 s; clients follow; d1's pool loses the server at 5 s.
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
    assert_eq!(t.end, 10.0);
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
    assert_eq!(pixel(0, 8.0), state(State::Fault));
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
    assert!(html.contains("Invariants: all held"));
    let svg = std::fs::read_to_string(dir.join("timeline.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("d1 VI_1"));
}
