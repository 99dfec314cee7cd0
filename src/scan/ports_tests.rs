use super::*;

const SERVICES: &str = "ftp 21/tcp\nfsp 21/udp\nssh 22/tcp\ndomain 53/tcp\ndomain 53/udp\nhttp 80/tcp www\nhttps 443/tcp\nhttps 443/udp\nhttp-alt 8080/tcp webcache\nntp 123/udp\n";

fn services() -> Services {
    Services::parse(SERVICES)
}

fn parse(text: &str) -> Result<PortSpec, PortsError> {
    PortSpec::parse(text, &services())
}

fn tcp(text: &str) -> String {
    parse(text)
        .map(|spec| spec.tcp.to_string())
        .unwrap_or_else(|err| format!("error: {err}"))
}

fn udp(text: &str) -> String {
    parse(text)
        .map(|spec| spec.udp.to_string())
        .unwrap_or_else(|err| format!("error: {err}"))
}

#[test]
fn single_ports_ranges_and_lists_parse_as_nmap_reads_them() {
    assert_eq!(tcp("22"), "22");
    assert_eq!(tcp("1-1024"), "1-1024");
    assert_eq!(tcp("22,80,8000-8100"), "22,80,8000-8100");
    assert_eq!(tcp("22-22"), "22");
    assert_eq!(tcp(" 22 , 80 "), "22,80");
    assert_eq!(tcp("22,"), "22", "one trailing comma, as nmap takes");
    assert_eq!(parse("1-1024").unwrap().tcp.len(), 1024);
}

#[test]
fn open_ranges_run_to_1_and_65535() {
    assert_eq!(tcp("-"), "1-65535");
    assert_eq!(tcp("-1024"), "1-1024");
    assert_eq!(tcp("60000-"), "60000-65535");
    assert_eq!(tcp("65535-"), "65535");
    assert_eq!(parse("-").unwrap().tcp, PortSet::full());
    assert_eq!(parse("-").unwrap().udp.len(), 65_535);
}

#[test]
fn duplicates_and_overlaps_merge_and_come_out_sorted() {
    assert_eq!(tcp("80,22,80,20-25,ssh"), "20-25,80");
    assert_eq!(
        parse("443,1-3,2").unwrap().tcp.iter().collect::<Vec<_>>(),
        [1, 2, 3, 443]
    );
}

#[test]
fn qualifiers_last_until_the_next_and_unqualified_ports_go_to_both() {
    let spec = parse("U:53,111,137,T:21-25,80,139,8080").unwrap();
    assert_eq!(spec.udp.to_string(), "53,111,137");
    assert_eq!(spec.tcp.to_string(), "21-25,80,139,8080");
    let spec = parse("U:53,T:21-25,80").unwrap();
    assert_eq!(spec.tcp.to_string(), "21-25,80", "80 follows T:");
    assert_eq!(spec.udp.to_string(), "53");
    let spec = parse("22,U:53").unwrap();
    assert_eq!(spec.tcp.to_string(), "22", "unqualified 22 is TCP's too");
    assert_eq!(spec.udp.to_string(), "22,53");
    assert_eq!(
        tcp("T:22,U:"),
        "22",
        "a bare qualifier at the end is allowed"
    );
    assert_eq!(udp("T:22,U:"), "");
}

#[test]
fn a_protocol_without_ports_fails_only_when_it_is_all_that_is_scanned() {
    let spec = parse("U:53").unwrap();
    assert!(spec.tcp.is_empty());
    assert_eq!(
        spec.require(&[Transport::Tcp]),
        Err(PortsError::NothingToScan { proto: "tcp" })
    );
    assert_eq!(spec.require(&[Transport::Tcp, Transport::Udp]), Ok(()));
    assert_eq!(spec.unused(&[Transport::Tcp]), [Transport::Udp]);
    assert_eq!(parse("22").unwrap().unused(&[Transport::Tcp]), []);
    assert_eq!(
        parse("T:22,U:22").unwrap().unused(&[Transport::Tcp]),
        [Transport::Udp]
    );
}

