//! Replays the evidence corpus against a target: each item's `given` state is created, each
//! recorded request is sent at its moment of the timeline, and the target's answer is compared
//! with AWS's, member by member.
//!
//! What must hold, per answer:
//!
//! - an error where AWS answered an error, with the same code, and the same message where AWS's
//!   message is recorded; an answer where AWS answered;
//! - every member AWS answered is present, and a list has as many items as AWS's;
//! - ids, ARNs and times match by shape (a generated value is never the same twice); an ARN keeps
//!   its service and resource kind;
//! - every other value (enumerations, names, counts, settings) is equal. Counts are compared
//!   as they stood at that moment: the replay waits for each entry's `at_s` (times the time
//!   scale) before sending it.
//!
//! Names are replayed as recorded. The recorded account and region in ECS ARNs are mapped onto
//! the target's, and recorded ids onto the ids the target generated: from the `binds` of the
//! `given` calls, and from every earlier answer in which a recorded id or ARN was matched by
//! shape.

use std::collections::BTreeMap;
use std::time::Duration;

use ecs_client::{CallOptions, EcsClient};
use serde_json::Value;

use crate::evidence::{Entry, Item};

/// One place where the target's answer departs from AWS's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    /// The item.
    pub item: String,
    /// Where: `given[i]` or `timeline[i]`.
    pub call: String,
    /// The operation.
    pub op: String,
    /// The JSON path in the answer (`/` for the call as a whole).
    pub path: String,
    /// What differs.
    pub message: String,
}

impl std::fmt::Display for Departure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}: {}",
            self.item, self.call, self.op, self.path, self.message
        )
    }
}

/// The outcome of replaying one item.
#[derive(Clone, Debug, Default)]
pub struct ItemReplay {
    /// Recorded answers (and errors) compared.
    pub answers: usize,
    /// Recorded answers that were not compared because the item's `given` state could not be
    /// made (each such item has a departure saying why).
    pub not_replayed: usize,
    /// Every departure, in timeline order.
    pub departures: Vec<Departure>,
    /// What the replay created on the target, for [`clean_up`].
    pub created: Vec<Created>,
}

/// A resource a replay created (its Create call was answered), by the target's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// A cluster.
    Cluster(String),
    /// A service of a cluster.
    Service {
        /// The cluster's ARN.
        cluster: String,
        /// The service's ARN.
        service: String,
    },
    /// A task definition revision, by ARN.
    TaskDefinition(String),
    /// A task RunTask started.
    Task {
        /// The cluster's ARN.
        cluster: String,
        /// The task's ARN.
        task: String,
    },
}

impl Created {
    /// What a successful call created, from its answer.
    fn of(op: &str, answer: &Value) -> Vec<Created> {
        let text = |p: &str| answer.pointer(p).and_then(Value::as_str).map(str::to_owned);
        match op {
            "CreateCluster" => text("/cluster/clusterArn")
                .map(Created::Cluster)
                .into_iter()
                .collect(),
            "CreateService" => (|| {
                Some(Created::Service {
                    cluster: text("/service/clusterArn")?,
                    service: text("/service/serviceArn")?,
                })
            })()
            .into_iter()
            .collect(),
            "RegisterTaskDefinition" => text("/taskDefinition/taskDefinitionArn")
                .map(Created::TaskDefinition)
                .into_iter()
                .collect(),
            "RunTask" => answer["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| {
                    Some(Created::Task {
                        cluster: t["clusterArn"].as_str()?.to_owned(),
                        task: t["taskArn"].as_str()?.to_owned(),
                    })
                })
                .collect(),
            _ => vec![],
        }
    }
}

/// The longest wait between two entries, in seconds of AWS's time: the recorded examples of
/// one resource can lie days apart, and ECS's control plane settles within minutes (the
/// longest stage of the timing shape is a drain of tens of seconds). An assumption.
pub const MAX_GAP_S: f64 = 300.0;

