//! Test support: reads the request and response syntax blocks of the seed pages
//! (`../shared/docs/seeds/`) into JSON.
//!
//! The pages write them in Python (`client.create_task_set(cluster='string', ...)`, dicts,
//! `True|False`, `datetime(2015, 1, 1)`) or in R (`svc$update_service(cluster = "string")`,
//! `list(...)`, `TRUE|FALSE`, `as.POSIXct("2015-01-01")`). Alternatives `a|b` take the first.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::{Map, Value};

pub fn seeds_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.join("../../../shared/docs/seeds")
}

pub fn seed(prefix: &str) -> String {
    let dir = seeds_dir();
    let entry = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "reading {}: {e} (the seeds live in ../shared beside the repository)",
                dir.display()
            )
        })
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no seed {prefix}* in {}", dir.display()));
    std::fs::read_to_string(entry.path()).unwrap()
}

/// Every call `marker(...)` in `text` (e.g. `client.create_task_set(`), as a JSON object of
/// its keyword arguments.
pub fn calls(text: &str, marker: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let after = &rest[i + marker.len()..];
        let mut p = Parser {
            s: after.as_bytes(),
            i: 0,
        };
        out.push(p.arguments(b')'));
        rest = &after[p.i..];
    }
    out
}

/// The first Python dict after `heading`.
pub fn python_dict_after(text: &str, heading: &str) -> Value {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"))
        + heading.len();
    let brace = text[start..].find('{').expect("a dict") + start;
    Parser {
        s: &text.as_bytes()[brace..],
        i: 0,
    }
    .value()
}

/// The first R `list(...)` after `heading`.
pub fn r_list_after(text: &str, heading: &str) -> Value {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"))
        + heading.len();
    let at = text[start..].find("list(").expect("a list") + start;
    Parser {
        s: &text.as_bytes()[at..],
        i: 0,
    }
    .value()
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> u8 {
        self.ws();
        self.s.get(self.i).copied().unwrap_or(0)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == c {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) {
        assert!(
            self.eat(c),
            "expected {:?} at {:?}",
            c as char,
            self.context()
        );
    }

    fn context(&self) -> String {
        String::from_utf8_lossy(&self.s[self.i..(self.i + 40).min(self.s.len())]).into_owned()
    }

    fn ident(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || b"_.$".contains(&self.s[self.i]))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// `name=value, ...` or `name = value, ...` up to `close`; unnamed items make an array.
    fn arguments(&mut self, close: u8) -> Value {
        let mut named = Map::new();
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                break;
            }
            let save = self.i;
            let name = self.ident();
            if !name.is_empty() && self.peek() == b'=' {
                self.i += 1;
                named.insert(name, self.value());
            } else {
                self.i = save;
                items.push(self.value());
            }
            self.eat(b',');
        }
        if named.is_empty() && !items.is_empty() {
            Value::Array(items)
        } else {
            Value::Object(named)
        }
    }

    fn value(&mut self) -> Value {
        let first = self.single();
        // Alternatives: `'EC2'|'FARGATE'`, `True|False`.
        while self.peek() == b'|' {
            self.i += 1;
            self.single();
        }
        first
    }

    fn single(&mut self) -> Value {
        match self.peek() {
            b'{' => {
                self.i += 1;
                let mut map = Map::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let key = match self.single() {
                        Value::String(s) => s,
                        other => panic!("dict key {other}"),
                    };
                    self.expect(b':');
                    map.insert(key, self.value());
                    self.eat(b',');
                }
                Value::Object(map)
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b']') {
                        break;
                    }
                    items.push(self.value());
                    self.eat(b',');
                }
                Value::Array(items)
            }
            q @ (b'\'' | b'"') => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != q {
                    self.i += 1;
                }
                let s = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                Value::String(s)
            }
            c if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i])
                    .unwrap()
                    .to_owned();
                if self.s.get(self.i) == Some(&b'L') {
                    self.i += 1; // R integer literal, 10L
                }
                serde_json::from_str(&text).unwrap()
            }
            _ => {
                let word = self.ident();
                match word.as_str() {
                    "True" | "TRUE" => Value::Bool(true),
                    "False" | "FALSE" => Value::Bool(false),
                    "list" => {
                        self.expect(b'(');
                        self.arguments(b')')
                    }
                    "datetime" => {
                        self.expect(b'(');
                        let args = self.arguments(b')');
                        let n: Vec<i64> = args
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_i64().unwrap())
                            .collect();
                        Value::from(epoch_days(n[0], n[1], n[2]) * 86_400)
                    }
                    "as.POSIXct" => {
                        self.expect(b'(');
                        let args = self.arguments(b')');
                        let date = args[0].as_str().unwrap().to_owned();
                        let p: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
                        Value::from(epoch_days(p[0], p[1], p[2]) * 86_400)
                    }
                    other => panic!("unexpected {other:?} at {:?}", self.context()),
                }
            }
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn epoch_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
