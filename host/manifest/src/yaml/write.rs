//! Block-style YAML, as kubectl writes it, with `#` comments before what they explain.

use super::scalar::scalar;
use super::{Map, Node, Seq};
use serde_yaml::Value;

/// Writes documents separated by `---`, after a header of `#` comment lines.
pub fn write_documents(header: &[String], documents: &[Node]) -> String {
    let mut out = String::new();
    for line in header {
        push_comment(&mut out, 0, line);
    }
    for (index, document) in documents.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        write_top(&mut out, document);
    }
    out
}

fn write_top(out: &mut String, node: &Node) {
    match node {
        Node::Map(map) if !map.is_empty() => write_map(out, map, 0, false),
        Node::Seq(seq) if !seq.is_empty() => write_seq(out, seq, 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// `first_inline`: the first key goes right after a `- ` already written.
fn write_map(out: &mut String, map: &Map, indent: usize, first_inline: bool) {
    for (index, entry) in map.0.iter().enumerate() {
        let inline_key = first_inline && index == 0;
        if let Some(comment) = &entry.comment {
            for line in comment.lines() {
                if inline_key {
                    // A comment cannot sit between `- ` and the key: the caller puts the item's
                    // comments before the dash; this one goes on the line after, indented.
                    continue;
                }
                push_comment(out, indent, line);
            }
        }
        if !inline_key {
            push_indent(out, indent);
        }
        out.push_str(&scalar(&Value::String(entry.key.clone())));
        out.push(':');
        match &entry.value {
            Node::Map(child) if !child.is_empty() => {
                out.push('\n');
                write_map(out, child, indent + 2, false);
            }
            // Sequences under a key sit at the key's indentation, as kubectl writes them.
            Node::Seq(child) if !child.is_empty() => {
                out.push('\n');
                write_seq(out, child, indent);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, seq: &Seq, indent: usize) {
    for (item, comment) in &seq.0 {
        let mut comment_lines: Vec<&str> = comment.iter().flat_map(|c| c.lines()).collect();
        if let Node::Map(map) = item
            && let Some(first) = map.0.first()
            && let Some(first_comment) = &first.comment
        {
            comment_lines.extend(first_comment.lines());
        }
        for line in comment_lines {
            push_comment(out, indent, line);
        }
        push_indent(out, indent);
        out.push_str("- ");
        match item {
            Node::Map(map) if !map.is_empty() => write_map(out, map, indent + 2, true),
            Node::Seq(child) if !child.is_empty() => {
                out.truncate(out.len() - 1);
                out.push('\n');
                write_seq(out, child, indent + 2);
            }
            other => {
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

/// A scalar, or an empty collection in flow style.
fn inline(node: &Node) -> String {
    match node {
        Node::Scalar(value) => scalar(value),
        Node::Map(_) => "{}".to_owned(),
        Node::Seq(_) => "[]".to_owned(),
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn push_comment(out: &mut String, indent: usize, line: &str) {
    push_indent(out, indent);
    if line.is_empty() {
        out.push_str("#\n");
    } else {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sample() -> Node {
        let mut items = Seq::new();
        items.push_commented(
            "first item\nsecond line",
            Map::new()
                .with_comment("on the key", "name", "a")
                .with("value", "true"),
        );
        items.push("plain");
        items.push(":2112");
        items.push(Seq::from_iter(["x", "y"]));
        items.push(Map::new());
        for tricky in [
            "on",
            "No",
            "1:20",
            "1_000",
            "12:30:00.5",
            "v1.2",
            "2001:db8::1",
            "127.0.0.1",
        ] {
            items.push(tricky);
        }
        Map::new()
            .with("apiVersion", "v1")
            .with_comment("why", "list", items)
            .with("empty", Seq::new())
            .with("nested", Map::new().with("port", 2112u16).with("on", true))
            .with("text", "line one\nline \"two\"")
            .into()
    }

    #[test]
    fn output_reads_back_as_the_same_tree() {
        let node = sample();
        let text = write_documents(&[], std::slice::from_ref(&node));
        let back: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, node.to_value(), "{text}");
    }

    #[test]
    fn comments_sit_before_what_they_explain() {
        let text = write_documents(&["header".into()], &[sample()]);
        assert!(
            text.starts_with("# header\napiVersion: v1\n# why\nlist:\n"),
            "{text}"
        );
        assert!(
            text.contains("# first item\n# second line\n# on the key\n- name: a\n"),
            "{text}"
        );
        // Strings that YAML would read as another type stay quoted.
        assert!(text.contains("value: 'true'"), "{text}");
        assert!(text.contains("- :2112\n"), "{text}");
        assert!(text.contains("  'on': true\n"), "{text}");
        for quoted in ["'on'", "'No'", "'1:20'", "'1_000'", "'12:30:00.5'"] {
            assert!(text.contains(&format!("- {quoted}\n")), "{quoted}: {text}");
        }
        assert!(
            text.contains("- v1.2\n- 2001:db8::1\n- 127.0.0.1\n"),
            "{text}"
        );
    }

    #[test]
    fn documents_are_separated() {
        let doc: Node = Map::new().with("a", "b").into();
        let text = write_documents(&[], &[doc.clone(), doc]);
        assert_eq!(text, "a: b\n---\na: b\n");
    }
}
