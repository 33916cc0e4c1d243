//! Kubernetes API server subset over the simulated store (discovery, CRUD, watch, patch, auth).
