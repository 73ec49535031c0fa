//! Build-time probe: describe the task sets of a service through aws-sdk-ecs.
use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_ECS")?;
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            std::env::var("AWS_ACCESS_KEY_ID")?,
            std::env::var("AWS_SECRET_ACCESS_KEY")?,
            None,
            None,
            "environment",
        ))
        .build();
    let client = aws_sdk_ecs::Client::from_conf(config);
    let out = client
        .describe_task_sets()
        .cluster("bench")
        .service("web")
        .send()
        .await?;
    println!("{}", out.task_sets().len());
    Ok(())
}