#[test]
fn service_names_and_wildcards_resolve_through_etc_services() {
    let spec = parse("http,ssh").unwrap();
    assert_eq!(spec.tcp.to_string(), "22,80");
    assert!(spec.udp.is_empty(), "neither is registered for UDP");
    assert_eq!(tcp("www"), "80", "aliases count");
    assert_eq!(tcp("HTTP"), "80");
    assert_eq!(tcp("http*"), "80,443,8080");
    assert_eq!(udp("http*"), "443");
    assert_eq!(udp("domain"), "53");
    assert_eq!(tcp("domain"), "53");
    assert_eq!(udp("ftp"), "", "ftp is TCP only; fsp holds 21/udp");
    assert_eq!(udp("U:ntp"), "123");
    assert_eq!(
        parse("T:ntp"),
        Err(PortsError::UnknownService {
            name: "ntp".into(),
            protos: "tcp"
        })
    );
}

#[test]
fn bad_input_is_a_typed_error_with_a_remedy_never_a_panic() {
    let cases: &[(&str, PortsError)] = &[
        ("0", PortsError::OutOfRange("0".into())),
        ("000", PortsError::OutOfRange("0".into())),
        ("0-10", PortsError::OutOfRange("0".into())),
        ("65536", PortsError::OutOfRange("65536".into())),
        ("1-65536", PortsError::OutOfRange("65536".into())),
        (
            "99999999999999999999999",
            PortsError::OutOfRange("999999999999…".into()),
        ),
        ("80-22", PortsError::Reversed { lo: 80, hi: 22 }),
        (
            "nosuchsvc",
            PortsError::UnknownService {
                name: "nosuchsvc".into(),
                protos: "tcp or udp",
            },
        ),
        ("", PortsError::Empty),
        ("  ", PortsError::Empty),
        (",", PortsError::EmptyEntry(",".into())),
        ("T:", PortsError::Empty),
        ("22,,80", PortsError::EmptyEntry("22,,80".into())),
        (",22", PortsError::EmptyEntry(",22".into())),
        ("S:22", PortsError::BadPrefix("S".into())),
        ("t:22", PortsError::BadPrefix("t".into())),
        ("x:22", PortsError::BadPrefix("x".into())),
        ("22x", PortsError::Syntax("22x".into())),
        ("1-2-3", PortsError::Syntax("1-2-3".into())),
        ("--", PortsError::Syntax("--".into())),
        ("[1-1024]", PortsError::Syntax("[1-1024]".into())),
        ("-22x", PortsError::Syntax("-22x".into())),
    ];
    for (text, want) in cases {
        assert_eq!(parse(text).as_ref(), Err(want), "-p {text:?}");
        let message = want.to_string();
        assert!(message.contains(':'), "{message} says what to do");
    }
    assert_eq!(
        PortsError::Reversed { lo: 80, hi: 22 }.to_string(),
        "port range 80-22 is reversed: write 22-80"
    );
}

#[test]
fn arbitrary_bytes_never_panic_the_parser() {
    let alphabet = [
        "1", "9", "0", "-", ",", ":", "T", "U", "S", "*", "?", "h", " ", "[", "é", "65535", "65536",
    ];
    let table = services();
    let mut rng = SplitMix64(7);
    for _ in 0..20_000 {
        let len = (rng.next() % 8) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        if let Ok(spec) = PortSpec::parse(&text, &table) {
            assert!(!spec.tcp.contains(0) && !spec.udp.contains(0), "{text:?}");
            assert!(!spec.tcp.is_empty() || !spec.udp.is_empty(), "{text:?}");
        }
    }
}

#[test]
fn a_full_set_is_8_kib_of_bits_and_iterates_sorted() {
    let full = PortSet::full();
    assert_eq!(full.len(), 65_535);
    assert!(!full.contains(0) && full.contains(1) && full.contains(65_535));
    assert_eq!(std::mem::size_of_val(&*full.words), 8192);
    let ports: Vec<u16> = full.iter().collect();
    assert_eq!(ports.len(), 65_535);
    assert!(ports.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(full.ranges(), [(1, 65_535)]);
    let mut set = PortSet::new();
    assert!(!set.insert(0), "port 0 is never held");
    assert!(set.insert(65_535) && !set.insert(65_535));
    assert_eq!(set.len(), 1);
}

#[test]
fn shuffled_order_is_a_permutation_fixed_by_its_seed() {
    let set: PortSet = [22, 80, 443, 8080, 1, 65_535]
        .into_iter()
        .chain(1000..1100)
        .collect();
    let a = set.shuffled(1);
    let b = set.shuffled(1);
    let c = set.shuffled(2);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, set.iter().collect::<Vec<_>>(), "not the sorted order");
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, set.iter().collect::<Vec<_>>());
    assert!(PortSet::new().shuffled(3).is_empty());
    assert_eq!(PortSet::full().shuffled(4).len(), 65_535);
}

