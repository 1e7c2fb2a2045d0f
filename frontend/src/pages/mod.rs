//! One module per screen of the console: what a URL shows, fetching its own data (through
//! [`crate::api`]) and composing [`crate::components`].
//!
//! A new page goes here as `pages/<name>.rs`, named after what it shows, with its route in
//! `lib.rs`. The first screen (sign-in and the change list) is in the main Wasm module; any
//! other page is drawn through `page_view` in `lib.rs` (a `Page` variant and a `lazy_page!`
//! route), so it lands in the pages module fetched on demand. A page past about 500 lines
//! becomes a folder, `pages/<name>/mod.rs` with one file per part (as `comparison/`).
//! Sub-pages of one screen (the change's tokens, the admin's teams) sit beside it, named after
//! it (`change_tokens.rs`, `admin_teams.rs`).

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
pub mod figures;
pub mod login;
pub mod not_found;
pub mod review;
pub mod stats_calculator;
pub mod user_lookup;
