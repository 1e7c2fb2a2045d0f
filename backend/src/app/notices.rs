//! Notices to teams about a change: the automatic notice a transition publishes.
