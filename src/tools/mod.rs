//! Tools over decoded files: the JSON form ([`json`]), the readable dump ([`dump`]), version
//! inference for data without a usable header ([`infer`]), the cache-tree checks ([`check`]) and the
//! removal of the caches they find bad ([`clean`]), files read, written and removed safely whatever they
//! are ([`file`](mod@file)), how a file is read when the user says how ([`reading`]), and the walk over the paths
//! a user gives ([`walk`], feature `walk`).
//!
//! Owns: everything a command prints or decides about a file. May use: every layer below (`base`,
//! `format`, `object`, `read`, `write`). The `pyc` command is a thin shell over these.

#[cfg(feature = "std")]
pub mod check;
#[cfg(feature = "std")]
pub mod clean;
pub mod dis;
pub mod dump;
#[cfg(feature = "std")]
pub mod file;
pub mod infer;
pub mod json;
pub mod reading;
#[cfg(feature = "walk")]
pub mod walk;
