//! `herald agent`: flag parsing (kube-vip names) and wiring of the static-mode agent.
//! Owned by the BGP/netlink work (issue 3); placeholder until it lands.

#[derive(Debug, clap::Args)]
pub struct AgentArgs {}

pub async fn run(_args: AgentArgs) -> anyhow::Result<()> {
    anyhow::bail!("herald agent is not built yet")
}
