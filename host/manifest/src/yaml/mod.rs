//! A small YAML tree with comments, and its block-style writer (`write`).
//!
//! serde_yaml cannot write comments, and a manifest an operator reads should say *why* a rule or a
//! limit is there. So documents are built as this tree (keys in the order they are added, which
//! keeps the output stable) and written by `write`; scalars are quoted by `scalar`.

mod scalar;
mod write;

use serde_yaml::Value;

pub use write::write_documents;

/// A node of a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Scalar(Value),
    Map(Map),
    Seq(Seq),
}

/// A mapping whose keys keep the order they were added in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map(Vec<Entry>);

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    key: String,
    value: Node,
    comment: Option<String>,
}

/// A sequence; each item may carry a comment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seq(Vec<(Node, Option<String>)>);

impl Map {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, key: &str, value: impl Into<Node>) -> Self {
        self.push(key, value);
        self
    }

    /// An entry preceded by a `# comment` (one line per `\n`).
    pub fn with_comment(mut self, comment: &str, key: &str, value: impl Into<Node>) -> Self {
        self.0.push(Entry {
            key: key.to_owned(),
            value: value.into(),
            comment: Some(comment.to_owned()),
        });
        self
    }

    pub fn with_opt(self, key: &str, value: Option<impl Into<Node>>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    pub fn push(&mut self, key: &str, value: impl Into<Node>) {
        self.0.push(Entry {
            key: key.to_owned(),
            value: value.into(),
            comment: None,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Seq {
    pub fn new() -> Self {
        Self::default()
    }

    #[cfg(test)]
    pub fn push(&mut self, item: impl Into<Node>) {
        self.0.push((item.into(), None));
    }

    pub fn push_commented(&mut self, comment: &str, item: impl Into<Node>) {
        self.0.push((item.into(), Some(comment.to_owned())));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Into<Node>> FromIterator<T> for Seq {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Seq(items.into_iter().map(|item| (item.into(), None)).collect())
    }
}

impl From<Map> for Node {
    fn from(map: Map) -> Self {
        Node::Map(map)
    }
}

impl From<Seq> for Node {
    fn from(seq: Seq) -> Self {
        Node::Seq(seq)
    }
}

impl From<&str> for Node {
    fn from(text: &str) -> Self {
        Node::Scalar(Value::String(text.to_owned()))
    }
}

impl From<String> for Node {
    fn from(text: String) -> Self {
        Node::Scalar(Value::String(text))
    }
}

impl From<&String> for Node {
    fn from(text: &String) -> Self {
        Node::from(text.as_str())
    }
}

impl From<bool> for Node {
    fn from(value: bool) -> Self {
        Node::Scalar(Value::Bool(value))
    }
}

impl From<u16> for Node {
    fn from(value: u16) -> Self {
        Node::Scalar(Value::Number(value.into()))
    }
}

impl From<u32> for Node {
    fn from(value: u32) -> Self {
        Node::Scalar(Value::Number(value.into()))
    }
}

impl Node {
    /// The same document as a serde_yaml value (comments dropped), to check the writer.
    #[cfg(test)]
    pub fn to_value(&self) -> Value {
        match self {
            Node::Scalar(value) => value.clone(),
            Node::Map(map) => Value::Mapping(
                map.0
                    .iter()
                    .map(|entry| (Value::String(entry.key.clone()), entry.value.to_value()))
                    .collect(),
            ),
            Node::Seq(seq) => {
                Value::Sequence(seq.0.iter().map(|(item, _)| item.to_value()).collect())
            }
        }
    }
}
