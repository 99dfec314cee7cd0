//! DHCP options by name (RFC 2132 and its successors) and their values
//! decoded: addresses, durations, text, domain lists (RFC 3397, with
//! compression), classless routes (RFC 3442). An option whose length does
//! not fit its kind, or whose code is unknown, is shown as hex — never
//! guessed at, never a panic.
#![forbid(unsafe_code)]

use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::Serialize;

use super::dhcp::MessageType;

/// How an option's bytes read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Addresses,
    Seconds,
    SignedSeconds,
    U8,
    U16,
    Text,
    MessageType,
    Codes,
    DomainList,
    ClasslessRoutes,
    Hex,
}

/// code, name, kind.
const TABLE: &[(u8, &str, Kind)] = &[
    (1, "subnet_mask", Kind::Addresses),
    (2, "time_offset", Kind::SignedSeconds),
    (3, "router", Kind::Addresses),
    (4, "time_servers", Kind::Addresses),
    (5, "name_servers", Kind::Addresses),
    (6, "dns_servers", Kind::Addresses),
    (7, "log_servers", Kind::Addresses),
    (9, "lpr_servers", Kind::Addresses),
    (12, "host_name", Kind::Text),
    (13, "boot_file_size", Kind::U16),
    (15, "domain_name", Kind::Text),
    (16, "swap_server", Kind::Addresses),
    (17, "root_path", Kind::Text),
    (19, "ip_forwarding", Kind::U8),
    (23, "default_ttl", Kind::U8),
    (26, "interface_mtu", Kind::U16),
    (28, "broadcast", Kind::Addresses),
    (33, "static_routes", Kind::Addresses),
    (40, "nis_domain", Kind::Text),
    (41, "nis_servers", Kind::Addresses),
    (42, "ntp_servers", Kind::Addresses),
    (43, "vendor_specific", Kind::Hex),
    (44, "netbios_name_servers", Kind::Addresses),
    (46, "netbios_node_type", Kind::U8),
    (47, "netbios_scope", Kind::Text),
    (50, "requested_address", Kind::Addresses),
    (51, "lease_time", Kind::Seconds),
    (52, "overload", Kind::U8),
    (53, "message_type", Kind::MessageType),
    (54, "server_id", Kind::Addresses),
    (55, "parameter_request_list", Kind::Codes),
    (56, "message", Kind::Text),
    (57, "max_message_size", Kind::U16),
    (58, "renewal_time", Kind::Seconds),
    (59, "rebinding_time", Kind::Seconds),
    (60, "vendor_class", Kind::Text),
    (61, "client_id", Kind::Hex),
    (66, "tftp_server", Kind::Text),
    (67, "bootfile_name", Kind::Text),
    (69, "smtp_servers", Kind::Addresses),
    (81, "client_fqdn", Kind::Hex),
    (82, "relay_agent_info", Kind::Hex),
    (100, "posix_timezone", Kind::Text),
    (101, "tzdb_timezone", Kind::Text),
    (108, "ipv6_only_preferred", Kind::Seconds),
    (114, "captive_portal", Kind::Text),
    (119, "domain_search", Kind::DomainList),
    (121, "classless_static_routes", Kind::ClasslessRoutes),
    (150, "tftp_server_addresses", Kind::Addresses),
    (252, "wpad", Kind::Text),
];

/// The option's name (`dns_servers`), when netdx knows it.
pub fn name(code: u8) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, n, _)| *n)
}

fn kind(code: u8) -> Kind {
    TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(Kind::Hex, |(_, _, k)| *k)
}

/// A route of option 121.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ClasslessRoute {
    /// The destination network, `10.0.0.0/8`.
    pub destination: String,
    /// The router to it (0.0.0.0: on-link).
    pub router: Ipv4Addr,
}

/// An option's value, decoded by its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OptionValue {
    /// One or more IPv4 addresses.
    Addresses {
        /// In the server's order.
        addresses: Vec<Ipv4Addr>,
    },
    /// A duration in seconds (0xffffffff: infinite).
    Seconds {
        /// Seconds.
        seconds: u32,
    },
    /// A number (signed seconds for time_offset, a byte, a 16-bit value).
    Number {
        /// The value.
        number: i64,
    },
    /// Text (invalid UTF-8 replaced).
    Text {
        /// The text.
        text: String,
    },
    /// Option 53.
    MessageType {
        /// The type.
        message_type: MessageType,
    },
    /// A list of option codes (option 55).
    Codes {
        /// The codes.
        codes: Vec<u8>,
    },
    /// Domain names (option 119).
    Domains {
        /// The names, without the trailing dot.
        domains: Vec<String>,
    },
    /// Classless static routes (option 121).
    Routes {
        /// The routes.
        routes: Vec<ClasslessRoute>,
    },
    /// Bytes netdx does not decode (an unknown code, or a length that does
    /// not fit the option's kind).
    Hex {
        /// Lower-case hex, no separators.
        hex: String,
    },
}

/// Decodes `data` as option `code`'s value.
pub fn decode(code: u8, data: &[u8]) -> OptionValue {
    decode_as(kind(code), data).unwrap_or_else(|| hex(data))
}

