//! spokes-engine's integration tests, on a real store: a SQLite file in a temp dir by default,
//! PostgreSQL when `SPOKES_TEST_DATABASE_URL` is set.

mod jobs;
mod support;
mod utility;
