//! `herald provider inspect|run`. Owned by the provider-framework work (issue 2); placeholder.

#[derive(Debug, clap::Subcommand)]
pub enum ProviderCommand {}

pub async fn run(cmd: ProviderCommand) -> anyhow::Result<()> {
    match cmd {}
}
