//! The encoded answers of `GET /api/v1/graph` for the latest snapshots: at 1,000 nodes a graph is
//! ~0.5 MB of JSON, and encoding and compressing it per request for every viewer is what cost
//! time; here it is done once per snapshot, API-server contact and set of visible namespaces.

use bytes::Bytes;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use switchyard_protocol::{Contact, Graph};

/// How many encoded answers are kept: every offered window (at most five) for a few sets of
/// visible namespaces; the oldest goes first.
const KEPT: usize = 16;

/// What makes two answers the same bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerKey {
    window: u32,
    generated_at: u64,
    contact: (Option<u64>, bool, u64),
    readable: Option<Vec<String>>,
}

impl AnswerKey {
    pub fn of(
        graph: &Graph,
        window: u32,
        contact: &Contact,
        readable: Option<&[String]>,
    ) -> AnswerKey {
        AnswerKey {
            window,
            generated_at: graph.generated_at.to_bits(),
            contact: (
                contact.last_contact.map(f64::to_bits),
                contact.stale,
                contact.stale_after_seconds.to_bits(),
            ),
            readable: readable.map(|namespaces| {
                let mut sorted = namespaces.to_vec();
                sorted.sort();
                sorted
            }),
        }
    }
}

/// One answer, encoded both ways.
pub struct Encoded {
    pub json: Bytes,
    pub gzip: Bytes,
}

/// The encoded answers of the latest snapshots, shared by every request (cheap to clone).
#[derive(Clone, Default)]
pub struct Answers(Arc<Mutex<Kept>>);

/// The kept answers, oldest first.
type Kept = Vec<(AnswerKey, Arc<Encoded>)>;

impl Answers {
    /// The answer for `key`, encoding `graph()` when it is not kept yet.
    pub fn get_or_encode(
        &self,
        key: AnswerKey,
        graph: impl FnOnce() -> Graph,
    ) -> Result<Arc<Encoded>, String> {
        if let Some(found) = self.find(&key) {
            return Ok(found);
        }
        let json = serde_json::to_vec(&graph()).map_err(|e| format!("encoding the graph: {e}"))?;
        // Level 1: a fifth of the time of the default level for a few per cent more bytes, and
        // each snapshot is compressed once, not per request.
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(json.len() / 8),
            flate2::Compression::fast(),
        );
        gz.write_all(&json)
            .map_err(|e| format!("compressing the graph: {e}"))?;
        let gzip = gz
            .finish()
            .map_err(|e| format!("compressing the graph: {e}"))?;
        let encoded = Arc::new(Encoded {
            json: json.into(),
            gzip: gzip.into(),
        });
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Answers for an older snapshot of the same window are never asked for again.
        kept.retain(|(k, _)| k.window != key.window || k.generated_at == key.generated_at);
        if kept.len() >= KEPT {
            kept.remove(0);
        }
        kept.push((key, encoded.clone()));
        Ok(encoded)
    }

    fn find(&self, key: &AnswerKey) -> Option<Arc<Encoded>> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter()
            .find(|(k, _)| k == key)
            .map(|(_, encoded)| encoded.clone())
    }

    /// How many answers are kept (for tests).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::io::Read;

    fn snapshot(at: f64) -> Graph {
        Graph {
            generated_at: at,
            window_seconds: 30,
            ..Graph::default()
        }
    }

    #[test]
    fn one_encoding_per_snapshot_contact_and_visibility_and_the_gzip_is_the_json() {
        let answers = Answers::default();
        let contact = Contact::default();
        let encoded = Cell::new(0);
        let get = |at: f64, readable: Option<&[String]>| {
            answers
                .get_or_encode(AnswerKey::of(&snapshot(at), 30, &contact, readable), || {
                    encoded.set(encoded.get() + 1);
                    snapshot(at)
                })
                .unwrap()
        };
        let first = get(10.0, None);
        let again = get(10.0, None);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(encoded.get(), 1, "the second viewer gets the same bytes");
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&first.gzip[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, first.json);
        // Someone who sees fewer namespaces never gets the answer made for everyone.
        let only_a = ["a".to_owned()];
        let _ = get(10.0, Some(&only_a));
        assert_eq!(encoded.get(), 2);
        assert_eq!(answers.len(), 2);
        // A newer snapshot of the window retires the older one's answers.
        let _ = get(15.0, None);
        assert_eq!(encoded.get(), 3);
        assert_eq!(answers.len(), 1);
    }
}
