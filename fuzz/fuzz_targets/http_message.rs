//! Whatever an HTTP server sends: the response head, its framing and
//! connection tokens, a chunked body fed whole and cut in two, a redirect's
//! Location resolved, and a certificate's DER must give a value or an error
//! for any bytes, never panic, hang or keep more than the limits allow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netdx::http::message::{self, Chunked};
use netdx::http::{Url, cert};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, used))) = message::parse_head(data) {
        assert!(used <= data.len() && used <= message::MAX_HEAD);
        assert!(head.fields.len() <= message::MAX_FIELDS);
        let _ = head.framing("GET");
        let _ = head.framing("HEAD");
        let _ = head.keeps_alive();
        if let Some(location) = head.value("location")
            && let Ok(base) = Url::parse("http://web.test/a/b?c")
        {
            let _ = base.join(location);
        }
        let body = &data[used..];
        let mut whole = Chunked::default();
        let mut seen = 0usize;
        if let Ok(taken) = whole.feed(body, |piece| seen += piece.len()) {
            assert!(taken <= body.len() && seen <= body.len());
        }
        let cut = usize::from(data[0]).min(body.len());
        let mut halves = Chunked::default();
        if halves.feed(&body[..cut], |_| {}).is_ok() {
            let _ = halves.feed(&body[cut..], |_| {});
        }
    }
    let _ = Url::parse(&String::from_utf8_lossy(data));
    let _ = cert::describe(data, std::time::SystemTime::UNIX_EPOCH);
});
