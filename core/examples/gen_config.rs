//! Prints a generated LVS configuration: `gen_config [VIRTUAL_SERVERS] [REAL_SERVERS]`
//! (default 2000 × 4), for comparing `holdfast check` with `keepalived -t`.

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let vs = args.next().and_then(Result::ok).unwrap_or(2000);
    let rs = args.next().and_then(Result::ok).unwrap_or(4);
    print!("{}", holdfast_core::config::synthetic::lvs_config(vs, rs));
}
