//! herald doctor: checks a node the way an operator would by hand, and explains what it finds.
//!
//! The checks are plain functions of plain data, so they are tested without a kernel, a provider
//! or an agent; the binary (`herald doctor`) gathers the inputs (node, provider result, a
//! [`herald_net::inspect::NetSnapshot`], the agent's `/status`) and calls [`diagnose`]:
//!
//! - [`annotations`]: which CCM annotation format the node carries and which set wins;
//! - [`route`]: whether the kernel routes each peer via the gateway the provider asked for;
//! - [`source`]: whether each peer's source address is on an interface of the node;
//! - [`agent`]: sessions and VIPs from the running agent's `/status` ([`fetch`] gets it);
//! - [`report`]: the whole report (serialised as the `--output json` document), [`text`] for people.
//!
//! Secrets: peers carry only whether an MD5 password is set, and every string that comes from
//! outside (provider and agent messages, annotation values) goes through [`redact::Redactor`].

pub mod agent;
pub mod annotations;
pub mod error;
pub mod fetch;
pub mod peer;
pub mod redact;
pub mod report;
pub mod route;
pub mod source;
pub mod status;
pub mod text;

pub use agent::AgentOutcome;
pub use error::FetchError;
pub use peer::Peer;
pub use report::{Inputs, ProviderOutcome, Report, diagnose};
pub use status::Status;