fn decode_as(kind: Kind, data: &[u8]) -> Option<OptionValue> {
    Some(match kind {
        Kind::Addresses => {
            if data.is_empty() || data.len() % 4 != 0 {
                return None;
            }
            OptionValue::Addresses {
                addresses: data
                    .chunks_exact(4)
                    .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                    .collect(),
            }
        }
        Kind::Seconds => OptionValue::Seconds {
            seconds: u32::from_be_bytes(data.try_into().ok()?),
        },
        Kind::SignedSeconds => OptionValue::Number {
            number: i64::from(i32::from_be_bytes(data.try_into().ok()?)),
        },
        Kind::U8 => OptionValue::Number {
            number: i64::from(u8::from_be_bytes(data.try_into().ok()?)),
        },
        Kind::U16 => OptionValue::Number {
            number: i64::from(u16::from_be_bytes(data.try_into().ok()?)),
        },
        Kind::Text => OptionValue::Text {
            // Some servers NUL-terminate their strings.
            text: String::from_utf8_lossy(data.strip_suffix(&[0]).unwrap_or(data)).into_owned(),
        },
        Kind::MessageType => OptionValue::MessageType {
            message_type: MessageType::from_code(u8::from_be_bytes(data.try_into().ok()?))?,
        },
        Kind::Codes => OptionValue::Codes {
            codes: data.to_vec(),
        },
        Kind::DomainList => OptionValue::Domains {
            domains: domain_list(data)?,
        },
        Kind::ClasslessRoutes => OptionValue::Routes {
            routes: classless_routes(data)?,
        },
        Kind::Hex => return None,
    })
}

fn hex(data: &[u8]) -> OptionValue {
    OptionValue::Hex {
        hex: data.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// RFC 3397: names in DNS wire form, compression pointers relative to the
/// option's start. Each pointer must point backwards, so a loop cannot be
/// written; a name is at most 255 bytes.
fn domain_list(data: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let (name, next) = read_name(data, at)?;
        names.push(name);
        at = next;
    }
    Some(names)
}

/// The name at `start` and the offset after it.
fn read_name(data: &[u8], start: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let mut length = 0usize;
    let mut at = start;
    let mut after = None;
    loop {
        let len = *data.get(at)?;
        match len {
            0 => {
                let next = after.unwrap_or(at + 1);
                return Some((labels.join("."), next));
            }
            0xc0..=0xff => {
                let target = usize::from(u16::from_be_bytes([len & 0x3f, *data.get(at + 1)?]));
                if target >= at {
                    return None;
                }
                after.get_or_insert(at + 2);
                at = target;
            }
            1..=63 => {
                let label = data.get(at + 1..at + 1 + usize::from(len))?;
                length += label.len() + 1;
                if length > 255 {
                    return None;
                }
                labels.push(String::from_utf8_lossy(label).into_owned());
                at += 1 + usize::from(len);
            }
            _ => return None,
        }
    }
}

/// RFC 3442: width, the significant octets of the destination, the router.
fn classless_routes(data: &[u8]) -> Option<Vec<ClasslessRoute>> {
    let mut routes = Vec::new();
    let mut rest = data;
    while let Some((&width, after)) = rest.split_first() {
        if width > 32 {
            return None;
        }
        let octets = usize::from(width).div_ceil(8);
        let destination = after.get(..octets)?;
        let router = after.get(octets..octets + 4)?;
        let mut network = [0u8; 4];
        network[..octets].copy_from_slice(destination);
        routes.push(ClasslessRoute {
            destination: format!("{}/{width}", Ipv4Addr::from(network)),
            router: Ipv4Addr::new(router[0], router[1], router[2], router[3]),
        });
        rest = &after[octets + 4..];
    }
    Some(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_options_decode_by_kind_and_misfits_fall_back_to_hex() {
        assert_eq!(name(6), Some("dns_servers"));
        assert_eq!(name(200), None);
        assert_eq!(
            decode(3, &[10, 0, 0, 1, 10, 0, 0, 2]),
            OptionValue::Addresses {
                addresses: vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
            }
        );
        assert_eq!(
            decode(51, &[0, 0, 0xa8, 0xc0]),
            OptionValue::Seconds { seconds: 43200 }
        );
        assert_eq!(
            decode(15, b"test.lan\0"),
            OptionValue::Text {
                text: "test.lan".into()
            }
        );
        assert_eq!(
            decode(51, &[1, 2, 3]),
            OptionValue::Hex {
                hex: "010203".into()
            }
        );
        assert_eq!(decode(3, &[]), OptionValue::Hex { hex: String::new() });
        assert_eq!(decode(200, &[0xab]), OptionValue::Hex { hex: "ab".into() });
    }

    #[test]
    fn domain_search_follows_backward_pointers_and_refuses_loops() {
        // "eng.example.com", then "example.com" as a pointer to offset 4.
        let mut data = vec![3, b'e', b'n', b'g', 7];
        data.extend_from_slice(b"example");
        data.extend_from_slice(&[3, b'c', b'o', b'm', 0, 0xc0, 4]);
        assert_eq!(
            decode(119, &data),
            OptionValue::Domains {
                domains: vec!["eng.example.com".into(), "example.com".into()]
            }
        );
        // A pointer to itself is refused (hex), not followed forever.
        assert!(matches!(decode(119, &[0xc0, 0]), OptionValue::Hex { .. }));
    }

    #[test]
    fn classless_routes_read_only_the_significant_octets() {
        let data = [8, 10, 10, 9, 20, 254, 0, 0, 0, 0, 0];
        assert_eq!(
            decode(121, &data),
            OptionValue::Routes {
                routes: vec![
                    ClasslessRoute {
                        destination: "10.0.0.0/8".into(),
                        router: Ipv4Addr::new(10, 9, 20, 254)
                    },
                    ClasslessRoute {
                        destination: "0.0.0.0/0".into(),
                        router: Ipv4Addr::new(0, 0, 0, 0)
                    }
                ]
            }
        );
        assert!(matches!(decode(121, &data[..10]), OptionValue::Hex { .. }));
        assert!(matches!(decode(121, &[33, 0]), OptionValue::Hex { .. }));
    }
}
