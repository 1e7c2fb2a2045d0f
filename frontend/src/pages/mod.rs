//! One module per screen of the console.

pub mod change_form;
pub mod change_list;
pub mod change_page;
pub mod not_found;
