//! VIP values: `--vip` arguments and `--vips-file` contents.

use std::path::Path;

use ipnet::IpNet;

use crate::error::ConfigError;

/// Parses one VIP: a bare address (taken as /32 or /128) or an address with a prefix length.
/// The address is what goes on the interface; its network is what gets announced.
pub fn parse_vip(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net);
    }
    match text.parse::<std::net::IpAddr>() {
        Ok(address) => Ok(IpNet::from(address)),
        Err(_) => Err(format!(
            "{text:?} is not an IP address or prefix (like 192.0.2.10 or 2001:db8::10/128)"
        )),
    }
}

/// Parses a VIPs file: one address or prefix per line; blank lines and `#` comments are skipped
/// (a comment may also follow an address).
pub fn parse_vips_text(flag: &'static str, text: &str) -> Result<Vec<IpNet>, ConfigError> {
    let mut vips = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let vip = parse_vip(content).map_err(|reason| {
            ConfigError::invalid(flag, content, format!("line {}: {reason}", index + 1))
        })?;
        vips.push(vip);
    }
    Ok(vips)
}

pub fn read_vips_file(flag: &'static str, path: &Path) -> Result<Vec<IpNet>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        flag,
        path: path.to_owned(),
        source,
    })?;
    parse_vips_text(flag, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses_become_host_prefixes() {
        assert_eq!(
            parse_vip("192.0.2.10").unwrap().to_string(),
            "192.0.2.10/32"
        );
        assert_eq!(
            parse_vip(" 2001:db8::10 ").unwrap().to_string(),
            "2001:db8::10/128"
        );
        assert_eq!(
            parse_vip("203.0.113.0/24").unwrap().to_string(),
            "203.0.113.0/24"
        );
    }

    #[test]
    fn garbage_is_rejected_with_the_value() {
        let error = parse_vip("not-an-ip").unwrap_err();
        assert!(error.contains("not-an-ip"), "{error}");
        assert!(parse_vip("192.0.2.1/33").is_err());
    }

    #[test]
    fn file_skips_comments_and_blank_lines() {
        let text = "# VIPs\n192.0.2.10\n\n  2001:db8::1/128  # api\n198.51.100.0/24\n";
        let vips = parse_vips_text("--vips-file", text).unwrap();
        let shown: Vec<String> = vips.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["192.0.2.10/32", "2001:db8::1/128", "198.51.100.0/24"]
        );
    }

    #[test]
    fn file_error_names_flag_line_and_value() {
        let error = parse_vips_text("--vips-file", "192.0.2.10\nbogus\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("--vips-file"), "{error}");
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("bogus"), "{error}");
    }
}
