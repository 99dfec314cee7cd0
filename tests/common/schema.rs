//! Validating real output against the committed schemas (docs/schema/).
//!
//! Every test that reads a `--json` document hands it to
//! [`assert_schema_valid`], so every document kind is checked against its
//! schema with the data the tests already produce. tests/schema.rs checks
//! that the committed files are what the types generate.
//!
//! The published schemas are open (a consumer must accept new fields); the
//! tests validate against a *closed* copy, where an object may hold only
//! the properties its schema declares, so a field the types do not declare
//! (a key patched into a `serde_json::Value`, a custom `Serialize` that
//! writes more than its schema says) fails here.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// Where the committed schemas live.
pub fn schema_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema")
}

/// The committed schema of document `name` (`docs/schema/NAME.json`).
pub fn committed_schema(name: &str) -> Value {
    let path = schema_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "reading {}: {err} (scripts/schemas writes it)",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()))
}

/// Asserts that `document` is a valid `name` document (closed: no
/// property the schema does not declare), listing every violation.
pub fn assert_schema_valid(name: &str, document: &Value) {
    let validator = validator(name);
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| {
            format!(
                "  at {}: {error} (schema {})",
                error.instance_path(),
                error.schema_path()
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "this {name} document does not match docs/schema/{name}.json:\n{}\ndocument: {}",
        errors.join("\n"),
        serde_json::to_string_pretty(document).unwrap_or_default()
    );
}

/// Parses stdout as JSON and asserts it is a valid `name` document.
pub fn assert_schema_valid_output(name: &str, stdout: &[u8]) -> Value {
    let document: Value = serde_json::from_slice(stdout).unwrap_or_else(|err| {
        panic!(
            "not a JSON document ({err}): {}",
            String::from_utf8_lossy(stdout)
        )
    });
    assert_schema_valid(name, &document);
    document
}

/// The compiled closed schema of `name`, built once per test binary.
fn validator(name: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(validator) = cache.get(name) {
        return Arc::clone(validator);
    }
    let schema = closed(committed_schema(name));
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_format("ip", |text: &str| text.parse::<IpAddr>().is_ok())
        .build(&schema)
        .unwrap_or_else(|err| panic!("docs/schema/{name}.json does not compile: {err}"));
    let validator = Arc::new(validator);
    cache.insert(name.to_string(), Arc::clone(&validator));
    validator
}

/// `schema` with `unevaluatedProperties: false` on every object schema
/// that is not itself a branch of an `allOf`/`anyOf`/`oneOf` (a branch
/// cannot see its siblings' properties; the schema holding the branches
/// sees the properties of whichever branches matched), and not on a
/// definition that a branch combines with properties of its own
/// (`{"properties": {"event": …}, "$ref": "#/$defs/Sent"}`: the branch's
/// parent closes that object instead).
pub fn closed(mut schema: Value) -> Value {
    let mut combined = HashSet::new();
    find_combined_refs(&schema, &mut combined);
    close(&mut schema, false, &combined, None);
    schema
}

fn find_combined_refs(node: &Value, combined: &mut HashSet<String>) {
    match node {
        Value::Object(map) => {
            if let (Some(Value::String(target)), true) =
                (map.get("$ref"), map.contains_key("properties"))
            {
                combined.insert(target.clone());
            }
            map.values()
                .for_each(|child| find_combined_refs(child, combined));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| find_combined_refs(child, combined)),
        _ => {}
    }
}

const BRANCHES: [&str; 3] = ["allOf", "anyOf", "oneOf"];

fn close(node: &mut Value, branch: bool, combined: &HashSet<String>, def: Option<&str>) {
    let Value::Object(map) = node else { return };
    for (key, child) in map.iter_mut() {
        match key.as_str() {
            "$defs" => {
                if let Value::Object(defs) = child {
                    for (name, def_schema) in defs.iter_mut() {
                        let pointer = format!("#/$defs/{name}");
                        close(def_schema, false, combined, Some(&pointer));
                    }
                }
            }
            "properties" | "patternProperties" => {
                if let Value::Object(properties) = child {
                    properties
                        .values_mut()
                        .for_each(|p| close(p, false, combined, None));
                }
            }
            "items" | "additionalProperties" | "not" | "contains" => {
                close(child, false, combined, None)
            }
            key if BRANCHES.contains(&key) => {
                if let Value::Array(branches) = child {
                    branches
                        .iter_mut()
                        .for_each(|b| close(b, true, combined, None));
                }
            }
            _ => {}
        }
    }
    let holds_objects = map.contains_key("properties")
        || BRANCHES.iter().any(|key| {
            map.get(*key)
                .and_then(Value::as_array)
                .is_some_and(|branches| {
                    branches
                        .iter()
                        .any(|b| b.get("properties").is_some() || b.get("$ref").is_some())
                })
        });
    let combined_elsewhere = def.is_some_and(|pointer| combined.contains(pointer));
    if holds_objects && !branch && !combined_elsewhere {
        map.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
}
