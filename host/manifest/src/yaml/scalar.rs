//! Quoting one scalar so that every YAML reader gets the same type back.

use serde_yaml::Value;

/// serde_yaml's quoting of one scalar (it knows which strings would read back as something
/// else). A multi-line string would come out as a block scalar, which does not nest here, so
/// it is written double-quoted instead (JSON escapes are valid YAML).
pub(super) fn scalar(value: &Value) -> String {
    if let Value::String(text) = value
        && text.contains('\n')
    {
        return double_quoted(text);
    }
    let written = match serde_yaml::to_string(value) {
        Ok(text) => text.trim_end_matches('\n').to_owned(),
        Err(_) => match value {
            Value::String(text) => return double_quoted(text),
            _ => "null".to_owned(),
        },
    };
    match value {
        Value::String(text) if written == *text && reads_otherwise_in_yaml_1_1(text) => {
            format!("'{}'", text.replace('\'', "''"))
        }
        _ => written,
    }
}

/// serde_yaml quotes for YAML 1.2, but kubectl (go-yaml) and PyYAML read YAML 1.1, where `on`,
/// `no` or `1:20` (base 60) are not strings.
fn reads_otherwise_in_yaml_1_1(text: &str) -> bool {
    const BOOLS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false"];
    if BOOLS.contains(&text.to_ascii_lowercase().as_str()) {
        return true;
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let numeric = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_digit())
            && part.chars().all(|c| c.is_ascii_digit() || c == '_')
    };
    let (body, fraction) = match digits.rsplit_once('.') {
        Some((body, fraction)) => (body, Some(fraction)),
        None => (digits, None),
    };
    if fraction.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let parts: Vec<&str> = body.split(':').collect();
    // Base-60 numbers such as 1:20 or 12:30:00.5, and integers with `_` separators.
    let base_60 = parts.len() > 1 && parts.iter().all(|part| numeric(part));
    let underscored = parts.len() == 1 && fraction.is_none() && numeric(body);
    base_60 || underscored
}

fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        scalar(&Value::String(s.to_owned()))
    }

    #[test]
    fn strings_yaml_1_1_reads_as_other_types_are_quoted() {
        for tricky in [
            "on",
            "No",
            "y",
            "1:20",
            "1_000",
            "12:30:00.5",
            "true",
            "2112",
            "0755",
        ] {
            assert!(text(tricky).starts_with('\''), "{tricky}: {}", text(tricky));
        }
        for plain in [
            "v1.2",
            "2001:db8::1",
            "127.0.0.1",
            "0.1.0",
            ":2112",
            "--vip=192.0.2.1",
        ] {
            assert_eq!(text(plain), plain);
        }
        assert_eq!(text("it's"), "it's");
        assert_eq!(text("a\nb"), "\"a\\nb\"");
    }
}
