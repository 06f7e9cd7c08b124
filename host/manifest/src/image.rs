//! The container image: `--image`, defaulting to this release's; an image without a tag gets the
//! release tag, as kube-vip does.

/// Where Herald's images are published.
pub const DEFAULT_REPOSITORY: &str = "ghcr.io/herald-bgp/herald";

/// The tag of this release's image.
pub fn release_tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// The image reference to write, and the version label that goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub reference: String,
    /// `app.kubernetes.io/version`: the tag when it is a valid label value, else the release.
    pub version_label: String,
}

pub fn resolve(given: Option<&str>) -> Image {
    let release = release_tag();
    let reference = match given.map(str::trim).filter(|image| !image.is_empty()) {
        None => format!("{DEFAULT_REPOSITORY}:{release}"),
        Some(image) if has_tag_or_digest(image) => image.to_owned(),
        Some(image) => format!("{image}:{release}"),
    };
    let version_label = tag_of(&reference)
        .filter(|tag| is_label_value(tag))
        .map_or(release, str::to_owned);
    Image {
        reference,
        version_label,
    }
}

/// A tag is a `:` in the last path component (a registry's `host:port/` is not a tag).
fn has_tag_or_digest(image: &str) -> bool {
    image.contains('@') || last_component(image).contains(':')
}

fn tag_of(reference: &str) -> Option<&str> {
    if reference.contains('@') {
        return None;
    }
    last_component(reference)
        .split_once(':')
        .map(|(_, tag)| tag)
}

fn last_component(image: &str) -> &str {
    image.rsplit('/').next().unwrap_or(image)
}

/// Kubernetes label values: at most 63 characters, alphanumerics with `-_.` inside.
fn is_label_value(text: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    text.len() <= 63
        && text.starts_with(alnum)
        && text.ends_with(alnum)
        && text.chars().all(|c| alnum(c) || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_this_release() {
        let image = resolve(None);
        assert_eq!(
            image.reference,
            format!("ghcr.io/herald-bgp/herald:v{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(image.version_label, release_tag());
    }

    #[test]
    fn an_untagged_image_gets_the_release_tag() {
        assert_eq!(
            resolve(Some("registry.local:5000/herald")).reference,
            format!("registry.local:5000/herald:{}", release_tag())
        );
        let tagged = resolve(Some("registry.local:5000/herald:dev"));
        assert_eq!(tagged.reference, "registry.local:5000/herald:dev");
        assert_eq!(tagged.version_label, "dev");
    }

    #[test]
    fn a_digest_is_kept_and_labels_the_release() {
        let pinned = format!("ghcr.io/herald-bgp/herald@sha256:{}", "a".repeat(64));
        let image = resolve(Some(&pinned));
        assert_eq!(image.reference, pinned);
        assert_eq!(image.version_label, release_tag());
    }
}