/// How the replay keeps time.
#[derive(Clone, Copy, Debug)]
pub struct ReplayOptions {
    /// Multiplies every `at_s`, `settle_s` and `given_settle_s` of the corpus (1 against AWS; the target's
    /// own time scale against an emulator running AWS's timing compressed).
    pub time_scale: f64,
    /// The target holds nothing yet (a fresh reference emulator). Otherwise the replay first
    /// makes sure that no cluster the item creates exists already: a replay must never change
    /// what it did not create.
    pub fresh_target: bool,
}

/// The mapping of recorded names onto the target's.
#[derive(Debug, Default)]
struct Names {
    /// A recorded id or ARN, and what the target answered in its place.
    exact: BTreeMap<String, String>,
    /// `arn:<partition>:ecs:<region>:<account>:` as the target answers it: every recorded ECS
    /// ARN's region and account are replaced by these.
    target_prefix: Option<String>,
}

/// The `arn:<partition>:ecs:<region>:<account>:` start of an ECS ARN.
fn ecs_prefix(s: &str) -> Option<String> {
    let arn = ecs_model::arn::Arn::parse(s)?;
    (arn.service == "ecs")
        .then(|| format!("arn:{}:ecs:{}:{}:", arn.partition, arn.region, arn.account))
}

/// The first ECS ARN prefix in a JSON value.
fn first_prefix(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => ecs_prefix(s),
        Value::Array(a) => a.iter().find_map(first_prefix),
        Value::Object(o) => o.values().find_map(first_prefix),
        _ => None,
    }
}

