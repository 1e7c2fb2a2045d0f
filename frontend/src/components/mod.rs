//! Reusable pieces of the console, which pages compose. Most draw what they are given; the
//! ones that stand alone on a page (the gate and notices panels of a change, the top bar's
//! badges) load their own data through [`crate::api`], and [`load`] is how.
//!
//! A new piece goes here as `components/<name>.rs` once a second page needs it, or when it is
//! a self-contained part of one (a chart, the plan editor); a piece past about 500 lines
//! becomes a folder (as `plan_editor/`). Everything is drawn with `view!`; the only HTML
//! text, the charts' SVG, goes through [`html`]. Failures are shown with
//! [`error_banner::ErrorBanner`], text is formatted with [`crate::format`].

pub mod change_loader;
pub mod change_tabs;
pub mod charts;
pub mod copy_button;
pub mod dialog;
pub mod error_banner;
pub mod error_categories;
pub mod field;
pub mod form_read;
pub mod gate_panel;
pub mod health;
pub mod html;
pub mod interval_bar;
pub mod load;
pub mod markdown;
pub mod metric_table;
pub mod metric_text;
pub mod notice_tags;
pub mod notices_panel;
pub mod plan_editor;
pub mod segment_matrix;
pub mod skeleton;
pub mod tags;
pub mod timeline;
pub mod top_bar;
