//! One module per screen of the console.

pub mod admin;
pub mod admin_teams;
pub mod approvals;
pub mod audit;
pub mod change_form;
pub mod change_list;
pub mod change_page;
pub mod change_tokens;
pub mod comparison;
pub mod feed;
pub mod login;
pub mod not_found;
pub mod stats_calculator;