const NMAP_SAMPLE: &str = "# Fields in this file are: Service name, portnum/protocol, open-frequency, optional comments\n\
tcpmux\t1/tcp\t0.001995\t# TCP Port Service Multiplexer\n\
http\t80/tcp\t0.484143\t# World Wide Web HTTP\n\
http\t80/udp\t0.035767\n\
ssh\t22/tcp\t0.182286\t# Secure Shell Login\n\
telnet\t23/tcp\t0.221265\n\
domain\t53/udp\t0.213496\n\
snmp\t161/udp\t0.433467\n\
sctp-thing\t80/sctp\t0.9\n\
tie-b\t9001/tcp\t0.001995\n\
broken\tline\n\
nan\t9/tcp\tNaN\n\
zero\t0/tcp\t0.5\n";

#[test]
fn top_ports_rank_nmap_services_by_open_frequency() {
    let top = top_from(Some(NMAP_SAMPLE), 3, Transport::Tcp).unwrap();
    assert!(!top.fallback);
    assert_eq!(top.ports.to_string(), "22-23,80");
    let top = top_from(Some(NMAP_SAMPLE), 4, Transport::Tcp).unwrap();
    assert_eq!(
        top.ports.to_string(),
        "1,22-23,80",
        "ties go lowest port first"
    );
    let top = top_from(Some(NMAP_SAMPLE), 100, Transport::Tcp).unwrap();
    assert_eq!(
        top.ports.to_string(),
        "1,22-23,80,9001",
        "fewer when the table has fewer"
    );
    let top = top_from(Some(NMAP_SAMPLE), 1, Transport::Udp).unwrap();
    assert_eq!(top.ports.to_string(), "161");
    assert_eq!(
        top_from(Some(NMAP_SAMPLE), 0, Transport::Tcp),
        Err(PortsError::TopZero)
    );
}

#[test]
fn without_nmap_services_top_falls_back_to_netdx_list_and_says_so() {
    for table in [None, Some(""), Some("# nothing\n")] {
        let top = top_from(table, 5, Transport::Tcp).unwrap();
        assert!(top.fallback);
        assert_eq!(top.ports, COMMON_TCP[..5].iter().copied().collect());
    }
    let top = top_from(None, 10_000, Transport::Udp).unwrap();
    assert_eq!(top.ports, common(Transport::Udp));
}

#[test]
fn installed_nmap_services_gives_nmaps_well_known_top_ports() {
    let Ok(text) = std::fs::read_to_string(NMAP_SERVICES) else {
        eprintln!("skipping: {NMAP_SERVICES} is not installed (apt-get install nmap)");
        return;
    };
    let top = top_from(Some(&text), 10, Transport::Tcp).unwrap();
    assert!(!top.fallback);
    // nmap's own top 10 TCP since 2008's frequency study.
    assert_eq!(top.ports.to_string(), "21-23,25,80,110,139,443,445,3389");
    let top = top_from(Some(&text), 1000, Transport::Tcp).unwrap();
    assert_eq!(top.ports.len(), 1000);
}

#[test]
fn default_lists_are_sorted_unique_and_named_in_etc_services() {
    for (list, proto) in [(COMMON_TCP, Transport::Tcp), (COMMON_UDP, Transport::Udp)] {
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "{proto} list sorted, no duplicates"
        );
        assert!((20..=100).contains(&list.len()));
        assert_eq!(common(proto).len(), list.len());
    }
    let Ok(text) = std::fs::read_to_string(crate::names::services::PATH) else {
        eprintln!("skipping the name check: no /etc/services");
        return;
    };
    let table = Services::parse(&text);
    for (list, proto) in [(COMMON_TCP, Transport::Tcp), (COMMON_UDP, Transport::Udp)] {
        for port in list {
            assert!(
                table.name(*port, proto).is_some(),
                "{port}/{proto} has a name"
            );
        }
    }
}
