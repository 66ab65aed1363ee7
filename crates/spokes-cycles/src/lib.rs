//! Cycle templates: the document a partner builds once (`template`), and the pure work on it
//! that needs no database or network.

pub mod decision;
pub mod path;
pub mod template;

pub use decision::decide;
pub use path::{Path, PathError};
pub use template::{
    ErrorPolicy, FinalAction, Mapping, Mappings, Operator, Source, Step, Template, Trigger,
    Variable,
};
