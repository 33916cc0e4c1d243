//! Reads Prometheus HTTP API responses (pure): the envelope, instant vectors, and error bodies.
//! Sample values arrive as strings and may be `NaN` or `±Inf` (`docs/metrics.md`, "Prometheus
//! HTTP API").

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One series of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("prometheus answered {error_type}: {message}")]
    Query { error_type: String, message: String },
    #[error("unexpected prometheus response: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Value,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (Value, String),
}

/// Parses an instant-query response body into its samples.
pub fn instant_vector(body: &[u8]) -> Result<Vec<VectorSample>, ParseError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| ParseError::Malformed(format!("not a prometheus response: {e}")))?;
    if envelope.status != "success" {
        return Err(ParseError::Query {
            error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            message: envelope.error.unwrap_or_default(),
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| ParseError::Malformed("success without data".into()))?;
    if data.result_type != "vector" {
        return Err(ParseError::Malformed(format!(
            "expected a vector, got a {}",
            data.result_type
        )));
    }
    let series: Vec<Series> = serde_json::from_value(data.result)
        .map_err(|e| ParseError::Malformed(format!("bad vector: {e}")))?;
    series
        .into_iter()
        .map(|s| {
            Ok(VectorSample {
                value: sample_value(&s.value.1)?,
                labels: s.metric,
            })
        })
        .collect()
}

/// Prometheus prints values with Go's strconv: `NaN`, `+Inf`, `-Inf`, or a float.
pub fn sample_value(text: &str) -> Result<f64, ParseError> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        other => other
            .parse()
            .map_err(|_| ParseError::Malformed(format!("sample value {other:?} is not a number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_vector() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"destination_version":"v1"},"value":[1435781451.781,"16"]},
            {"metric":{"destination_version":"v2"},"value":[1435781451,"4.5"]}]}}"#;
        let samples = instant_vector(body).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].labels["destination_version"], "v1");
        assert_eq!(samples[0].value, 16.0);
        assert_eq!(samples[1].value, 4.5);
    }

    #[test]
    fn empty_vector_is_no_samples() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(instant_vector(body).unwrap(), vec![]);
    }

    #[test]
    fn nan_and_infinities() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{},"value":[1,"NaN"]},{"metric":{},"value":[1,"+Inf"]},{"metric":{},"value":[1,"-Inf"]},{"metric":{},"value":[1,"1e-07"]}]}}"#;
        let v: Vec<f64> = instant_vector(body)
            .unwrap()
            .into_iter()
            .map(|s| s.value)
            .collect();
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], &[f64::INFINITY, f64::NEG_INFINITY, 1e-7]);
    }

    #[test]
    fn error_bodies_become_query_errors() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: no expression found in input"}"#;
        assert_eq!(
            instant_vector(body).unwrap_err(),
            ParseError::Query {
                error_type: "bad_data".into(),
                message:
                    "invalid parameter \"query\": 1:1: parse error: no expression found in input"
                        .into()
            }
        );
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for body in [&b"<html>502 Bad Gateway</html>"[..], b"{}", b"{\"status\":\"success\"}",
            br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
            br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#,
            br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}"#] {
            assert!(matches!(instant_vector(body), Err(ParseError::Malformed(_))), "{}", String::from_utf8_lossy(body));
        }
    }
}
