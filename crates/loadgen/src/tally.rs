//! A run's errors for its report: how many, and the first one's text.
use std::cell::{Cell, RefCell};

#[derive(Default)]
pub struct ErrorTally {
    count: Cell<u64>,
    first: RefCell<Option<String>>,
}

impl ErrorTally {
    /// Counts an error (and keeps its text if it is the first).
    pub fn record(&self, error: String) {
        self.count.set(self.count.get() + 1);
        self.keep_first(error);
    }

    /// Keeps the text if no error came before, without counting it (for a
    /// failure the caller counts under another name).
    pub fn keep_first(&self, error: String) {
        self.first.borrow_mut().get_or_insert(error);
    }

    pub fn count(&self) -> u64 {
        self.count.get()
    }

    pub fn first(&self) -> Option<String> {
        self.first.borrow().clone()
    }
}
