//! Build-time probe: the health of a target group through aws-sdk-elasticloadbalancingv2.
use aws_sdk_elasticloadbalancingv2::config::{BehaviorVersion, Credentials, Region};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")?;
    let config = aws_sdk_elasticloadbalancingv2::Config::builder()
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
    let client = aws_sdk_elasticloadbalancingv2::Client::from_conf(config);
    let out = client
        .describe_target_health()
        .target_group_arn(std::env::var("TARGET_GROUP_ARN")?)
        .send()
        .await?;
    println!("{}", out.target_health_descriptions().len());
    Ok(())
}
