//! The config reader's behaviour, on blackbox configs and netdx's own.

use std::time::Duration;

use super::*;

#[test]
fn prometheus_durations_parse_largest_unit_first() {
    assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
    assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("2.5"), Some(Duration::from_millis(2500)));
    for bad in ["", "s", "5x", "30s1m", "-1s", "1m1m"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}

#[test]
fn a_blackbox_config_for_the_four_probers_loads() {
    let config = Config::parse(
        r#"
modules:
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
  dns_udp:
    prober: dns
    timeout: 5s
    dns:
      query_name: example.test
      query_type: A
      valid_rcodes: [NOERROR]
  http_2xx:
    prober: http
    http:
      valid_status_codes: []
      method: GET
      preferred_ip_protocol: ip4
      no_follow_redirects: false
"#,
    )
    .unwrap();
    assert_eq!(config.modules.len(), 4);
    let Prober::Icmp(icmp) = &config.modules["icmp"].prober else {
        panic!()
    };
    assert_eq!(icmp.resolve.preferred, IpProtocol::V4);
    assert_eq!(icmp.packets, 1);
    assert_eq!(config.modules["icmp"].timeout, Some(Duration::from_secs(5)));
}

#[test]
fn every_unsupported_option_is_named_with_its_path() {
    let err = Config::parse(
        r#"
modules:
  web:
    prober: http
    http:
      compression: gzip
      frobnicate: 1
  t:
    prober: tcp
    tcp:
      query_response: [{expect: "x"}]
"#,
    )
    .unwrap_err();
    assert!(err.contains("modules.web.http.compression"), "{err}");
    assert!(
        err.contains("modules.web.http.frobnicate (not an option netdx knows)"),
        "{err}"
    );
    assert!(err.contains("modules.t.tcp.query_response"), "{err}");
    assert!(!err.contains('\n'));
}

#[test]
fn an_unknown_prober_is_refused_naming_the_known_ones() {
    let err = Config::parse("modules:\n  x:\n    prober: gopher\n").unwrap_err();
    assert!(err.contains("unknown prober \"gopher\""), "{err}");
    assert!(err.contains("icmp, tcp, dns"), "{err}");
}

#[test]
fn targets_allowed_takes_blocks_and_single_addresses() {
    let config =
        Config::parse("modules: {}\ntargets_allowed: [10.9.0.0/24, \"fd09::2\"]\n").unwrap();
    assert!(config.allows("10.9.0.7".parse().unwrap()));
    assert!(config.allows("fd09::2".parse().unwrap()));
    assert!(!config.allows("10.9.1.1".parse().unwrap()));
    assert!(Config::parse("targets_allowed: [nonsense]\n").is_err());
}

#[test]
fn icmp_packets_and_interval_are_netdx_options() {
    let config = Config::parse(
        "modules:\n  loss:\n    prober: icmp\n    icmp: {packets: 20, interval: 10ms}\n",
    )
    .unwrap();
    let Prober::Icmp(icmp) = &config.modules["loss"].prober else {
        panic!()
    };
    assert_eq!(
        (icmp.packets, icmp.interval),
        (20, Duration::from_millis(10))
    );
}
