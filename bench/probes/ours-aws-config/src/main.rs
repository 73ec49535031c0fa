//! Build-time probe: the `ours` probe's calls, with region and credentials from the AWS SDKs'
//! chain (ecs-client's `aws-config` feature).
#[path = "../../ours/src/calls.rs"]
mod calls;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    calls::calls(&ecs_client::EcsClient::from_aws_chain().await?).await
}
