//! Feeds arbitrary bytes to the receive path the BGP session uses:
//! `codec::decode_stream` (header framing, netgauze decoding, RFC 7606 checks).
//! The first byte picks the negotiated context (4-octet ASN, iBGP), so both
//! AS_PATH widths and both LOCAL_PREF rules are exercised.
#![no_main]

use bytes::BytesMut;
use herald_bgp::codec::{self, DecodeContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut ctx = DecodeContext::new(flags & 1 == 1, flags & 2 == 2);
    // Prefix a valid marker half of the time so the fuzzer gets past the header quickly.
    let mut buf = if flags & 4 == 4 {
        let mut b = BytesMut::from(&[0xffu8; 16][..]);
        b.extend_from_slice(rest);
        b
    } else {
        BytesMut::from(rest)
    };
    let (messages, _fatal) = codec::decode_stream(&mut buf, &mut ctx);
    // Everything decoded must summarise without panicking too.
    for m in &messages {
        if let codec::Received::Update(u) = m
            && let Some(update) = &u.message
        {
            let _ = herald_bgp::message::summarize(update);
        }
    }
});
