//! `oci://registry[:port]/repository[:tag][@sha256:<hex>]`: parsing and validation.
//!
//! The first path component is always the registry. Unlike `docker pull`, nothing defaults to
//! Docker Hub: a provider reference names where it comes from, so a typo cannot silently turn into
//! a download from somewhere else.

use std::fmt;

use crate::digest::Digest;
use crate::error::{Error, ReferencePart};

/// How the reference asked to reach its registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `oci://` or no prefix: HTTPS, or plain HTTP for loopback and insecure registries.
    Oci,
    /// `http://`: plain HTTP, allowed only where `oci://` would use it too (checked before any
    /// connection, see [`crate::Options::insecure_registries`]).
    Http,
    /// `https://`: always HTTPS, loopback included.
    Https,
}

impl Scheme {
    fn prefix(self) -> &'static str {
        match self {
            Scheme::Oci => "oci://",
            Scheme::Http => "http://",
            Scheme::Https => "https://",
        }
    }
}

/// A parsed provider reference.
#[derive(Clone, PartialEq, Eq)]
pub struct Reference {
    scheme: Scheme,
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Distribution's limit on a repository name, so a reference we accept is one registries accept.
const MAX_REPOSITORY_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

impl Reference {
    /// Parses `[oci://|http://|https://]registry[:port]/repository[:tag][@sha256:<64 hex>]`.
    ///
    /// A tag or a digest (or both) is required; [`crate::pull`] further requires the digest.
    /// Errors name the part that is wrong (scheme, registry, repository, tag, digest).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |part, reason: String| Error::InvalidReference {
            reference: text.to_owned(),
            part,
            reason,
        };
        let (scheme, rest) = split_scheme(text).map_err(|r| invalid(ReferencePart::Scheme, r))?;
        let (name, digest) = match rest.split_once('@') {
            Some((name, digest)) => {
                let digest =
                    Digest::parse(digest).map_err(|r| invalid(ReferencePart::Digest, r))?;
                (name, Some(digest))
            }
            None => (rest, None),
        };
        let Some((registry, path)) = name.split_once('/') else {
            return Err(invalid(
                ReferencePart::Repository,
                format!("missing: expected registry/repository, got `{name}`"),
            ));
        };
        check_registry(registry).map_err(|r| invalid(ReferencePart::Registry, r))?;
        // A repository never contains ':', so the last one (if any) starts the tag.
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) => (repository, Some(tag)),
            None => (path, None),
        };
        check_repository(repository).map_err(|r| invalid(ReferencePart::Repository, r))?;
        if let Some(tag) = tag {
            check_tag(tag).map_err(|r| invalid(ReferencePart::Tag, r))?;
        }
        if tag.is_none() && digest.is_none() {
            return Err(invalid(
                ReferencePart::Tag,
                "missing: give a tag (`:v1`), a digest (`@sha256:…`) or both".to_owned(),
            ));
        }
        Ok(Self {
            scheme,
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// How the reference asked to reach the registry.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `host[:port]`, as written.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The pinned digest, if one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same reference pinned to `digest` (what to hand to operators after a push).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The registry's host without the port or IPv6 brackets.
    pub(crate) fn host(&self) -> &str {
        host_of(&self.registry)
    }
}

/// `host` of `host[:port]`, `[v6]:port` or `[v6]`.
pub(crate) fn host_of(registry: &str) -> &str {
    if let Some(bracketed) = registry.strip_prefix('[') {
        return bracketed
            .split_once(']')
            .map_or(bracketed, |(host, _)| host);
    }
    registry.split_once(':').map_or(registry, |(host, _)| host)
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}/{}",
            self.scheme.prefix(),
            self.registry,
            self.repository
        )?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl std::str::FromStr for Reference {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

fn split_scheme(text: &str) -> Result<(Scheme, &str), String> {
    for scheme in [Scheme::Oci, Scheme::Http, Scheme::Https] {
        if let Some(rest) = text.strip_prefix(scheme.prefix()) {
            return Ok((scheme, rest));
        }
    }
    match text.split_once("://") {
        Some((other, _)) => Err(format!(
            "`{other}://` is not supported; use oci://, http:// or https://"
        )),
        None => Ok((Scheme::Oci, text)),
    }
}

fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("missing: expected registry[:port] before the first `/`".to_owned());
    }
    let (host, port) = if let Some(bracketed) = registry.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(format!("`{registry}` opens `[` without closing it"));
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected `{after}` after `[{host}]`")),
            },
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    if !registry.starts_with('[') {
        check_hostname(host)?;
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && matches!(port.parse::<u16>(), Ok(1..)))
    {
        return Err(format!("port `{port}` is not a number from 1 to 65535"));
    }
    Ok(())
}

