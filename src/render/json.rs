//! JSON output: one pretty-printed document per run (fields: docs/json.md).

use serde::Serialize;

/// `value` as a pretty-printed JSON document ending in a newline.
pub fn document<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising our own plain data types cannot fail: they hold no maps with
    // non-string keys and no custom serialisers that error.
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
    text.push('\n');
    text
}

/// Writes one JSON array item by item, so a long listing is never held in
/// memory twice. The first write error is kept and reported by [`finish`](Self::finish).
pub struct ArrayWriter<'w> {
    w: &'w mut dyn std::io::Write,
    count: usize,
    error: Option<std::io::Error>,
}

impl<'w> ArrayWriter<'w> {
    /// Starts the array.
    pub fn new(w: &'w mut dyn std::io::Write) -> Self {
        let error = w.write_all(b"[").err();
        ArrayWriter { w, count: 0, error }
    }

    /// Writes one element.
    pub fn push<T: Serialize>(&mut self, value: &T) {
        if self.error.is_some() {
            return;
        }
        let separator: &[u8] = if self.count == 0 { b"\n  " } else { b",\n  " };
        // `io::Error::from` hands back the writer's own error (an EPIPE
        // stays an EPIPE, so a closed pipe still ends the run quietly).
        let result = self.w.write_all(separator).and_then(|()| {
            serde_json::to_writer(&mut *self.w, value).map_err(std::io::Error::from)
        });
        self.count += 1;
        self.error = result.err();
    }

    /// Closes the array; returns the first error any write hit.
    pub fn finish(self) -> std::io::Result<()> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let end: &[u8] = if self.count == 0 { b"]\n" } else { b"\n]\n" };
        self.w.write_all(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_arrays_are_valid_json() {
        for items in [vec![], vec![1], vec![1, 2, 3]] {
            let mut out = Vec::new();
            let mut array = ArrayWriter::new(&mut out);
            for item in &items {
                array.push(item);
            }
            array.finish().unwrap();
            let parsed: Vec<i32> = serde_json::from_slice(&out).unwrap();
            assert_eq!(parsed, items);
        }
    }

    /// Takes `room` bytes, then fails the way a closed pipe does.
    struct ClosingPipe {
        room: usize,
    }

    impl std::io::Write for ClosingPipe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let taken = buf.len().min(self.room);
            self.room -= taken;
            Ok(taken)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_pipe_closed_inside_an_element_is_still_a_broken_pipe() {
        let mut pipe = ClosingPipe { room: 5 };
        let mut array = ArrayWriter::new(&mut pipe);
        array.push(&"an element longer than the pipe takes");
        array.push(&2);
        let err = array.finish().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
