//! The model's hot paths next to the same work on an untyped `serde_json::Value`, the cheapest
//! thing that reads or writes the same bytes: decoding DescribeTaskSets (100 sets), encoding
//! CreateTaskSet, and validating CreateTaskSet.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ecs_model::types::{CreateTaskSetRequest, DescribeTaskSetsResponse};
use ecs_model::Validate;
use serde_json::Value;

#[path = "../src/payloads.rs"]
#[allow(dead_code)]
mod payloads;

fn decode(c: &mut Criterion) {
    let answers = payloads::answers().expect("canned answers");
    let bytes = answers.describe_100;
    let mut group = c.benchmark_group("decode DescribeTaskSets (100 sets)");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("ecs-model typed", |b| {
        b.iter(|| {
            ecs_model::from_json::<DescribeTaskSetsResponse>(std::hint::black_box(&bytes))
                .expect("decodes")
        })
    });
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(std::hint::black_box(&bytes)).expect("parses"))
    });

    group.finish();
}

fn encode_and_validate(c: &mut Criterion) {
    let json = payloads::create_task_set_request(payloads::SERVICE);
    let typed: CreateTaskSetRequest = ecs_model::from_value(&json).expect("decodes");
    let mut group = c.benchmark_group("encode CreateTaskSet");
    group.bench_function("ecs-model typed", |b| {
        b.iter(|| serde_json::to_vec(std::hint::black_box(&typed)).expect("encodes"))
    });
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| serde_json::to_vec(std::hint::black_box(&json)).expect("encodes"))
    });
    group.finish();
    let mut group = c.benchmark_group("validate CreateTaskSet");
    group.bench_function("ecs-model violations()", |b| {
        b.iter(|| std::hint::black_box(&typed).violations())
    });
    // The peer: the same request encoded, which any client must do anyway.
    group.bench_function("serde_json::to_vec (reference)", |b| {
        b.iter(|| serde_json::to_vec(std::hint::black_box(&typed)).expect("encodes"))
    });
    group.finish();
}

criterion_group!(benches, decode, encode_and_validate);
criterion_main!(benches);
