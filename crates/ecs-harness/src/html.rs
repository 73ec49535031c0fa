//! The HTML report: one self-contained file (inline style, no script, no external asset) with
//! the rules × targets matrix, each target's root causes with reproducers, and the per-case
//! differences. It is well-formed XML as well as HTML, so tests and tools can parse it.

use std::fmt::Write as _;

use crate::report::{Report, RuleStatus};
use crate::results::Status;

/// Escapes text for an element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}\
.pass{background:#e6f4e6}.FAIL,.ERROR{background:#fbe3e3}\
.blocked,.partly,.not-observed{background:#fff4d6}.na,.skipped,.uncovered{background:#eee}\
code,pre{font-family:ui-monospace,monospace;font-size:.9em}\
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;white-space:pre-wrap}\
details{margin:.4em 0}";

fn class(status: RuleStatus) -> &'static str {
    match status {
        RuleStatus::Passed => "pass",
        RuleStatus::PartlyObserved => "partly",
        RuleStatus::Failed => "FAIL",
        RuleStatus::Blocked => "blocked",
        RuleStatus::NotImplemented => "na",
        RuleStatus::Skipped => "skipped",
        RuleStatus::NotObserved => "not-observed",
        RuleStatus::Uncovered => "uncovered",
    }
}

/// One page for one or more targets' reports (the same catalog, in the same order).
pub fn html(reports: &[Report]) -> String {
    html_with(reports, "")
}

