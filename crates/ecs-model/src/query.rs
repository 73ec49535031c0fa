//! The awsQuery protocol, as Elastic Load Balancing v2 speaks it: a request is a form
//! (`Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=...`), lists are numbered
//! `Name.member.N` from 1, maps are `Name.entry.N.key` / `.value`; an answer is XML,
//! `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>...`, and an error is
//! `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
//!
//! The structures of [`crate::elbv2`] are generated; the scalars, lists and maps here are the
//! hand-written part. XML is read with `roxmltree` and text is escaped with `quick-xml`.

use std::collections::BTreeMap;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

/// A request or answer that does not follow the protocol or the model, with where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A value that does not fit its member (`Port`: "x" is not an integer).
    #[error("{path}: {message}")]
    Invalid {
        /// The form key or XML path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An answer that is not the XML the protocol prescribes.
    #[error("the answer is not awsQuery XML: {0}")]
    Xml(String),
}

impl QueryError {
    fn invalid(path: &str, message: impl Into<String>) -> Self {
        QueryError::Invalid {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// A request's form, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryParams {
    params: BTreeMap<String, String>,
}

impl QueryParams {
    /// Decodes a form body (`application/x-www-form-urlencoded`). A key given twice keeps its
    /// last value.
    pub fn parse(body: &[u8]) -> Self {
        QueryParams {
            params: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// The value of one key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// `Action`.
    pub fn action(&self) -> Option<&str> {
        self.get("Action")
    }

    /// Whether `key` or anything under it (`key.`...) is present.
    pub fn has_prefix(&self, key: &str) -> bool {
        let below = format!("{key}.");
        self.params.contains_key(key)
            || self
                .params
                .range(below.clone()..)
                .next()
                .is_some_and(|(k, _)| k.starts_with(&below))
    }

    /// The keys directly under `key` that continue with `.<part>.N`, as the numbers N, in
    /// ascending order.
    fn indices(&self, key: &str, part: &str) -> Vec<u32> {
        let prefix = join(key, part) + ".";
        let mut out: Vec<u32> = self
            .params
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, _)| k[prefix.len()..].split('.').next()?.parse().ok())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every key and value, for a log.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// `key.member`, or `member` at the top.
pub fn join(key: &str, member: &str) -> String {
    if key.is_empty() {
        member.to_owned()
    } else {
        format!("{key}.{member}")
    }
}

/// Writes `<name>`.
pub fn open(name: &str, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

/// Writes `</name>`.
pub fn close(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn text_element(name: &str, text: &str, out: &mut String) {
    open(name, out);
    out.push_str(&quick_xml::escape::escape(text));
    close(name, out);
}

/// The text of an element (empty when it has none).
fn text_of<'a>(node: roxmltree::Node<'a, '_>) -> &'a str {
    node.text().unwrap_or("")
}

/// A value of the protocol: a scalar, a list, a map or a generated structure.
pub trait QueryValue: Sized {
    /// Appends this value's form pairs under `key`.
    fn write_query(&self, key: &str, out: &mut Vec<(String, String)>);
    /// Reads the value under `key`; `None` when the form has nothing there.
    fn read_query(params: &QueryParams, key: &str) -> Result<Option<Self>, QueryError>;
    /// Appends `<name>value</name>`.
    fn write_xml(&self, name: &str, out: &mut String);
    /// Reads the value of an element; `path` names it in errors.
    fn read_xml(node: roxmltree::Node<'_, '_>, path: &str) -> Result<Self, QueryError>;
    /// The first member the model requires that this structure lacks (at this level only).
    fn first_missing(&self) -> Option<&'static str> {
        None
    }
}

macro_rules! scalar {
    ($ty:ty, $what:literal) => {
        impl QueryValue for $ty {
            fn write_query(&self, key: &str, out: &mut Vec<(String, String)>) {
                out.push((key.to_owned(), self.to_string()));
            }
            fn read_query(params: &QueryParams, key: &str) -> Result<Option<Self>, QueryError> {
                params
                    .get(key)
                    .map(|v| {
                        v.trim().parse().map_err(|_| {
                            QueryError::invalid(key, format!("{v:?} is not {}", $what))
                        })
                    })
                    .transpose()
            }
            fn write_xml(&self, name: &str, out: &mut String) {
                text_element(name, &self.to_string(), out);
            }
            fn read_xml(node: roxmltree::Node<'_, '_>, path: &str) -> Result<Self, QueryError> {
                let text = text_of(node);
                text.trim()
                    .parse()
                    .map_err(|_| QueryError::invalid(path, format!("{text:?} is not {}", $what)))
            }
        }
    };
}

scalar!(i32, "an integer");
scalar!(i64, "an integer");
scalar!(bool, "true or false");

impl QueryValue for String {
    fn write_query(&self, key: &str, out: &mut Vec<(String, String)>) {
        out.push((key.to_owned(), self.clone()));
    }
    fn read_query(params: &QueryParams, key: &str) -> Result<Option<Self>, QueryError> {
        Ok(params.get(key).map(str::to_owned))
    }
    fn write_xml(&self, name: &str, out: &mut String) {
        text_element(name, self, out);
    }
    fn read_xml(node: roxmltree::Node<'_, '_>, _: &str) -> Result<Self, QueryError> {
        Ok(text_of(node).to_owned())
    }
}

/// Timestamps go as ISO 8601 (`2016-03-25T21:26:12.920Z`) both ways.
impl QueryValue for DateTime {
    fn write_query(&self, key: &str, out: &mut Vec<(String, String)>) {
        out.push((
            key.to_owned(),
            self.fmt(Format::DateTime).unwrap_or_default(),
        ));
    }
    fn read_query(params: &QueryParams, key: &str) -> Result<Option<Self>, QueryError> {
        params
            .get(key)
            .map(|v| {
                DateTime::from_str(v, Format::DateTime)
                    .map_err(|e| QueryError::invalid(key, format!("{v:?} is not a timestamp: {e}")))
            })
            .transpose()
    }
    fn write_xml(&self, name: &str, out: &mut String) {
        text_element(name, &self.fmt(Format::DateTime).unwrap_or_default(), out);
    }
    fn read_xml(node: roxmltree::Node<'_, '_>, path: &str) -> Result<Self, QueryError> {
        let text = text_of(node).trim();
        DateTime::from_str(text, Format::DateTime)
            .map_err(|e| QueryError::invalid(path, format!("{text:?} is not a timestamp: {e}")))
    }
}

/// Lists: `key.member.N` (an empty list is `key=`), `<name><member>..</member></name>`.
impl<T: QueryValue> QueryValue for Vec<T> {
    fn write_query(&self, key: &str, out: &mut Vec<(String, String)>) {
        if self.is_empty() {
            out.push((key.to_owned(), String::new()));
        }
        for (i, v) in self.iter().enumerate() {
            v.write_query(&format!("{key}.member.{}", i + 1), out);
        }
    }
    fn read_query(params: &QueryParams, key: &str) -> Result<Option<Self>, QueryError> {
        let indices = params.indices(key, "member");
        if indices.is_empty() {
            return Ok(params.get(key).map(|_| vec![]));
        }
        let mut out = Vec::with_capacity(indices.len());
        for i in indices {
            let at = format!("{key}.member.{i}");
            if let Some(v) = T::read_query(params, &at)? {
                out.push(v);
            }
        }
        Ok(Some(out))
    }
    fn write_xml(&self, name: &str, out: &mut String) {
        open(name, out);
        for v in self {
            v.write_xml("member", out);
        }
        close(name, out);
    }
    fn read_xml(node: roxmltree::Node<'_, '_>, path: &str) -> Result<Self, QueryError> {
        node.children()
            .filter(|c| c.is_element() && c.tag_name().name() == "member")
            .enumerate()
            .map(|(i, c)| T::read_xml(c, &format!("{path}[{i}]")))
            .collect()
    }
}

/// Maps: `key.entry.N.key` and `.value`, `<name><entry><key/><value/></entry></name>`.
impl<V: QueryValue> QueryValue for BTreeMap<String, V> {
    fn write_query(&self, key: &str, out: &mut Vec<(String, String)>) {
        for (i, (k, v)) in self.iter().enumerate() {
            let at = format!("{key}.entry.{}", i + 1);
            out.push((format!("{at}.key"), k.clone()));
            v.write_query(&format!("{at}.value"), out);
        }
    }
    fn read_query(params: &QueryParams, key: &str) -> Result<Option<Self>, QueryError> {
        let indices = params.indices(key, "entry");
        if indices.is_empty() {
            return Ok(None);
        }
        let mut out = BTreeMap::new();
        for i in indices {
            let at = format!("{key}.entry.{i}");
            let k = params
                .get(&format!("{at}.key"))
                .ok_or_else(|| QueryError::invalid(&at, "an entry without its key"))?;
            if let Some(v) = V::read_query(params, &format!("{at}.value"))? {
                out.insert(k.to_owned(), v);
            }
        }
        Ok(Some(out))
    }
    fn write_xml(&self, name: &str, out: &mut String) {
        open(name, out);
        for (k, v) in self {
            open("entry", out);
            text_element("key", k, out);
            v.write_xml("value", out);
            close("entry", out);
        }
        close(name, out);
    }
    fn read_xml(node: roxmltree::Node<'_, '_>, path: &str) -> Result<Self, QueryError> {
        let mut out = BTreeMap::new();
        for entry in node
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "entry")
        {
            let child = |n: &str| {
                entry
                    .children()
                    .find(|c| c.is_element() && c.tag_name().name() == n)
            };
            let key = child("key").map(text_of).unwrap_or_default().to_owned();
            if let Some(value) = child("value") {
                let v = V::read_xml(value, &format!("{path}.{key}"))?;
                out.insert(key, v);
            }
        }
        Ok(out)
    }
}

/// One operation of an awsQuery service (the generated markers of
/// [`crate::elbv2::operations`]).
pub trait QueryOperation {
    /// The `Action`.
    const NAME: &'static str;
    /// The element that holds the output in the answer (`DescribeTargetHealthResult`).
    const RESULT_WRAPPER: &'static str;
    /// The error codes the model lists for it.
    const ERRORS: &'static [&'static str];
    /// The request.
    type Input: QueryValue + Clone + Default + std::fmt::Debug + Send + Sync + 'static;
    /// The answer.
    type Output: QueryValue + Clone + Default + std::fmt::Debug + Send + Sync + 'static;
}

/// The form body of a request: `Action`, `Version`, then the input's members.
pub fn request_body<O: QueryOperation>(input: &O::Input, version: &str) -> String {
    let mut pairs = vec![];
    input.write_query("", &mut pairs);
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", O::NAME);
    form.append_pair("Version", version);
    for (k, v) in &pairs {
        form.append_pair(k, v);
    }
    form.finish()
}

/// The XML of a successful answer.
pub fn answer_xml<O: QueryOperation>(
    output: &O::Output,
    namespace: &str,
    request_id: &str,
) -> String {
    let mut out = String::with_capacity(512);
    let root = format!("{}Response", O::NAME);
    out.push('<');
    out.push_str(&root);
    out.push_str(" xmlns=\"");
    out.push_str(&quick_xml::escape::escape(namespace));
    out.push_str("\">");
    output.write_xml(O::RESULT_WRAPPER, &mut out);
    open("ResponseMetadata", &mut out);
    text_element("RequestId", request_id, &mut out);
    close("ResponseMetadata", &mut out);
    close(&root, &mut out);
    out
}

/// The XML of an error answer (`Type` is `Sender` or `Receiver`).
pub fn error_xml(
    code: &str,
    message: &str,
    sender: bool,
    namespace: &str,
    request_id: &str,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<ErrorResponse xmlns=\"");
    out.push_str(&quick_xml::escape::escape(namespace));
    out.push_str("\">");
    open("Error", &mut out);
    text_element("Type", if sender { "Sender" } else { "Receiver" }, &mut out);
    text_element("Code", code, &mut out);
    text_element("Message", message, &mut out);
    close("Error", &mut out);
    text_element("RequestId", request_id, &mut out);
    close("ErrorResponse", &mut out);
    out
}

/// Reads a successful answer of `O`.
pub fn parse_answer<O: QueryOperation>(xml: &str) -> Result<O::Output, QueryError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| QueryError::Xml(e.to_string()))?;
    let root = doc.root_element();
    let expected = format!("{}Response", O::NAME);
    if root.tag_name().name() != expected {
        return Err(QueryError::Xml(format!(
            "the root element is <{}>, not <{expected}>",
            root.tag_name().name()
        )));
    }
    match root
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == O::RESULT_WRAPPER)
    {
        Some(result) => O::Output::read_xml(result, O::RESULT_WRAPPER),
        None => Ok(O::Output::default()),
    }
}

