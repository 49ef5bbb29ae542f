//! [`AssemblyError`]: every problem found on the way from a Torvyn.toml to
//! a flow plan, each with its stable code.

use crate::error::{Coded, Diagnostic, ErrorCode};

/// Loading, resolving, checking or linking a flow failed. Carries every
/// diagnostic found in one pass (`torvyn check` and `torvyn link` report
/// them all), never none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", first(.diagnostics).message)]
pub struct AssemblyError {
    diagnostics: Vec<Diagnostic>,
}

fn first(diagnostics: &[Diagnostic]) -> &Diagnostic {
    // `AssemblyError::new` never stores an empty list.
    &diagnostics[0]
}

impl AssemblyError {
    /// Every diagnostic of `error`.
    pub fn from_coded(error: &dyn Coded) -> Self {
        Self::new(error.diagnostics())
    }

    /// These diagnostics; an empty list becomes one generic E0702 (a
    /// caller bug, not a user's).
    pub fn new(mut diagnostics: Vec<Diagnostic>) -> Self {
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic {
                code: ErrorCode::ConstraintViolation,
                message: "the flow could not be assembled".into(),
                location: None,
                help: ErrorCode::ConstraintViolation.default_help().into(),
            });
        }
        Self { diagnostics }
    }
}

impl Coded for AssemblyError {
    fn code(&self) -> ErrorCode {
        first(&self.diagnostics).code
    }

    fn location(&self) -> Option<String> {
        first(&self.diagnostics).location.clone()
    }

    fn help(&self) -> String {
        first(&self.diagnostics).help.clone()
    }

    fn diagnostic(&self) -> Diagnostic {
        first(&self.diagnostics).clone()
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.diagnostics.clone()
    }
}

/// Every diagnostic of `error`, placed at `location` (a manifest's
/// `file:line:col`, so the CLI shows the lines) when the manifest knows
/// where that is.
pub(crate) fn located(error: &dyn Coded, location: Option<String>) -> Vec<Diagnostic> {
    let mut diagnostics = error.diagnostics();
    if location.is_some() {
        for d in &mut diagnostics {
            d.location.clone_from(&location);
        }
    }
    diagnostics
}

/// `?` on any coded error inside assembly.
pub(crate) fn coded<E: Coded>(error: E) -> AssemblyError {
    AssemblyError::from_coded(&error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_diagnostic_and_answers_with_the_first() {
        let d = |code, message: &str| Diagnostic {
            code,
            message: message.into(),
            location: Some("here".into()),
            help: "fix".into(),
        };
        let error = AssemblyError::new(vec![
            d(ErrorCode::TopologyInvalid, "a cycle"),
            d(ErrorCode::ComponentNotFound, "no file"),
        ]);
        assert_eq!(error.code(), ErrorCode::TopologyInvalid);
        assert_eq!(error.to_string(), "a cycle");
        assert_eq!(error.diagnostics().len(), 2);
    }

    #[test]
    fn an_empty_list_still_renders() {
        let error = AssemblyError::new(Vec::new());
        assert_eq!(error.code(), ErrorCode::ConstraintViolation);
        assert!(!error.to_string().is_empty());
    }
}
