//! Build-time probe: describe the task sets of a service through ecs-client.
use ecs_model::operations;
use ecs_model::types::DescribeTaskSetsRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = ecs_client::EcsClient::from_env()?;
    let mut input = DescribeTaskSetsRequest::default();
    input.cluster = Some("bench".into());
    input.service = Some("web".into());
    let out = client.send::<operations::DescribeTaskSets>(input).await?;
    println!("{}", out.task_sets.map_or(0, |s| s.len()));
    Ok(())
}
