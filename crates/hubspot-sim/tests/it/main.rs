//! Integration tests of the HubSpot simulator: each test starts a simulator on
//! 127.0.0.1:0 and talks HTTP to it.

mod admin;
mod api;
mod calling;
mod campaigns;
mod cms;
mod consent;
mod contacts_v1;
mod crm_associations;
mod crm_objects;
mod crm_owners;
mod crm_pipelines;
mod crm_properties;
mod crm_schemas;
mod crm_search;
mod crm_seed;
mod crm_standard_types;
mod crm_support;
mod crm_webhooks;
mod faults;
mod forms;
mod limits;
mod lists;
mod support;
mod timeline;
mod tokens;
mod webhooks;
