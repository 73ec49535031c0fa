//! Build-time probe: describe the task sets of a service through ecs-client, and the health of
//! a target group through its ELBv2 client, with static credentials from the environment.
mod calls;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    calls::calls(&ecs_client::EcsClient::from_env()?).await
}
