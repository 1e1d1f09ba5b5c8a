//! The shared mechanics of the order state machines: look an event up in a transition table.

use std::error::Error;
use std::fmt;

/// An event the state machine does not allow in the current state.
///
/// When [`is_duplicate`](Self::is_duplicate) is true the event leads to the state the machine
/// is already in (a redelivered or repeated event): event consumers treat it as a no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition<S, E> {
    /// The state the event was applied to.
    pub from: S,
    /// The rejected event.
    pub event: E,
    duplicate: bool,
}

impl<S, E> IllegalTransition<S, E> {
    /// Whether the event would have led to `from` itself, i.e. it has already been applied.
    pub const fn is_duplicate(&self) -> bool {
        self.duplicate
    }
}

impl<S: fmt::Display, E: fmt::Display> fmt::Display for IllegalTransition<S, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.duplicate {
            write!(f, "{} was already applied: the state is {}", self.event, self.from)
        } else {
            write!(f, "{} is not allowed in state {}", self.event, self.from)
        }
    }
}

impl<S, E> Error for IllegalTransition<S, E>
where
    S: fmt::Display + fmt::Debug,
    E: fmt::Display + fmt::Debug,
{
}

/// Applies `event` to `from` using `table` of `(from, event, to)` rows.
///
/// A row is the only way to move: any pair not listed is illegal. A rejected event is a
/// duplicate when some row takes that event into `from`.
pub(crate) fn step<S, E>(table: &[(S, E, S)], from: S, event: E) -> Result<S, IllegalTransition<S, E>>
where
    S: Copy + PartialEq,
    E: Copy + PartialEq,
{
    if let Some(&(_, _, to)) = table.iter().find(|&&(f, e, _)| f == from && e == event) {
        return Ok(to);
    }
    let duplicate = table.iter().any(|&(_, e, to)| e == event && to == from);
    Err(IllegalTransition { from, event, duplicate })
}

/// Whether no row leaves `state`.
pub(crate) fn is_terminal<S: Copy + PartialEq, E>(table: &[(S, E, S)], state: S) -> bool {
    !table.iter().any(|&(from, _, _)| from == state)
}
