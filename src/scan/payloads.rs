//! PLACEHOLDER until branch `scanparts` lands its `src/scan/payloads.rs`
//! (protocol-correct UDP payloads by port: DNS, NTP, SNMP, …); the
//! integrator keeps theirs. Here: a DNS query on 53, an NTP request on
//! 123, nothing elsewhere.
#![forbid(unsafe_code)]

/// A DNS query for the root's NS records (id 0x6e64, RD).
const DNS: &[u8] = &[
    0x6e, 0x64, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x01,
];

/// The UDP payload for `port`.
pub fn for_port(port: u16) -> Vec<u8> {
    match port {
        53 | 5353 => DNS.to_vec(),
        123 => {
            // NTPv4 client request: LI 0, VN 4, mode 3; the rest zero.
            let mut ntp = vec![0u8; 48];
            ntp[0] = 0x23;
            ntp
        }
        _ => Vec::new(),
    }
}
