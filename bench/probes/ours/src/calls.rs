//! The calls both build-time probes of this project make: the task sets of a service through
//! ecs-client, and the health of a target group through its ELBv2 client (the generated
//! awsQuery side).
use ecs_model::operations;
use ecs_model::types::DescribeTaskSetsRequest;

pub async fn calls(client: &ecs_client::EcsClient) -> Result<(), Box<dyn std::error::Error>> {
    let mut input = DescribeTaskSetsRequest::default();
    input.cluster = Some("bench".into());
    input.service = Some("web".into());
    let out = client.send::<operations::DescribeTaskSets>(input).await?;
    println!("{}", out.task_sets.map_or(0, |s| s.len()));
    let health = client
        .elbv2()
        .send::<ecs_model::elbv2::operations::DescribeTargetHealth>(
            ecs_model::elbv2::types::DescribeTargetHealthInput::builder()
                .target_group_arn(std::env::var("TARGET_GROUP_ARN")?)
                .build(),
        )
        .await?;
    println!(
        "{}",
        health.target_health_descriptions.map_or(0, |d| d.len())
    );
    Ok(())
}
