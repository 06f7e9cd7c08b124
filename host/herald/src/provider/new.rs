//! `herald provider new NAME [--lang rust|python]`: a ready provider project — source on
//! `herald-sdk` (Rust) or on the generated bindings (Python), metadata (declared hosts, config
//! keys, which are secret), a test for the language's own test command, fixtures and a README.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Provider name: lowercase letters, digits and `-`, starting with a letter.
    name: String,
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
    /// Where to create the project (default: ./NAME). Must not exist or be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rust: a local herald-sdk checkout to depend on (default: this Herald's checkout when
    /// there is one, else the git repository).
    #[arg(long)]
    sdk_path: Option<PathBuf>,
}

/// Herald's SDK in the checkout this binary was built from, if it is still there.
const CHECKOUT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk");
const SDK_GIT: &str = "https://github.com/herald-bgp/herald";

struct File {
    path: String,
    text: String,
}

pub fn new_project(args: &NewArgs) -> anyhow::Result<PathBuf> {
    check_name(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty", dir.display());
    }
    let files = match args.lang {
        Lang::Rust => rust_files(&args.name, &sdk_dependency(args.sdk_path.as_deref())?),
        Lang::Python => python_files(&args.name),
    };
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, file.text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(dir)
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && name.len() <= 64;
    if !valid {
        bail!(
            "provider name {name:?}: use lowercase letters, digits and '-', starting with a letter \
             (it names the component in every log line)"
        );
    }
    Ok(())
}

fn sdk_dependency(sdk_path: Option<&Path>) -> anyhow::Result<String> {
    let local = match sdk_path {
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from(CHECKOUT_SDK)).filter(|path| path.join("Cargo.toml").is_file()),
    };
    Ok(match local {
        Some(path) => {
            let path = std::fs::canonicalize(&path)
                .with_context(|| format!("--sdk-path {}", path.display()))?;
            format!("herald-sdk = {{ path = {:?} }}", path.display().to_string())
        }
        None => format!("herald-sdk = {{ git = {SDK_GIT:?} }}"),
    })
}

fn fill(template: &str, name: &str, extra: &[(&str, &str)]) -> String {
    let module = name.replace('-', "_");
    let mut text = template
        .replace("{{name}}", name)
        .replace("{{crate_name}}", &module)
        .replace("{{module}}", &module);
    for (key, value) in extra {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    text
}

fn file(path: impl Into<String>, text: String) -> File {
    File {
        path: path.into(),
        text,
    }
}

macro_rules! template {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $path))
    };
}

fn rust_files(name: &str, sdk_dependency: &str) -> Vec<File> {
    let sdk = [("sdk_dependency", sdk_dependency)];
    vec![
        file(
            "Cargo.toml",
            fill(template!("rust/Cargo.toml.tmpl"), name, &sdk),
        ),
        file(
            "src/lib.rs",
            fill(template!("rust/src/lib.rs.tmpl"), name, &[]),
        ),
        file(
            "tests/provider.rs",
            fill(template!("rust/tests/provider.rs.tmpl"), name, &[]),
        ),
        file(
            "tests/fixtures/node.yaml",
            template!("rust/tests/fixtures/node.yaml").into(),
        ),
        file(
            "tests/fixtures/peers.json",
            template!("rust/tests/fixtures/peers.json").into(),
        ),
        file(
            "tests/fixtures/recorded.json",
            template!("rust/tests/fixtures/recorded.json").into(),
        ),
        file(
            "README.md",
            fill(template!("rust/README.md.tmpl"), name, &[]),
        ),
        file(".gitignore", template!("rust/gitignore.tmpl").into()),
    ]
}

/// The WIT version the Python template is generated against: the one herald-sdk targets, so
/// both templates build providers for the same contract.
const PYTHON_WIT_VERSION: &str = "0.2.0";

/// One file of `wit/0.2.0` (keep in step with [`PYTHON_WIT_VERSION`]: `include_str!` needs a literal).
macro_rules! wit_file {
    ($path:literal) => {
        (
            $path,
            include_str!(concat!("../../../../wit/0.2.0/", $path)),
        )
    };
}

/// The interface the Python bindings are generated from (Rust gets it through herald-sdk).
const WIT_FILES: &[(&str, &str)] = &[
    wit_file!("provider.wit"),
    wit_file!("deps/cli.wit"),
    wit_file!("deps/clocks.wit"),
    wit_file!("deps/filesystem.wit"),
    wit_file!("deps/http.wit"),
    wit_file!("deps/io.wit"),
    wit_file!("deps/random.wit"),
    wit_file!("deps/sockets.wit"),
];

/// The HTTP client over `wasi:http` from the netbox-bgp example, pointed at this project's module.
const WASI_HTTP: &str = include_str!("../../../../examples/netbox-bgp/wasi_http.py");

fn python_files(name: &str) -> Vec<File> {
    let module = name.replace('-', "_");
    let wasi_http = WASI_HTTP
        .replace("from netbox_bgp import", &format!("from {module} import"))
        .replace(&format!("../../wit/{PYTHON_WIT_VERSION}"), "wit/");
    let mut files = vec![
        file(
            format!("{module}.py"),
            fill(template!("python/module.py.tmpl"), name, &[]),
        ),
        file("app.py", fill(template!("python/app.py.tmpl"), name, &[])),
        file("wasi_http.py", wasi_http),
        file(
            "metadata.json",
            fill(
                template!("python/metadata.json.tmpl"),
                name,
                &[("wit_version", PYTHON_WIT_VERSION)],
            ),
        ),
        file("tests/__init__.py", String::new()),
        file(
            format!("tests/test_{module}.py"),
            fill(template!("python/test_module.py.tmpl"), name, &[]),
        ),
        file(
            "tests/fixtures/node.yaml",
            template!("python/tests/fixtures/node.yaml").into(),
        ),
        file(
            "tests/fixtures/peers.json",
            template!("python/tests/fixtures/peers.json").into(),
        ),
        file(
            "README.md",
            fill(template!("python/README.md.tmpl"), name, &[]),
        ),
        file(".gitignore", template!("python/gitignore.tmpl").into()),
    ];
    files.extend(
        WIT_FILES
            .iter()
            .map(|(path, text)| file(format!("wit/{path}"), (*text).to_string())),
    );
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["a", "my-peers", "site2-bgp"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "My", "2bgp", "a_b", "trailing-", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        let files = rust_files("my-peers", "herald-sdk = { path = \"/sdk\" }")
            .into_iter()
            .chain(python_files("my-peers"));
        for file in files {
            assert!(
                !file.text.contains("{{"),
                "{} keeps a placeholder",
                file.path
            );
        }
        let python = python_files("my-peers");
        let http = python.iter().find(|f| f.path == "wasi_http.py").unwrap();
        assert!(
            http.text.contains("from my_peers import HttpFailure"),
            "{}",
            http.text
        );
    }
}
