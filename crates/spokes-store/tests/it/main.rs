//! The Store conformance suite: every Store method's behaviour, on the backend chosen by
//! `spokes_store::testing::test_database_url` — a SQLite file in a temp dir by default,
//! PostgreSQL when `SPOKES_TEST_DATABASE_URL` is set.

mod accounts;
mod api_keys;
mod cycles;
mod inbox;
mod installations;
mod jobs;
mod leases;
mod mcp_calls;
mod one_time;
mod outbox;
mod rotation;
mod sealing;
mod startup;
mod support;
mod utility;
