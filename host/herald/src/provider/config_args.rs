//! `--config key=value` and `--config key=@file`.

use anyhow::{Context as _, bail};

pub fn parse_config_args(items: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    items.iter().map(|item| parse_one(item)).collect()
}

fn parse_one(item: &str) -> anyhow::Result<(String, String)> {
    let Some((key, value)) = item.split_once('=') else {
        bail!("--config {item:?}: expected key=value or key=@file");
    };
    if key.is_empty() {
        bail!("--config {item:?}: empty key");
    }
    let value = match value.strip_prefix('@') {
        // Values may be secrets: the message names the file, never its content.
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("--config {key}: cannot read {file}"))?,
        None => value.to_string(),
    };
    Ok((key.to_string(), value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_and_files() {
        let dir = std::env::temp_dir().join(format!("herald-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sa.json");
        std::fs::write(&file, "{\"k\":1}").unwrap();
        let parsed =
            parse_config_args(&["a=b=c".into(), format!("sa=@{}", file.display())]).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("a".into(), "b=c".into()),
                ("sa".into(), "{\"k\":1}".into())
            ]
        );
        assert!(parse_config_args(&["novalue".into()]).is_err());
        assert!(parse_config_args(&["=x".into()]).is_err());
        assert!(parse_config_args(&["k=@/nonexistent/file".into()]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
