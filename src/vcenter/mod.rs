//! The client for the appliance API, both generations (`/rest` and `/api`).
