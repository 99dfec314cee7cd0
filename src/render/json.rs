//! JSON output: one pretty-printed document per run (fields: docs/json.md).

use serde::Serialize;

/// `value` as a pretty-printed JSON document ending in a newline.
pub fn document<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising our own plain data types cannot fail: they hold no maps with
    // non-string keys and no custom serialisers that error.
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
    text.push('\n');
    text
}
