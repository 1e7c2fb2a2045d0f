//! Reusable pieces of the console. Pages compose these; none of them fetch data.

pub mod change_tabs;
pub mod charts;
pub mod copy_button;
pub mod dialog;
pub mod error_banner;
pub mod error_categories;
pub mod field;
pub mod gate_panel;
pub mod html;
pub mod interval_bar;
pub mod load;
pub mod metric_table;
pub mod metric_text;
pub mod notices_panel;
pub mod plan_editor;
pub mod segment_matrix;
pub mod skeleton;
pub mod tags;
pub mod timeline;
pub mod top_bar;
