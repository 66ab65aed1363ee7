//! Cycle templates: the document a partner builds once (`template`), and the pure work on it
//! that needs no database or network.

pub mod catalogue;
mod dates;
pub mod decision;
mod graph;
pub mod mapping;
pub mod path;
pub mod sandbox;
pub mod schema;
pub mod template;
pub mod validate;

pub use catalogue::{Chain, HubSpotCatalogue, MethodCatalogue, MethodInfo, ParamInfo};
pub use dates::parse_instant;
pub use decision::decide;
pub use mapping::{Context, MappingError, SystemValues, evaluate, evaluate_all};
pub use path::{Path, PathError};
pub use sandbox::{Sandbox, SandboxError};
pub use schema::template_schema;
pub use template::{
    ErrorPolicy, FinalAction, Mapping, Mappings, Operator, Source, Step, Template, Trigger,
    Variable,
};
pub use validate::{Problem, required_scopes, validate};
