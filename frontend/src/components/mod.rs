//! Reusable pieces of the console. Pages compose these; none of them fetch data.

pub mod dialog;
pub mod error_banner;
pub mod field;
pub mod plan_editor;
pub mod skeleton;
pub mod tags;
pub mod timeline;
pub mod top_bar;