impl Names {
    fn map_str(&self, s: &str) -> String {
        if let Some(v) = self.exact.get(s) {
            return v.clone();
        }
        let mut out = s.to_owned();
        if let (Some(from), Some(to)) = (ecs_prefix(s), &self.target_prefix) {
            out = format!("{to}{}", &out[from.len()..]);
        }
        // Ids inside longer strings (an ARN naming a task set whose id was bound).
        for (from, to) in &self.exact {
            if !from.starts_with("arn:") && from.len() >= 8 && out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        out
    }

    fn map_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.map_str(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.map_value(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.map_value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn learn_target(&mut self, answer: &Value) {
        if self.target_prefix.is_none() {
            self.target_prefix = first_prefix(answer);
        }
    }
}

/// Whether a recorded string is a value the target generates (an ARN, or an id with a long run
/// of digits or hex digits), compared by shape rather than by value.
pub fn is_generated(s: &str) -> bool {
    if s.starts_with("arn:") || is_token(&s.chars().collect::<Vec<_>>()) {
        return true;
    }
    let mut digits = 0usize;
    let mut hex = 0usize;
    let mut hex_has_digit = false;
    for c in s.chars() {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        if c.is_ascii_hexdigit() {
            hex += 1;
            hex_has_digit |= c.is_ascii_digit();
        } else {
            hex = 0;
            hex_has_digit = false;
        }
        if digits >= 6 || (hex >= 16 && hex_has_digit) {
            return true;
        }
    }
    false
}

/// Whether a recorded string is a random token: exactly 21 URL-safe characters with letters
/// of both cases and a digit, the shape of every service deployment id recorded
/// (`ejGvqq2ilnbKT9qj0vLJe`, `NCWGC2ZR-taawPAYrIaU5`). Names of that shape are unlikely; longer
/// ones (`ElasticNetworkInterface`) and digit-free ones (`ecsInfrastructureRole`,
/// `autom8y-asana-service` has no capital) stay literal.
fn is_token(s: &[char]) -> bool {
    s.len() == 21
        && s.iter().all(|c| url_safe(*c))
        && s.iter().any(char::is_ascii_uppercase)
        && s.iter().any(char::is_ascii_lowercase)
        && s.iter().any(char::is_ascii_digit)
}

fn url_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The shape of a generated value: every run of digits becomes `#`, every run of 16 or more
/// hex digits `%`, a random token `@` and its length, other text is kept (`ecs-svc/1234` and
/// `ecs-svc/98` share a shape).
pub fn shape(s: &str) -> String {
    shape_with(s, is_token)
}

/// Whether the target's `actual` has the shape of AWS's generated `recorded`. Where AWS's
/// value holds a random token, the target's may hold any 21 URL-safe characters: a token drawn
/// from 64 characters lacks a digit about once in 35 draws (`-fPVmZVsdyXmnSvECEZBV`), and
/// that is still an id of the recorded shape.
pub fn shapes_match(recorded: &str, actual: &str) -> bool {
    let recorded = shape(recorded);
    recorded == shape(actual)
        || (recorded.contains("@21") && recorded == shape_with(actual, |t| t.len() == 21))
}

fn shape_with(s: &str, token: fn(&[char]) -> bool) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // A random token (a service deployment's id): its length is its shape.
        let run = chars[i..].iter().take_while(|c| url_safe(**c)).count();
        if run == 21 && token(&chars[i..i + run]) {
            out.push_str(&format!("@{run}"));
            i += run;
            continue;
        }
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let hex = &chars[i..i + run];
        if run >= 16
            && hex.iter().any(char::is_ascii_digit)
            && !hex.iter().all(char::is_ascii_digit)
        {
            out.push('%');
            i += run;
            continue;
        }
        if chars[i].is_ascii_digit() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push('#');
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Whether two ARNs match: the same partition and service, and a resource that is the same
/// part by part (`/`-separated), but for parts the target generates (an id with a long run of
/// digits or hex digits), which need only the same shape. Region and account are the target's
/// own. `task-definition/sleep300:2` and `task-definition/sleep360:1` differ.
fn arns_match(recorded: &str, actual: &str) -> bool {
    match (
        ecs_model::arn::Arn::parse(recorded),
        ecs_model::arn::Arn::parse(actual),
    ) {
        (Some(r), Some(a)) => {
            let (rp, ap): (Vec<&str>, Vec<&str>) = (
                r.resource.split('/').collect(),
                a.resource.split('/').collect(),
            );
            r.partition == a.partition
                && r.service == a.service
                && rp.len() == ap.len()
                && rp
                    .iter()
                    .zip(&ap)
                    .all(|(x, y)| x == y || (is_generated(x) && shapes_match(x, y)))
        }
        _ => false,
    }
}

/// Whether a string is the ARN of an IAM or STS principal.
fn principal(s: &str) -> bool {
    ecs_model::arn::Arn::parse(s).is_some_and(|a| matches!(a.service, "iam" | "sts"))
}

/// Whether a member holds a time (epoch seconds): its name ends in `At` (`createdAt`,
/// `stabilityStatusAt`, `startedAt` ...) or is one of the few timestamps named otherwise.
fn is_time_member(key: &str) -> bool {
    key.ends_with("At") || matches!(key, "expirationDate" | "lastUpdated" | "timestamp")
}

/// Compares a target's answer with AWS's recorded one. Pointers in `skip` (and everything
/// below them) are not compared. Recorded values are mapped through `names` first; generated
/// values matched by shape are added to `names`, so later requests name the target's.
fn compare(
    recorded: &Value,
    actual: &Value,
    path: &str,
    key: &str,
    skip: &BTreeMap<String, String>,
    names: &mut Names,
    out: &mut Vec<(String, String)>,
) {
    if skip.contains_key(path) {
        return;
    }
    let at = if path.is_empty() { "/" } else { path };
    match (recorded, actual) {
        (Value::Object(r), Value::Object(a)) => {
            for (k, rv) in r {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                if skip.contains_key(&p) {
                    continue;
                }
                match a.get(k) {
                    Some(av) => compare(rv, av, &p, k, skip, names, out),
                    None => out.push((p, format!("missing; AWS answered {}", brief(rv)))),
                }
            }
        }
        (Value::Array(r), Value::Array(a)) => {
            // An item not replayed may be missing from the target's list.
            let skipped = (0..r.len())
                .filter(|i| skip.contains_key(&format!("{path}/{i}")))
                .count();
            if a.len() > r.len() || a.len() < r.len() - skipped {
                out.push((
                    at.to_owned(),
                    format!("{} item(s), AWS answered {}", a.len(), r.len()),
                ));
            }
            if a.len() == r.len() {
                for (i, (rv, av)) in r.iter().zip(a).enumerate() {
                    compare(rv, av, &format!("{path}/{i}"), key, skip, names, out);
                }
            } else {
                // The target left out items AWS answered that are not replayed: the others
                // are compared in order with what it answered.
                let kept = (0..r.len()).filter(|i| !skip.contains_key(&format!("{path}/{i}")));
                for (i, av) in kept.zip(a) {
                    compare(&r[i], av, &format!("{path}/{i}"), key, skip, names, out);
                }
            }
        }
        (Value::String(r), Value::String(a)) => {
            let mapped = names.map_str(r);
            if mapped == *a {
                return;
            }
            if names.exact.contains_key(r) {
                // Already known: the target answered `mapped` for it before.
                out.push((
                    at.to_owned(),
                    format!("{a:?}, where AWS's {r:?} stands for {mapped:?} on this target"),
                ));
                return;
            }
            if is_generated(r) {
                let same = if matches!(key, "createdBy" | "registeredBy") {
                    // The caller's identity: a replay cannot choose who it signs as.
                    principal(&mapped) && principal(a)
                } else if r.starts_with("arn:") {
                    arns_match(&mapped, a)
                } else {
                    shapes_match(&mapped, a)
                };
                if same {
                    names.exact.entry(r.clone()).or_insert_with(|| a.clone());
                    return;
                }
                out.push((
                    at.to_owned(),
                    format!("{a:?} is not of the shape of AWS's {r:?}"),
                ));
            } else {
                out.push((at.to_owned(), format!("{a:?}, AWS answered {r:?}")));
            }
        }
        (Value::Number(_), Value::Number(_)) if is_time_member(key) => {}
        (Value::Number(r), Value::Number(a)) => {
            let equal = match (r.as_f64(), a.as_f64()) {
                (Some(x), Some(y)) => r == a || x == y,
                _ => r == a,
            };
            if !equal {
                out.push((at.to_owned(), format!("{a}, AWS answered {r}")));
            }
        }
        (r, a) if r == a => {}
        (r, a) => out.push((
            at.to_owned(),
            format!("{}, AWS answered {}", brief(a), brief(r)),
        )),
    }
}

/// A short rendering of a value for a departure line.
fn brief(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// The `message` of an error body (awsJson1_1 spells it `message` or `Message`).
fn error_message(body: &Value) -> Option<&str> {
    body.get("message")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
}

/// What one call came back with.
enum Outcome {
    Answer(Value),
    Error { code: String, message: String },
    Failed(String),
}

async fn send(client: &EcsClient, op: &str, request: Value) -> Outcome {
    let Some(info) = ecs_model::operation::find(op) else {
        return Outcome::Failed(format!("{op} is not an ECS operation"));
    };
    match client
        .send_json(info, request, CallOptions::default().max_attempts(1))
        .await
    {
        Err(e) => Outcome::Failed(e.to_string()),
        Ok(raw) => {
            let body: Value = serde_json::from_slice(&raw.body).unwrap_or(Value::Null);
            if raw.status / 100 == 2 {
                Outcome::Answer(body)
            } else {
                Outcome::Error {
                    code: ecs_client::error_code(&raw)
                        .unwrap_or_else(|| format!("HTTP {}", raw.status)),
                    message: error_message(&body).unwrap_or_default().to_owned(),
                }
            }
        }
    }
}

fn sleep_for(seconds: f64, options: ReplayOptions) -> Duration {
    Duration::try_from_secs_f64((seconds * options.time_scale).max(0.0)).unwrap_or(Duration::ZERO)
}

/// Replays one item against the client's target, which must hold none of the item's resources
/// yet (a fresh reference emulator, or an account without them).
pub async fn replay_item(client: &EcsClient, item: &Item, options: ReplayOptions) -> ItemReplay {
    let mut result = ItemReplay::default();
    let mut names = Names::default();
    let depart = |call: String, op: &str, path: &str, message: String| Departure {
        item: item.id.clone(),
        call,
        op: op.to_owned(),
        path: path.to_owned(),
        message,
    };
    if !options.fresh_target {
        for (call, op, cluster) in clusters_created(item) {
            if cluster_exists(client, &cluster).await {
                result.departures.push(depart(
                    call,
                    op,
                    "/",
                    format!("the target already has an ACTIVE cluster {cluster:?}: the replay would change what it did not create; replay against an account without it"),
                ));
            }
        }
        if !result.departures.is_empty() {
            result.not_replayed = crate::evidence::answers(item);
            return result;
        }
    }
    for (i, g) in item.given.iter().enumerate() {
        let call = format!("given[{i}]");
        tokio::time::sleep(sleep_for(g.settle_s, options)).await;
        match send(client, &g.op, names.map_value(&g.request)).await {
            Outcome::Answer(body) => {
                names.learn_target(&body);
                result.created.extend(Created::of(&g.op, &body));
                for (recorded, pointer) in &g.binds {
                    match body.pointer(pointer).and_then(Value::as_str) {
                        Some(v) => {
                            names.exact.insert(recorded.clone(), v.to_owned());
                        }
                        None => result.departures.push(depart(
                            call.clone(),
                            &g.op,
                            pointer,
                            format!("the answer has no string here to bind {recorded:?} to"),
                        )),
                    }
                }
            }
            Outcome::Error { code, message } => result.departures.push(depart(
                call,
                &g.op,
                "/",
                format!("the given state could not be made: {code}: {message}"),
            )),
            Outcome::Failed(why) => result.departures.push(depart(
                call,
                &g.op,
                "/",
                format!("the given state could not be made: {why}"),
            )),
        }
    }
    if !result.departures.is_empty() {
        result.not_replayed = crate::evidence::answers(item);
        return result;
    }
    tokio::time::sleep(sleep_for(item.given_settle_s, options)).await;
    // The clock of the timeline, with every gap capped (once nothing moves any more, a longer
    // wait shows nothing new); each entry is due at its offset from the start, so the time
    // the calls take does not add up.
    let start = tokio::time::Instant::now();
    let mut offset = 0.0;
    let mut previous_at = item.timeline.first().map_or(0.0, |e| e.at_s);
    for (i, entry) in item.timeline.iter().enumerate() {
        offset += (entry.at_s - previous_at).clamp(0.0, MAX_GAP_S);
        previous_at = entry.at_s;
        tokio::time::sleep_until(start + sleep_for(offset, options)).await;
        let call = format!("timeline[{i}]");
        let outcome = send(client, &entry.op, names.map_value(&entry.request)).await;
        if let Outcome::Answer(body) = &outcome {
            result.created.extend(Created::of(&entry.op, body));
        }
        if entry.answer.is_some() || entry.error.is_some() {
            result.answers += 1;
        }
        for (path, message) in judge(entry, outcome, &mut names) {
            result
                .departures
                .push(depart(call.clone(), &entry.op, &path, message));
        }
    }
    result
}

/// The clusters an item's calls create: `(call, operation, cluster name)`.
fn clusters_created(item: &Item) -> Vec<(String, &str, String)> {
    let given = item
        .given
        .iter()
        .enumerate()
        .map(|(i, g)| (format!("given[{i}]"), g.op.as_str(), &g.request));
    let timeline = item
        .timeline
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("timeline[{i}]"), e.op.as_str(), &e.request));
    given
        .chain(timeline)
        .filter(|(_, op, _)| *op == "CreateCluster")
        .map(|(call, op, request)| {
            let name = request
                .get("clusterName")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned();
            (call, op, name)
        })
        .collect()
}

/// Whether the target has an ACTIVE (or PROVISIONING) cluster of that name.
async fn cluster_exists(client: &EcsClient, name: &str) -> bool {
    match send(
        client,
        "DescribeClusters",
        serde_json::json!({ "clusters": [name] }),
    )
    .await
    {
        Outcome::Answer(body) => body["clusters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| matches!(c["status"].as_str(), Some("ACTIVE" | "PROVISIONING"))),
        // A target that cannot say is not assumed empty.
        Outcome::Error { .. } | Outcome::Failed(_) => true,
    }
}

/// How long the clean-up waits for a deleted service to be INACTIVE before it deletes its
/// cluster.
const SERVICE_GONE_WAIT: Duration = Duration::from_secs(120);

/// Deletes, on a shared endpoint, what the replay of one item created and nothing else: its
/// services (with `force`, then waiting until they are INACTIVE or gone), its clusters and its
/// task definition revisions. Returns what could not be deleted; the caller counts each as a
/// departure, since the next item would not start clean.
pub async fn clean_up(client: &EcsClient, created: &[Created]) -> Vec<String> {
    let mut problems = vec![];
    // Tasks RunTask started keep a cluster from being deleted while they are active.
    for c in created {
        if let Created::Task { cluster, task } = c {
            let request = serde_json::json!({"cluster": cluster, "task": task});
            match send(client, "StopTask", request).await {
                Outcome::Answer(_) => {}
                Outcome::Error { code, message } => {
                    problems.push(format!("StopTask {task}: {code}: {message}"))
                }
                Outcome::Failed(why) => problems.push(format!("StopTask {task}: {why}")),
            }
        }
    }
    let services: Vec<(&String, &String)> = created
        .iter()
        .filter_map(|c| match c {
            Created::Service { cluster, service } => Some((cluster, service)),
            _ => None,
        })
        .collect();
    for (cluster, service) in &services {
        let request = serde_json::json!({"cluster": cluster, "service": service, "force": true});
        match send(client, "DeleteService", request).await {
            Outcome::Answer(_) => {}
            Outcome::Error { code, .. } if code == "ServiceNotFoundException" => {}
            Outcome::Error { code, message } => {
                problems.push(format!("DeleteService {service}: {code}: {message}"))
            }
            Outcome::Failed(why) => problems.push(format!("DeleteService {service}: {why}")),
        }
    }
    let deadline = tokio::time::Instant::now() + SERVICE_GONE_WAIT;
    for (cluster, service) in &services {
        loop {
            let request = serde_json::json!({"cluster": cluster, "services": [service]});
            let gone = match send(client, "DescribeServices", request).await {
                Outcome::Answer(body) => body["services"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(|s| s["status"].as_str() == Some("INACTIVE")),
                _ => true,
            };
            if gone {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                problems.push(format!(
                    "{service} was not INACTIVE within {} s",
                    SERVICE_GONE_WAIT.as_secs()
                ));
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    for c in created {
        let (op, request, missing) = match c {
            Created::Cluster(arn) => (
                "DeleteCluster",
                serde_json::json!({ "cluster": arn }),
                "ClusterNotFoundException",
            ),
            Created::TaskDefinition(arn) => (
                "DeregisterTaskDefinition",
                serde_json::json!({ "taskDefinition": arn }),
                "ClientException",
            ),
            Created::Service { .. } | Created::Task { .. } => continue,
        };
        match send(client, op, request).await {
            Outcome::Answer(_) => {}
            Outcome::Error { code, .. } if code == missing => {}
            Outcome::Error { code, message } => {
                problems.push(format!("{op} {c:?}: {code}: {message}"))
            }
            Outcome::Failed(why) => problems.push(format!("{op} {c:?}: {why}")),
        }
    }
    problems
}

/// Compares one outcome with the recorded entry; binds what the entry's `answer_id` names.
fn judge(entry: &Entry, outcome: Outcome, names: &mut Names) -> Vec<(String, String)> {
    let mut out = vec![];
    match (outcome, &entry.error) {
        (Outcome::Failed(why), _) => out.push(("/".into(), format!("no answer: {why}"))),
        (Outcome::Answer(body), Some(want)) => out.push((
            "/".into(),
            format!(
                "answered {}, AWS refused it with {}: {}",
                brief(&body),
                want.code,
                want.message
            ),
        )),
        (Outcome::Error { code, message }, Some(want)) => {
            if code != want.code {
                out.push((
                    "/".into(),
                    format!(
                        "refused with {code}, AWS with {} ({:?})",
                        want.code, want.message
                    ),
                ));
            } else if !want.message.is_empty() && names.map_str(&want.message) != message {
                out.push((
                    "/message".into(),
                    format!("{message:?}, AWS answered {:?}", want.message),
                ));
            }
        }
        (Outcome::Error { code, message }, None) => out.push((
            "/".into(),
            format!("refused with {code}: {message}, AWS answered"),
        )),
        (Outcome::Answer(body), None) => {
            names.learn_target(&body);
            if let (Some(recorded), Some(actual)) = (
                &entry.answer_id,
                body.pointer("/taskSet/id").and_then(Value::as_str),
            ) {
                names.exact.insert(recorded.clone(), actual.to_owned());
            }
            if let Some(recorded) = &entry.answer {
                compare(
                    recorded,
                    &body,
                    "",
                    "",
                    &entry.not_replayed,
                    names,
                    &mut out,
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(recorded: Value, actual: Value) -> Vec<(String, String)> {
        let mut out = vec![];
        let mut names = Names::default();
        compare(
            &recorded,
            &actual,
            "",
            "",
            &BTreeMap::new(),
            &mut names,
            &mut out,
        );
        out
    }

    #[test]
    fn shapes_keep_text_and_fold_numbers() {
        assert_eq!(shape("ecs-svc/1234567890123456789"), "ecs-svc/#");
        assert_eq!(shape("ecs-svc/98"), "ecs-svc/#");
        assert_eq!(shape("0cc43cdb3c5e4e3e8e2e6d2e7b8c3a91"), "%");
        assert_ne!(shape("ecs-svc/1"), shape("task/1"));
        // Service deployment ids: random tokens, alike by length only.
        assert_eq!(
            shape("ejGvqq2ilnbKT9qj0vLJe"),
            shape("NCWGC2ZR-taawPAYrIaU5")
        );
        assert_ne!(
            shape("ejGvqq2ilnbKT9qj0vLJe"),
            shape("ejGvqq2ilnbKT9qj0vLJ")
        );
        assert!(is_generated("ejGvqq2ilnbKT9qj0vLJe"));
        // AWS's id matches the target's without a digit (drawn by the reference in a CI run)
        // or without a capital; a 21-character name stays a name on either side.
        assert!(shapes_match(
            "ejGvqq2ilnbKT9qj0vLJe",
            "-fPVmZVsdyXmnSvECEZBV"
        ));
        assert!(shapes_match(
            "a/ejGvqq2ilnbKT9qj0vLJe",
            "a/g7eku4dmzc4tr0m2_m053"
        ));
        assert!(!shapes_match(
            "a/ejGvqq2ilnbKT9qj0vLJe",
            "b/g7eku4dmzc4tr0m2_m053"
        ));
        assert!(!shapes_match(
            "ejGvqq2ilnbKT9qj0vLJe",
            "ejGvqq2ilnbKT9qj0vLJ"
        ));
        assert!(shapes_match(
            "ecsInfrastructureRole",
            "ecsInfrastructureRole"
        ));
        assert!(!shapes_match(
            "ecsInfrastructureRole",
            "ecsInfrastructureRule"
        ));
        assert!(!shapes_match(
            "autom8y-asana-service",
            "autom8y-asana-servicf"
        ));
        assert!(!is_generated("ecsInfrastructureRole"));
        assert!(!is_generated("autom8y-asana-service"));
        assert!(!is_generated("my-cluster-production"));
        assert!(!is_generated("example-service-with-a-long-name"));
        assert!(!is_generated("ElasticNetworkInterface"));
        assert!(!is_generated("ECS-project-update-cluster"));
        assert!(is_generated("ecs-svc/1234567890123456789"));
        assert!(is_generated("arn:aws:ecs:us-west-2:1:cluster/x"));
        assert!(!is_generated("nginx:1"));
        assert!(!is_generated("FARGATE"));
    }

    /// Ids drawn as AWS and the reference draw them (21 of the 64 URL-safe characters) are
    /// tokens: 200,000 draws from a fixed seed, none left literal.
    #[test]
    fn random_deployment_ids_are_tokens() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = fastrand::Rng::with_seed(25);
        let literal: Vec<String> = (0..200_000)
            .map(|_| {
                (0..21)
                    .map(|_| char::from(ALPHABET[rng.usize(0..ALPHABET.len())]))
                    .collect::<String>()
            })
            .filter(|id| !shapes_match("ejGvqq2ilnbKT9qj0vLJe", id))
            .collect();
        assert!(literal.is_empty(), "left literal: {literal:?}");
    }

    #[test]
    fn every_recorded_member_must_be_there_and_equal() {
        let got = diff(
            json!({"service": {"status": "ACTIVE", "loadBalancers": [], "desiredCount": 2}}),
            json!({"service": {"status": "DRAINING", "desiredCount": 2, "extra": 1}}),
        );
        assert_eq!(
            got,
            vec![
                (
                    "/service/status".to_owned(),
                    "\"DRAINING\", AWS answered \"ACTIVE\"".to_owned()
                ),
                (
                    "/service/loadBalancers".to_owned(),
                    "missing; AWS answered []".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn ids_arns_and_times_match_by_shape_and_bind() {
        let mut names = Names {
            target_prefix: Some("arn:aws:ecs:us-east-1:000000000000:".into()),
            ..Names::default()
        };
        let mut out = vec![];
        compare(
            &json!({"taskSet": {"id": "ecs-svc/1234567890123456789", "createdAt": 1557130260.276,
                "taskSetArn": "arn:aws:ecs:us-west-2:123456789012:task-set/c/s/ecs-svc/1234567890123456789"}}),
            &json!({"taskSet": {"id": "ecs-svc/5", "createdAt": 1.0,
                "taskSetArn": "arn:aws:ecs:us-east-1:000000000000:task-set/c/s/ecs-svc/5"}}),
            "",
            "",
            &BTreeMap::new(),
            &mut names,
            &mut out,
        );
        assert_eq!(out, vec![]);
        // A later request naming the recorded set names the target's.
        assert_eq!(
            names.map_str(
                "arn:aws:ecs:us-west-2:123456789012:task-set/c/s/ecs-svc/1234567890123456789"
            ),
            "arn:aws:ecs:us-east-1:000000000000:task-set/c/s/ecs-svc/5"
        );
        assert_eq!(names.map_str("ecs-svc/1234567890123456789"), "ecs-svc/5");
        // A different kind of resource is not the same shape.
        let got = diff(
            json!({"arn": "arn:aws:ecs:us-west-2:1:cluster/x"}),
            json!({"arn": "arn:aws:ecs:us-west-2:1:service/x"}),
        );
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn counts_and_lengths_are_exact_and_skips_are_honoured() {
        assert_eq!(
            diff(json!({"runningCount": 1}), json!({"runningCount": 0})),
            vec![("/runningCount".to_owned(), "0, AWS answered 1".to_owned())]
        );
        assert_eq!(
            diff(json!({"l": [1, 2]}), json!({"l": [1]}))[0],
            ("/l".to_owned(), "1 item(s), AWS answered 2".to_owned())
        );
        let mut out = vec![];
        let skip = BTreeMap::from([("/events".to_owned(), "history".to_owned())]);
        compare(
            &json!({"events": [1], "x": 1.0}),
            &json!({"x": 1}),
            "",
            "",
            &skip,
            &mut Names::default(),
            &mut out,
        );
        assert_eq!(out, vec![]);
    }
}