/// [`html`] with `section`, an HTML fragment the caller wrote and escaped (the published
/// matrix's runs and trends), placed after the totals.
pub fn html_with(reports: &[Report], section: &str) -> String {
    let mut o = String::new();
    let title = match reports {
        [one] => format!(
            "ECS conformance: {} {}",
            one.target.name, one.target.version
        ),
        _ => format!("ECS conformance: {} targets", reports.len()),
    };
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    // Totals.
    o.push_str("<h2 id=\"totals\">Totals</h2>\n<table id=\"totals-table\">\n<tr><th>target</th><th>endpoint</th><th>started</th><th>cases</th><th>totals</th><th>rules passed by tier</th><th>root causes</th></tr>\n");
    for r in reports {
        let _ = writeln!(
            o,
            "<tr><td>{} {}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.target.name),
            escape(&r.target.version),
            escape(&r.target.endpoint),
            escape(&r.started_at),
            r.cases.len(),
            escape(&r.totals_line()),
            escape(&r.tiers_line()),
            r.root_causes.len()
        );
    }
    o.push_str("</table>\n");
    o.push_str(section);
    // Rules × targets.
    o.push_str("<h2 id=\"matrix\">Rules</h2>\n<table id=\"matrix-table\">\n<tr><th>rule</th><th>level</th>");
    for r in reports {
        let _ = write!(
            o,
            "<th>{} {}</th>",
            escape(&r.target.name),
            escape(&r.target.version)
        );
    }
    o.push_str("</tr>\n");
    if let Some(first) = reports.first() {
        // Reports saved from different catalogs: each cell is that target's rule of this id.
        for rule in &first.rules {
            let _ = write!(
                o,
                "<tr class=\"rule\"><td title=\"{}\"><code>{}</code></td><td>{}</td>",
                escape(&rule.summary),
                escape(&rule.id),
                rule.level.label()
            );
            for r in reports {
                match r.rules.iter().find(|rr| rr.id == rule.id) {
                    Some(rr) => {
                        let _ = write!(
                            o,
                            "<td class=\"{}\" title=\"{}\">{} ({}x)</td>",
                            class(rr.status),
                            escape(rr.reason.as_deref().unwrap_or("")),
                            escape(rr.status.label()),
                            rr.checked
                        );
                    }
                    None => o.push_str("<td></td>"),
                }
            }
            o.push_str("</tr>\n");
        }
    }
    o.push_str("</table>\n");
    // Per target: root causes, then the cases that did not pass.
    for (t, r) in reports.iter().enumerate() {
        let _ = writeln!(
            o,
            "<h2 id=\"target-{t}\">{} {}</h2>",
            escape(&r.target.name),
            escape(&r.target.version)
        );
        if r.root_causes.is_empty() {
            o.push_str("<p>Every case passed or was skipped.</p>\n");
        } else {
            let _ = writeln!(o, "<h3>Root causes</h3>\n<ol class=\"causes\">");
            for c in &r.root_causes {
                let _ = write!(
                    o,
                    "<li class=\"cause\"><strong>{}</strong>: <code>{}</code><br/>e.g. <code>{}</code>: {}\n<details><summary>reproduce ({}), and the {} case(s)</summary>\n<pre>",
                    escape(&c.count_line()),
                    escape(&c.headline()),
                    escape(c.first_case()),
                    escape(&c.example),
                    escape(&c.reproducer.case),
                    c.cases.len()
                );
                for step in &c.reproducer.steps {
                    let _ = writeln!(o, "{}", escape(&step.aws_cli(&r.target.endpoint)));
                }
                o.push_str("</pre>\n<pre>");
                for step in &c.reproducer.steps {
                    let body = serde_json::to_string_pretty(&step.request).unwrap_or_default();
                    let _ = writeln!(o, "{}\n{}", escape(&step.op), escape(&body));
                }
                let _ = writeln!(
                    o,
                    "</pre>\n<p>{}</p>\n</details></li>",
                    escape(&c.cases.join(", "))
                );
            }
            o.push_str("</ol>\n");
        }
        let not_passing: Vec<_> = r
            .cases
            .iter()
            .filter(|c| !matches!(c.status, Status::Passed | Status::Skipped))
            .collect();
        if !not_passing.is_empty() {
            o.push_str("<h3>Cases that did not pass</h3>\n");
            for c in not_passing {
                let _ = write!(
                    o,
                    "<details class=\"case\"><summary><code>{}</code>: {} ({})</summary>\n<table>\n<tr><th>step</th><th>status</th><th>rule</th><th>at</th><th>expected</th><th>actual</th></tr>\n",
                    escape(&c.id),
                    escape(c.status.label()),
                    escape(&c.rules.join(", "))
                );
                for s in &c.steps {
                    if s.failures.is_empty() {
                        if s.status != Status::Passed {
                            let _ = writeln!(
                                o,
                                "<tr><td>{}</td><td>{}</td><td></td><td></td><td></td><td>{}</td></tr>",
                                escape(&s.label),
                                escape(s.status.label()),
                                escape(s.reason.as_deref().unwrap_or(""))
                            );
                        }
                        continue;
                    }
                    for f in &s.failures {
                        let _ = writeln!(
                            o,
                            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                            escape(&s.label),
                            escape(s.status.label()),
                            escape(&f.rules.join(", ")),
                            escape(&f.path),
                            escape(&f.expected),
                            escape(&f.actual)
                        );
                    }
                }
                o.push_str("</table>\n</details>\n");
            }
        }
    }
    o.push_str("</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn report(name: &str, rules: &[(&str, &str)]) -> Report {
        let rules: Vec<serde_json::Value> = rules
            .iter()
            .map(|(id, status)| {
                serde_json::json!({"id": id, "summary": "s", "source": "x",
                "level": "documented", "tier": "core", "status": status, "cases": 1,
                "checked": 1})
            })
            .collect();
        serde_json::from_value(serde_json::json!({"version": 4,
            "target": {"name": name, "version": "1", "endpoint": "http://127.0.0.1:1"},
            "suite": {"version": "0.1.0", "botocore": "1.44.5"}, "tiers": [],
            "started_at": "2026-12-07T00:00:00Z", "duration_ms": 0, "totals": {},
            "not_implemented": [], "root_causes": [], "rules": rules, "cases": []}))
        .unwrap()
    }

    /// Saved reports of different catalogs: each cell is the target's own rule of the row's
    /// id, not the rule at the same position, and a rule a report lacks is an empty cell.
    #[test]
    fn a_rule_row_shows_each_target_s_rule_of_that_id() {
        let new = report("reference", &[("a", "passed"), ("b", "failed")]);
        let old = report("moto", &[("b", "passed")]);
        let page = html_with(&[new, old], "<p id=\"extra\">runs</p>");
        let row = |id: &str| {
            let start = page.find(&format!("<code>{id}</code>")).unwrap();
            let end = start + page[start..].find("</tr>").unwrap();
            page[start..end].to_owned()
        };
        assert!(row("a").ends_with("<td></td>"), "{}", row("a"));
        assert!(row("b").contains("FAIL (1x)"), "{}", row("b"));
        assert!(row("b").ends_with("pass (1x)</td>"), "{}", row("b"));
        assert!(page.contains("<p id=\"extra\">runs</p>"));
    }

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">it's & \u{1}</a>"),
            "&lt;a href=&quot;x&quot;&gt;it&#39;s &amp; \u{fffd}&lt;/a&gt;"
        );
    }
}
