//! Typed errors for everything that reads or writes files.
//!
//! Every error names the file and, where it can, the line or header field, so that the
//! binary can print one clear sentence and exit non-zero.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole.
    File,
    /// A 1-based line number of a text file.
    Line(usize),
    /// A named header field or column.
    Field(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(n) => write!(f, " line {n}:"),
            Location::Field(name) => write!(f, " field {name}:"),
        }
    }
}

/// Errors from `tomopick-io`.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The operating system refused a read or write. (The OS error is part of the message,
    /// not a separate source, so a printed error chain says it once.)
    #[error("{}: {error}", path.display())]
    Os {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The file's content is not what its format requires.
    #[error("{}:{location} {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The line or field.
        location: Location,
        /// What is wrong, in one sentence.
        message: String,
    },
    /// A unit or coordinate frame cannot be resolved without more information.
    #[error("{0}")]
    Units(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, IoError>;

impl IoError {
    /// The same error, naming `to` wherever it named the file `from` (a temporary copy).
    pub fn renamed(self, from: &Path, to: &Path) -> Self {
        let swap = |p: PathBuf| if p == from { to.to_path_buf() } else { p };
        match self {
            IoError::Os { path, error } => IoError::Os {
                path: swap(path),
                error,
            },
            IoError::Format {
                path,
                location,
                message,
            } => IoError::Format {
                path: swap(path),
                location,
                message,
            },
            IoError::Units(m) => {
                IoError::Units(m.replace(&*from.to_string_lossy(), &to.to_string_lossy()))
            }
        }
    }
    /// An OS error on `path`.
    pub fn os(path: &Path, error: std::io::Error) -> Self {
        IoError::Os {
            path: path.to_path_buf(),
            error,
        }
    }
    /// A whole-file format error.
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        IoError::Format {
            path: path.to_path_buf(),
            location: Location::File,
            message: message.into(),
        }
    }
    /// A format error on a 1-based line.
    pub fn line(path: &Path, line: usize, message: impl Into<String>) -> Self {
        IoError::Format {
            path: path.to_path_buf(),
            location: Location::Line(line),
            message: message.into(),
        }
    }
    /// A format error in a named field or column.
    pub fn field(path: &Path, field: impl Into<String>, message: impl Into<String>) -> Self {
        IoError::Format {
            path: path.to_path_buf(),
            location: Location::Field(field.into()),
            message: message.into(),
        }
    }
}
