//! The ECS service model: `cargo xtask update-model` builds the shapes-only derivative from a
//! botocore wheel, and [`Model::load`] reads it back for the generators.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::util;

pub const DEFAULT_BOTOCORE_VERSION: &str = "1.44.5";
const MODEL_IN_WHEEL: &str = "botocore/data/ecs/2014-11-13/service-2.json.gz";
pub const DERIVATIVE_FILE: &str = "ecs-2014-11-13.shapes.json";
/// The ELBv2 model in the same wheel: ecs-deploy shifts traffic with it and the reference
/// emulator answers it (a derivative of the same kind, read by `codegen::query`).
const ELBV2_IN_WHEEL: &str = "botocore/data/elbv2/2015-12-01/service-2.json.gz";
pub const ELBV2_DERIVATIVE_FILE: &str = "elbv2-2015-12-01.shapes.json";

/// `crates/ecs-model/model/`.
pub fn model_dir() -> PathBuf {
    crate::project_root().join("crates/ecs-model/model")
}

pub fn update_model(version: &str, wheel: Option<&Path>) -> Result<()> {
    let wheel = match wheel {
        Some(w) => w.to_path_buf(),
        None => download_wheel(version)?,
    };
    let file =
        std::fs::File::open(&wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut archive =
        zip::ZipArchive::new(file).with_context(|| format!("reading {}", wheel.display()))?;

    let (gz, modified) = gz_entry(&mut archive, &wheel, MODEL_IN_WHEEL)?;
    let (elbv2_gz, _) = gz_entry(&mut archive, &wheel, ELBV2_IN_WHEEL)?;
    let notice = read_entry(
        &mut archive,
        &format!("botocore-{version}.dist-info/NOTICE"),
    )?;
    let license = read_entry(
        &mut archive,
        &format!("botocore-{version}.dist-info/LICENSE.txt"),
    )?;
    let dir = model_dir();
    let (ops, shapes) = write_derivative(&gz, &dir.join(DERIVATIVE_FILE))?;
    let json = gunzip(&gz)?;
    let elbv2_json = gunzip(&elbv2_gz)?;
    let (elbv2_ops, elbv2_shapes) = write_derivative(&elbv2_gz, &dir.join(ELBV2_DERIVATIVE_FILE))?;
    let elbv2_provenance = serde_json::json!({
        "package": "botocore",
        "version": version,
        "source": "https://pypi.org/project/botocore/",
        "file": ELBV2_IN_WHEEL,
        "sha256_gzip": hex(&Sha256::digest(&elbv2_gz)),
        "sha256_json": hex(&Sha256::digest(&elbv2_json)),
        "license": "Apache-2.0",
        "operations": elbv2_ops,
        "shapes": elbv2_shapes,
        "derivation": "documentation and other prose removed; everything else kept in its original order",
        "command": format!("cargo xtask update-model --botocore-version {version}"),
    });
    let mut prov = serde_json::to_string_pretty(&elbv2_provenance)?;
    prov.push('\n');
    util::write_if_changed(&dir.join("PROVENANCE-elbv2.json"), &prov)?;

    let provenance = serde_json::json!({
        "package": "botocore",
        "version": version,
        "source": "https://pypi.org/project/botocore/",
        "file": MODEL_IN_WHEEL,
        "sha256_gzip": hex(&Sha256::digest(&gz)),
        "sha256_json": hex(&Sha256::digest(&json)),
        "file_date": modified,
        "license": "Apache-2.0",
        "operations": ops,
        "shapes": shapes,
        "derivation": "documentation, deprecatedMessage and other prose removed; everything else kept in its original order",
        "command": format!("cargo xtask update-model --botocore-version {version}"),
    });
    let mut prov = serde_json::to_string_pretty(&provenance)?;
    prov.push('\n');
    util::write_if_changed(&dir.join("PROVENANCE.json"), &prov)?;

    let notice = format!(
        "The file {DERIVATIVE_FILE} in this directory is derived from the Amazon ECS service model\n\
         shipped in botocore {version} ({MODEL_IN_WHEEL}), licensed under the Apache License,\n\
         Version 2.0 (LICENSE-botocore.txt), and {ELBV2_DERIVATIVE_FILE} from the Elastic Load\n\
         Balancing v2 model of the same release ({ELBV2_IN_WHEEL}). Modification: all\n\
         documentation text was removed.\n\
         botocore's NOTICE follows.\n\n{notice}"
    );
    util::write_if_changed(&dir.join("NOTICE"), &notice)?;
    util::write_if_changed(&dir.join("LICENSE-botocore.txt"), &license)?;
    eprintln!(
        "model: botocore {version}, {ops} operations, {shapes} shapes -> {}",
        dir.display()
    );
    Ok(())
}

/// The bytes and date of a gzipped file in the wheel.
fn gz_entry(
    archive: &mut zip::ZipArchive<std::fs::File>,
    wheel: &Path,
    name: &str,
) -> Result<(Vec<u8>, String)> {
    let mut entry = archive
        .by_name(name)
        .with_context(|| format!("{} has no {name}", wheel.display()))?;
    let mut gz = Vec::new();
    entry.read_to_end(&mut gz)?;
    let modified = entry
        .last_modified()
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()))
        .unwrap_or_else(|| "unknown".to_owned());
    Ok((gz, modified))
}

fn gunzip(gz: &[u8]) -> Result<Vec<u8>> {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut json)
        .context("decompressing service-2.json.gz")?;
    Ok(json)
}

