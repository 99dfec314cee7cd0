//! Vendors of MACs from the IEEE OUI registry, read at run time from the
//! copy a Debian package installed (arp-scan's `ieee-oui.txt`, else
//! ieee-data's `oui.txt`) — never a copy in netdx. Only the 24-bit OUIs of
//! the MACs asked about are looked up, in one pass over the file.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use crate::wire::arp::Mac;

/// Where the registry is looked for, first found wins, with its line format.
const REGISTRIES: [(&str, Format); 2] = [
    ("/usr/share/arp-scan/ieee-oui.txt", Format::ArpScan),
    ("/usr/share/ieee-data/oui.txt", Format::IeeeData),
];

#[derive(Debug, Clone, Copy)]
enum Format {
    /// `00000C<TAB>Cisco Systems, Inc`
    ArpScan,
    /// `00000C     (base 16)<TAB><TAB>Cisco Systems, Inc`
    IeeeData,
}

/// The vendor of each MAC whose OUI the installed registry lists; an empty
/// map when no registry is installed. Locally administered MACs (bit 1 of
/// the first byte) have no vendor.
pub fn vendors(macs: &[Mac]) -> HashMap<Mac, String> {
    let mut wanted: HashMap<String, Vec<Mac>> = HashMap::new();
    for mac in macs {
        if mac.0[0] & 0x02 != 0 {
            continue;
        }
        let key = format!("{:02X}{:02X}{:02X}", mac.0[0], mac.0[1], mac.0[2]);
        wanted.entry(key).or_default().push(*mac);
    }
    let mut found = HashMap::new();
    if wanted.is_empty() {
        return found;
    }
    for (path, format) in REGISTRIES {
        let Ok(file) = std::fs::File::open(path) else {
            continue;
        };
        for line in BufReader::new(file).lines() {
            let Ok(line) = line else { break };
            if let Some((key, vendor)) = entry(&line, format)
                && let Some(macs) = wanted.get(key)
            {
                for mac in macs {
                    found.insert(*mac, vendor.to_string());
                }
            }
        }
        break;
    }
    found
}

/// One registry line as (six upper-case hex digits, vendor).
fn entry(line: &str, format: Format) -> Option<(&str, &str)> {
    let key = line.get(..6)?;
    if !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let rest = &line[6..];
    let vendor = match format {
        Format::ArpScan => rest.strip_prefix('\t')?,
        Format::IeeeData => rest.trim_start().strip_prefix("(base 16)")?,
    };
    let vendor = vendor.trim();
    (!vendor.is_empty()).then_some((key, vendor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_registry_formats_read_and_other_lines_are_skipped() {
        assert_eq!(
            entry("00000C\tCisco Systems, Inc", Format::ArpScan),
            Some(("00000C", "Cisco Systems, Inc"))
        );
        assert_eq!(
            entry(
                "00000C     (base 16)\t\tCisco Systems, Inc",
                Format::IeeeData
            ),
            Some(("00000C", "Cisco Systems, Inc"))
        );
        for line in [
            "# comment",
            "00-00-0C   (hex)\t\tCisco",
            "",
            "0000",
            "00000C\t",
            "ZZZZZZ\tx",
        ] {
            assert_eq!(entry(line, Format::ArpScan), None, "{line}");
            assert_eq!(entry(line, Format::IeeeData), None, "{line}");
        }
    }

    #[test]
    fn locally_administered_macs_have_no_vendor() {
        assert!(vendors(&[Mac([0x02, 0x14, 0, 0, 0, 1])]).is_empty());
    }
}
