//! Which Istio reporters the console reads request metrics from (`--reporters`, default
//! `destination,waypoint`), pure. A request that reached a workload is read from the L7 proxies
//! that saw it arrive: the server's sidecar (`reporter="destination"`) and, in ambient mode, the
//! waypoint that routed it (`reporter="waypoint"`; ztunnel's `reporter="source"` series are L4
//! only and carry no requests). A request that reached no workload is read from the client's
//! sidecar (`source`) and the waypoint. Where two reporters could both report one request with the
//! same labels, the query keeps only the first reporter's series (PromQL `or`), so a request is
//! never counted twice (`docs/metrics.md`, "One reporter per series set").

/// An L7 reporter of requests that reached a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reporter {
    /// The server's sidecar.
    Destination,
    /// An ambient waypoint proxy.
    Waypoint,
}

impl Reporter {
    /// The `reporter` label value.
    pub fn label(self) -> &'static str {
        match self {
            Reporter::Destination => "destination",
            Reporter::Waypoint => "waypoint",
        }
    }
}

/// The reporters read, in order of preference (destination before waypoint); never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reporters(Vec<Reporter>);

impl Default for Reporters {
    /// `destination,waypoint`: sidecars and ambient waypoints.
    fn default() -> Self {
        Reporters(vec![Reporter::Destination, Reporter::Waypoint])
    }
}

impl Reporters {
    /// Sidecars only (what the console read before ambient waypoints).
    pub fn destination_only() -> Self {
        Reporters(vec![Reporter::Destination])
    }

    /// Reads `destination`, `waypoint` or both, comma-separated, in any order (preference stays
    /// destination first); anything else is refused with a sentence saying why.
    pub fn parse(text: &str) -> Result<Reporters, String> {
        let mut set = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let reporter = match word {
                "destination" => Reporter::Destination,
                "waypoint" => Reporter::Waypoint,
                "source" => {
                    return Err(
                        "source is not a reporter to choose: the console reads the source \
                                reporter only for requests that reached no workload, always; \
                                --reporters takes destination and waypoint"
                            .into(),
                    )
                }
                other => {
                    return Err(format!(
                        "unknown reporter {other:?}: --reporters takes destination and waypoint, \
                         comma-separated"
                    ))
                }
            };
            if !set.contains(&reporter) {
                set.push(reporter);
            }
        }
        if set.is_empty() {
            return Err("--reporters needs at least one of destination and waypoint".into());
        }
        set.sort();
        Ok(Reporters(set))
    }

    /// The reporters of requests that reached a workload, in order of preference.
    pub fn reached(&self) -> &[Reporter] {
        &self.0
    }

    /// The `reporter` values of requests that reached no workload, in order of preference: the
    /// client's sidecar, then the waypoint when waypoints are read.
    pub fn unreached(&self) -> Vec<&'static str> {
        let mut labels = vec!["source"];
        if self.0.contains(&Reporter::Waypoint) {
            labels.push(Reporter::Waypoint.label());
        }
        labels
    }

    /// `destination,waypoint`, as the flag takes it.
    pub fn names(&self) -> String {
        self.0
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_flag() {
        assert_eq!(
            Reporters::parse("destination,waypoint"),
            Ok(Reporters::default())
        );
        assert_eq!(
            Reporters::parse(" waypoint , destination "),
            Ok(Reporters::default())
        );
        assert_eq!(
            Reporters::parse("destination"),
            Ok(Reporters::destination_only())
        );
        assert_eq!(
            Reporters::parse("waypoint,waypoint").unwrap().reached(),
            [Reporter::Waypoint]
        );
        assert!(Reporters::parse("").unwrap_err().contains("at least one"));
        assert!(Reporters::parse("source")
            .unwrap_err()
            .contains("reached no workload"));
        assert!(Reporters::parse("destination,ztunnel")
            .unwrap_err()
            .contains("unknown reporter \"ztunnel\""));
        assert_eq!(Reporters::default().names(), "destination,waypoint");
    }

    #[test]
    fn unreached_requests_come_from_the_client_and_the_waypoint() {
        assert_eq!(Reporters::default().unreached(), ["source", "waypoint"]);
        assert_eq!(Reporters::destination_only().unreached(), ["source"]);
    }
}
