//! What the DNS tests share: NSD's configuration, and answers compared as
//! sets of zone-file texts.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// The non-empty lines of `text` (dig +short's records), as a set.
pub fn lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The answer records' zone-file texts of the first lookup of a
/// `netdx --json dns` document.
pub fn answer_texts(json: &Value) -> BTreeSet<String> {
    json[0]["answer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect()
}

/// An NSD configuration for a test: in the foreground's reach (no chroot,
/// user, pid file, database or remote control), on `address` port 53,
/// response rate limiting off, zone files under `zones_dir`, its own state
/// under `work`, serving `zones` (name, file).
pub fn nsd_conf(address: &str, zones_dir: &Path, work: &Path, zones: &[(&str, &str)]) -> String {
    let (d, w) = (zones_dir.display(), work.display());
    let mut conf = format!(
        "server:\n  ip-address: {address}@53\n  do-ip6: no\n  username: \"\"\n  chroot: \"\"\n  \
         zonesdir: \"{d}\"\n  database: \"\"\n  zonelistfile: \"{w}/zone.list\"\n  \
         xfrdfile: \"\"\n  xfrdir: \"{w}\"\n  pidfile: \"\"\n  server-count: 1\n  verbosity: 0\n  rrl-ratelimit: 0\n\
         remote-control:\n  control-enable: no\n"
    );
    for (zone, file) in zones {
        conf.push_str(&format!("zone:\n  name: \"{zone}\"\n  zonefile: {file}\n"));
    }
    conf
}

/// The checks of a `--validate` document's links, in order.
pub fn validation_checks(json: &Value) -> Vec<String> {
    json[0]["validation"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["check"].as_str().unwrap().to_string())
        .collect()
}
