//! The canonical text of a fixture file: a value goes on one line when it fits in [`WIDTH`]
//! columns, otherwise its members go one per line, each laid out by the same rule. Member
//! order is kept. `cargo xtask fixtures --check` fails on a fixture file that is not in this
//! form, and record mode writes in it, so a fixture diff shows what changed and nothing else.
//! The rows of a table (the members of a `rows` array) are always one line each, like the
//! lines of a CSV file, however long.

use serde_json::Value;

/// The widest line the layout aims for (a long string can still exceed it).
pub const WIDTH: usize = 130;

/// `value` in canonical layout, with a final newline.
pub fn to_text(value: &Value) -> String {
    let mut out = String::new();
    write(value, 0, 0, false, &mut out);
    out.push('\n');
    out
}

/// `value` on one line: `{"a": 1, "b": [2, 3]}`.
pub fn inline(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), inline(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// Writes `value` at `indent`, where `lead` columns of the line are already taken (by the key).
fn write(value: &Value, indent: usize, lead: usize, row: bool, out: &mut String) {
    let one = inline(value);
    if row || indent + lead + one.len() < WIDTH || !is_container(value) {
        out.push_str(&one);
        return;
    }
    let pad = " ".repeat(indent + 2);
    match value {
        Value::Array(items) => {
            let rows = lead == "\"rows\": ".len() && out.ends_with("\"rows\": ");
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                write(item, indent + 2, 0, rows, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (k, v)) in map.iter().enumerate() {
                let key = format!("{}: ", Value::String(k.clone()));
                out.push_str(&pad);
                out.push_str(&key);
                write(v, indent + 2, key.len(), false, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        _ => out.push_str(&one),
    }
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Array(a) if !a.is_empty())
        || matches!(value, Value::Object(m) if !m.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn short_values_stay_on_one_line_and_long_ones_break_by_member() {
        assert_eq!(
            to_text(&json!({"a": 1, "b": [2, 3]})),
            "{\"a\": 1, \"b\": [2, 3]}\n"
        );
        let long = json!({"cases": [{"id": "x".repeat(60), "steps": [{"op": "CreateCluster", "request": {"clusterName": "y".repeat(50)}}]}]});
        let text = to_text(&long);
        assert!(text.lines().all(|l| l.len() < WIDTH), "{text}");
        assert!(text.lines().count() > 3, "{text}");
        let back: Value = serde_json::from_str(&text).expect("the layout is JSON");
        assert_eq!(back, long, "the layout changes no value");
    }

    #[test]
    fn member_order_and_escapes_survive() {
        let v = json!({"z": "a\"b", "a": {"k/1": 1.5}});
        let text = to_text(&v);
        assert_eq!(text, "{\"z\": \"a\\\"b\", \"a\": {\"k/1\": 1.5}}\n");
        assert_eq!(serde_json::from_str::<Value>(&text).expect("json"), v);
    }

    #[test]
    fn a_table_row_is_one_line_however_long() {
        let row = json!(["x".repeat(80), {"request": {"cluster": "y".repeat(80)}}, "Error"]);
        let v = json!({"table": {"columns": ["a", "b", "c"], "rows": [row.clone(), row]}});
        let text = to_text(&v);
        assert_eq!(text.lines().count(), 9, "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).expect("json"), v);
    }
}