fn check_hostname(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("host is empty".to_owned());
    }
    for label in host.split('.') {
        let valid = !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(format!(
                "`{host}` is not a host name (letters, digits, `-` and `.`)"
            ));
        }
    }
    Ok(())
}

/// The distribution spec's grammar: components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`.
fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("missing after the registry".to_owned());
    }
    if repository.len() > MAX_REPOSITORY_LEN {
        return Err(format!(
            "is {} characters long, registries accept at most {MAX_REPOSITORY_LEN}",
            repository.len()
        ));
    }
    for component in repository.split('/') {
        if !valid_path_component(component) {
            return Err(format!(
                "`{repository}`: component `{component}` must be lowercase letters and digits, \
                 separated by `.`, `_`, `__` or dashes"
            ));
        }
    }
    Ok(())
}

fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// The distribution spec's grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let valid = match tag.as_bytes() {
        [] => false,
        [first, rest @ ..] => {
            word(*first)
                && tag.len() <= MAX_TAG_LEN
                && rest.iter().all(|&b| word(b) || b == b'.' || b == b'-')
        }
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{tag}` must be 1 to {MAX_TAG_LEN} letters, digits, `_`, `.` or `-`, \
             not starting with `.` or `-`"
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn part_of(text: &str) -> ReferencePart {
        match Reference::parse(text) {
            Err(Error::InvalidReference { part, .. }) => part,
            other => panic!("{text}: expected InvalidReference, got {other:?}"),
        }
    }

    #[test]
    fn full_reference_parses_into_its_parts() {
        let text = format!("oci://registry.example:5000/herald/providers/equinix:v1@sha256:{HEX}");
        let reference = Reference::parse(&text).unwrap();
        assert_eq!(reference.scheme(), Scheme::Oci);
        assert_eq!(reference.registry(), "registry.example:5000");
        assert_eq!(reference.host(), "registry.example");
        assert_eq!(reference.repository(), "herald/providers/equinix");
        assert_eq!(reference.tag(), Some("v1"));
        assert_eq!(reference.digest().unwrap().hex(), HEX);
        assert_eq!(reference.to_string(), text);
    }

    #[test]
    fn prefix_is_optional_and_tag_is_optional_with_a_digest() {
        let reference = Reference::parse(&format!("127.0.0.1:5000/p@sha256:{HEX}")).unwrap();
        assert_eq!(reference.scheme(), Scheme::Oci);
        assert_eq!(reference.tag(), None);
        let reference = Reference::parse("[::1]:5000/p:latest").unwrap();
        assert_eq!(reference.host(), "::1");
        assert_eq!(reference.digest(), None);
        let reference = Reference::parse("http://localhost/a.b/c__d/e--f:1.0_rc-1").unwrap();
        assert_eq!(reference.scheme(), Scheme::Http);
        assert_eq!(reference.repository(), "a.b/c__d/e--f");
    }

    #[test]
    fn each_wrong_part_is_named() {
        assert_eq!(part_of("ftp://r/p:v"), ReferencePart::Scheme);
        assert_eq!(part_of("oci:///p:v"), ReferencePart::Registry);
        assert_eq!(part_of("oci://bad_host/p:v"), ReferencePart::Registry);
        assert_eq!(part_of("oci://r:0/p:v"), ReferencePart::Registry);
        assert_eq!(part_of("oci://r:99999/p:v"), ReferencePart::Registry);
        assert_eq!(part_of("oci://[zz]:1/p:v"), ReferencePart::Registry);
        assert_eq!(part_of("oci://registry:v1"), ReferencePart::Repository);
        assert_eq!(part_of("oci://r/Upper:v"), ReferencePart::Repository);
        assert_eq!(part_of("oci://r/a//b:v"), ReferencePart::Repository);
        assert_eq!(part_of("oci://r/a-:v"), ReferencePart::Repository);
        assert_eq!(part_of("oci://r/p:.v"), ReferencePart::Tag);
        assert_eq!(part_of("oci://r/p:"), ReferencePart::Tag);
        assert_eq!(part_of("oci://r/p"), ReferencePart::Tag);
        assert_eq!(part_of("oci://r/p:v@sha256:abc"), ReferencePart::Digest);
        assert_eq!(
            part_of(&format!("oci://r/p@md5:{HEX}")),
            ReferencePart::Digest
        );
    }

    #[test]
    fn error_message_names_the_part_and_the_input() {
        let message = Reference::parse("oci://r/p:v@sha256:abc")
            .unwrap_err()
            .to_string();
        assert!(message.contains("oci://r/p:v@sha256:abc"), "{message}");
        assert!(message.contains("digest"), "{message}");
        assert!(message.contains("64 hex"), "{message}");
    }
}
