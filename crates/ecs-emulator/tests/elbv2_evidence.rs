//! AWS's recorded ELBv2 answers (`conformance/evidence-elbv2.json`) replayed against the
//! reference emulator: each item's given requests, then its recorded request after the
//! recorded time, and the answer compared with AWS's: every member AWS answered present, every
//! value equal except those the item lists under `vary`, the members it lists under `absent`
//! absent; or the same error code and message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use ecs_emulator::{Emulator, ManualClock, SequentialIds, Timing};
use serde_json::Value;

/// One load-balancer second is a millisecond of the manual clock.
fn timing() -> Timing {
    Timing {
        health_second: Duration::from_millis(1),
        ..Timing::instant()
    }
}

/// An awsQuery XML element as JSON: a list (children all `member`) as an array, a structure
/// as an object, a leaf as its text.
fn to_json(node: roxmltree::Node<'_, '_>) -> Value {
    let children: Vec<_> = node.children().filter(|c| c.is_element()).collect();
    if children.is_empty() {
        return Value::String(node.text().unwrap_or_default().to_owned());
    }
    if children.iter().all(|c| c.tag_name().name() == "member") {
        return Value::Array(children.into_iter().map(to_json).collect());
    }
    Value::Object(
        children
            .into_iter()
            .map(|c| (c.tag_name().name().to_owned(), to_json(c)))
            .collect(),
    )
}

/// The result element of an answer, as JSON.
fn result_of(xml: &str) -> Value {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let result = doc
        .root_element()
        .children()
        .find(|c| c.is_element() && c.tag_name().name().ends_with("Result"))
        .unwrap();
    let v = to_json(result);
    if v.is_string() {
        Value::Object(Default::default())
    } else {
        v
    }
}

/// `a[0].b` in a JSON value.
fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, Some(i.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (part, None),
        };
        cur = cur.get(name)?;
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

fn fill(text: &str, bound: &BTreeMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (k, v) in bound {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

fn form(request: &Value, bound: &BTreeMap<String, String>) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("Version", "2015-12-01");
    for (k, v) in request.as_object().unwrap() {
        f.append_pair(k, &fill(v.as_str().unwrap(), bound));
    }
    f.finish()
}

/// Differences between AWS's answer and ours under `path`.
fn compare(path: &str, aws: &Value, ours: Option<&Value>, vary: &[String], out: &mut Vec<String>) {
    let Some(ours) = ours else {
        out.push(format!("{path}: AWS answered it, the emulator did not"));
        return;
    };
    if vary.iter().any(|v| v == path) {
        return;
    }
    match aws {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                compare(&p, v, ours.get(k), vary, out);
            }
        }
        Value::Array(items) => {
            let theirs = ours.as_array().map_or(0, Vec::len);
            if theirs != items.len() {
                out.push(format!(
                    "{path}: AWS answered {} items, the emulator {theirs}",
                    items.len()
                ));
                return;
            }
            for (i, v) in items.iter().enumerate() {
                compare(&format!("{path}[{i}]"), v, ours.get(i), vary, out);
            }
        }
        scalar => {
            let want = match scalar {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if ours.as_str() != Some(want.as_str()) {
                out.push(format!(
                    "{path}: AWS answered {want:?}, the emulator {ours}"
                ));
            }
        }
    }
}

#[test]
fn the_emulator_answers_every_recorded_elbv2_request_as_aws_did() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/evidence-elbv2.json"
    );
    let evidence: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let items = evidence["items"].as_array().unwrap();
    assert!(items.len() >= 15, "{} items", items.len());
    let mut departures = vec![];
    for item in items {
        let id = item["id"].as_str().unwrap();
        assert!(
            item["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{id}: no source"
        );
        let clock = ManualClock::at_example_time();
        let engine = Emulator::builder()
            .timing(timing())
            .clock(clock.clone())
            .ids(SequentialIds::default())
            .region("us-west-2")
            .engine();
        let mut bound = BTreeMap::new();
        for step in item["given"].as_array().unwrap() {
            clock.advance(Duration::from_millis(step["after_s"].as_u64().unwrap_or(0)));
            let answer = engine
                .handle_query(None, form(&step["request"], &bound).as_bytes(), "given")
                .unwrap_or_else(|e| panic!("{id}: given {}: {e}", step["request"]));
            let result = result_of(&String::from_utf8(answer).unwrap());
            for (name, path) in step["bind"].as_object().into_iter().flatten() {
                let value = at(&result, path.as_str().unwrap())
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{id}: {path} not in {result}"));
                bound.insert(name.clone(), value.to_owned());
            }
        }
        clock.advance(Duration::from_millis(item["after_s"].as_u64().unwrap_or(0)));
        let answer = engine.handle_query(None, form(&item["request"], &bound).as_bytes(), "replay");
        let mut found = vec![];
        match (&item["error"], answer) {
            (Value::Object(e), Err(got)) => {
                let want = (
                    e["code"].as_str().unwrap(),
                    fill(e["message"].as_str().unwrap(), &bound),
                );
                if (got.code, got.message.clone()) != (want.0, want.1.clone()) {
                    found.push(format!(
                        "AWS refused with {want:?}, the emulator with {:?}",
                        (got.code, got.message)
                    ));
                }
            }
            (Value::Object(e), Ok(_)) => found.push(format!(
                "AWS refused with {}, the emulator answered",
                e["code"]
            )),
            (_, Err(got)) => found.push(format!("AWS answered, the emulator refused: {got}")),
            (_, Ok(bytes)) => {
                let ours = result_of(&String::from_utf8(bytes).unwrap());
                let vary: Vec<String> = item["vary"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
                compare("", &item["answer"], Some(&ours), &vary, &mut found);
                for absent in item["absent"].as_array().into_iter().flatten() {
                    let p = absent.as_str().unwrap();
                    if at(&ours, p).is_some() {
                        found.push(format!("{p}: AWS did not answer it, the emulator did"));
                    }
                }
            }
        }
        departures.extend(found.into_iter().map(|f| format!("{id}: {f}")));
    }
    assert!(
        departures.is_empty(),
        "departures from AWS's records:\n{}",
        departures.join("\n")
    );
}