/// Writes the prose-free derivative of a gzipped model; answers its operation and shape counts.
fn write_derivative(gz: &[u8], path: &Path) -> Result<(usize, usize)> {
    let json = gunzip(gz)?;
    let original: Value = serde_json::from_slice(&json).context("parsing service-2.json")?;
    let derivative = strip_documentation(&original);
    let ops = derivative["operations"].as_object().map_or(0, Map::len);
    let shapes = derivative["shapes"].as_object().map_or(0, Map::len);
    let mut text = serde_json::to_string_pretty(&derivative)?;
    text.push('\n');
    util::write_if_changed(path, &text)?;
    Ok((ops, shapes))
}

fn read_entry(archive: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Result<String> {
    let mut entry = archive
        .by_name(name)
        .with_context(|| format!("the wheel has no {name}"))?;
    let mut s = String::new();
    entry.read_to_string(&mut s)?;
    Ok(s)
}

fn download_wheel(version: &str) -> Result<PathBuf> {
    let dir = util::scratch_dir(&format!("botocore-{version}"))?;
    let wheel = dir.join(format!("botocore-{version}-py3-none-any.whl"));
    if !wheel.exists() {
        util::run(
            Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--disable-pip-version-check",
                ])
                .arg(format!("botocore=={version}"))
                .arg("-d")
                .arg(&dir),
        )?;
    }
    ensure!(wheel.exists(), "pip did not produce {}", wheel.display());
    Ok(wheel)
}

/// Removes prose from the model, keeping every other key in its original order.
fn strip_documentation(v: &Value) -> Value {
    const PROSE: &[&str] = &["documentation", "deprecatedMessage", "documentationUrl"];
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !PROSE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), strip_documentation(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_documentation).collect()),
        other => other.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// The derivative, as the generators read it.

#[derive(Debug, Deserialize)]
pub struct Model {
    pub metadata: Metadata,
    pub operations: IndexMap<String, Operation>,
    pub shapes: IndexMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    /// awsJson1_1 only.
    #[serde(default)]
    pub target_prefix: String,
    #[serde(default)]
    pub signing_name: String,
    /// awsJson1_1 only.
    #[serde(default)]
    pub json_version: String,
    pub uid: String,
    pub protocol: String,
    /// awsQuery only: the namespace of every answer's root element.
    #[serde(default)]
    pub xml_namespace: Option<String>,
    pub endpoint_prefix: String,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub name: String,
    pub input: Option<ShapeRef>,
    pub output: Option<ShapeRef>,
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    #[serde(default)]
    pub readonly: bool,
    #[serde(default)]
    pub idempotent: bool,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    pub shape: String,
    /// awsQuery outputs: the element between the response root and the members.
    #[serde(default)]
    pub result_wrapper: Option<String>,
}

/// An exception shape's wire identity (awsQuery models carry it).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    pub code: String,
    pub http_status_code: u16,
    #[serde(default)]
    pub sender_fault: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub shape: String,
    #[serde(default)]
    pub idempotency_token: bool,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Deserialize)]
pub struct Shape {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub members: IndexMap<String, Member>,
    #[serde(default)]
    pub required: Vec<String>,
    pub member: Option<ShapeRef>,
    pub key: Option<ShapeRef>,
    pub value: Option<ShapeRef>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    pub min: Option<serde_json::Number>,
    pub max: Option<serde_json::Number>,
    pub pattern: Option<String>,
    #[serde(default)]
    pub exception: bool,
    /// The code and status of an exception, where the model gives them.
    #[serde(default)]
    pub error: Option<ErrorTrait>,
    #[serde(default)]
    pub fault: bool,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub document: bool,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub deprecated: bool,
}

impl Model {
    pub fn load() -> Result<Model> {
        Model::load_file(DERIVATIVE_FILE)
    }

    /// The ELBv2 derivative.
    pub fn load_elbv2() -> Result<Model> {
        Model::load_file(ELBV2_DERIVATIVE_FILE)
    }

    fn load_file(file: &str) -> Result<Model> {
        let path = model_dir().join(file);
        let text = util::read_to_string(&path)?;
        let model: Model =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        model.check_references()?;
        Ok(model)
    }

    pub fn shape(&self, name: &str) -> Result<&Shape> {
        self.shapes
            .get(name)
            .with_context(|| format!("the model has no shape {name}"))
    }

    fn check_references(&self) -> Result<()> {
        for (name, shape) in &self.shapes {
            let refs = shape.members.values().map(|m| m.shape.as_str()).chain(
                [&shape.member, &shape.key, &shape.value]
                    .into_iter()
                    .flatten()
                    .map(|r| r.shape.as_str()),
            );
            for target in refs {
                if !self.shapes.contains_key(target) {
                    bail!("shape {name} refers to missing shape {target}");
                }
            }
            let needs: &[(&str, &Option<ShapeRef>)] = match shape.ty.as_str() {
                "list" => &[("member", &shape.member)],
                "map" => &[("key", &shape.key), ("value", &shape.value)],
                _ => &[],
            };
            for (what, r) in needs {
                if r.is_none() {
                    bail!("{} shape {name} has no {what}", shape.ty);
                }
            }
            for req in &shape.required {
                if !shape.members.contains_key(req) {
                    bail!("shape {name} requires missing member {req}");
                }
            }
        }
        for op in self.operations.values() {
            for r in op
                .input
                .iter()
                .chain(op.output.iter())
                .chain(op.errors.iter())
            {
                self.shape(&r.shape)
                    .with_context(|| format!("operation {}", op.name))?;
            }
        }
        Ok(())
    }
}