/// The code and message of an error answer, when it is one.
pub fn parse_error(xml: &str) -> Option<(String, String)> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let error = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Error")?;
    let field = |name: &str| {
        error
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
            .map(|c| text_of(c).to_owned())
    };
    Some((field("Code")?, field("Message").unwrap_or_default()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::elbv2::operations::{DescribeTargetHealth, ModifyListener};
    use crate::elbv2::types::*;

    #[test]
    fn a_weighted_forward_goes_as_numbered_members_and_comes_back() {
        let input = ModifyListenerInput {
            listener_arn: Some("arn:l".into()),
            default_actions: Some(vec![Action {
                r#type: Some("forward".into()),
                forward_config: Some(ForwardActionConfig {
                    target_groups: Some(vec![
                        TargetGroupTuple {
                            target_group_arn: Some("arn:blue".into()),
                            weight: Some(90),
                        },
                        TargetGroupTuple {
                            target_group_arn: Some("arn:green".into()),
                            weight: Some(10),
                        },
                    ]),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let body = request_body::<ModifyListener>(&input, "2015-12-01");
        assert!(body.starts_with("Action=ModifyListener&Version=2015-12-01&"));
        assert!(
            body.contains("DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight=10")
        );
        let params = QueryParams::parse(body.as_bytes());
        let back = ModifyListenerInput::read_query(&params, "")
            .unwrap()
            .unwrap();
        assert_eq!(back, input);
    }

    #[test]
    fn an_answer_round_trips_through_its_xml() {
        let output = DescribeTargetHealthOutput {
            target_health_descriptions: Some(vec![TargetHealthDescription {
                target: Some(TargetDescription {
                    id: Some("10.0.0.1".into()),
                    port: Some(80),
                    ..Default::default()
                }),
                target_health: Some(TargetHealth {
                    state: Some("initial".into()),
                    reason: Some("Elb.RegistrationInProgress".into()),
                    description: Some("Target registration is in progress & <pending>".into()),
                }),
                ..Default::default()
            }]),
        };
        let xml = answer_xml::<DescribeTargetHealth>(&output, "urn:x", "req-1");
        assert!(xml.contains("&amp; &lt;pending&gt;"), "{xml}");
        assert_eq!(parse_answer::<DescribeTargetHealth>(&xml).unwrap(), output);
    }

    #[test]
    fn a_bad_number_names_its_key_and_an_error_answer_reads_back() {
        let params = QueryParams::parse(b"Action=CreateTargetGroup&Name=x&Port=eighty");
        let err = CreateTargetGroupInput::read_query(&params, "").unwrap_err();
        assert_eq!(err.to_string(), "Port: \"eighty\" is not an integer");
        let xml = error_xml(
            "TargetGroupNotFound",
            "One or more target groups not found",
            true,
            "urn:x",
            "r",
        );
        assert_eq!(
            parse_error(&xml),
            Some((
                "TargetGroupNotFound".into(),
                "One or more target groups not found".into()
            ))
        );
        assert!(parse_answer::<DescribeTargetHealth>(&xml).is_err());
    }

    #[test]
    fn an_empty_list_is_sent_as_its_bare_key_and_read_as_empty() {
        let input = RemoveTagsInput {
            resource_arns: Some(vec!["arn:a".into()]),
            tag_keys: Some(vec![]),
        };
        let body = request_body::<crate::elbv2::operations::RemoveTags>(&input, "v");
        assert!(body.ends_with("&TagKeys="), "{body}");
        let back = RemoveTagsInput::read_query(&QueryParams::parse(body.as_bytes()), "").unwrap();
        assert_eq!(back, Some(input));
    }
}
