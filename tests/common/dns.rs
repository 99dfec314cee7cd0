//! What the DNS tests compare: answers as sets of zone-file texts.

use std::collections::BTreeSet;

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
