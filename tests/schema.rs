//! `netdx schema`, the committed schemas in docs/schema/, and the closed
//! validation every other test file applies to the documents it reads.

mod common;

use serde_json::{Value, json};

use common::schema::{closed, committed_schema, schema_dir};
use common::{assert_one_line_error, assert_schema_valid_output, netdx, stdout};

const REGENERATE: &str =
    "run scripts/schemas (or NETDX_BLESS=1 cargo test --test schema) and commit docs/schema/";

/// The names `netdx schema` lists, in its order.
fn registered() -> Vec<String> {
    let out = netdx(&["schema"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    stdout(&out)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn committed_schemas_are_what_the_types_generate() {
    let bless = std::env::var("NETDX_BLESS").is_ok_and(|v| v == "1");
    let names = registered();
    assert!(names.len() >= 17, "{names:?}");
    let mut stale = Vec::new();
    for name in &names {
        let out = netdx(&["schema", name]);
        assert_eq!(out.status.code(), Some(0), "netdx schema {name}: {out:?}");
        let path = schema_dir().join(format!("{name}.json"));
        if bless {
            std::fs::create_dir_all(schema_dir()).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != out.stdout {
            stale.push(format!("docs/schema/{name}.json"));
        }
    }
    let mut unregistered = Vec::new();
    for entry in std::fs::read_dir(schema_dir()).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let name = file.strip_suffix(".json").unwrap_or(&file);
        if !names.iter().any(|n| n == name) {
            if bless {
                std::fs::remove_file(schema_dir().join(&file)).unwrap();
            } else {
                unregistered.push(format!("docs/schema/{file}"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "differ from what the types generate: {}; {REGENERATE}",
        stale.join(", ")
    );
    assert!(
        unregistered.is_empty(),
        "no document is registered for {}; {REGENERATE}",
        unregistered.join(", ")
    );
}

#[test]
fn every_committed_schema_is_a_valid_draft_2020_12_schema() {
    for name in registered() {
        let schema = committed_schema(&name);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        if let Err(err) = jsonschema::meta::validate(&schema) {
            panic!("docs/schema/{name}.json is not a valid schema: {err}");
        }
        // The schemas mean something: typed, with descriptions from the doc comments.
        let text = schema.to_string();
        assert!(
            text.contains("\"required\"") || text.contains("\"additionalProperties\""),
            "{name} requires no field"
        );
        assert!(
            text.contains("\"description\""),
            "{name} has no descriptions"
        );
    }
}

#[test]
fn every_document_is_validated_against_its_schema_by_some_test() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut sources = String::new();
    for entry in std::fs::read_dir(tests).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            // Without whitespace, so a call rustfmt splits over lines still counts.
            let text = std::fs::read_to_string(path).unwrap();
            sources.extend(text.chars().filter(|c| !c.is_whitespace()));
        }
    }
    let unchecked: Vec<String> = registered()
        .into_iter()
        .filter(|name| {
            !sources.contains(&format!("assert_schema_valid(\"{name}\""))
                && !sources.contains(&format!("assert_schema_valid_output(\"{name}\""))
        })
        .collect();
    assert!(
        unchecked.is_empty(),
        "no test validates real output against these schemas: {unchecked:?}"
    );
}

#[test]
fn each_schema_prints_alone_and_list_names_the_command_behind_it() {
    let out = netdx(&["schema"]);
    let list = stdout(&out);
    assert!(
        list.lines()
            .any(|l| l.starts_with("ping ") && l.ends_with("netdx ping --json")),
        "{list}"
    );
    assert!(
        list.lines().any(|l| l.starts_with("netstat-routes ")),
        "{list}"
    );
    let out = netdx(&["schema", "ping"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["title"], "netdx ping --json");
    assert_eq!(schema["type"], "array");
    // --json changes nothing for a schema, which is JSON already.
    assert_eq!(netdx(&["--json", "schema", "ping"]).stdout, out.stdout);
    // Each stream's lines have theirs, listed with the command that streams.
    for (name, command) in STREAMS.map(|(name, command, _)| (name, command)) {
        assert!(
            list.lines()
                .any(|l| l.starts_with(&format!("{name} ")) && l.ends_with(command)),
            "{list}"
        );
        let out = netdx(&["schema", name]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(out.stderr.is_empty());
        let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(schema["title"], command);
        assert!(schema["oneOf"].is_array(), "{name}: {schema}");
    }
}

/// Every `--json-stream`: its schema's name, the command, and its events.
const STREAMS: [(&str, &str, &[&str]); 4] = [
    (
        "ping.stream",
        "netdx ping --json-stream",
        &["start", "reply", "error", "timeout", "summary"],
    ),
    (
        "trace.stream",
        "netdx trace --json-stream",
        &["start", "hop", "round", "summary"],
    ),
    (
        "echo-probe.stream",
        "netdx echo probe --json-stream",
        &["start", "probe", "stray", "error", "interval", "summary"],
    ),
    (
        "echo-serve.stream",
        "netdx echo serve --json-stream",
        &[
            "listening",
            "connected",
            "closed",
            "rejected",
            "oversized",
            "accept_failed",
            "stopped",
        ],
    ),
];

#[test]
fn a_stream_schema_is_one_of_its_events_each_named_by_a_constant_event() {
    for (name, _, events) in STREAMS {
        let schema = committed_schema(name);
        let named: Vec<&str> = schema["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not a oneOf"))
            .iter()
            .map(|branch| {
                assert_eq!(branch["required"][0], "event", "{name}: {branch}");
                branch["properties"]["event"]["const"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: a branch without a const event: {branch}"))
            })
            .collect();
        assert_eq!(named, events, "{name}");
    }
}

#[test]
fn closed_validation_of_stream_lines_holds_each_line_to_its_own_event() {
    let ping = jsonschema::draft202012::new(&closed(committed_schema("ping.stream"))).unwrap();
    let timeout = json!({"event": "timeout", "target": "gw", "address": "10.0.0.1", "seq": 1});
    assert!(ping.is_valid(&timeout));
    let mut undeclared = timeout.clone();
    undeclared["undeclared"] = json!(1);
    // A field of another event (reply's `status`) is undeclared for this one.
    let mut borrowed = timeout.clone();
    borrowed["status"] = json!("good");
    let mut renamed = timeout.clone();
    renamed["event"] = json!("reply");
    let mut unnamed = timeout.clone();
    unnamed.as_object_mut().unwrap().remove("event");
    for (what, line) in [
        ("an undeclared field", undeclared),
        ("another event's field", borrowed),
        ("another event's name", renamed),
        ("no event", unnamed),
    ] {
        assert!(!ping.is_valid(&line), "{what} passed: {line}");
    }
    // A close's `reason` comes from a nested oneOf; closure sees through it.
    let serve =
        jsonschema::draft202012::new(&closed(committed_schema("echo-serve.stream"))).unwrap();
    let closed_line = json!({
        "event": "closed", "id": 1, "peer": "127.0.0.1:40000", "bytes_in": 2, "bytes_out": 2,
        "duration_ms": 1.0, "reason": "peer_closed", "detail": "peer closed"
    });
    assert!(serve.is_valid(&closed_line));
    for (key, value) in [("reason", json!("bored")), ("have", json!(5))] {
        let mut line = closed_line.clone();
        line[key] = value;
        assert!(!serve.is_valid(&line), "{key} passed: {line}");
    }
}

#[test]
fn schema_list_as_json_is_a_schema_list_document() {
    let out = netdx(&["schema", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let list = assert_schema_valid_output("schema-list", &out.stdout);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, registered());
}

#[test]
fn an_unknown_schema_name_is_one_line_naming_the_valid_ones() {
    let out = netdx(&["schema", "pingg"]);
    assert_one_line_error(&out, "'pingg'");
    let err = common::stderr(&out);
    for name in ["ifconfig", "ping", "netstat-sockets", "trace", "echo-probe"] {
        assert!(err.contains(name), "{err}");
    }
}

/// A minimal valid icmp document: one probe sent, no answer.
fn icmp_document() -> Value {
    json!({
        "target": "127.0.0.1",
        "events": [
            {
                "event": "sent", "probe": 1, "target": "127.0.0.1", "ip": null, "bytes": 8,
                "icmp": {
                    "v6": false, "type": 8, "type_name": "echo-request", "code": 0,
                    "code_name": null, "checksum": 63485, "checksum_ok": true, "length": 8,
                    "body": {"shape": "echo", "ident": 1, "seq": 1, "payload": "0a0b"}
                }
            },
            {"event": "no_answer", "probe": 1, "waited_ms": 1000.0}
        ],
        "summary": {"sent": 1, "answered": 0, "errors": 0, "ignored": 0}
    })
}

#[test]
fn closed_validation_rejects_a_field_no_type_declares_at_any_depth() {
    let schema = closed(committed_schema("icmp"));
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    assert!(validator.is_valid(&icmp_document()));
    for pointer in [
        "",
        "/events/0",
        "/events/0/icmp",
        "/events/0/icmp/body",
        "/events/1",
        "/summary",
    ] {
        let mut document = icmp_document();
        document
            .pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .unwrap()
            .insert("undeclared".into(), json!(1));
        assert!(
            !validator.is_valid(&document),
            "an undeclared field at '{pointer}' passed"
        );
    }
    // …while the published schema stays open: fields may be added.
    let mut document = icmp_document();
    document["undeclared"] = json!(1);
    assert!(jsonschema::draft202012::is_valid(
        &committed_schema("icmp"),
        &document
    ));
}

#[test]
fn validation_checks_types_enums_required_fields_and_formats() {
    let broken = [
        ("/events/0/probe", json!("1")),
        ("/events/0/icmp/body/shape", json!("echoes")),
        ("/events/0/icmp/body/payload", json!("xyz")),
        ("/events/0/target", json!("not-an-address")),
        ("/events/1/waited_ms", json!(null)),
    ];
    let schema = closed(committed_schema("icmp"));
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_format("ip", |text: &str| text.parse::<std::net::IpAddr>().is_ok())
        .build(&schema)
        .unwrap();
    for (pointer, value) in broken {
        let mut document = icmp_document();
        *document.pointer_mut(pointer).unwrap() = value.clone();
        assert!(!validator.is_valid(&document), "{pointer} = {value} passed");
    }
    let mut document = icmp_document();
    document["summary"].as_object_mut().unwrap().remove("sent");
    assert!(
        !validator.is_valid(&document),
        "a missing required field passed"
    );
}
