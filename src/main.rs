#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ecr_warden::app::main().await
}
