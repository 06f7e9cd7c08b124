//! API token and project id, from explicit config keys or a CCM `cloud-sa.json`.

use std::fmt;

use herald_sdk::{Config, ProviderError};

pub const API_TOKEN_KEY: &str = "api-token";
pub const PROJECT_ID_KEY: &str = "project-id";
pub const CLOUD_SA_JSON_KEY: &str = "cloud-sa-json";

/// Credentials for the Metal API. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub token: String,
    pub project_id: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &"<redacted>")
            .field("project_id", &self.project_id)
            .finish()
    }
}

impl Credentials {
    /// `api-token` / `project-id` win over the `apiKey` / `projectID` of `cloud-sa-json` (whose
    /// keys match case-insensitively, as Go's `encoding/json` does for the CCM). A token is
    /// required; the project id only for the hostname lookup.
    pub fn from_config(config: &Config) -> Result<Self, ProviderError> {
        let cloud_sa = config
            .get(CLOUD_SA_JSON_KEY)
            .map(CloudSa::parse)
            .transpose()?
            .unwrap_or_default();
        let token = config
            .get(API_TOKEN_KEY)
            .map(str::to_owned)
            .or(cloud_sa.api_key)
            .ok_or_else(|| {
                ProviderError::InvalidInput(format!(
                    "no API token: set `{API_TOKEN_KEY}`, or `{CLOUD_SA_JSON_KEY}` with an apiKey"
                ))
            })?;
        if token.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ProviderError::InvalidInput(
                "the API token contains whitespace or control characters".into(),
            ));
        }
        let project_id = config
            .get(PROJECT_ID_KEY)
            .map(str::to_owned)
            .or(cloud_sa.project_id);
        if let Some(project) = &project_id
            && !crate::device::is_uuid(project)
        {
            return Err(ProviderError::InvalidInput(format!(
                "project id {project:?} is not a UUID"
            )));
        }
        Ok(Self { token, project_id })
    }
}

#[derive(Default)]
struct CloudSa {
    api_key: Option<String>,
    project_id: Option<String>,
}

impl CloudSa {
    fn parse(text: &str) -> Result<Self, ProviderError> {
        // Never quote the contents or the parser's excerpt: the file holds the token.
        let invalid = || {
            ProviderError::InvalidInput(format!(
                "config key `{CLOUD_SA_JSON_KEY}` is not a JSON object"
            ))
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|_| invalid())?;
        let object = value.as_object().ok_or_else(invalid)?;
        let field = |name: &str| -> Result<Option<String>, ProviderError> {
            match object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
            {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => {
                    Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
                }
                Some(_) => Err(ProviderError::InvalidInput(format!(
                    "`{CLOUD_SA_JSON_KEY}`: {name} must be a string"
                ))),
            }
        };
        Ok(Self {
            api_key: field("apiKey")?,
            project_id: field("projectID")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECT: &str = "f7a5ff27-3f7e-40eb-a902-869ea8e8bab5";

    #[test]
    fn cloud_sa_keys_match_case_insensitively() {
        for json in [
            r#"{"apiKey":"t1","projectID":"f7a5ff27-3f7e-40eb-a902-869ea8e8bab5"}"#,
            r#"{"apikey":"t1","projectId":"f7a5ff27-3f7e-40eb-a902-869ea8e8bab5","loadBalancer":"x"}"#,
            r#"{"APIKEY":"t1","PROJECTID":"f7a5ff27-3f7e-40eb-a902-869ea8e8bab5"}"#,
        ] {
            let credentials =
                Credentials::from_config(&Config::from_pairs([(CLOUD_SA_JSON_KEY, json)])).unwrap();
            assert_eq!(
                credentials,
                Credentials {
                    token: "t1".into(),
                    project_id: Some(PROJECT.into())
                },
                "{json}"
            );
        }
    }

    #[test]
    fn explicit_keys_win() {
        let config = Config::from_pairs([
            (
                CLOUD_SA_JSON_KEY,
                r#"{"apiKey":"file","projectID":"00000000-0000-0000-0000-000000000000"}"#,
            ),
            (API_TOKEN_KEY, "explicit"),
            (PROJECT_ID_KEY, PROJECT),
        ]);
        let credentials = Credentials::from_config(&config).unwrap();
        assert_eq!(
            credentials,
            Credentials {
                token: "explicit".into(),
                project_id: Some(PROJECT.into())
            }
        );
    }

    #[test]
    fn errors_never_quote_the_token() {
        let secret = "FakeMetalApiTokenDoNotUse0000000";
        for config in [
            Config::from_pairs([(CLOUD_SA_JSON_KEY, format!("{{\"apiKey\":\"{secret}\""))]),
            Config::from_pairs([(CLOUD_SA_JSON_KEY, format!("[\"{secret}\"]"))]),
            Config::from_pairs([(API_TOKEN_KEY, format!("{secret} x"))]),
        ] {
            let err = Credentials::from_config(&config).unwrap_err();
            assert!(
                matches!(&err, ProviderError::InvalidInput(m) if !m.contains(secret)),
                "{err}"
            );
        }
        let credentials =
            Credentials::from_config(&Config::from_pairs([(API_TOKEN_KEY, secret)])).unwrap();
        assert!(!format!("{credentials:?}").contains(secret));
    }

    #[test]
    fn token_required_project_optional_but_a_uuid() {
        assert!(Credentials::from_config(&Config::default()).is_err());
        assert!(
            Credentials::from_config(&Config::from_pairs([(
                CLOUD_SA_JSON_KEY,
                r#"{"projectID":"x"}"#
            )]))
            .is_err()
        );
        let credentials =
            Credentials::from_config(&Config::from_pairs([(API_TOKEN_KEY, "t")])).unwrap();
        assert_eq!(credentials.project_id, None);
        let err = Credentials::from_config(&Config::from_pairs([
            (API_TOKEN_KEY, "t"),
            (PROJECT_ID_KEY, "demo"),
        ]))
        .unwrap_err();
        assert!(err.message().contains("not a UUID"), "{err}");
    }
}
