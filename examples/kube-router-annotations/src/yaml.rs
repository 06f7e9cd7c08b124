//! A small YAML tree built from yaml-rust2's event parser. It keeps two things yaml-rust2's own
//! loader throws away and kube-router's rules need: whether a scalar was quoted (`"65000"` is
//! not an integer) and its text as written (`065000` must not silently become 65000).
//!
//! Aliases and tags are refused: kube-router users do not write them, and refusing aliases
//! rules out "billion laughs" expansion inside the guest.

use std::str::Chars;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Nesting limit: a peer list is three levels deep (list → peer → `bfd`); the limit keeps a
/// hostile annotation from exhausting the guest's stack.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    /// Entries in document order; duplicate keys are kept for the caller to refuse.
    Mapping(Vec<(Scalar, Node)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    /// Plain (unquoted, not a block scalar): only plain scalars are numbers or null.
    pub plain: bool,
}

impl Scalar {
    /// YAML 1.2 core-schema null: an empty plain scalar, `~`, `null`, `Null`, `NULL`.
    pub fn is_null(&self) -> bool {
        self.plain && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// The scanner's message ("… at byte N line L column C"); it never quotes scalar values.
    #[error("{0}")]
    Syntax(String),
    #[error("line {0}: YAML aliases (*name) are not supported")]
    Alias(usize),
    #[error("line {0}: YAML tags (!tag) are not supported")]
    Tag(usize),
    #[error("line {0}: only plain or quoted scalars can be mapping keys")]
    ComplexKey(usize),
    #[error("more than one YAML document")]
    MultipleDocuments,
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// The document in `text`; `None` for an empty stream (only blanks or comments).
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut document = None;
    loop {
        let (event, mark) = next(&mut parser)?;
        match event {
            Event::StreamEnd => return Ok(document),
            Event::Nothing | Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => {}
            event => {
                if document.is_some() {
                    return Err(YamlError::MultipleDocuments);
                }
                document = Some(node(&mut parser, event, mark, 0)?);
            }
        }
    }
}

fn next(parser: &mut Parser<Chars<'_>>) -> Result<(Event, Marker), YamlError> {
    parser
        .next_token()
        .map_err(|e| YamlError::Syntax(e.to_string()))
}

fn node(
    parser: &mut Parser<Chars<'_>>,
    event: Event,
    mark: Marker,
    depth: usize,
) -> Result<Node, YamlError> {
    if depth > MAX_DEPTH {
        return Err(YamlError::TooDeep);
    }
    match event {
        Event::Scalar(..) => scalar(event, mark).map(Node::Scalar),
        Event::SequenceStart(_, tag) => {
            if tag.is_some() {
                return Err(YamlError::Tag(mark.line()));
            }
            let mut items = Vec::new();
            loop {
                let (event, mark) = next(parser)?;
                if event == Event::SequenceEnd {
                    return Ok(Node::Sequence(items));
                }
                items.push(node(parser, event, mark, depth + 1)?);
            }
        }
        Event::MappingStart(_, tag) => {
            if tag.is_some() {
                return Err(YamlError::Tag(mark.line()));
            }
            let mut entries = Vec::new();
            loop {
                let (event, mark) = next(parser)?;
                let key = match event {
                    Event::MappingEnd => return Ok(Node::Mapping(entries)),
                    Event::Scalar(..) => scalar(event, mark)?,
                    Event::Alias(_) => return Err(YamlError::Alias(mark.line())),
                    _ => return Err(YamlError::ComplexKey(mark.line())),
                };
                let (event, mark) = next(parser)?;
                entries.push((key, node(parser, event, mark, depth + 1)?));
            }
        }
        Event::Alias(_) => Err(YamlError::Alias(mark.line())),
        // The parser never yields these where a node is expected.
        other => Err(YamlError::Syntax(format!(
            "unexpected {other:?} at line {}",
            mark.line()
        ))),
    }
}

fn scalar(event: Event, mark: Marker) -> Result<Scalar, YamlError> {
    match event {
        Event::Scalar(_, _, _, Some(_)) => Err(YamlError::Tag(mark.line())),
        Event::Scalar(text, style, _, None) => Ok(Scalar {
            text,
            plain: style == TScalarStyle::Plain,
        }),
        _ => Err(YamlError::ComplexKey(mark.line())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn plain(text: &str) -> Node {
        Node::Scalar(Scalar {
            text: text.into(),
            plain: true,
        })
    }

    fn key(text: &str) -> Scalar {
        Scalar {
            text: text.into(),
            plain: true,
        }
    }

    #[test]
    fn keeps_quoting_and_text_as_written() {
        let tree = parse("- remoteip: 2001:db8::1\n  remoteasn: 065000\n  port: \"1790\"\n")
            .unwrap()
            .unwrap();
        let quoted = Node::Scalar(Scalar {
            text: "1790".into(),
            plain: false,
        });
        assert_eq!(
            tree,
            Node::Sequence(vec![Node::Mapping(vec![
                (key("remoteip"), plain("2001:db8::1")),
                (key("remoteasn"), plain("065000")),
                (key("port"), quoted),
            ])])
        );
    }

    #[test]
    fn flow_style_and_empty_streams() {
        let tree = parse("[{remoteip: 192.0.2.1, remoteasn: 65000}]")
            .unwrap()
            .unwrap();
        assert!(matches!(tree, Node::Sequence(items) if items.len() == 1));
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
        assert_eq!(parse("[]").unwrap(), Some(Node::Sequence(vec![])));
    }

    #[test]
    fn nulls() {
        for text in ["", "~", "null", "Null", "NULL"] {
            assert!(key(text).is_null(), "{text:?}");
        }
        let quoted = Scalar {
            text: "null".into(),
            plain: false,
        };
        assert!(!quoted.is_null());
    }

    #[test]
    fn refuses_aliases_tags_documents_and_depth() {
        assert!(matches!(
            parse("- &a {remoteip: 192.0.2.1}\n- *a\n"),
            Err(YamlError::Alias(_))
        ));
        assert!(matches!(
            parse("- remoteasn: !!str 65000\n"),
            Err(YamlError::Tag(_))
        ));
        assert!(matches!(
            parse("- a\n---\n- b\n"),
            Err(YamlError::MultipleDocuments)
        ));
        assert!(matches!(
            parse("? [a]\n: b\n"),
            Err(YamlError::ComplexKey(_))
        ));
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(parse(&deep), Err(YamlError::TooDeep));
        assert!(matches!(parse("- a: b: c\n"), Err(YamlError::Syntax(_))));
    }
}
