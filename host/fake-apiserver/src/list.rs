//! LIST (label and field selectors, `limit` and opaque `continue` tokens, items written without
//! type meta) and the WATCH response around `watch.rs`'s stream.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Value, json};

use crate::http::{Body, BoxError, bytes_response, json_response};
use crate::query::{Query, hex_decode, hex_encode};
use crate::resources::{KindId, def};
use crate::routes::Target;
use crate::shared::Shared;
use crate::status::ApiError;
use crate::table;
use crate::verbs::{selectors, wants_table};
use crate::watch::{self, StartAt, WatchSpec};

/// A continue token: the list's resourceVersion and the last key returned, hex-encoded.
fn encode_continue(rv: u64, key: &(String, String)) -> String {
    hex_encode(format!("{rv}\0{}\0{}", key.0, key.1).as_bytes())
}

fn decode_continue(token: &str) -> Option<(u64, (String, String))> {
    let raw = String::from_utf8(hex_decode(token)?).ok()?;
    let mut parts = raw.split('\0');
    let rv = parts.next()?.parse().ok()?;
    let ns = parts.next()?.to_string();
    let name = parts.next()?.to_string();
    Some((rv, (ns, name)))
}

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. \
     You can start a new list without the continue parameter, or use the continue token in this response to \
     retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - \
     objects that were created, modified, or deleted between the time the first chunk was returned and now may \
     show up in the list.";

pub(crate) fn list(
    shared: &Arc<Shared>,
    t: &Target,
    query: &Query,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let selectors = selectors(query, t.kind)?;
    let limit = query
        .uint("limit")?
        .filter(|l| *l > 0)
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let cont = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => Some(
            decode_continue(c)
                .ok_or_else(|| ApiError::BadRequest("continue key is not valid".into()))?,
        ),
        None => None,
    };
    let ns = t.namespace.as_deref();
    let (items, rv, next) = shared.with_store(|s| {
        if let Some((rv, _)) = &cont
            && *rv < s.history_start()
        {
            return Err(ApiError::Expired(CONTINUE_EXPIRED.into()));
        }
        let rv = cont.as_ref().map_or(s.resource_version(), |(rv, _)| *rv);
        let matching = s
            .iter(t.kind, ns, cont.as_ref().map(|(_, k)| k))
            .filter(|(_, o)| selectors.matches(o));
        let mut items = Vec::new();
        let mut last_key = None;
        let mut next = None;
        for (key, obj) in matching {
            if limit.is_some_and(|l| items.len() >= l) {
                // One more exists: hand out a token continuing after the last one returned.
                next = last_key.map(|k| encode_continue(rv, k));
                break;
            }
            items.push(obj.clone());
            last_key = Some(key);
        }
        Ok((items, rv, next))
    })?;
    if wants_table(headers) {
        return Ok(json_response(
            200,
            &table::list(&items, rv, next.as_deref()),
        ));
    }
    Ok(list_response(t.kind, &items, rv, next.as_deref()))
}

/// Items are written without `apiVersion` and `kind`, as the apiserver writes lists.
struct ListItem<'a>(&'a Value);

impl Serialize for ListItem<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(map) = self.0.as_object() else {
            return self.0.serialize(serializer);
        };
        let mut out = serializer.serialize_map(None)?;
        for (k, v) in map
            .iter()
            .filter(|(k, _)| *k != "apiVersion" && *k != "kind")
        {
            out.serialize_entry(k, v)?;
        }
        out.end()
    }
}

#[derive(Serialize)]
struct ListDoc<'a> {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    metadata: Value,
    items: Vec<ListItem<'a>>,
}

pub(crate) fn list_response(
    kind: KindId,
    items: &[Arc<Value>],
    rv: u64,
    next: Option<&str>,
) -> Response<Body> {
    let d = def(kind);
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(next) = next {
        metadata["continue"] = json!(next);
    }
    let doc = ListDoc {
        kind: format!("{}List", d.kind),
        api_version: d.api_version(),
        metadata,
        items: items.iter().map(|o| ListItem(o)).collect(),
    };
    bytes_response(
        200,
        "application/json",
        Bytes::from(serde_json::to_vec(&doc).unwrap_or_default()),
    )
}

pub(crate) fn watch_response(
    shared: &Arc<Shared>,
    t: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let mut selectors = selectors(query, t.kind)?;
    if let Some(name) = &t.name {
        selectors.fields = std::mem::take(&mut selectors.fields).with_name(name);
    }
    let start = match query.get("resourceVersion").unwrap_or("") {
        "" | "0" => StartAt::Current,
        rv => StartAt::After(rv.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "resourceVersion: Invalid value: {rv:?}: must be an integer"
            ))
        })?),
    };
    let spec = WatchSpec {
        kind: t.kind,
        namespace: t.namespace.clone(),
        selectors,
        start,
        bookmarks: query.flag("allowWatchBookmarks"),
        timeout: query.timeout()?,
        send_initial_events: query.flag("sendInitialEvents"),
    };
    let frames = watch::stream(shared.clone(), spec)
        .map(|chunk| chunk.map(Frame::data).map_err(BoxError::from));
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let key = ("ns".to_string(), "name".to_string());
        assert_eq!(decode_continue(&encode_continue(42, &key)), Some((42, key)));
        assert_eq!(decode_continue("zz"), None);
    }
}
