//! Large generated configurations, for the parser benchmark and for
//! comparing with `keepalived -t` on the same file (`bench/`).

use std::fmt::Write as _;

/// A configuration with `virtual_servers` virtual servers of
/// `real_servers` real servers each; even-numbered virtual servers check
/// with HTTP_GET (two URLs with digests), odd ones with TCP_CHECK.
pub fn lvs_config(virtual_servers: usize, real_servers: usize) -> String {
    let mut s = String::with_capacity(virtual_servers * real_servers * 200);
    s.push_str("global_defs {\n    router_id BENCH\n}\n");
    for v in 0..virtual_servers {
        let (hi, lo) = (10 + v / 250, v % 250 + 1);
        let http = v % 2 == 0;
        let port = if http { 80 } else { 443 };
        let _ = writeln!(s, "virtual_server 10.{hi}.{lo}.1 {port} {{");
        s.push_str("    delay_loop 30\n    lb_algo wrr\n    lb_kind NAT\n    persistence_timeout 50\n    protocol TCP\n");
        for r in 0..real_servers {
            let _ = writeln!(s, "    real_server 172.{hi}.{lo}.{} {port} {{", r + 2);
            let _ = writeln!(s, "        weight {}", r % 3 + 1);
            if http {
                s.push_str(concat!(
                    "        HTTP_GET {\n",
                    "            url {\n                path /health\n                digest ec90a42b99ea9a2f5ecbe213ac9eba03\n            }\n",
                    "            url {\n                path /status\n                status_code 200-299\n            }\n",
                    "            connect_timeout 3\n            retry 3\n            delay_before_retry 2\n",
                    "        }\n",
                ));
            } else {
                s.push_str("        TCP_CHECK {\n            connect_timeout 3\n        }\n");
            }
            s.push_str("    }\n");
        }
        s.push_str("}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::config::{parse_str, LoadOptions, MemLoader};

    #[test]
    fn generated_config_reads_cleanly() {
        let text = super::lvs_config(20, 4);
        let loaded = parse_str(
            "gen.conf",
            &text,
            &MemLoader::new(),
            &LoadOptions::default(),
        );
        assert!(
            loaded.diagnostics.as_slice().is_empty(),
            "{}",
            loaded.render()
        );
        let s = loaded.config.unwrap().summary();
        assert_eq!(
            (s.virtual_servers, s.real_servers, s.checkers),
            (20, 80, 80)
        );
    }
}
