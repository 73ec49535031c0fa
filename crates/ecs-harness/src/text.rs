//! Answers and messages on one line: error pages by their key line or title, long text cut.

use ecs_client::RawResponse;
use serde_json::Value;

/// The answer's body on one line: an HTML page by its title, anything else cut to 160 characters.
pub(crate) fn excerpt(raw: &RawResponse) -> String {
    let text = raw.body_text();
    match title_of(&text) {
        Some(title) => format!("an HTML page titled {title:?}"),
        None => one_line(&text, 160),
    }
}

/// For an answer that is not JSON (an HTML or text error page), the line that says what went
/// wrong: the last line naming an exception or error (a traceback ends with it), else the
/// first line of text that is not the page's title.
pub fn key_line(body: &str) -> Option<String> {
    if body.trim().is_empty() || serde_json::from_str::<Value>(body).is_ok() {
        return None;
    }
    let text = html_text(body);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let names_exception = |l: &&str| {
        l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .any(|w| {
                let w = w.rsplit('.').next().unwrap_or(w);
                w.len() > 5
                    && w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && (w.ends_with("Error") || w.ends_with("Exception"))
            })
    };
    let title = title_of(body);
    let chosen = lines
        .iter()
        .rev()
        .find(|l| names_exception(l))
        .or_else(|| lines.iter().find(|l| Some(**l) != title.as_deref()))
        .or_else(|| lines.first())?;
    Some(one_line(chosen, 200))
}

pub(crate) fn title_of(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title>")? + 7;
    let end = lower[start..].find("</title>")? + start;
    Some(decode_entities(body[start..end].trim()))
}

/// An HTML page's text, a line per block; plain text comes back as it was.
pub(crate) fn html_text(body: &str) -> String {
    if !body.contains('<') {
        return decode_entities(body);
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = rest[open + 1..open + close].to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or("");
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "pre" | "title" | "blockquote"
        ) {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
        // Scripts and styles are not text.
        if matches!(name, "script" | "style") && !tag.starts_with('/') {
            let end_tag = format!("</{name}");
            match rest.to_ascii_lowercase().find(&end_tag) {
                Some(i) => rest = &rest[i..],
                None => rest = "",
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

pub(crate) fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// `text` on one line, cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_key_line_of_an_error_page() {
        let werkzeug = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n";
        assert_eq!(key_line(werkzeug).as_deref(), Some("Internal Server Error"));
        let traceback = "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nKeyError: &#39;cf-1:web&#39;";
        assert_eq!(key_line(traceback).as_deref(), Some("KeyError: 'cf-1:web'"));
        assert_eq!(key_line("{\"__type\": \"X\"}"), None);
        assert_eq!(key_line(""), None);
    }
}
